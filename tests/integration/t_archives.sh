#!/usr/bin/env bash
# t_archives: a spec's `archives:` (upstream tarballs) end to end, against
# archives and a signed apt repository served on 127.0.0.1. Covers .tar.gz,
# .tar.xz, .tar.zst and .zip; strip, dst, exclude, owner and mode; `trace:` on an
# ELF program from an archive pulling the packages that ship its libraries
# (through the repository's Contents index); the lock and --frozen; the SBOM
# component; the same image from a cold cache. Then each bad input: a wrong
# checksum, a truncated download, a ".." entry, a symlink leaving dst, no
# download for the architecture built: one clear error naming the archive,
# and nothing cached under a wrong digest. Exit 0 pass, 1 fail, 77 skipped.
. "$(dirname "$0")/lib/common.sh"
. "$SRC/tests/integration/lib/aptrepo.sh"
aptrepo_require_tools
need gcc tar gzip xz zstd readelf
[ "$(dpkg --print-architecture)" = amd64 ] || {
  echo "SKIP: the toy program is built for amd64" >&2
  exit 77
}
LDSO=/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
[ -f "$LDSO" ] || {
  echo "SKIP: no $LDSO on this machine" >&2
  exit 77
}
aptrepo_init
W=$APTREPO_WORK
sha() { sha256sum "$1" | cut -d' ' -f1; }

# --- a library in a .deb, a program using it in an archive -----------------
cat >"$W/toy.c" <<'C'
int toy(void) { return 42; }
C
cat >"$W/prog.c" <<'C'
extern int toy(void);
void _start(void) { toy(); for (;;) { } }
C
gcc -shared -fPIC -nostdlib -Wl,-soname,libtoy.so.1 -o "$W/libtoy.so.1" "$W/toy.c" ||
  fail "compiling libtoy"
gcc -nostdlib -o "$W/prog" "$W/prog.c" "$W/libtoy.so.1" -Wl,--dynamic-linker=/lib64/ld-linux-x86-64.so.2 ||
  fail "compiling prog"
readelf -d "$W/prog" | grep -q 'NEEDED.*libtoy.so.1' || fail "prog does not need libtoy.so.1"

mkdir -p "$W/libtoy/usr/lib/x86_64-linux-gnu" "$W/toyld/lib/x86_64-linux-gnu"
cp "$W/libtoy.so.1" "$W/libtoy/usr/lib/x86_64-linux-gnu/"
cp "$LDSO" "$W/toyld/lib/x86_64-linux-gnu/"
make_deb base-files 12.4 amd64 --file /etc/debian_version=$'12.4\n' >/dev/null
make_deb libtoy1 1.0 amd64 --data-tar-from "$W/libtoy" >/dev/null
make_deb toyld 1.0 amd64 --data-tar-from "$W/toyld" >/dev/null
build_repo "$W/repo" bookworm --contents

# --- the archives -------------------------------------------------------------
T=$W/tree/tool-1.0
mkdir -p "$T/bin" "$T/share" "$T/include"
cp "$W/prog" "$T/bin/prog"
chmod 0755 "$T/bin/prog"
echo "read me" >"$T/share/readme.txt"
echo "int x;" >"$T/include/x.h"
chmod 0644 "$T/share/readme.txt" "$T/include/x.h"
ln -s ../share/readme.txt "$T/bin/readme"
D=$W/repo/dl
mkdir -p "$D"
tarball() {  # tarball OUT [tar options]: tool-1.0/ owned by 1234:5678, stable order and times
  local out=$1
  shift
  tar -C "$W/tree" --sort=name --owner=1234 --group=5678 --numeric-owner --mtime=@1600000000 \
    "$@" -cf "$out" tool-1.0
}
tarball "$D/tool-1.0.tar.gz" -z
tarball "$D/tool-1.0.tar.xz" -J
tarball "$D/tool-1.0.tar.zst" --zstd
(cd "$W/tree" && python3 - "$D/tool-1.0.zip" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for name, mode in (("tool-1.0/bin/prog", 0o755), ("tool-1.0/share/readme.txt", 0o644)):
        info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, open(name, "rb").read())
