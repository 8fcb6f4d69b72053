#!/usr/bin/env bash
# t_run_interactive: the debug variant's busybox and `distill run -i/-t`, against a
# signed apt repository on 127.0.0.1 whose busybox-static carries this machine's
# own /bin/busybox. Checks:
#  - /busybox holds the binary and a link for every applet it provides (the
#    links equal `busybox --list` but for busybox itself), status.d describes
#    exactly the image's files (md5sums: busybox/busybox with its md5) and
#    `inspect --packages` still finds busybox-static;
#  - `run -i` passes stdin through, without -i the container reads nothing;
#  - a program that cannot start is one error line, with docker's 127 or 126:
#    a missing program, one not executable, a dynamic program whose ELF
#    interpreter the image lacks, a script whose #! shell it lacks;
#  - under a pseudo-terminal (lib/pty_session.py), `run -it IMAGE --entrypoint
#    /busybox/sh` is a shell: `echo hi; exit 3` returns 3, Ctrl-C interrupts the
#    container's foreground command and not distill, Ctrl-D at the prompt ends
#    the shell, the window size and its changes reach the container, and the
#    terminal's settings are restored afterwards.
# Exit 0 pass, 1 fail, 77 skipped (not root, no runc, no busybox-static, tools).
. "$(dirname "$0")/lib/common.sh"
. "$SRC/tests/integration/lib/aptrepo.sh"
aptrepo_require_tools
need python3 md5sum
[ "$(id -u)" -eq 0 ] || { echo "SKIP: running containers needs root" >&2; exit 77; }
if ! command -v runc >/dev/null 2>&1 && ! command -v crun >/dev/null 2>&1 && [ ! -x /usr/sbin/runc ]; then
  echo "SKIP: neither runc nor crun is installed" >&2
  exit 77
fi
[ -x /bin/busybox ] || { echo "SKIP: no /bin/busybox (apt-get install busybox-static)" >&2; exit 77; }
PTY="$SRC/tests/integration/lib/pty_session.py"
aptrepo_init
W=$APTREPO_WORK
arch=$(dpkg --print-architecture)

# --- a repository with base-files and the host's busybox-static ----------------
mkdir -p "$W/bb/bin" && cp /bin/busybox "$W/bb/bin/busybox" && chmod 0755 "$W/bb/bin/busybox"
make_deb busybox-static 1:1.35.0-4 "$arch" --data-tar-from "$W/bb" >/dev/null
make_deb base-files 12.4 "$arch" --file /etc/debian_version=$'12.4\n' >/dev/null
build_repo "$W/repo" bookworm
start_server "$W/repo"
cat >"$W/spec.yaml" <<YAML
name: shell
sources:
  - url: $APTREPO_URL
    suites: [bookworm]
    components: [main]
    keyring: $W/repo/keyring.gpg
packages: [base-files]
YAML
"$DISTILL" build "$W/spec.yaml" --variant debug --cache-dir "$W/cache" --progress none \
  -o "oci:$W/layout:debug" || fail "build --variant debug"
IMG="oci:$W/layout:debug"

# --- the whole busybox ----------------------------------------------------------
/bin/busybox --list | grep -vx busybox | LC_ALL=C sort >"$W/applets.expected"
[ "$(wc -l <"$W/applets.expected")" -gt 100 ] || fail "busybox --list: $(wc -l <"$W/applets.expected") applets"
python3 - "$W/layout" debug "$W/found" <<'PY' || fail "reading the image's layers"
import gzip, io, json, sys, tarfile
root, ref, out = sys.argv[1:4]
def blob(d): return open(f"{root}/blobs/sha256/{d[7:]}", "rb").read()
index = json.load(open(root + "/index.json"))
desc = next(m for m in index["manifests"]
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref)
doc = json.loads(blob(desc["digest"]))
while "manifests" in doc:
    doc = json.loads(blob(doc["manifests"][0]["digest"]))
