#!/usr/bin/env bash
# t_sbom_referrer: `distill build --sbom` (issue 4) against a signed apt
# repository on 127.0.0.1, offline. The SBOM of each architecture is attached as
# an OCI 1.1 referrer: in an oci: layout (artifact manifest listed in
# index.json, subject = the image manifest, layer valid SPDX 2.3 listing the
# packages `inspect --packages` lists), next to an oci-archive, and in a real
# `docker-registry` (distribution 2.8, no referrers API: the sha256-<hex>
# fallback tag index, idempotent across pushes, readable by skopeo). Also the
# determinism of the SBOM digest, CycloneDX, and usage errors.
# Exit 0 pass, 1 fail, 77 skipped.
. "$(dirname "$0")/lib/common.sh"
. "$SRC/tests/integration/lib/aptrepo.sh"
aptrepo_require_tools
need skopeo docker-registry curl oci-image-tool
python3 -c 'import jsonschema' 2>/dev/null || { echo "SKIP: python3-jsonschema" >&2; exit 77; }
aptrepo_init
W=$APTREPO_WORK

REGISTRY_PID=
stop_registry() {
  if [ -n "$REGISTRY_PID" ]; then
    kill "$REGISTRY_PID" 2>/dev/null || true
    wait "$REGISTRY_PID" 2>/dev/null || true
    REGISTRY_PID=
  fi
}
trap 'stop_registry; aptrepo_cleanup' EXIT

# --- the repository and the spec ----------------------------------------------
for arch in amd64 arm64; do
  make_deb base-files 12.4 $arch --file /etc/debian_version=$'12.4\n' >/dev/null
  make_deb libfoo1 1.2-1 $arch --file /usr/lib/libfoo.so.1=foo-$arch >/dev/null
done
make_deb app 2.0-1 all --depends "libfoo1 (>= 1.1)" --pre-depends base-files \
  --file /usr/bin/app=$'#!/app\n' --file-mode /usr/bin/app=0755 \
  --file /usr/share/doc/app/copyright=$'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: 2024 Someone\nLicense: MIT\n' >/dev/null
build_repo "$W/repo" bookworm --archs "amd64 arm64"
start_server "$W/repo"
cat >"$W/app.txt" <<<'application data'
cat >"$W/spec.yaml" <<YAML
name: sbomapp
sources:
  - url: $APTREPO_URL
    suites: [bookworm]
    components: [main]
    keyring: $W/repo/keyring.gpg
packages: [app]
archs: [amd64]
files:
  - {src: app.txt, dst: /app/data.txt}
entrypoint: ["/usr/bin/app"]
YAML
build() { "$DISTILL" build "$W/spec.yaml" --cache-dir "$W/cache" --progress none "$@"; }


# --- oci: layout ----------------------------------------------------------------
build --sbom --json -o "oci:$W/layout:v1" -o "oci-archive:$W/img.tar:v1" >"$W/build1.json" ||
  fail "build --sbom"