PY
)
# Hostile ones, written as a hostile packer would (Python's tarfile takes any name).
python3 - "$D" <<'PY'
import io, sys, tarfile
def make(path, members):
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as t:
        for info, data in members:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
def f(name, data=b"x"):
    i = tarfile.TarInfo(name); i.size = len(data); i.mode = 0o644; return i, data
def link(name, target):
    i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; return i, None
make(sys.argv[1] + "/dotdot.tar.gz", [f("tool/ok"), f("tool/../../evil")])
make(sys.argv[1] + "/escape.tar.gz", [f("tool/ok"), link("tool/bin/esc", "../../../../etc/passwd")])
PY
start_server "$W/repo"
U=$APTREPO_URL

cat >"$W/spec.yaml" <<YAML
name: archived
sources:
  - url: $U
    suites: [bookworm]
    keyring: $W/repo/keyring.gpg
packages: [base-files]
archives:
  - name: tool
    version: "1.0"
    url: $U/dl/tool-1.0.tar.gz
    sha256: $(sha "$D/tool-1.0.tar.gz")
    strip: 1
    dst: /opt/tool
    exclude: [include]
    uid: 65532
    gid: 65533
    mode: "0750"
  - url: $U/dl/tool-1.0.tar.xz
    sha256: $(sha "$D/tool-1.0.tar.xz")
    dst: /opt/xz
  - url: $U/dl/tool-1.0.zip
    sha256: $(sha "$D/tool-1.0.zip")
    dst: /opt/zip
    strip: 1
  - name: zst
    dst: /opt/zst
    strip: 1
    downloads:
      - {arch: amd64, url: "$U/dl/tool-1.0.tar.zst", sha256: $(sha "$D/tool-1.0.tar.zst")}
      - {arch: arm64, url: "$U/dl/not-here-arm64.tar.zst", sha256: $(printf '%064d' 0)}
trace: [/opt/tool/bin/prog]
entrypoint: ["/opt/tool/bin/prog"]
YAML

# --- the build ------------------------------------------------------------------
"$DISTILL" build "$W/spec.yaml" --cache-dir "$W/cache1" --progress none -o "oci:$W/layout:v1" \
  2>"$W/build.err" || fail "build: $(cat "$W/build.err")"
d1=$(index_digest "$W/layout" v1) || fail "no ref v1"

# Every entry of the image's layers: "path type uid gid mode"; files' "path sha256"
# go to the file named third.
entries() {
  python3 - "$1" "$2" "$3" <<'PY'
import hashlib, json, sys, tarfile
root, ref = sys.argv[1], sys.argv[2]
contents = open(sys.argv[3], "w")
def blob(d): return f"{root}/blobs/sha256/{d[7:]}"
index = json.load(open(root + "/index.json"))
m = [m for m in index["manifests"]
     if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref][0]
doc = json.load(open(blob(m["digest"])))
if "manifests" in doc:
    doc = json.load(open(blob(doc["manifests"][0]["digest"])))
for layer in doc["layers"]:
    with tarfile.open(blob(layer["digest"])) as t:
        for i in t:
            kind = "d" if i.isdir() else "l" if i.issym() else "f"
            print(i.name, kind, i.uid, i.gid, "%04o" % i.mode)
            if i.isfile():
                print(i.name, hashlib.sha256(t.extractfile(i).read()).hexdigest(), file=contents)
PY
}
entries "$W/layout" v1 "$W/contents.txt" >"$W/entries.txt"
has() { grep -qx -- "$1" "$W/entries.txt" || fail "image lacks '$1'"; }
hasnt() { ! grep -q -- "$1" "$W/entries.txt" || fail "image has '$1'"; }
has "opt/tool/bin/prog f 65532 65533 0750"
has "opt/tool/share/readme.txt f 65532 65533 0750"
has "opt/tool/bin/readme l 65532 65533 0777"
has "opt/tool/bin d 65532 65533 0755"
hasnt "opt/tool/include"
hasnt "opt/tool/tool-1.0"
has "opt/xz/tool-1.0/bin/prog f 0 0 0755"
has "opt/zst/bin/prog f 0 0 0755"
has "opt/zip/bin/prog f 0 0 0755"
has "opt/zip/share/readme.txt f 0 0 0644"
for f in opt/tool/bin/prog opt/zip/bin/prog opt/zst/bin/prog; do
  grep -qx "$f $(sha "$W/prog")" "$W/contents.txt" || fail "$f is not the program"