links, files = [], {}
for layer in doc["layers"]:
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob(layer["digest"])))) as tar:
        for m in tar.getmembers():
            if m.name.startswith("busybox/") and m.issym():
                assert m.linkname == "busybox", (m.name, m.linkname)
                links.append(m.name[len("busybox/"):])
            elif m.isfile() and (m.name.startswith("busybox/") or "status.d/busybox" in m.name):
                files[m.name] = tar.extractfile(m).read()
open(out + ".links", "w").write("".join(l + "\n" for l in sorted(links)))
open(out + ".binary", "wb").write(files.get("busybox/busybox", b""))
open(out + ".md5sums", "wb").write(files.get("var/lib/dpkg/status.d/busybox-static.md5sums", b""))
open(out + ".control", "wb").write(files.get("var/lib/dpkg/status.d/busybox-static", b""))
PY
LC_ALL=C sort "$W/found.links" | diff -u "$W/applets.expected" - >"$W/links.diff" ||
  fail "links under /busybox differ from busybox --list: $(head -20 "$W/links.diff")"
echo "links: $(wc -l <"$W/found.links") applets (busybox --list: $(/bin/busybox --list | wc -l) names with busybox itself)"
cmp -s "$W/found.binary" /bin/busybox || fail "/busybox/busybox is not the package's binary"
[ "$(cat "$W/found.md5sums")" = "$(md5sum </bin/busybox | cut -d' ' -f1)  busybox/busybox" ] ||
  fail "status.d/busybox-static.md5sums: $(cat "$W/found.md5sums")"
grep -qx 'Package: busybox-static' "$W/found.control" || fail "status.d/busybox-static: $(cat "$W/found.control")"
"$DISTILL" inspect "$IMG" --packages --json | python3 -c '
import json, sys
names = [p["name"] for p in json.load(sys.stdin)["packages"]]
assert "busybox-static" in names, names' || fail "inspect --packages does not list busybox-static"

# --- -i and no -i -----------------------------------------------------------------
out=$(printf 'one\ntwo\n' | "$DISTILL" run -i "$IMG" --entrypoint /busybox/sh -- -c 'cat; exit 4') && rc=0 || rc=$?
[ "$rc" = 4 ] || fail "run -i exited $rc"
[ "$out" = $'one\ntwo' ] || fail "run -i output: $out"
out=$(printf 'unread\n' | "$DISTILL" run "$IMG" --entrypoint /busybox/sh -- -c 'cat; echo end') ||
  fail "run without -i"
[ "$out" = end ] || fail "without -i the container read stdin: $out"

# --- a program that cannot start: 127 and 126, as a shell, docker and podman give ---
"$DISTILL" run "$IMG" --entrypoint /no/such/program 2>"$W/missing.err" && rc=0 || rc=$?
[ "$rc" = 127 ] || fail "run of a missing program exited $rc: $(cat "$W/missing.err")"
# Found in the unpacked root before runc starts: one line, runc's own not beside it.
[ "$(cat "$W/missing.err")" = "distill: error: $IMG: cannot run \"/no/such/program\": no such file in the image" ] ||
  fail "run of a missing program: $(cat "$W/missing.err")"
"$DISTILL" run "$IMG" --entrypoint /etc/passwd 2>"$W/denied.err" && rc=0 || rc=$?
[ "$rc" = 126 ] || fail "run of a file that is not executable exited $rc: $(cat "$W/denied.err")"
[ "$(cat "$W/denied.err")" = "distill: error: $IMG: cannot run \"/etc/passwd\": not executable (mode 0644)" ] ||
  fail "run of a file that is not executable: $(cat "$W/denied.err")"
# A program linked dynamically, or a script whose #! names a shell, on an image
# with neither a C library nor /bin/sh: the kernel would call the program itself
# missing; the interpreter is named instead.
cp /usr/bin/true "$W/dyn-true"
printf '#!/bin/sh\necho hi\n' >"$W/start.sh"
cat >"$W/dyn.yaml" <<YAML
name: dyn
from: oci:$W/layout:debug
files:
  - {src: dyn-true, dst: /app/true, mode: "0755"}
  - {src: start.sh, dst: /app/start.sh, mode: "0755"}
entrypoint: [/app/true]
YAML
"$DISTILL" build "$W/dyn.yaml" --cache-dir "$W/cache" --progress none -o "oci:$W/dyn:1" ||
  fail "build of an image with a dynamic program"
