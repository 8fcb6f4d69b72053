#!/usr/bin/env bash
# t_update: provenance and `distill update` against a signed apt repository on
# 127.0.0.1 (issue 14, parts 1 and 3). An application image (a `files:` layer
# on the base flavor) is built; a newer tzdata is published; `update` then
# gives an image whose application layer is the same blob, whose tzdata layer
# is new, and whose index digest is the one `build --refresh` gives. Refused:
# an image without provenance, a repository re-signed by an unknown key, a
# replayed older Release. Exit 0 pass, 1 fail, 77 skipped.
. "$(dirname "$0")/lib/common.sh"
. "$SRC/tests/integration/lib/aptrepo.sh"
aptrepo_require_tools
need skopeo
aptrepo_init
W=$APTREPO_WORK

# --- stand-ins for the packages of static and base ----------------------------
make_base_stand_ins
build_repo "$W/repo" bookworm
start_server "$W/repo"
mkdir -p "$W/root/etc/apt/sources.list.d"
make_sources "$W/root/etc/apt/sources.list.d/test.sources" bookworm
export DISTILL_APT_ROOT=$W/root
C=(--cache-dir "$W/cache" --progress none --arch amd64)

mkdir -p "$W/app"
printf 'hello from the app\n' >"$W/app/hello.txt"
cat >"$W/app/app.yaml" <<'YAML'
name: app
from: base
files:
  - {src: hello.txt, dst: /app/hello.txt}
  - {dst: /etc/app.conf, content: "port=8000\n"}
entrypoint: ["/app/hello.txt"]
env: {TZ: UTC}
YAML

# manifest_of LAYOUT REF: the path of REF's (first) image manifest blob.
manifest_of() {
  python3 - "$1" "$2" <<'PY'
import json, sys
root = sys.argv[1]
def blob(d): return f"{root}/blobs/sha256/{d[7:]}"
index = json.load(open(root + "/index.json"))
desc = next(m for m in index["manifests"]
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == sys.argv[2])
path = blob(desc["digest"])
doc = json.load(open(path))
while "manifests" in doc:
    path = blob(doc["manifests"][0]["digest"])
    doc = json.load(open(path))
print(path)
PY
}
# layer_with LAYOUT REF KIND [PACKAGE]: the digest of the layer of that kind
# (holding PACKAGE=... when given), from the layer annotations.
layer_with() {
  python3 - "$(manifest_of "$1" "$2")" "$3" "${4:-}" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for layer in m["layers"]:
    a = layer.get("annotations", {})
    if a.get("dev.distill.layer.kind") != sys.argv[2]:
        continue
    if sys.argv[3] and not any(p.startswith(sys.argv[3] + "=")
                               for p in a.get("dev.distill.layer.packages", "").split(",")):
        continue
    print(layer["digest"]); break
else:
    sys.exit(1)
PY
}

# --- part 1: provenance in the image -------------------------------------------
(cd "$W/app" && "$DISTILL" build app.yaml "${C[@]}" -o "oci:$W/layout:v1") || fail "build v1"
python3 - "$(manifest_of "$W/layout" v1)" "$W" <<'PY' || fail "provenance of v1"
import json, sys
m = json.load(open(sys.argv[1]))
kinds = [l["annotations"]["dev.distill.layer.kind"] for l in m["layers"]]
assert kinds[-1] == "files" and "packages" in kinds and "generated" in kinds, kinds
packages = ",".join(l["annotations"].get("dev.distill.layer.packages", "") for l in m["layers"])
assert "tzdata=2024a/all" in packages and "libc6=2.36-9/amd64" in packages, packages
text = m["annotations"]["dev.distill.provenance"]
assert sys.argv[2] not in text, "a local path in the record"
r = json.loads(text)
assert r["version"] == 1 and r["arch"] == "amd64" and r["variant"] == "latest", r
assert [s["spec"] for s in r["stages"]] == ["bookworm/static.yaml (built-in)", "bookworm/base.yaml (built-in)", "app.yaml"], r["stages"]
assert r["stages"][2]["files"]["layer"] == len(m["layers"]) - 1
src = r["resolution"]["sources"][0]
assert src["suite"] == "bookworm" and src["date"].endswith("UTC"), src
tz = [p for p in r["resolution"]["packages"] if p["name"] == "tzdata"][0]
assert tz["version"] == "2024a" and len(tz["sha256"]) == 64, tz
PY
# The same spec from another directory and cache: the same bytes.
mkdir -p "$W/elsewhere" && cp "$W/app/app.yaml" "$W/app/hello.txt" "$W/elsewhere/"
"$DISTILL" build "$W/elsewhere/app.yaml" --cache-dir "$W/cache-b" --progress none --arch amd64 \
  -o "oci:$W/layout:v1b" || fail "build v1 elsewhere"
