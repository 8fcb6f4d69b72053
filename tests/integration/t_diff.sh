#!/usr/bin/env bash
# t_diff: `distill diff` on two builds of one application image, against a signed
# apt repository on 127.0.0.1. The image is the static flavor (its packages
# stood in for by the local repository) with one package and a `files:` layer on
# top; the repository then publishes a newer version of that package and the
# image is built again with --refresh. The diff of the two names exactly that
# package's version change and the files of it that changed (with its status.d
# entry), exits 1, and says nothing about config; both images are built for
# amd64 and arm64, and --platform linux/arm64 compares the arm64 manifests; an
# image against itself or against its own copy in an archive prints nothing and
# exits 0; --json has the documented fields; an unreadable reference exits 2
# with one line naming it. Also, on these two-platform images: `copy` into a
# docker-archive takes the host's platform, or --arch's, and a build of both
# into one is a usage error.
# Exit 0 pass, 1 fail, 77 skipped.
. "$(dirname "$0")/lib/common.sh"
. "$SRC/tests/integration/lib/aptrepo.sh"
aptrepo_require_tools
aptrepo_init
W=$APTREPO_WORK

# --- the repository: stand-ins for the static flavor's packages, and hello ------
cert() { printf -- '-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n' "$1"; }
for arch in amd64 arm64; do
  make_deb base-files 12.4 $arch --file /etc/debian_version=$'12.4\n' >/dev/null
done
make_deb netbase 6.4 all --file /etc/protocols=$'ip 0 IP\n' >/dev/null
make_deb tzdata 2024a all --file /usr/share/zoneinfo/UTC=TZif2 >/dev/null
make_deb media-types 10.0 all --file /etc/mime.types=$'text/plain txt\n' >/dev/null
make_deb ca-certificates 20230311 all --file "/usr/share/ca-certificates/mozilla/A.crt=$(cert AAAA)" >/dev/null
for arch in amd64 arm64; do
  make_deb hello 1.0-1 $arch --file /usr/bin/hello=$'#!hello 1.0\n' --file-mode /usr/bin/hello=0755 \
    --file /usr/share/hello/motd=$'hello\n' >/dev/null
done
build_repo "$W/repo" bookworm --archs "amd64 arm64"
start_server "$W/repo"
mkdir -p "$W/root/etc/apt/sources.list.d"
make_sources "$W/root/etc/apt/sources.list.d/test.sources" bookworm
export DISTILL_APT_ROOT=$W/root
C=(--cache-dir "$W/cache" --progress none --arch amd64,arm64)

printf 'application data\n' >"$W/data.txt"
cat >"$W/app.yaml" <<'YAML'
name: app
from: static
packages: [hello]
files:
  - {src: data.txt, dst: /app/data.txt}
  - {dst: /etc/app.conf, content: "port=8000\n"}
entrypoint: ["/usr/bin/hello"]
YAML
"$DISTILL" build "$W/app.yaml" -o "oci:$W/out:v1" -o "oci-archive:$W/v1.tar:v1" "${C[@]}" ||
  fail "first build"

# --- the archive publishes hello 1.1-1; the image is built again ---------------
for arch in amd64 arm64; do
  make_deb hello 1.1-1 $arch --file /usr/bin/hello=$'#!hello 1.1 (faster)\n' \
    --file-mode /usr/bin/hello=0755 --file /usr/share/hello/motd=$'hello\n' \
    --file /usr/bin/hello-greet=$'#!greet\n' --file-mode /usr/bin/hello-greet=0755 >/dev/null
done
build_repo "$W/repo" bookworm --archs "amd64 arm64"
"$DISTILL" build "$W/app.yaml" -o "oci:$W/out:v2" --refresh "${C[@]}" || fail "second build"

