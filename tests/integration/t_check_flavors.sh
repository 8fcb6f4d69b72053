#!/usr/bin/env bash
# t_check_flavors: the check commands against the real built-in flavors of one
# Debian release ($DISTILL_RELEASE, default bookworm: static, base-nossl, base, cc,
# python3, nodejs, java17; trixie: the same with java21). Builds them with every
# variant in one run from the Debian mirror of this machine's apt sources, then for
# each: `distill test` with images/tests/RELEASE/FLAVOR.yaml (text, json and junit outputs),
# `distill audit` (no finding), `distill sbom` in both formats validated against
# tests/data/schemas and by the reference validators (lib/sbom_validators.sh), with
# package lists equal to `inspect --packages`, a license for every package and
# DEPENDS_ON relationships, and a failing structure test reporting what it expected and found. A debug variant of
# static passes audit with its busybox reported as expected.
# Exit 0 pass, 1 fail, 77 skipped (mirror or npm registry unreachable, tool missing).
. "$(dirname "$0")/lib/common.sh"
need curl python3

RELEASE=${DISTILL_RELEASE:-bookworm}
case $RELEASE in
  bookworm) FLAVORS="static base-nossl base cc python3 nodejs java17" VERSION_ID=12 ;;
  trixie) FLAVORS="static base-nossl base cc python3 nodejs java21" VERSION_ID=13 ;;
  *) fail "unknown DISTILL_RELEASE $RELEASE" ;;
esac
need_debian_mirror
if ! curl -fsS -m 20 -o /dev/null "$MIRROR/dists/$RELEASE/InRelease"; then
  echo "SKIP: the Debian mirror of the apt sources does not carry $RELEASE" >&2
  exit 77
fi
. "$SRC/tests/integration/lib/sbom_validators.sh"
sbom_validators_setup || exit 77