[ "$(index_digest "$W/layout" v1b)" = "$(index_digest "$W/layout" v1)" ] ||
  fail "the same inputs from another directory and cache gave another digest"

# --- nothing changed: update gives the same image -------------------------------
"$DISTILL" update "oci:$W/layout:v1" -o "oci:$W/layout:same" "${C[@]:0:4}" >"$W/same.out" 2>"$W/same.err" ||
  fail "update with nothing new: $(cat "$W/same.err")"
grep -qx "no package changed" "$W/same.out" || fail "update with nothing new: $(cat "$W/same.out")"
[ "$(index_digest "$W/layout" same)" = "$(index_digest "$W/layout" v1)" ] ||
  fail "update with nothing new changed the digest"

# --- a newer tzdata is published --------------------------------------------------
cp -a "$W/repo/dists" "$W/dists.old"
make_deb tzdata 2024b all --file /usr/share/zoneinfo/UTC=TZif2-b >/dev/null
rm -f "$APTREPO_DEBS"/tzdata_2024a_all.deb
rm -rf "$W/repo/pool"
SOURCE_DATE_EPOCH=$((SOURCE_DATE_EPOCH + 3600)) build_repo "$W/repo" bookworm

/usr/bin/time -f '%e' -o "$W/update.time" \
  "$DISTILL" update "oci:$W/layout:v1" -o "oci:$W/layout:v2" "${C[@]:0:4}" --lock-out "$W/v2.lock" \
  >"$W/update.out" 2>"$W/update.err" || fail "update: $(cat "$W/update.err")"
grep -qx "amd64: tzdata 2024a -> 2024b" "$W/update.out" || fail "update did not name the change: $(cat "$W/update.out")"
echo "update: $(tail -n 1 "$W/update.time") s"
(cd "$W/app" && "$DISTILL" build app.yaml "${C[@]}" --refresh -o "oci:$W/layout:fresh") ||
  fail "build --refresh"
[ "$(index_digest "$W/layout" v2)" = "$(index_digest "$W/layout" fresh)" ] ||
  fail "update and build --refresh differ"
[ "$(index_digest "$W/layout" v2)" != "$(index_digest "$W/layout" v1)" ] || fail "update changed nothing"
[ "$(layer_with "$W/layout" v2 files)" = "$(layer_with "$W/layout" v1 files)" ] ||
  fail "the application layer changed"
new_tz=$(layer_with "$W/layout" v2 packages tzdata) || fail "no tzdata layer in v2"
old_tz=$(layer_with "$W/layout" v1 packages tzdata) || fail "no tzdata layer in v1"
[ "$new_tz" != "$old_tz" ] || fail "the tzdata layer was not replaced"
[ "$(layer_with "$W/layout" v2 packages libc6)" = "$(layer_with "$W/layout" v1 packages libc6)" ] ||
  fail "the libc6 layer changed"
grep -q '"2024b"' "$W/v2.lock" || fail "--lock-out lacks the new tzdata"
# --sbom: the updated image carries the SBOM `build --refresh --sbom` attaches
# (same output name, other directories), listing the new tzdata and its .deb.
mkdir -p "$W/sbom-update" "$W/sbom-build"
"$DISTILL" update "oci:$W/layout:v1" -o "oci:$W/sbom-update/layout:v2" "${C[@]:0:4}" --sbom \
  >/dev/null 2>"$W/sbom-update.err" || fail "update --sbom: $(cat "$W/sbom-update.err")"
(cd "$W/app" && "$DISTILL" build app.yaml "${C[@]}" --refresh --sbom -o "oci:$W/sbom-build/layout:v2") ||
  fail "build --refresh --sbom"
