#!/usr/bin/env bash
# t_structure_cst: `distill test` gives container-structure-test's verdicts on
# configs written for CST. Builds an image from the local signed apt repo (a
# package with a copyright file, a UTF-8 and a Latin-1 file) plus the host's
# static busybox, then runs:
#  - a schemaVersion 1.0.0 config in distroless's style (list-form commands,
#    setup, globalEnvVars seen only through a setup, a nameless test skipped with
#    a line on stderr);
#  - a 2.0.0 config probing Go regex semantics (\A \z \pL (?i) (?s), UTF-8 `.`,
#    \xe9, invalid UTF-8 as U+FFFD), $VAR expansion, setup state, exit codes,
#    isExecutableBy/uid/gid, metadata (ports by number) and licenses;
# and compares every test's verdict (json output) with the one CST gives, worked
# out by hand from CST's sources. Command tests share one unpacked root (overlay
# views): the progress output says so once, and no test after the first takes
# more than 2 s.
# Exit 0 pass, 1 fail, 77 skipped (no root, runc or busybox).
. "$(dirname "$0")/lib/common.sh"
. "$SRC/tests/integration/lib/aptrepo.sh"
aptrepo_require_tools
need python3
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: running containers needs root" >&2
  exit 77
fi
if ! command -v runc >/dev/null 2>&1 && ! command -v crun >/dev/null 2>&1 &&
   [[ ! -x /usr/sbin/runc ]]; then
  echo "SKIP: neither runc nor crun is installed" >&2
  exit 77
fi
[[ -x /bin/busybox ]] || { echo "SKIP: no /bin/busybox (busybox-static)" >&2; exit 77; }
aptrepo_init
W=$APTREPO_WORK

make_deb base-files 12.4 amd64 --file /etc/debian_version=$'12.4\n' \
  --file /usr/share/greeting=$'h\xc3\xa9llo w\xc3\xb6rld\n' \
  --file /usr/share/latin1=$'h\xe9llo\n' >/dev/null
build_repo "$W/repo" bookworm
start_server "$W/repo"
cat >"$W/spec.yaml" <<YAML
name: cstprobe
sources:
  - url: $APTREPO_URL
    suites: [bookworm]
    components: [main]
    keyring: $W/repo/keyring.gpg
packages: [base-files]
files:
  - {src: /bin/busybox, dst: /bin/busybox, mode: "0755"}
  - {dst: /app/run.sh, content: "echo hi\n", mode: "0750", uid: 65532, gid: 65532}
entrypoint: ["/bin/busybox"]
env: {APP_HOME: /app, GREETING_FILE: /usr/share/greeting}
ports: ["8080/tcp"]
YAML
"$DISTILL" build "$W/spec.yaml" --cache-dir "$W/cache" --progress none -o "oci:$W/img:probe" \
  >/dev/null 2>"$W/build.err" || fail "build: $(cat "$W/build.err")"
IMG="oci:$W/img:probe"

# ---- schemaVersion 1.0.0 -------------------------------------------------------
cat >"$W/v1.yaml" <<'YAML'
schemaVersion: "1.0.0"
globalEnvVars:
  - {key: GLOBAL, value: "from-$APP_HOME"}
fileExistenceTests:
- name: root
  path: '/'
  shouldExist: true
- name: busybox
  path: '/bin/busybox'
  permissions: '-rwxr-xr-x'
- name: no shell
  path: '/bin/sh'
  shouldExist: false
- path: '/nameless'
fileContentTests:
- name: 'version'
  path: '/etc/debian_version'
  expectedContents: ['^12\.4\n$']
commandTests:
  - name: echo
    command: ["/bin/busybox", "echo", "Hello World"]
    expectedOutput: ['Hello World']
  - name: exit code
    command: ["/bin/busybox", "sh", "-c", "echo oops >&2; exit 3"]
    exitCode: 3
    expectedError: ['^oops\n$']
  - name: globals need a setup in v1
    command: ["/bin/busybox", "env"]
    excludedOutput: ['GLOBAL']
  - name: setup persists and commits globals
    setup: [["/bin/busybox", "touch", "/tmp/marker"]]
    command: ["/bin/busybox", "sh", "-c", "ls /tmp; env"]
    expectedOutput: ['marker', 'GLOBAL=from-/app']
  - name: utf8 output
    command: ["/bin/busybox", "cat", "/usr/share/greeting"]
    expectedOutput: ['h\xe9llo', '^h.llo w.rld\n$']
YAML
# ---- schemaVersion 2.0.0 -------------------------------------------------------
cat >"$W/v2.yaml" <<'YAML'
schemaVersion: 2.0.0
globalEnvVars:
  - {key: DOCS, value: /usr/share/doc}