# --- the diff names the package, its version change, its files; nothing else ---
rc=0
"$DISTILL" diff "oci:$W/out:v1" "oci:$W/out:v2" >"$W/diff.txt" 2>"$W/diff.err" || rc=$?
[ "$rc" -eq 1 ] || fail "diff of two different images: exit $rc (want 1): $(cat "$W/diff.err")"
[ ! -s "$W/diff.err" ] || fail "diff wrote to stderr: $(cat "$W/diff.err")"
cat "$W/diff.txt"
grep -Eq '^  ~ hello +1\.0-1 -> 1\.1-1$' "$W/diff.txt" || fail "no package line for hello"
grep -Eq '^  ~ /usr/bin/hello +content, size 12 -> 21$' "$W/diff.txt" || fail "no line for /usr/bin/hello"
grep -Eq '^  \+ /usr/bin/hello-greet +file 0755 0:0 8 B$' "$W/diff.txt" || fail "no line for hello-greet"
grep -Eq '^  ~ /var/lib/dpkg/status.d/hello +content' "$W/diff.txt" || fail "no line for status.d/hello"
grep -q '^Packages (1 changed):$' "$W/diff.txt" || fail "Packages header"
grep -q '^Config' "$W/diff.txt" && fail "a config difference was reported"
grep -q 'motd' "$W/diff.txt" && fail "an unchanged file of hello was reported"
grep -q '^--- oci:.*/out:v1  linux/amd64  sha256:' "$W/diff.txt" || fail "--- header"

"$DISTILL" diff "oci:$W/out:v1" "oci:$W/out:v2" --json >"$W/diff.json" && fail "--json: exit 0 for different images"
python3 - "$W/diff.json" <<'PY' || fail "--json document"
import json, sys
d = json.load(open(sys.argv[1]))
for key in ("a", "b", "identical", "packages", "files", "config", "layers"):
    assert key in d, key
assert d["identical"] is False
assert d["a"]["platform"] == "linux/amd64" and d["b"]["manifest"].startswith("sha256:"), d["a"]
assert d["packages"] == [{"change": "changed", "name": "hello", "arch": "amd64",
                          "a": "1.0-1", "b": "1.1-1"}], d["packages"]
files = {f["path"]: f for f in d["files"]}
want = {"/usr/bin/hello": "changed", "/usr/bin/hello-greet": "added",
        "/var/lib/dpkg/status.d/hello": "changed", "/var/lib/dpkg/status.d/hello.md5sums": "changed"}
assert {p: f["change"] for p, f in files.items()} == want, sorted(files)
hello = files["/usr/bin/hello"]
assert hello["what"] == ["content", "size"], hello
assert hello["a"]["sha256"] != hello["b"]["sha256"] and hello["b"]["sha256"].startswith("sha256:")
assert hello["b"]["mode"] == "0755" and hello["b"]["type"] == "file", hello
assert files["/usr/bin/hello-greet"]["a"] is None
assert d["config"] == [], d["config"]
layers = d["layers"]
assert not layers["same_stack"] and layers["common_prefix"] >= 1, layers
assert len(layers["only_a"]) >= 1 and len(layers["only_a"]) == len(layers["only_b"]), layers
assert all(l["diff_id"].startswith("sha256:") for l in layers["only_b"])
assert len(layers["shared"]) >= layers["common_prefix"]
PY

# --- --platform picks the manifest of these two-platform images ----------------
rc=0
"$DISTILL" diff "oci:$W/out:v1" "oci:$W/out:v2" --platform linux/arm64 --json >"$W/arm64.json" || rc=$?
[ "$rc" -eq 1 ] || fail "--platform linux/arm64: exit $rc (want 1)"
python3 - "$W/arm64.json" <<'PY' || fail "--platform linux/arm64 --json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["a"]["platform"] == d["b"]["platform"] == "linux/arm64/v8", (d["a"], d["b"])
assert d["packages"] == [{"change": "changed", "name": "hello", "arch": "arm64",
                          "a": "1.0-1", "b": "1.1-1"}], d["packages"]
assert d["config"] == [], d["config"]
PY