W=$(mktemp -d "${TMPDIR:-/tmp}/t_check_flavors.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W" # a file named like a flavor in the caller's directory would be taken as the spec
CACHE=${DISTILL_TEST_CACHE:-$W/cache}

build() { build_from_mirror "$@" --release "$RELEASE"; }

# The whole family, every variant, in one process (layers shared between images).
# shellcheck disable=SC2086
set -- $FLAVORS
first=$1
shift
build "$first" "oci:$W/images/{name}:{variant}" "$@" --variant all
for flavor in $FLAVORS; do
  for variant in latest nonroot debug debug-nonroot; do
    [ -f "$W/images/$flavor/index.json" ] && grep -q "\"$variant\"" "$W/images/$flavor/index.json" ||
      fail "$flavor:$variant was not written"
  done
  python3 - "$W/images/$flavor" "$VERSION_ID" <<'PY' || fail "$flavor: os-release is not Debian $VERSION_ID"
import json, sys, tarfile
layout, version = sys.argv[1], sys.argv[2]
blob_path = lambda d: f"{layout}/blobs/sha256/{d.split(':')[1]}"
blob = lambda d: open(blob_path(d), "rb").read()
index = json.loads(open(f"{layout}/index.json").read())
found = None
for m in index["manifests"]:
    if m["annotations"]["org.opencontainers.image.ref.name"] != "latest":
        continue
    doc = json.loads(blob(m["digest"]))
    if "manifests" in doc:
        doc = json.loads(blob(doc["manifests"][0]["digest"]))
    # base-files' layer, the first that has the file: each layer is read as a
    # stream up to it (reading every layer whole took 50 s for java17's).
    for layer in doc["layers"]:
        with tarfile.open(blob_path(layer["digest"]), "r|gz") as t:
            for e in t:
                if e.name in ("usr/lib/os-release", "./usr/lib/os-release") and e.isfile():
                    found = t.extractfile(e).read().decode()
                    break
        if found:
            break
assert found and f'VERSION_ID="{version}"' in found, found
PY
done

sboms=()  # FORMAT FILE pairs, given to the reference validators at once
for flavor in $FLAVORS; do
  ref="oci:$W/images/$flavor:latest"

  # Structure tests: the flavor's own config passes. The report's formats do
  # not depend on the image: text and JUnit are checked on the first flavor.
  config="$SRC/images/tests/$RELEASE/$flavor.yaml"
  "$DISTILL" test "$ref" --config "$config" --output json >"$W/$flavor.json" || fail "json $flavor"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["Fail"]==0 and r["Pass"]==r["Total"]>20, r' \
    "$W/$flavor.json" || fail "$flavor: json report"
  if [ "$flavor" = "$first" ]; then
    "$DISTILL" test "$ref" --config "$config" >"$W/$flavor.txt" ||
      fail "distill test $flavor: $(grep -E '^Error' "$W/$flavor.txt")"
    grep -q '^PASS$' "$W/$flavor.txt" || fail "$flavor: no PASS line"
    "$DISTILL" test "$ref" --config "$config" --output junit >"$W/$flavor.xml" || fail "junit $flavor"
    python3 -c 'import sys, xml.dom.minidom as m; d=m.parse(sys.argv[1]); assert d.documentElement.getAttribute("failures")=="0"' \
      "$W/$flavor.xml" || fail "$flavor: junit report"
  fi

  # Audit: the built-in flavors have no finding (exit 0, and nothing in --json).
  "$DISTILL" audit "$ref" --json >"$W/$flavor.audit.json" || fail "distill audit $flavor: $(cat "$W/$flavor.audit.json")"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["passed"] and not r["findings"], r' "$W/$flavor.audit.json" ||
    fail "$flavor: audit --json"

  # SBOMs: valid, and listing exactly the packages inspect reports.
  "$DISTILL" sbom "$ref" -o "$W/$flavor.spdx.json" || fail "sbom spdx $flavor"
  "$DISTILL" sbom "$ref" --format cyclonedx-json >"$W/$flavor.cdx.json" || fail "sbom cdx $flavor"
  validate_schema "$SRC/tests/data/schemas/spdx-2.3.schema.json" "$W/$flavor.spdx.json"
  validate_schema "$SRC/tests/data/schemas/cyclonedx-1.5.schema.json" "$W/$flavor.cdx.json"
  sboms+=(spdx "$W/$flavor.spdx.json" cyclonedx "$W/$flavor.cdx.json")  # validated after the loop
  "$DISTILL" inspect "$ref" --packages --json >"$W/$flavor.packages.json" || fail "inspect $flavor"
  python3 - "$W/$flavor.packages.json" "$W/$flavor.spdx.json" "$W/$flavor.cdx.json" "$VERSION_ID" <<'PY' ||
import json, sys
inspect = sorted((p["name"], p["version"]) for p in json.load(open(sys.argv[1]))["packages"])
spdx = json.load(open(sys.argv[2]))
spdx_pkgs = sorted((p["name"], p["versionInfo"]) for p in spdx["packages"] if p["SPDXID"] != "SPDXRef-Image")
cdx = json.load(open(sys.argv[3]))
cdx_pkgs = sorted((c["name"], c["version"]) for c in cdx["components"] if c["type"] == "library")
assert inspect and inspect == spdx_pkgs == cdx_pkgs, (inspect, spdx_pkgs, cdx_pkgs)
for p in spdx["packages"][1:]:
    loc = p["externalRefs"][0]["referenceLocator"]
    assert loc.startswith("pkg:deb/debian/") and "&distro=debian-" + sys.argv[4] in loc, loc
    # Every flavor package ships a copyright file: each has a license.
    assert p["licenseDeclared"] != "NOASSERTION", p
# libc6 Depends on libgcc-s1 (static has neither: its packages depend on nothing installed).
ids = {p["SPDXID"]: p["name"] for p in spdx["packages"]}
depends = {(ids[r["spdxElementId"]], ids[r["relatedSpdxElement"]])
           for r in spdx["relationships"] if r["relationshipType"] == "DEPENDS_ON"}
if "libc6" in ids.values():
    assert ("libc6", "libgcc-s1") in depends, depends
PY
    fail "$flavor: SBOM packages differ from inspect --packages"
  inspect_json=$("$DISTILL" inspect "$ref" --json) || fail "inspect --json $flavor"
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["layers"] and all(l["created_by"] for l in r["layers"]), r["layers"]' \
    "$inspect_json" || fail "$flavor: inspect layers"

  # The other variants: nonroot runs as 65532, the debug ones carry busybox, and
  # audit finds nothing but the expected busybox.
  for variant in nonroot debug debug-nonroot; do
    out=$("$DISTILL" audit "oci:$W/images/$flavor:$variant") || fail "audit $flavor:$variant: $out"
  done
  "$DISTILL" inspect "oci:$W/images/$flavor:nonroot" --json |
    python3 -c 'import json,sys; u=json.load(sys.stdin)["config"]["user"]; assert u in ("65532", "nonroot", "65532:65532"), u' ||
    fail "$flavor:nonroot user"
done
validate_sbom "${sboms[@]}"

if [ "$RELEASE" != bookworm ]; then
  # The checks below are about the check commands, not the release: once is enough.
  echo "PASS"
  exit 0
fi

# A failing structure test says what it expected and what it found, and exits 1.
cat >"$W/bad.yaml" <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - {name: shell, path: /bin/sh}
  - {name: tmp, path: /tmp, permissions: "drwxr-xr-x"}
metadataTest:
  entrypoint: ["/nothing"]
YAML
rc=0
"$DISTILL" test "oci:$W/images/static:latest" --config "$W/bad.yaml" >"$W/bad.txt" || rc=$?
[ "$rc" -eq 1 ] || fail "failing structure test exited $rc"
grep -q 'expected /bin/sh to exist, found nothing' "$W/bad.txt" || fail "bad.txt: $(cat "$W/bad.txt")"
grep -q 'expected permissions drwxr-xr-x, found dtrwxrwxrwx' "$W/bad.txt" || fail "bad.txt: /tmp"
grep -q 'expected entrypoint \["/nothing"\], found \[\]' "$W/bad.txt" || fail "bad.txt: entrypoint"

# Adding a shell, a setuid file and a world-writable file through `files:` makes
# audit report exactly those three; the SBOM lists the spec's files.
cat >"$W/app.yaml" <<'YAML'
name: app
from: static
files:
  - {dst: /bin/sh, content: "#!x\n", mode: "0755"}
  - {dst: /usr/bin/su, content: "su\n", mode: "04755"}
  - {dst: /etc/app.conf, content: "x=1\n", mode: "0666"}
YAML
build "$W/app.yaml" "oci:$W/images/app:app"
rc=0
out=$("$DISTILL" audit "oci:$W/images/app:app") || rc=$?
[ "$rc" -eq 1 ] || fail "audit of the app image exited $rc: $out"
expected=$'setuid /usr/bin/su: setuid file (mode 4755)\nshell /bin/sh: a shell is present\nworld-writable /etc/app.conf: file is writable by everyone (mode 0666)'
[ "$out" = "$expected" ] || fail "audit findings differ: $out"
"$DISTILL" sbom "oci:$W/images/app:app" -o "$W/app.spdx.json" || fail "sbom app"
validate_schema "$SRC/tests/data/schemas/spdx-2.3.schema.json" "$W/app.spdx.json"
"$DISTILL" sbom "oci:$W/images/app:app" --format cyclonedx-json -o "$W/app.cdx.json" || fail "sbom app cdx"
validate_sbom spdx "$W/app.spdx.json" cyclonedx "$W/app.cdx.json"
python3 -c 'import json,sys; f=sorted(x["fileName"] for x in json.load(open(sys.argv[1]))["files"]); assert f==["./bin/sh","./etc/app.conf","./usr/bin/su"], f' \
  "$W/app.spdx.json" || fail "app SBOM files"

# The debug variant: busybox under /busybox is expected, not a finding.
build static "oci:$W/images/debug:debug" --variant debug
out=$("$DISTILL" audit "oci:$W/images/debug:debug") || fail "audit of the debug variant: $out"
grep -q '^expected: shell /busybox/busybox' <<<"$out" || fail "debug busybox not reported: $out"

echo "PASS"