python3 - "$W/sbom-update/layout" "$W/sbom-build/layout" "$APTREPO_DEBS/tzdata_2024b_all.deb" <<'PY' || fail "update --sbom"
import hashlib, json, sys
def sbom(root):
    index = json.load(open(f"{root}/index.json"))
    (ref,) = [m for m in index["manifests"] if m.get("artifactType") == "application/spdx+json"]
    artifact = json.load(open(f"{root}/blobs/sha256/{ref['digest'].split(':')[1]}"))
    return ref["digest"], json.load(open(f"{root}/blobs/sha256/{artifact['layers'][0]['digest'].split(':')[1]}"))
(updated, doc), (built, _) = sbom(sys.argv[1]), sbom(sys.argv[2])
assert updated == built, (updated, built)
(tz,) = [p for p in doc["packages"] if p["name"] == "tzdata"]
assert tz["versionInfo"] == "2024b", tz
deb = hashlib.sha256(open(sys.argv[3], "rb").read()).hexdigest()
assert tz["checksums"] == [{"algorithm": "SHA256", "checksumValue": deb}], tz
PY
rc=0
"$DISTILL" update "oci:$W/layout:v1" -o "oci:$W/x:y" "${C[@]:0:4}" --sbom-format spdx-yaml 2>"$W/format.err" || rc=$?
[ "$rc" = 2 ] && grep -q '^distill: error: usage: --sbom-format: .*spdx-yaml' "$W/format.err" ||
  fail "update --sbom-format spdx-yaml: exit $rc, $(cat "$W/format.err")"
[ ! -e "$W/x" ] || fail "update with a bad --sbom-format wrote an output"
# The lock written by update is the one `distill lock` writes now.
(cd "$W/app" && "$DISTILL" lock app.yaml "${C[@]}" -o "$W/fresh.lock") || fail "lock"
cmp -s "$W/v2.lock" "$W/fresh.lock" || fail "--lock-out differs from distill lock: $(diff "$W/v2.lock" "$W/fresh.lock")"

# --only: tzdata is kept at 2024a (its .deb is in the cache), so every layer is v1's.
"$DISTILL" update "oci:$W/layout:v1" -o "oci:$W/layout:only" "${C[@]:0:4}" --only libc6,libssl3 \
  >"$W/only.out" 2>"$W/only.err" || fail "update --only: $(cat "$W/only.err")"
grep -qx "no package changed" "$W/only.out" || fail "update --only moved a package: $(cat "$W/only.out")"
[ "$(layer_digests "$W/layout" only)" = "$(layer_digests "$W/layout" v1)" ] ||
  fail "update --only changed a layer"
rc=0
"$DISTILL" update "oci:$W/layout:v1" -o "oci:$W/x:y" "${C[@]:0:4}" --only nosuch 2>"$W/nosuch.err" || rc=$?
[ "$rc" -eq 2 ] && grep -q "usage: --only nosuch: .* has no package nosuch" "$W/nosuch.err" ||
  fail "update --only nosuch: exit $rc: $(cat "$W/nosuch.err")"

# In place: the tag moves to the updated image, the same one v2 is.
"$DISTILL" update "oci:$W/layout:only" -o "oci:$W/layout:only" "${C[@]:0:4}" >/dev/null 2>"$W/inplace.err" ||
  fail "update in place: $(cat "$W/inplace.err")"
[ "$(index_digest "$W/layout" only)" = "$(index_digest "$W/layout" v2)" ] || fail "update in place differs from v2"

# --- a spec with its own sources and keyring ------------------------------------------
# The record names the keyring by file name and sha256, never by path: update
# asks for the file, and takes it from --keyring wherever it now lives.
mkdir -p "$W/own"
cat >"$W/own/own.yaml" <<YAML
name: own
sources:
  - url: $APTREPO_URL
    suites: [bookworm]
    keyring: $W/repo/keyring.gpg
packages: [tzdata]
files:
  - {dst: /etc/own.conf, content: "own\n"}