# --- a copy of these two-platform images into a docker-archive (one platform) ---
# takes the host's, or --arch's; into a registry or layout, --arch keeps one.
archive_arch() {
  python3 - "$1" <<'PY'
import json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    manifest = json.load(t.extractfile("manifest.json"))
    assert len(manifest) == 1, manifest
    print(json.load(t.extractfile(manifest[0]["Config"]))["architecture"])
PY
}
host_arch=$(dpkg --print-architecture)
"$DISTILL" copy "oci:$W/out:v1" "docker-archive:$W/host.tar:app:v1" --progress none ||
  fail "copy of a two-platform image into a docker-archive"
[ "$(archive_arch "$W/host.tar")" = "$host_arch" ] || fail "docker-archive: not the host's platform"
"$DISTILL" copy "oci-archive:$W/v1.tar:v1" "docker-archive:$W/arm.tar:app:v1" --arch arm64 \
  --progress none || fail "copy --arch arm64 into a docker-archive"
[ "$(archive_arch "$W/arm.tar")" = arm64 ] || fail "docker-archive --arch arm64: $(archive_arch "$W/arm.tar")"
"$DISTILL" copy "oci:$W/out:v1" "oci:$W/arm-only:v1" --arch arm64 --progress none ||
  fail "copy --arch arm64 into a layout"
"$DISTILL" inspect "oci:$W/arm-only:v1" --arch arm64 >/dev/null || fail "inspect the arm64 copy"
"$DISTILL" inspect "oci:$W/arm-only:v1" --arch amd64 >/dev/null 2>&1 && fail "the arm64 copy has amd64"
rc=0
"$DISTILL" copy "oci:$W/out:v1" "docker-archive:$W/x.tar" --arch x86_64 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] && [ ! -e "$W/x.tar" ] || fail "copy --arch x86_64: exit $rc (want 2), or wrote"
rc=0
"$DISTILL" build "$W/app.yaml" -o "docker-archive:$W/two.tar" "${C[@]}" 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] && [ ! -e "$W/two.tar" ] || fail "two platforms into a docker-archive: exit $rc (want 2)"

# --- identical images: no output, exit 0 (also across transports) --------------
out=$("$DISTILL" diff "oci:$W/out:v1" "oci:$W/out:v1") || fail "diff of an image with itself: exit $?"
[ -z "$out" ] || fail "diff of an image with itself printed: $out"
out=$("$DISTILL" diff "oci:$W/out:v1" "oci-archive:$W/v1.tar:v1") || fail "diff of a layout and its archive"
[ -z "$out" ] || fail "diff of a layout and its archive printed: $out"
"$DISTILL" diff "oci:$W/out:v2" "oci:$W/out:v2" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["identical"] is True and d["files"] == [] and d["packages"] == [] and d["config"] == []
assert d["layers"]["same_stack"] and d["layers"]["only_a"] == [] and d["layers"]["only_b"] == []
' || fail "--json of identical images"
out=$("$DISTILL" diff "oci:$W/out:v1" "oci:$W/out:v1" --platform linux/amd64) || fail "--platform linux/amd64"
[ -z "$out" ] || fail "--platform linux/amd64 printed: $out"

# --- errors exit 2 with one line naming the reference --------------------------
err=$("$DISTILL" diff "oci:$W/out:v1" "oci:$W/nowhere:v1" 2>&1 >/dev/null) && fail "a missing image compared"
rc=$("$DISTILL" diff "oci:$W/out:v1" "oci:$W/nowhere:v1" >/dev/null 2>&1; echo $?) || true
[ "$rc" -eq 2 ] || fail "unreadable reference: exit $rc (want 2)"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "unreadable reference: more than one line: $err"
grep -Fq "oci:$W/nowhere:v1" <<<"$err" || fail "unreadable reference not named: $err"
rc=0
err=$("$DISTILL" diff "oci:$W/out:v1" "oci:$W/out:v1" --platform linux/s390x 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 2 ] || fail "a platform the image lacks: exit $rc (want 2)"
grep -q 'linux/s390x' <<<"$err" || fail "a platform the image lacks: $err"
echo "t_diff: ok"
