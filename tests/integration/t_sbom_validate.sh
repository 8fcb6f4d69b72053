#!/usr/bin/env bash
# t_sbom_validate: the SBOMs of an application image pass the reference validators
# (issue 13): the official CycloneDX 1.5 schema through @cyclonedx/cyclonedx-library's
# strict validator, the official SPDX 2.3 JSON schema plus the SPDX validator's
# rules (SHA1 on every file, filesAnalyzed consistent with the files listed,
# verification code, relationship targets, unique SPDXIDs, LicenseRefs defined),
# purls parsed by packageurl-js, license expressions by spdx-expression-parse.
# Offline, against a signed apt repository on 127.0.0.1 whose packages have an
# epoch, a Source: with a version, Depends with alternatives and a virtual package,
# and copyright files of every kind (DEP-5 with SPDX names, with Debian-only names
# and texts, not machine-readable). Also what the documents say (purls, licenses,
# DEPENDS_ON, the operating system, names), and that the validator does reject
# broken documents. The validators come from npm (sbom_validators.sh).
# Exit 0 pass, 1 fail, 77 skipped (no node/npm registry, tool missing).
. "$(dirname "$0")/lib/common.sh"
. "$SRC/tests/integration/lib/aptrepo.sh"
. "$SRC/tests/integration/lib/sbom_validators.sh"
aptrepo_require_tools
sbom_validators_setup || exit 77
aptrepo_init
W=$APTREPO_WORK

DEP5='Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/'
make_deb base-files 12.4 amd64 --file /etc/debian_version=$'12.4\n' >/dev/null
make_deb libz1 1:1.2.13.dfsg-1 amd64 --field "Source: zlib (1:1.2.13.dfsg-1)" \
  --file /usr/lib/libz.so.1=z \
  --file /usr/share/doc/libz1/copyright="$DEP5"$'\n\nFiles: *\nCopyright: 1995 J\nLicense: Zlib\n\nFiles: contrib/*\nCopyright: none\nLicense: public-domain\n Written by someone, placed in the public domain.\n' >/dev/null
make_deb libfoo1 2.0-1 amd64 --depends "libz1 (>= 1:1.2)" --file /usr/lib/libfoo.so.1=foo \
  --file /usr/share/doc/libfoo1/copyright=$'libfoo is Copyright 1999 Foo.\nSee /usr/share/common-licenses/GPL-2.\n' >/dev/null
make_deb mta 1.0 amd64 --provides mail-transport-agent >/dev/null
make_deb app 3.1-2 all --pre-depends base-files --depends "libbar | libfoo1, mail-transport-agent, debconf" \
  --file /usr/bin/app=$'#!/app\n' --file-mode /usr/bin/app=0755 \
  --file /usr/share/doc/app/copyright="$DEP5"$'\n\nFiles: *\nCopyright: 2024 A\nLicense: GPL-2+ or Artistic, and Expat\n\nFiles: plugins/*\nCopyright: 2024 B\nLicense: GPL-3+ with Foo exception\n\nLicense: GPL-3+ with Foo exception\n You may link this with Foo.\n' >/dev/null
build_repo "$W/repo" bookworm
start_server "$W/repo"
printf 'application data\n' >"$W/app.txt"
cat >"$W/spec.yaml" <<YAML
name: valapp
sources:
  - url: $APTREPO_URL
    suites: [bookworm]
    components: [main]
    keyring: $W/repo/keyring.gpg
packages: [app, mta]
exclude: [debconf]
archs: [amd64]
files:
  - {src: app.txt, dst: /app/data.txt}
  - {dst: /etc/app.conf, content: "x=1\n"}
entrypoint: ["/usr/bin/app"]
YAML
"$DISTILL" build "$W/spec.yaml" --cache-dir "$W/cache" --progress none -o "oci:$W/out/valapp:v1" >/dev/null ||
  fail "build"

"$DISTILL" sbom "oci:$W/out/valapp:v1" -o "$W/app.spdx.json" || fail "sbom spdx"
"$DISTILL" sbom "oci:$W/out/valapp:v1" --format cyclonedx-json -o "$W/app.cdx.json" || fail "sbom cdx"
validate_sbom spdx "$W/app.spdx.json" cyclonedx "$W/app.cdx.json"

