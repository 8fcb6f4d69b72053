#!/usr/bin/env bash
# t_build_graph: the build graph through the CLI, against a signed apt
# repository on 127.0.0.1: a family of flavors and variants in one command
# with output placeholders, digests that do not depend on how or where the
# spec path is spelled, usage errors (exit 2) before any request, and a
# failing image that leaves every output unwritten. Exit 0 pass, 1 fail, 77 skipped.
. "$(dirname "$0")/lib/common.sh"
. "$SRC/tests/integration/lib/aptrepo.sh"
. "$SRC/tests/integration/lib/registry.sh"
aptrepo_require_tools
need skopeo docker-registry htpasswd
aptrepo_init
W=$APTREPO_WORK

# --- stand-ins for the packages of static, base-nossl and base ---------------
make_base_stand_ins
# The debug variants need a real busybox: its applet list is read from the binary.
[ -x /bin/busybox ] || { echo "SKIP: no /bin/busybox (apt-get install busybox-static)" >&2; exit 77; }
mkdir -p "$W/bb/bin" && cp /bin/busybox "$W/bb/bin/busybox" && chmod 0755 "$W/bb/bin/busybox"
make_deb busybox-static 1:1.35.0-4 amd64 --data-tar-from "$W/bb" >/dev/null
make_deb hello 1.0 amd64 --file /usr/bin/hello=$'#!hello\n' --file-mode /usr/bin/hello=0755 >/dev/null
build_repo "$W/repo" bookworm
start_server "$W/repo"
mkdir -p "$W/root/etc/apt/sources.list.d"
make_sources "$W/root/etc/apt/sources.list.d/test.sources" bookworm
export DISTILL_APT_ROOT=$W/root
export SOURCE_DATE_EPOCH=1700000000
C=(--cache-dir "$W/cache" --progress none --arch amd64)
requests() { server_stats | python3 -c 'import json,sys; print(sum(json.load(sys.stdin)["requests"].values()))'; }

# --- usage errors: exit 2, the value named, no request -----------------------
before=$(requests)
usage() {  # usage PATTERN ARGS...: exit 2 and the pattern in the message
  local pattern=$1 err rc=0
  shift
  err=$("$DISTILL" "$@" 2>&1 >/dev/null) || rc=$?
  [ "$rc" -eq 2 ] || fail "expected exit 2 from: $* (got $rc): $err"
  grep -Eq "$pattern" <<<"$err" || fail "expected /$pattern/ from: $*, got: $err"
}
usage "names one image, but 2" build static base -o "oci:$W/x:1" "${C[@]}"
usage "unknown variant 'bogus'" build static --variant latest,bogus "${C[@]}"
usage "nonroot given twice" build static --variant nonroot,nonroot "${C[@]}"
usage "unknown placeholder \{nme\}" build static -o "oci:$W/{nme}" "${C[@]}"
usage "amd64 given twice" build static --cache-dir "$W/cache" --arch amd64,amd64
usage "unknown architecture 'amd65'" build static --cache-dir "$W/cache" --arch amd65
# An empty item is a slip, not the list without it (it used to build amd64).
usage "usage: --arch 'amd64,': an empty item" build static --cache-dir "$W/cache" --arch amd64,
usage "usage: --arch ',amd64': an empty item" build static --cache-dir "$W/cache" --arch ,amd64
usage "usage: --variant 'latest,': an empty item" build static --variant latest, "${C[@]}"
usage "usage: --arch 'amd64,': an empty item" lock static --cache-dir "$W/cache" --arch amd64,
usage "usage: --only 'tzdata,': an empty item" update "oci:$W/none:x" -o "oci:$W/x:1" --only tzdata,
usage "unknown architecture 'amd64,'" outdated "$W/none.lock" --arch amd64, --cache-dir "$W/cache"
usage "unknown architecture 'amd64,'" inspect "oci:$W/none:x" --arch amd64,
usage "unknown architecture 'amd64,'" copy "oci:$W/none:x" "oci:$W/x:1" --arch amd64,
usage "nosuchflavor: no such spec file or built-in flavor" build nosuchflavor "${C[@]}"
usage "bsae: no such spec file or built-in flavor \\(did you mean 'base'\\?\\)" build bsae "${C[@]}"
usage "invalid image reference .nowhere:x." build static -o "nowhere:x" "${C[@]}"
usage "two images would be written to" build static base -o "oci:$W/x:{variant}" "${C[@]}"
usage "nosuchflavor: no such spec file or built-in flavor" lock nosuchflavor "${C[@]}"
[ "$(requests)" = "$before" ] || fail "a usage error made requests"
# Nor did any of them make the cache directory: the specs and outputs are
# checked before the cache is opened.
[ ! -e "$W/cache" ] || fail "a usage error made the cache directory: $(ls "$W/cache")"
echo "t_build_graph: usage errors ok"