YAML
"$DISTILL" build "$W/own/own.yaml" "${C[@]}" -o "oci:$W/layout:own1" || fail "build own"
python3 - "$(manifest_of "$W/layout" own1)" "$W" <<'PY' || fail "the keyring in the record"
import json, sys
r = json.loads(json.load(open(sys.argv[1]))["annotations"]["dev.distill.provenance"])
k = r["stages"][0]["sources"][0]["keyring"]
assert k["name"] == "keyring.gpg" and len(k["sha256"]) == 64, k
assert sys.argv[2] not in json.dumps(r), "a local path in the record"
PY
expect_fail "keyring keyring.gpg .*give that file with --keyring" \
  "$DISTILL" update "oci:$W/layout:own1" -o "oci:$W/x:y" "${C[@]:0:4}"
expect_fail "keyring keyring.gpg" \
  "$DISTILL" update "oci:$W/layout:own1" -o "oci:$W/x:y" "${C[@]:0:4}" --keyring "$W/app/hello.txt"
cp "$W/repo/keyring.gpg" "$W/moved.gpg"
"$DISTILL" update "oci:$W/layout:own1" -o "oci:$W/layout:own2" "${C[@]:0:4}" --keyring "$W/moved.gpg" \
  >/dev/null 2>"$W/own.err" || fail "update with --keyring: $(cat "$W/own.err")"
[ "$(index_digest "$W/layout" own2)" = "$(index_digest "$W/layout" own1)" ] ||
  fail "update of an up-to-date image with its own sources changed the digest"

# --- refusals -----------------------------------------------------------------------
# An image without provenance: docker-archive drops manifest annotations.
skopeo copy -q "oci:$W/layout:v1" "docker-archive:$W/v1.tar:app:v1" >/dev/null || fail "skopeo to docker-archive"
skopeo copy -q "docker-archive:$W/v1.tar" "oci:$W/foreign:v1" >/dev/null || fail "skopeo to oci"
expect_fail "has no distill provenance" "$DISTILL" update "oci:$W/foreign:v1" -o "oci:$W/x:y" "${C[@]:0:4}"
[ ! -e "$W/x" ] || fail "a refused update wrote an output"

# A replayed older Release (validly signed): refused as by build.
rm -rf "$W/dists.new" && mv "$W/repo/dists" "$W/dists.new" && cp -a "$W/dists.old" "$W/repo/dists"
expect_fail "Date .* is older than the .* already seen" "$DISTILL" update "oci:$W/layout:v1" -o "oci:$W/x:y" "${C[@]:0:4}"
expect_fail "Date .* is older than the .* already seen" "$DISTILL" build "$W/app/app.yaml" "${C[@]}" --refresh -o "oci:$W/x:y"
rm -rf "$W/repo/dists" && mv "$W/dists.new" "$W/repo/dists"

# A newer Release signed by a key the sources do not trust.
mkdir -m 700 "$W/other-gnupg"
GNUPGHOME="$W/other-gnupg" gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
  --quick-generate-key "someone else <else@distill.invalid>" ed25519 sign never 2>/dev/null
dists="$W/repo/dists/bookworm"
sed -i "s/^Date: .*/Date: $(LC_ALL=C date -u -d "@$((SOURCE_DATE_EPOCH + 7200))" '+%a, %d %b %Y %H:%M:%S UTC')/" "$dists/Release"
GNUPGHOME="$W/other-gnupg" gpg --batch --quiet --yes --pinentry-mode loopback --passphrase '' \
  --digest-algo SHA256 --clearsign --output "$dists/InRelease" "$dists/Release"
expect_fail "InRelease: signed by a key that is not in the keyring" "$DISTILL" update "oci:$W/layout:v1" -o "oci:$W/x:y" "${C[@]:0:4}"
expect_fail "InRelease: signed by a key that is not in the keyring" "$DISTILL" build "$W/app/app.yaml" "${C[@]}" --refresh -o "oci:$W/x:y"
[ ! -e "$W/x" ] || fail "a refused update wrote an output"
GNUPGHOME="$W/other-gnupg" gpgconf --kill all >/dev/null 2>&1 || true

# Usage: update takes one output.
rc=0
"$DISTILL" update "oci:$W/layout:v1" "${C[@]:0:4}" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "update without -o: exit $rc (expected 2)"

echo "t_update: ok"