commandTests:
  - name: argv expansion
    command: /bin/busybox
    args: ["echo", "$APP_HOME", "${GREETING_FILE}", "$UNSET", "$$"]
    expectedOutput: ['\A/app /usr/share/greeting  \n\z']
  - name: env values as written
    command: /bin/busybox
    args: ["env"]
    envVars: [{key: LOCAL, value: "$APP_HOME/x"}]
    expectedOutput: ['(?m)^LOCAL=\$APP_HOME/x$']
  - name: setup exit status is ignored
    setup: [["/bin/busybox", "false"], ["/bin/busybox", "touch", "/tmp/second"]]
    teardown: [["/bin/busybox", "rm", "/tmp/second"]]
    command: /bin/busybox
    args: ["ls", "/tmp"]
    expectedOutput: ['second']
  - name: fresh container
    command: /bin/busybox
    args: ["ls", "/tmp"]
    excludedOutput: ['second', 'marker']
  - name: wrong exit code
    command: /bin/busybox
    args: ["false"]
  - name: program missing
    command: /no/such/program
  - name: a regex Go refuses fails
    command: /bin/busybox
    args: ["echo", "x"]
    expectedOutput: ['x\Z']
fileContentTests:
  - name: anchored exclusion
    path: /etc/debian_version
    excludedContents: ['\A12']
  - name: letters
    path: /usr/share/greeting
    expectedContents: ['^\pL+ \pL+\n\z', '(?i)H\xc9LLO', '(?s)llo.w', '^h.llo']
    excludedContents: ['w.rld$']
  - name: latin1 bytes read as U+FFFD
    path: /usr/share/latin1
    expectedContents: ['^h.llo\n$', '^h\x{FFFD}llo']
    excludedContents: ['h\xe9llo']
fileExistenceTests:
  - {name: expanded path, path: "$DOCS/base-files/copyright"}
  - {name: script, path: /app/run.sh, permissions: "-rwxr-x---", uid: 65532, gid: 65532, isExecutableBy: group}
  - {name: not other-executable, path: /app/run.sh, isExecutableBy: other}
  - {name: bad isExecutableBy, path: /app/run.sh, isExecutableBy: everyone}
  - {path: /nameless}
licenseTests:
  - debian: true
    files: [/etc/debian_version]
metadataTest:
  envVars:
    - {key: APP_HOME, value: /app}
    - {key: GREETING_FILE, value: 'greeting\z', isRegex: true}
  exposedPorts: ["8080"]
  unexposedPorts: ["8080/tcp"]
  entrypoint: ["/bin/busybox"]
  cmd:
  workdir: ""
YAML

rc=0
"$DISTILL" test "$IMG" --config "$W/v1.yaml" --config "$W/v2.yaml" --output json \
  --progress plain >"$W/report.json" 2>"$W/stderr" || rc=$?
[ "$rc" -eq 1 ] || fail "expected exit 1 (some tests fail), got $rc: $(cat "$W/stderr")"
grep -q "v1.yaml: skipped File Existence Test without a name (schemaVersion 1.0.0)" "$W/stderr" ||
  fail "no note for the skipped v1 test: $(cat "$W/stderr")"
# One unpack for all the command tests of both configs, overlay views on top.
if grep -q "copying the image's root filesystem" "$W/stderr"; then
  echo "note: overlay refused here, command tests used copies" >&2
  overlay=0
else
  [ "$(grep -c 'image unpacked once, each test runs on a fresh overlay view' "$W/stderr")" -eq 1 ] ||
    fail "expected one 'unpacked once' progress line: $(cat "$W/stderr")"
  overlay=1
fi

python3 - "$W/report.json" "$overlay" <<'PY' || fail "verdicts differ from container-structure-test's"
import json, sys
report = json.load(open(sys.argv[1]))
overlay = sys.argv[2] == "1"
# CST's verdict on each test, in CST's order (command, content, existence, license, metadata).
expected = [
    ("Command Test: echo", True),
    ("Command Test: exit code", True),
    ("Command Test: globals need a setup in v1", True),
    ("Command Test: setup persists and commits globals", True),
    ("Command Test: utf8 output", True),
    ("File Content Test: version", True),
    ("File Existence Test: root", True),
    ("File Existence Test: busybox", True),
    ("File Existence Test: no shell", True),
    ("Command Test: argv expansion", True),
    ("Command Test: env values as written", True),
    ("Command Test: setup exit status is ignored", True),
    ("Command Test: fresh container", True),
    ("Command Test: wrong exit code", False),
    ("Command Test: program missing", False),
    ("Command Test: a regex Go refuses fails", False),
    ("File Content Test: anchored exclusion", False),
    ("File Content Test: letters", True),
    ("File Content Test: latin1 bytes read as U+FFFD", True),
    ("File Existence Test: expanded path", True),
    ("File Existence Test: script", True),
    ("File Existence Test: not other-executable", False),
    ("File Existence Test: bad isExecutableBy", False),
    ("File Existence Test without a name", False),
    ("License Test", True),
    ("Metadata Test", True),
]
got = [(r["Name"], r["Pass"]) for r in report["Results"]]
bad = False
for (name, verdict), (gname, gverdict) in zip(expected, got):
    if name != gname or verdict != gverdict:
        print(f"expected {name}: {verdict}, found {gname}: {gverdict}", file=sys.stderr)
        for r in report["Results"]:
            if r["Name"] == gname:
                print("  errors:", r.get("Errors"), file=sys.stderr)
        bad = True