# --- the family in one command ----------------------------------------------
"$DISTILL" build static base-nossl base --variant all -o "oci:$W/out/{name}-{debian}:{variant}" \
  --json "${C[@]}" >"$W/family.json" || fail "family build"
python3 - "$W/family.json" "$W/out" <<'PY' || fail "family outputs"
import json, os, sys
entries = json.load(open(sys.argv[1]))
assert isinstance(entries, list) and len(entries) == 12, len(entries)
names = {(e["name"], e["variant"]) for e in entries}
assert len(names) == 12, names
for e in entries:
    layout = os.path.join(sys.argv[2], f'{e["name"]}-debian12')
    index = json.load(open(os.path.join(layout, "index.json")))
    refs = {m["annotations"]["org.opencontainers.image.ref.name"]: m["digest"] for m in index["manifests"]}
    assert refs.get(e["variant"]) == e["index_digest"], (e["name"], e["variant"], refs)
    assert e["tag"] == e["variant"], e
    assert e["release"] == "bookworm", e
PY
skopeo inspect --raw "oci:$W/out/base-debian12:debug-nonroot" >/dev/null || fail "skopeo reads the family"
family_static=$(index_digest "$W/out/static-debian12" latest)
"$DISTILL" build static -o "oci:$W/single:latest" "${C[@]}" || fail "single build"
[ "$(index_digest "$W/single" latest)" = "$family_static" ] || fail "static differs built alone"
# A variant alone gets its own tag by default and leaves :latest alone.
mkdir -p "$W/cwd" && (cd "$W/cwd" && "$DISTILL" build static --variant nonroot "${C[@]}") ||
  fail "nonroot build"
index_digest "$W/cwd/out/static" nonroot >/dev/null || fail "--variant nonroot did not write :nonroot"
index_digest "$W/cwd/out/static" latest >/dev/null && fail "--variant nonroot wrote :latest"
echo "t_build_graph: family ok"

# --- from: docker://, a base pushed by skopeo to a registry with auth ----------
registry_start "$W/registry" alice s3cret
stall_pid=
trap '{ [ -z "$stall_pid" ] || kill "$stall_pid" 2>/dev/null; } || true; registry_stop; aptrepo_cleanup' EXIT
skopeo copy -q --dest-creds alice:s3cret --dest-tls-verify=false "oci:$W/single:latest" \
  "docker://$REGISTRY/base/static:1" || fail "skopeo push"
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$REGISTRY" "$(printf alice:s3cret | base64)" >"$W/auth.json"
printf 'name: onreg\nfrom: docker://%s/base/static:1\nfiles:\n  - {dst: /app/x, content: "x"}\n' \
  "$REGISTRY" >"$W/onreg.yaml"
"$DISTILL" build "$W/onreg.yaml" -o "oci:$W/onreg:1" --authfile "$W/auth.json" --tls-verify=false \
  "${C[@]}" || fail "build from: docker://"