# Checks the layout: prints the SBOM blob path. Args: LAYOUT REF BUILD_JSON ARTIFACT_TYPE
check_layout() {
  python3 - "$@" <<'PY'
import json, sys
root, ref, build_json, artifact_type = sys.argv[1:5]
def blob(d): return open(f"{root}/blobs/sha256/{d.split(':')[1]}", "rb").read()
r = json.load(open(build_json))
# One SBOM per output (each named after its output): this layout's.
mine = [s for s in r["sboms"] if s["written"] == [f"oci:{root}:{ref}"]]
assert len(mine) == 1, r.get("sboms")
s = mine[0]
assert s["arch"] == "amd64" and s["media_type"] == artifact_type, s
image_manifest = r["manifests"][0]["digest"]
assert s["subject"] == image_manifest, (s, image_manifest)
index = json.load(open(root + "/index.json"))
tagged = [m for m in index["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref]
assert len(tagged) == 1 and tagged[0]["digest"] == r["index_digest"], tagged
image_index = json.loads(blob(r["index_digest"]))
assert [m["digest"] for m in image_index["manifests"]] == [image_manifest], image_index
refs = [m for m in index["manifests"] if m.get("artifactType") == artifact_type]
assert len(refs) == 1, index
entry = refs[0]
assert entry["mediaType"] == "application/vnd.oci.image.manifest.v1+json", entry
assert entry["digest"] == s["manifest_digest"], (entry, s)
assert "org.opencontainers.image.ref.name" not in entry.get("annotations", {}), entry
raw = blob(entry["digest"])
assert len(raw) == entry["size"]
m = json.loads(raw)
assert m["artifactType"] == artifact_type, m
assert m["config"] == {"mediaType": "application/vnd.oci.empty.v1+json",
  "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2}, m
assert blob(m["config"]["digest"]) == b"{}"
assert m["subject"]["digest"] == image_manifest, m
assert m["subject"]["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
assert m["subject"]["size"] == len(blob(image_manifest))
assert len(m["layers"]) == 1 and m["layers"][0]["mediaType"] == artifact_type, m
assert m["layers"][0]["digest"] == s["digest"], (m, s)
data = blob(s["digest"])
assert len(data) == m["layers"][0]["size"] == s["size"]
print(f"{root}/blobs/sha256/{s['digest'].split(':')[1]}")
PY
}
sbom=$(check_layout "$W/layout" v1 "$W/build1.json" application/spdx+json) || fail "oci: layout referrer"
validate_schema "$SRC/tests/data/schemas/spdx-2.3.schema.json" "$sbom"
"$DISTILL" inspect "oci:$W/layout:v1" --packages --json >"$W/packages.json" || fail "inspect"
python3 - "$W/packages.json" "$sbom" "$W/build1.json" <<'PY' || fail "SBOM packages differ from inspect --packages"
import json, sys
inspect = sorted((p["name"], p["version"]) for p in json.load(open(sys.argv[1]))["packages"])
spdx = json.load(open(sys.argv[2]))
pkgs = sorted((p["name"], p["versionInfo"]) for p in spdx["packages"] if p["SPDXID"] != "SPDXRef-Image")
assert inspect == pkgs == [("app", "2.0-1"), ("base-files", "12.4"), ("libfoo1", "1.2-1")], (inspect, pkgs)
assert spdx["name"] == "layout:v1", spdx["name"]  # the output's name, without its path
# The build knows each .deb's sha256 and records it.
shas = {p["name"]: p["sha256"] for p in json.load(open(sys.argv[3]))["packages"]}
for p in spdx["packages"]:
    if p["SPDXID"] != "SPDXRef-Image":
        assert p["checksums"] == [{"algorithm": "SHA256", "checksumValue": shas[p["name"]]}], p
PY
# The layout stays valid for other tools.
oci-image-tool validate --type image --ref name=v1 "$W/layout" >/dev/null 2>"$W/oit.err" ||
  fail "oci-image-tool: $(cat "$W/oit.err")"
skopeo inspect "oci:$W/layout:v1" >/dev/null || fail "skopeo inspect oci: after --sbom"
# oci-archive: the SBOM is written next to the tar, named after that output.
python3 - "$W/img.tar.amd64.spdx.json" "$sbom" <<'PY' || fail "oci-archive: $W/img.tar.amd64.spdx.json"
import json, sys
archive, layout = (json.load(open(p)) for p in sys.argv[1:3])
assert archive["name"] == "img:v1", archive["name"]
assert archive["packages"][1:] == layout["packages"][1:]
PY
skopeo inspect "oci-archive:$W/img.tar:v1" >/dev/null || fail "skopeo inspect oci-archive"

# A base image read from an archive: its layers live in a temporary directory
# during the build only; the SBOM still lists its packages.
cat >"$W/derived.yaml" <<YAML
name: derived
from: oci-archive:$W/img.tar:v1
files:
  - {dst: /etc/derived.conf, content: "x=1\n"}
YAML
"$DISTILL" build "$W/derived.yaml" --cache-dir "$W/cache" --progress none --sbom \
  -o "oci-archive:$W/derived.tar:v1" >/dev/null || fail "build --sbom from an oci-archive base"
validate_schema "$SRC/tests/data/schemas/spdx-2.3.schema.json" "$W/derived.tar.amd64.spdx.json"
python3 - "$W/derived.tar.amd64.spdx.json" <<'PY' || fail "derived SBOM"
import json, sys
spdx = json.load(open(sys.argv[1]))
pkgs = sorted(p["name"] for p in spdx["packages"] if p["SPDXID"] != "SPDXRef-Image")
assert pkgs == ["app", "base-files", "libfoo1"], pkgs
assert spdx["name"] == "derived:v1", spdx["name"]
PY

# --- determinism and idempotence -----------------------------------------------
# Another directory, the same output name: the same SBOM.
mkdir -p "$W/again"
build --sbom --json -o "oci:$W/again/layout:v1" >"$W/build2.json" || fail "second build --sbom"
build --sbom --json -o "oci:$W/layout:v1" >"$W/build3.json" || fail "rebuild into the same layout"
python3 - "$W/build1.json" "$W/build2.json" "$W/build3.json" <<'PY' || fail "SBOM digests differ between identical builds"
import json, sys
a, b, c = ([s for s in json.load(open(p))["sboms"] if s["written"][0].startswith("oci:")] for p in sys.argv[1:4])
assert [(s["digest"], s["manifest_digest"]) for s in a] == [(s["digest"], s["manifest_digest"]) for s in b] \
    == [(s["digest"], s["manifest_digest"]) for s in c], (a, b, c)
PY
check_layout "$W/layout" v1 "$W/build3.json" application/spdx+json >/dev/null ||
  fail "rebuilding into the layout duplicated the referrer"

# --- the SBOM cache ------------------------------------------------------------------
# The second and third builds took their documents from the cache; one made
# in a fresh cache, and one made again after the entry was damaged, are the
# same bytes.
entries=("$W"/cache/sboms/*.json)
[ "${#entries[@]}" -ge 1 ] && [ -f "${entries[0]}" ] || fail "no SBOM kept in the cache"
"$DISTILL" build "$W/spec.yaml" --cache-dir "$W/fresh-cache" --progress none --sbom --json \
  -o "oci:$W/fresh/layout:v1" >"$W/build4.json" || fail "build --sbom with a fresh cache"
for entry in "${entries[@]}"; do printf 'x' >>"$entry"; done
build --sbom --json -o "oci:$W/damaged/layout:v1" >"$W/build5.json" || fail "build --sbom over a damaged cache entry"
python3 - "$W/build1.json" "$W/build4.json" "$W/build5.json" <<'PY' || fail "a cached SBOM differs from a made one"
import json, sys
a, b, c = ([s["digest"] for s in json.load(open(p))["sboms"] if s["written"][0].startswith("oci:")] for p in sys.argv[1:4])
assert a == b == c, (a, b, c)
PY
# Its own entry was made again, whole; the other outputs' stay as they were.
damaged=0
for entry in "${entries[@]}"; do
  [ -f "$entry" ] && [ "$(tail -c 1 "$entry")" = x ] && damaged=$((damaged + 1))
done
[ "$damaged" -eq $((${#entries[@]} - 1)) ] ||
  fail "expected the one damaged SBOM cache entry the build used to be replaced ($damaged of ${#entries[@]} still damaged)"

# --- what the SBOMs' views read of each layer --------------------------------------
# The application changed: the SBOM is made anew, its package layers taken
# from what the first build's view read of them (the files layer is read
# always). It is the SBOM a fresh cache makes, with the new file's hash; a
# damaged record is read again, not trusted.
views=("$W"/cache/views/*.bin)
[ "${#views[@]}" -ge 1 ] && [ -f "${views[0]}" ] || fail "no layer's view kept in the cache"
sbom_of() { # BUILD_JSON LAYOUT: the SHA-256 the oci: output's SBOM gives its one file, and the SBOM's digest
  python3 - "$@" <<'PY'
import json, sys
s = [s for s in json.load(open(sys.argv[1]))["sboms"] if s["written"][0].startswith("oci:")][0]
doc = json.load(open(f"{sys.argv[2]}/blobs/sha256/{s['digest'].split(':')[1]}"))
(only,) = doc["files"]
(sha256,) = [c["checksumValue"] for c in only["checksums"] if c["algorithm"] == "SHA256"]
print(sha256, s["digest"])
PY
}
for content in 'application data, second' 'application data, third'; do
  printf '%s\n' "$content" >"$W/app.txt"
  want=$(sha256sum "$W/app.txt" | cut -d' ' -f1)
  build --sbom --json -o "oci:$W/changed/layout:v1" >"$W/changed.json" || fail "build --sbom after the application changed"
  rm -rf "$W/fresh2-cache"
  "$DISTILL" build "$W/spec.yaml" --cache-dir "$W/fresh2-cache" --progress none --sbom --json \
    -o "oci:$W/changed-fresh/layout:v1" >"$W/changed-fresh.json" || fail "build --sbom of the changed application, fresh cache"
  read -r got kept_digest < <(sbom_of "$W/changed.json" "$W/changed/layout") || fail "reading the changed SBOM"
  read -r _ fresh_digest < <(sbom_of "$W/changed-fresh.json" "$W/changed-fresh/layout") || fail "reading the fresh SBOM"
  [ "$got" = "$want" ] || fail "the SBOM lists /app/data.txt as $got, not $want"
  [ "$kept_digest" = "$fresh_digest" ] || fail "an SBOM made from kept layer views differs from a fresh one ($kept_digest, $fresh_digest)"
  # The second time round, every record had been damaged: each was read again and replaced.
  for view in "$W"/cache/views/*.bin; do
    [ "$(tail -c 1 "$view")" != x ] || fail "a damaged layer view was kept: $view"
    printf 'x' >>"$view"
  done
done
printf '%s\n' 'application data' >"$W/app.txt"

# --- CycloneDX ---------------------------------------------------------------------
build --sbom-format cyclonedx-json --json -o "oci:$W/cdx:v1" >"$W/cdx.json" || fail "build --sbom-format cyclonedx-json"
cdx=$(check_layout "$W/cdx" v1 "$W/cdx.json" application/vnd.cyclonedx+json) || fail "cyclonedx referrer"
validate_schema "$SRC/tests/data/schemas/cyclonedx-1.5.schema.json" "$cdx"

# --- two architectures: one SBOM per image manifest ------------------------------------
build --sbom --json --arch amd64,arm64 -o "oci:$W/multi:v1" >"$W/multi.json" || fail "build --sbom --arch amd64,arm64"
python3 - "$W/multi" "$W/multi.json" <<'PY' || fail "multi-arch referrers"
import json, sys
root, r = sys.argv[1], json.load(open(sys.argv[2]))
def blob(d): return json.load(open(f"{root}/blobs/sha256/{d.split(':')[1]}"))
manifests = {m["arch"]: m["digest"] for m in r["manifests"]}
assert sorted(manifests) == ["amd64", "arm64"], manifests
sboms = {s["arch"]: s for s in r["sboms"]}
assert sorted(sboms) == ["amd64", "arm64"], sboms
assert sboms["amd64"]["digest"] != sboms["arm64"]["digest"]
index = json.load(open(root + "/index.json"))
refs = [m for m in index["manifests"] if m.get("artifactType") == "application/spdx+json"]
assert sorted(m["digest"] for m in refs) == sorted(s["manifest_digest"] for s in sboms.values()), refs
for arch, s in sboms.items():
    assert s["subject"] == manifests[arch], (arch, s)
    m = blob(s["manifest_digest"])
    assert m["subject"]["digest"] == manifests[arch]
    doc = blob(s["digest"])
    archs = {ref["referenceLocator"].split("arch=")[1].split("&")[0]
             for p in doc["packages"] for ref in p.get("externalRefs", [])}
    assert archs <= {arch, "all"} and arch in archs, (arch, archs)
PY

# --- usage errors --------------------------------------------------------------------
rc=0
err=$(build --sbom --sbom-format yaml -o "oci:$W/bad:v1" 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 2 ] || fail "unknown --sbom-format: exit $rc, want 2: $err"
[ "$(wc -l <<<"$err")" -eq 1 ] && grep -q '^distill: error: .*sbom-format.*yaml' <<<"$err" ||
  fail "unknown --sbom-format: want one error line, got: $err"
[ ! -e "$W/bad" ] || fail "a usage error wrote an output"

# --- a registry without the referrers API ---------------------------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$W/registry"
cat >"$W/registry.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $W/registry
http:
  addr: 127.0.0.1:$PORT
YAML
docker-registry serve "$W/registry.yml" >"$W/registry.log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$PORT/v2/" >/dev/null 2>&1 && break
  sleep 0.05
done
curl -fsS "http://127.0.0.1:$PORT/v2/" >/dev/null || fail "docker-registry did not start: $(cat "$W/registry.log")"
R=127.0.0.1:$PORT

build --sbom --json --tls-verify=false -o "docker://$R/x:tag" >"$W/push1.json" || fail "build --sbom to docker://"
subject=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sboms"][0]["subject"])' "$W/push1.json")
hex=${subject#sha256:}
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$R/v2/x/referrers/$subject")
[ "$code" = 404 ] || fail "this registry was expected to lack the referrers API (got $code)"
check_fallback() {  # the sha256-<hex> tag: an index listing exactly one SBOM manifest
  curl -fsS -H 'Accept: application/vnd.oci.image.index.v1+json' \
    "http://$R/v2/x/manifests/sha256-$hex" >"$W/fallback.json" || fail "no fallback tag sha256-$hex"
  python3 - "$W/fallback.json" "$1" <<'PY' || fail "fallback tag index"
import json, sys
index = json.load(open(sys.argv[1]))
s = json.load(open(sys.argv[2]))["sboms"][0]
assert index["mediaType"] == "application/vnd.oci.image.index.v1+json", index
assert len(index["manifests"]) == 1, index
e = index["manifests"][0]
assert e["artifactType"] == "application/spdx+json" and e["digest"] == s["manifest_digest"], (e, s)
PY
}
check_fallback "$W/push1.json"
# The artifact manifest and the SBOM blob are in the repository.
curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
  "http://$R/v2/x/manifests/$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sboms"][0]["manifest_digest"])' "$W/push1.json")" \
  >"$W/artifact.json" || fail "artifact manifest not pushed"
python3 - "$W/artifact.json" "$subject" <<'PY' || fail "pushed artifact manifest"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["artifactType"] == "application/spdx+json" and m["subject"]["digest"] == sys.argv[2], m
PY
sbom_digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sboms"][0]["digest"])' "$W/push1.json")
curl -fsS "http://$R/v2/x/blobs/$sbom_digest" >"$W/pushed.spdx.json" || fail "SBOM blob not pushed"
python3 - "$W/pushed.spdx.json" "$sbom" "$R" <<'PY' || fail "the pushed SBOM"
import json, sys
pushed, layout = (json.load(open(p)) for p in sys.argv[1:3])
assert pushed["name"] == sys.argv[3] + "/x:tag", pushed["name"]
assert pushed["packages"][1:] == layout["packages"][1:]
PY
# Pushing again keeps exactly one entry.
build --sbom --json --tls-verify=false -o "docker://$R/x:tag" >"$W/push2.json" || fail "second push"
check_fallback "$W/push2.json"
skopeo inspect --tls-verify=false --raw "docker://$R/x:sha256-$hex" >"$W/skopeo-raw.json" ||
  fail "skopeo inspect of the fallback tag"
cmp -s "$W/skopeo-raw.json" "$W/fallback.json" || fail "skopeo saw another fallback index"
skopeo inspect --tls-verify=false "docker://$R/x:tag" >/dev/null || fail "skopeo inspect the image"

# --- copy --referrers: the SBOM travels with the image ----------------------------------
# oci: -> docker:// (the registry's fallback tag lists it), docker:// -> oci:
# (index.json lists it), each artifact manifest and SBOM byte for byte; without
# the flag nothing but the image is copied, as skopeo copies.
"$DISTILL" copy "oci:$W/layout:v1" "docker://$R/copied:v1" --referrers --tls-verify=false --progress none ||
  fail "copy --referrers oci: -> docker://"
"$DISTILL" copy "docker://$R/x:tag" "oci:$W/back:v1" --referrers --tls-verify=false --progress none ||
  fail "copy --referrers docker:// -> oci:"
"$DISTILL" copy "oci:$W/layout:v1" "oci:$W/plain:v1" --progress none || fail "copy without --referrers"
python3 - "$W" "$R" <<'PY' || fail "copy --referrers"
import json, sys, urllib.request
w, r = sys.argv[1:3]
def layout_blob(root, d): return open(f"{root}/blobs/sha256/{d.split(':')[1]}", "rb").read()
def registry(path, accept="application/vnd.oci.image.index.v1+json"):
    return urllib.request.urlopen(urllib.request.Request(f"http://{r}/v2/{path}", headers={"Accept": accept})).read()
def artifacts(root):
    return [m for m in json.load(open(f"{root}/index.json"))["manifests"] if m.get("artifactType")]
# oci: -> docker://
(source,) = [s for s in json.load(open(f"{w}/build1.json"))["sboms"] if s["written"][0].startswith(f"oci:{w}/layout:")]
fallback = json.loads(registry(f"copied/manifests/sha256-{source['subject'].split(':')[1]}"))
assert [m["digest"] for m in fallback["manifests"]] == [source["manifest_digest"]], fallback
pushed = registry(f"copied/manifests/{source['manifest_digest']}", "application/vnd.oci.image.manifest.v1+json")
assert pushed == layout_blob(f"{w}/layout", source["manifest_digest"])
assert registry(f"copied/blobs/{source['digest']}") == layout_blob(f"{w}/layout", source["digest"])
# docker:// -> oci:
(pushed_sbom,) = json.load(open(f"{w}/push2.json"))["sboms"]
(back,) = artifacts(f"{w}/back")
assert back["digest"] == pushed_sbom["manifest_digest"] and back["artifactType"] == "application/spdx+json", back
assert layout_blob(f"{w}/back", pushed_sbom["digest"]) == registry(f"x/blobs/{pushed_sbom['digest']}")
# without the flag
assert artifacts(f"{w}/plain") == [], artifacts(f"{w}/plain")
PY
oci-image-tool validate --type imageLayout "$W/back" >/dev/null 2>&1 ||
  oci-image-tool validate --type image --ref name=v1 "$W/back" >/dev/null || fail "oci-image-tool validate of the copied layout"
rc=0
err=$("$DISTILL" copy "oci:$W/layout:v1" "oci-archive:$W/copied.tar" --referrers 2>&1 >/dev/null) || rc=$?
[ "$rc" = 2 ] && grep -q '^distill: error: usage: .*archive holds no referrers' <<<"$err" ||
  fail "copy --referrers into an archive: exit $rc, $err"
[ ! -e "$W/copied.tar" ] || fail "a refused copy wrote its output"

echo "PASS: t_sbom_referrer"