if len(got) != len(expected):
    print(f"expected {len(expected)} results, found {len(got)}", file=sys.stderr)
    bad = True
assert report["Fail"] == sum(1 for _, v in expected if not v), report["Fail"]
# Shared root: every command test after the first is a runc start, not an unpack
# (a loose bound: runc alone takes 0.3 s on a busy 2-core machine).
durations = [r["Duration"] for r in report["Results"] if r["Name"].startswith("Command Test")]
slow = [d for d in durations[1:] if d > 2.0]
if overlay and slow:
    print("command tests slower than 2 s:", durations, file=sys.stderr)
    bad = True
print("command test seconds:", " ".join(f"{d:.3f}" for d in durations))
sys.exit(1 if bad else 0)
PY

# A config CST rejects is rejected with its file and line.
printf 'schemaVersion: "1.0.0"\nmetadataTest:\n  user: root\n' >"$W/bad.yaml"
rc=0
"$DISTILL" test "$IMG" --config "$W/bad.yaml" >/dev/null 2>"$W/bad.err" || rc=$?
[ "$rc" -eq 1 ] || fail "a v1 config with metadataTest: expected exit 1, got $rc"
grep -q '^distill: error: .*bad.yaml:2: config: unknown key "metadataTest"$' "$W/bad.err" ||
  fail "error: $(cat "$W/bad.err")"
# Nothing left behind: no test directory, no mount.
if grep -q "distill-test-" /proc/self/mounts; then
  fail "an overlay is still mounted"
fi

# Stopped while a command test runs (SIGTERM: a script's background job
# ignores SIGINT, and both take the same path): the signal goes to the
# container as `distill run` forwards it (SIGTERM, which a PID 1 without a
# handler ignores; the second one, SIGKILL), the overlay is detached, the test
# directory removed, and distill ends by the signal with no runtime left.
cat >"$W/slow.yaml" <<'YAML'
schemaVersion: "2.0.0"
commandTests:
  - name: slow
    command: ["/bin/busybox", "sleep", "30"]
YAML
int_tmp=$(mktemp -d "$W/inttmp.XXXXXX")
chmod 0711 "$int_tmp"
TMPDIR=$int_tmp "$DISTILL" test "$IMG" --config "$W/slow.yaml" --progress none \
  >/dev/null 2>"$W/int.err" &
pid=$!
for _ in $(seq 200); do  # the container starts once its bundle's config is written
  compgen -G "$int_tmp/distill-test-*/bundle/config.json" >/dev/null && break
  sleep 0.05
done
compgen -G "$int_tmp/distill-test-*/bundle/config.json" >/dev/null ||
  fail "no command test started: $(cat "$W/int.err")"
sleep 0.3
started=$SECONDS
kill -TERM "$pid"
sleep 0.3
kill -TERM "$pid" 2>/dev/null || true
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 143 ] || fail "expected exit 143 after SIGTERM (got $rc): $(cat "$W/int.err")"
[ $((SECONDS - started)) -lt 20 ] || fail "the interrupted test waited for its container's sleep"
if grep -qF " $int_tmp/" /proc/self/mountinfo; then
  fail "an interrupted test left its overlay mounted: $(grep -F " $int_tmp/" /proc/self/mountinfo)"
fi
left=$(find "$int_tmp" -mindepth 1 -maxdepth 1)
[ -z "$left" ] || fail "an interrupted test left $left"
# No runtime left running ([d]: not this grep's own command line).
if grep -ls "$int_tmp/[d]istill-runc-" /proc/[0-9]*/cmdline >/dev/null; then
  fail "an interrupted test left its runtime running"
fi
echo "ok: an interrupted test leaves nothing mounted or behind"
echo "ok: structure tests agree with container-structure-test"