base_layers=$(layer_digests "$W/single" latest)
[ "$(layer_digests "$W/onreg" 1 | head -n "$(wc -l <<<"$base_layers")")" = "$base_layers" ] ||
  fail "from: docker:// did not reuse the base's layers byte for byte"
[ "$(layer_digests "$W/onreg" 1 | wc -l)" -eq $(($(wc -l <<<"$base_layers") + 1)) ] ||
  fail "from: docker:// should add one layer"
rc=0
err=$("$DISTILL" build "$W/onreg.yaml" -o "oci:$W/onreg2:1" --tls-verify=false --refresh \
  --cache-dir "$W/cache-noauth" --progress none --arch amd64 2>&1) || rc=$?
[ "$rc" -ne 0 ] && grep -q "onreg.yaml:2" <<<"$err" || fail "a refused pull should name the spec line: $err"
# The lock records the digest the tag named: a locked build keeps that image
# after the tag moves, and --frozen refuses the moved tag.
REGISTRY_AUTH_FILE=$W/auth.json "$DISTILL" lock "$W/onreg.yaml" -o "$W/onreg.lock" "${C[@]}" ||
  fail "lock from: docker://"
base_digest=sha256:$(skopeo inspect --raw --creds alice:s3cret --tls-verify=false \
  "docker://$REGISTRY/base/static:1" | sha256sum | cut -d' ' -f1)
python3 - "$W/onreg.lock" "$base_digest" "docker://$REGISTRY/base/static:1" <<'PY' || fail "lock base_image: $(cat "$W/onreg.lock")"
import json, sys
base = json.load(open(sys.argv[1]))["base_image"]
assert base == {"digest": sys.argv[2], "reference": sys.argv[3]}, base
PY
onreg=$(index_digest "$W/onreg" 1)
skopeo copy -q --dest-creds alice:s3cret --dest-tls-verify=false "oci:$W/out/base-debian12:latest" \
  "docker://$REGISTRY/base/static:1" || fail "skopeo moves the tag"
"$DISTILL" build "$W/onreg.yaml" -o "oci:$W/onreg:locked" --lock "$W/onreg.lock" --refresh \
  --authfile "$W/auth.json" "${C[@]}" || fail "locked build after the tag moved"
[ "$(index_digest "$W/onreg" locked)" = "$onreg" ] || fail "a locked build followed the moved tag"
expect_fail "onreg.yaml:2: .* now names sha256:.*, not $base_digest as .*onreg.lock records \(--frozen\)" \
  "$DISTILL" build "$W/onreg.yaml" -o "oci:$W/onreg:frozen" --lock "$W/onreg.lock" --frozen \
  --refresh --authfile "$W/auth.json" "${C[@]}"
registry_stop
echo "t_build_graph: from: docker:// ok"

# --- same digest however and wherever the spec path is spelled --------------
mkdir -p "$W/proj/dir"
echo hi >"$W/proj/dir/hello.txt"
cat >"$W/proj/dir/app.yaml" <<'YAML'
name: app
from: base
packages: [hello]
files:
  - {src: hello.txt, dst: /app/hello.txt}
entrypoint: ["/usr/bin/hello"]
YAML
digests=()
spell() {  # spell DIR SPEC
  (cd "$1" && "$DISTILL" build "$2" -o "oci:$W/spell:x" "${C[@]}") || fail "build $2 in $1"
  digests+=("$(index_digest "$W/spell" x)")
}
spell "$W/proj/dir" app.yaml
spell "$W/proj/dir" ./app.yaml
spell / "$W/proj/dir/app.yaml"
spell "$W/proj" dir/app.yaml
cp -r "$W/proj" "$W/elsewhere"
spell "$W/elsewhere/dir" app.yaml
[ "$(printf '%s\n' "${digests[@]}" | sort -u | wc -l)" -eq 1 ] || fail "digests differ: ${digests[*]}"
# No path as typed reaches the config.
skopeo inspect --config "oci:$W/spell:x" | grep -q "$W" && fail "a host path is in the config"
echo "t_build_graph: path spellings ok"