# What the documents say.
python3 - "$W/app.spdx.json" "$W/app.cdx.json" <<'PY' || fail "SBOM contents"
import json, sys
spdx = json.load(open(sys.argv[1]))
cdx = json.load(open(sys.argv[2]))
assert spdx["name"] == "valapp:v1", spdx["name"]  # not the layout's path
pk = {p["name"]: p for p in spdx["packages"]}
ids = {p["SPDXID"]: p["name"] for p in spdx["packages"]}
purl = lambda n: pk[n]["externalRefs"][0]["referenceLocator"]
assert purl("libz1") == "pkg:deb/debian/libz1@1:1.2.13.dfsg-1?arch=amd64&upstream=zlib&distro=debian-12", purl("libz1")
assert purl("app") == "pkg:deb/debian/app@3.1-2?arch=all&upstream=app&distro=debian-12", purl("app")
lic = {n: p["licenseDeclared"] for n, p in pk.items()}
assert lic["libz1"] == "Zlib AND LicenseRef-public-domain", lic
assert lic["libfoo1"] == "LicenseRef-libfoo1-copyright", lic
assert lic["app"] == "((GPL-2.0-or-later OR Artistic-1.0-Perl) AND MIT) AND LicenseRef-GPL-3-plus-with-Foo-exception", lic
assert lic["mta"] == "MIT", lic  # make_deb's default copyright file
texts = {l["licenseId"]: l["extractedText"] for l in spdx["hasExtractedLicensingInfos"]}
assert texts["LicenseRef-public-domain"] == "Written by someone, placed in the public domain.", texts
assert texts["LicenseRef-GPL-3-plus-with-Foo-exception"] == "You may link this with Foo.", texts
assert "/usr/share/doc/libfoo1/copyright" in texts["LicenseRef-libfoo1-copyright"], texts
deps = sorted((ids[r["spdxElementId"]], ids[r["relatedSpdxElement"]]) for r in spdx["relationships"]
              if r["relationshipType"] == "DEPENDS_ON")
assert deps == [("app", "base-files"), ("app", "libfoo1"), ("app", "mta"), ("libfoo1", "libz1")], deps
image = pk["valapp:v1"]
assert image["filesAnalyzed"] is True and len(image["hasFiles"]) == 2, image
files = sorted(f["fileName"] for f in spdx["files"])
assert files == ["./app/data.txt", "./etc/app.conf"], files
os = [c for c in cdx["components"] if c["type"] == "operating-system"]
assert [(o["name"], o["version"]) for o in os] == [("debian", "12")], os
graph = {d["ref"]: d["dependsOn"] for d in cdx["dependencies"]}
libfoo = next(c for c in cdx["components"] if c["name"] == "libfoo1")
assert graph[libfoo["bom-ref"]] == [purl("libz1")], graph[libfoo["bom-ref"]]
assert cdx["metadata"]["component"]["name"] == "valapp:v1"
PY

# build --sbom: the referrer in the layout is named after that output, and valid.
"$DISTILL" build "$W/spec.yaml" --cache-dir "$W/cache" --progress none --sbom --json \
  -o "oci:$W/elsewhere/named:v2" >"$W/build.json" || fail "build --sbom"
sbom_blob=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sboms"][0]["digest"].split(":")[1])' "$W/build.json")
validate_sbom spdx "$W/elsewhere/named/blobs/sha256/$sbom_blob"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["name"]=="named:v2", d["name"]' \
  "$W/elsewhere/named/blobs/sha256/$sbom_blob" || fail "build --sbom document name"

# The validator rejects what the official validators reject.
reject() {  # NAME PYTHON-EDIT FORMAT SOURCE
  python3 - "$4" "$W/broken.json" "$2" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(doc, open(sys.argv[2], "w"))
PY
  local rc=0
  NODE_PATH="$SBOM_VALIDATORS/node_modules" node "$SRC/tests/integration/lib/validate_sbom.js" \
    "$SRC/tests/data/schemas/spdx-2.3.official.schema.json" "$3" "$W/broken.json" >/dev/null 2>&1 || rc=$?
  [ "$rc" -eq 1 ] || fail "the validator did not reject a document with $1 (exit $rc)"
}
reject "filesAnalyzed false and files" 'doc["packages"][0]["filesAnalyzed"] = False; doc["packages"][0].pop("packageVerificationCode")' spdx "$W/app.spdx.json"
reject "a file without SHA1" 'doc["files"][0]["checksums"] = doc["files"][0]["checksums"][1:]' spdx "$W/app.spdx.json"
reject "an undefined LicenseRef" 'doc["hasExtractedLicensingInfos"] = doc["hasExtractedLicensingInfos"][1:]' spdx "$W/app.spdx.json"
reject "a relationship to nothing" 'doc["relationships"][1]["relatedSpdxElement"] = "SPDXRef-nothing"' spdx "$W/app.spdx.json"
reject "a non-SPDX license id" 'doc["packages"][1]["licenseDeclared"] = "GPL-2+"' spdx "$W/app.spdx.json"
reject "an encoded epoch" 'doc["packages"][1]["externalRefs"][0]["referenceLocator"] = "pkg:deb/debian/x@1%3A2?arch=all&upstream=x&distro=debian-12"' spdx "$W/app.spdx.json"
reject "an unknown CycloneDX field" 'doc["components"][0]["bogus"] = 1' cyclonedx "$W/app.cdx.json"
reject "a dangling dependency" 'doc["dependencies"][0]["dependsOn"].append("nothing")' cyclonedx "$W/app.cdx.json"

echo "PASS: t_sbom_validate"