done
# trace: the program's library and its interpreter came from their packages.
has "usr/lib/x86_64-linux-gnu/libtoy.so.1 f 0 0 0755"
has "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 f 0 0 0755"
grep -q "^var/lib/dpkg/status.d/libtoy1 " "$W/entries.txt" || fail "no status.d for libtoy1"
grep -q "^var/lib/dpkg/status.d/toyld " "$W/entries.txt" || fail "no status.d for toyld"
has "var/lib/distill/archives/$(sha "$D/tool-1.0.tar.gz").json f 0 0 0644"

# --- lock and --frozen --------------------------------------------------------------
"$DISTILL" lock "$W/spec.yaml" --cache-dir "$W/cache1" --progress none -o "$W/lock.json" || fail "lock"
python3 - "$W/lock.json" "$U/dl/tool-1.0.tar.gz" "$(sha "$D/tool-1.0.tar.gz")" <<'PY' || fail "lock archives"
import json, sys
lock = json.load(open(sys.argv[1]))
got = {(a["url"], a["sha256"]) for a in lock["archives"]["amd64"]}
assert (sys.argv[2], sys.argv[3]) in got, got
assert len(got) == 4, got
assert {p["name"] for p in lock["packages"]["amd64"]} >= {"libtoy1", "toyld"}
PY
"$DISTILL" build "$W/spec.yaml" --lock "$W/lock.json" --frozen --cache-dir "$W/cache1" --progress none \
  -o "oci:$W/layout:locked" || fail "build --frozen"
[ "$(index_digest "$W/layout" locked)" = "$d1" ] || fail "the locked build differs"
# The .tar.xz entry names another digest (a new upstream build under the same URL).
sed "s|$(sha "$D/tool-1.0.tar.xz")|$(sha "$D/tool-1.0.tar.gz")|" "$W/spec.yaml" >"$W/spec-changed.yaml"
expect_fail "spec-changed.yaml:[0-9]+: archive $U/dl/tool-1.0.tar.xz \(sha256 $(sha "$D/tool-1.0.tar.gz")\) is not in the lock for amd64 \(--frozen\)" \
  "$DISTILL" build "$W/spec-changed.yaml" --lock "$W/lock.json" --frozen --cache-dir "$W/cache1" \
  --progress none -o "oci:$W/x:y"

# --- the SBOM -------------------------------------------------------------------------
"$DISTILL" sbom "oci:$W/layout:v1" --format cyclonedx-json -o "$W/sbom.cdx.json" || fail "sbom"
"$DISTILL" sbom "oci:$W/layout:v1" -o "$W/sbom.spdx.json" || fail "sbom spdx"
python3 - "$W" "$U" "$(sha "$D/tool-1.0.tar.gz")" <<'PY' || fail "SBOM archive components"
import json, sys, urllib.parse
w, url, digest = sys.argv[1:4]
download = url + "/dl/tool-1.0.tar.gz"
cdx = json.load(open(w + "/sbom.cdx.json"))
tool = [c for c in cdx["components"] if c.get("name") == "tool"]
assert len(tool) == 1, tool
tool = tool[0]
assert tool["version"] == "1.0"
assert tool["purl"] == "pkg:generic/tool@1.0?download_url=" + urllib.parse.quote(download, safe=""), tool["purl"]
assert tool["hashes"] == [{"alg": "SHA-256", "content": digest}]
assert tool["externalReferences"][0]["url"] == download
assert any(c.get("name") == "tool-1.0.tar.xz" and "purl" not in c for c in cdx["components"])
spdx = json.load(open(w + "/sbom.spdx.json"))
p = [p for p in spdx["packages"] if p["name"] == "tool"][0]
assert p["downloadLocation"] == download and p["checksums"][0]["checksumValue"] == digest
PY