# --- a failing image names itself and writes no output ---------------------
printf 'name: broken\nfrom: base\npackages: [gone]\n' >"$W/proj/broken.yaml"
make_deb gone 1.0 amd64 --file /gone=x >/dev/null
build_repo "$W/repo" bookworm
find "$W/repo/pool" -name 'gone_*' -delete
start_server "$W/repo"
make_sources "$W/root/etc/apt/sources.list.d/test.sources" bookworm
rc=0
err=$("$DISTILL" build "$W/proj/dir/app.yaml" "$W/proj/broken.yaml" -o "oci:$W/failed/{name}:1" \
  --refresh "${C[@]}" 2>&1) || rc=$?
[ "$rc" -eq 1 ] || fail "expected exit 1 for a missing .deb (got $rc): $err"
grep -q "broken:latest" <<<"$err" || fail "the error does not name the image: $err"
grep -q "gone" <<<"$err" || fail "the error does not name the package: $err"
[ ! -e "$W/failed" ] || fail "outputs written although an image failed"
[ -z "$(cache_leftovers "$W/cache")" ] || fail "temporary files left in the cache"
echo "t_build_graph: failure ok"

# --- SIGTERM (as Ctrl-C; a background job of a script ignores SIGINT): the build
# stops, exits 128+15, and leaves no temporary file ---------------------------
curl -fsS -X POST -d '[{"path": "hello_.*\\.deb$", "delay": 3, "times": 1}]' "$APTREPO_URL/__faults" >/dev/null
rm -rf "$W/cache-int"
"$DISTILL" build "$W/proj/dir/app.yaml" -o "oci:$W/interrupted:1" --cache-dir "$W/cache-int" \
  --progress none --arch amd64 2>"$W/int.err" &
pid=$!
sleep 1.5
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 143 ] || fail "expected exit 143 after SIGTERM (got $rc): $(cat "$W/int.err")"
[ ! -e "$W/interrupted" ] || fail "an interrupted build wrote its output"
[ -z "$(cache_leftovers "$W/cache-int")" ] || fail "temporary files left: $(cache_leftovers "$W/cache-int")"
echo "t_build_graph: interrupt ok"

# --- SIGTERM while pushing, every layer cached: the transfer ends at once, no
# manifest is sent, exit 128+15 (it used to push on and exit 0) ---------------
mkdir -p "$W/stall"
python3 "$SRC/tests/integration/lib/http_server.py" --root "$W/stall" --delay '^/v2/:60:1000' \
  --port-file "$W/stall.port" --pid-file "$W/stall.pid" --log "$W/stall.log" &
stall_pid=$!
for _ in $(seq 100); do
  [ -s "$W/stall.port" ] && break
  sleep 0.05
done
"$DISTILL" build "$W/proj/dir/app.yaml" -o "docker://127.0.0.1:$(cat "$W/stall.port")/app:1" \
  "${C[@]}" 2>"$W/push-int.err" &
pid=$!
sleep 1.5
kill -TERM "$pid"
stopped=$SECONDS
rc=0
wait "$pid" || rc=$?
kill "$stall_pid" 2>/dev/null || true
wait "$stall_pid" 2>/dev/null || true
[ "$rc" -eq 143 ] || fail "a push stopped by SIGTERM: exit $rc, want 143: $(cat "$W/push-int.err")"
[ $((SECONDS - stopped)) -le 5 ] || fail "a push stopped by SIGTERM took $((SECONDS - stopped)) s to end"
grep -qx "distill: interrupted" "$W/push-int.err" || fail "no 'interrupted': $(cat "$W/push-int.err")"
[ ! -f "$W/stall.log" ] || ! grep -q "PUT" "$W/stall.log" ||
  fail "an interrupted push sent: $(grep PUT "$W/stall.log")"
echo "t_build_graph: interrupted push ok"
echo "t_build_graph: ok"