"$DISTILL" run "oci:$W/dyn:1" 2>"$W/dyn.err" && rc=0 || rc=$?
[ "$rc" = 127 ] && [ "$(wc -l <"$W/dyn.err")" = 1 ] &&
  grep -q "^distill: error: oci:$W/dyn:1: cannot run \"/app/true\": its ELF interpreter /.* is not in the image" "$W/dyn.err" ||
  fail "run of a dynamic program without its C library: $rc, $(cat "$W/dyn.err")"
"$DISTILL" run "oci:$W/dyn:1" --entrypoint /app/start.sh 2>"$W/script.err" && rc=0 || rc=$?
[ "$rc" = 127 ] && [ "$(cat "$W/script.err")" = "distill: error: oci:$W/dyn:1: cannot run \"/app/start.sh\": its interpreter /bin/sh (the script's #! line) is not in the image" ] ||
  fail "run of a script without its shell: $rc, $(cat "$W/script.err")"
# The debug variant's busybox runs it once its shell is named.
out=$("$DISTILL" run "oci:$W/dyn:1" --entrypoint /busybox/sh -- /app/start.sh) || fail "busybox sh /app/start.sh"
[ "$out" = hi ] || fail "busybox sh /app/start.sh printed: $out"
# The container's own 127 is its status, not an error.
"$DISTILL" run "$IMG" --entrypoint /busybox/sh -- -c 'exit 127' 2>"$W/own.err" && rc=0 || rc=$?
[ "$rc" = 127 ] && [ ! -s "$W/own.err" ] || fail "exit 127 of the container: $rc, $(cat "$W/own.err")"

# --- -it under a pseudo-terminal -----------------------------------------------------
session() {  # session NAME: runs steps from $W/NAME.steps, output in $W/NAME.out, sets rc
  rc=0
  python3 "$PTY" "$W/$1.steps" -- "$DISTILL" run -it "$IMG" --entrypoint /busybox/sh >"$W/$1.out" 2>&1 || rc=$?
}
# The check of the issue: `echo hi; exit 3` returns 3.
printf '%s\n' 'send echo hi; exit 3\r' >"$W/basic.steps"
session basic
[ "$rc" = 3 ] || fail "run -it: echo hi; exit 3 returned $rc: $(cat "$W/basic.out")"
grep -q '^hi' "$W/basic.out" || fail "run -it: no hi in $(cat "$W/basic.out")"

# Ctrl-C stops the container's foreground command, the shell (and distill) go on.
cat >"$W/ctrlc.steps" <<'STEPS'
send echo rea''dy\r
expect ready
send sleep 30; echo not-interrupted\r
sleep 1
send \x03
sleep 0.5
send echo after-$((40+2))\r
expect after-42
send exit 5\r
STEPS
start=$(date +%s)
session ctrlc
[ "$rc" = 5 ] || fail "Ctrl-C session exited $rc: $(cat "$W/ctrlc.out")"
[ $(( $(date +%s) - start )) -lt 25 ] || fail "Ctrl-C did not interrupt sleep 30"
grep -q 'not-interrupted' <(grep -v 'sleep 30' "$W/ctrlc.out") && fail "Ctrl-C did not reach the sleep"

# Ctrl-D at an empty prompt ends the shell, with the last command's status.
cat >"$W/ctrld.steps" <<'STEPS'
send echo rea''dy\r
expect ready
send echo fal''se-done; false\r
expect false-done
sleep 0.5
send \x04
STEPS
session ctrld
[ "$rc" = 1 ] || fail "Ctrl-D session (after false) exited $rc: $(cat "$W/ctrld.out")"

# The window size at the start, and after a resize (SIGWINCH).
cat >"$W/size.steps" <<'STEPS'
send echo size-$(stty size | tr ' ' x)\r
expect size-33x101
resize 40 120
sleep 0.5
send echo size-$(stty size | tr ' ' x)\r
expect size-40x120
send exit\r
STEPS
session size
[ "$rc" = 0 ] || fail "window size session exited $rc: $(cat "$W/size.out")"

echo "PASS"