# The reference validators (CycloneDX schema, SPDX 2.3 schema, packageurl-js), when
# npm can install them; the rest of the scenario does not need them.
. "$SRC/tests/integration/lib/sbom_validators.sh"
if sbom_validators_setup; then
  validate_sbom cyclonedx "$W/sbom.cdx.json" spdx "$W/sbom.spdx.json" >/dev/null
fi

# --- the same image from a cold cache -------------------------------------------------
"$DISTILL" build "$W/spec.yaml" --cache-dir "$W/cache2" --progress none -o "oci:$W/layout:cold" ||
  fail "cold build"
[ "$(index_digest "$W/layout" cold)" = "$d1" ] || fail "a cold build gave another image"
[ -z "$(cache_leftovers "$W/cache1")$(cache_leftovers "$W/cache2")" ] || fail "leftovers in a cache"

# --- bad inputs -------------------------------------------------------------------------
# one_archive FILE URL SHA256 [extra lines]: a spec with a single archive.
one_archive() {
  cat >"$1" <<YAML
name: bad
archives:
  - name: tool
    version: "1.0"
    url: $2
    sha256: $3
    strip: 1
    dst: /opt/tool
${4:-}
YAML
}
no_wrong_entry() {  # no_wrong_entry CACHE HEX
  [ ! -e "$1/sha256/$2" ] || fail "an entry under the wrong digest $2"
  [ -z "$(cache_leftovers "$1")" ] || fail "leftovers in $1: $(cache_leftovers "$1")"
}

wrong=$(sha "$D/tool-1.0.tar.xz")
one_archive "$W/bad-sum.yaml" "$U/dl/tool-1.0.tar.gz" "$wrong"
expect_fail "archive tool 1.0 \($U/dl/tool-1.0.tar.gz\).*sha256 mismatch" \
  "$DISTILL" build "$W/bad-sum.yaml" --cache-dir "$W/cache3" --progress none -o "oci:$W/bad:1"
no_wrong_entry "$W/cache3" "$wrong"

one_archive "$W/dotdot.yaml" "$U/dl/dotdot.tar.gz" "$(sha "$D/dotdot.tar.gz")"
expect_fail "archive tool 1.0 \($U/dl/dotdot.tar.gz\): path escapes the root: tool/../../evil" \
  "$DISTILL" build "$W/dotdot.yaml" --cache-dir "$W/cache3" --progress none -o "oci:$W/bad:2"
no_wrong_entry "$W/cache3" "$wrong"

one_archive "$W/escape.yaml" "$U/dl/escape.tar.gz" "$(sha "$D/escape.tar.gz")"
expect_fail "archive tool 1.0 \($U/dl/escape.tar.gz\): tool/bin/esc: symlink to ../../../../etc/passwd points outside /opt/tool" \
  "$DISTILL" build "$W/escape.yaml" --cache-dir "$W/cache3" --progress none -o "oci:$W/bad:3"
no_wrong_entry "$W/cache3" "$wrong"
[ ! -e "$W/bad" ] || [ -z "$(ls "$W/bad" 2>/dev/null)" ] || fail "a failed build wrote an output"

one_archive "$W/arm-only.yaml" "$U/dl/tool-1.0.tar.gz" "$(sha "$D/tool-1.0.tar.gz")" "    arch: arm64"
expect_fail "arm-only.yaml:3: archive tool 1.0 has no download for amd64" \
  "$DISTILL" build "$W/arm-only.yaml" --arch amd64 --cache-dir "$W/cache3" --progress none -o "oci:$W/bad:4"

# A download cut short, every time it is tried.
good=$(sha "$D/tool-1.0.tar.gz")
start_server "$W/repo" --truncate 'tool-1\.0\.tar\.gz$:100:1000'
one_archive "$W/truncated.yaml" "$APTREPO_URL/dl/tool-1.0.tar.gz" "$good"
expect_fail "archive tool 1.0 \($APTREPO_URL/dl/tool-1.0.tar.gz\)" \
  "$DISTILL" build "$W/truncated.yaml" --cache-dir "$W/cache4" --progress none -o "oci:$W/bad:5"
no_wrong_entry "$W/cache4" "$good"
stop_server
echo "PASS"
