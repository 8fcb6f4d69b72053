# common.sh: small helpers for integration scenarios (source it).
#   fail MSG             print FAIL and exit 1
#   need TOOL...         exit 77 (skipped) unless every tool is installed
#   expect_fail PATTERN CMD...  CMD must fail with one stderr line matching PATTERN
#   index_digest DIR REF the manifest/index digest a layout's index.json names for REF
#   python3 ...          Debian's python3 (below)
set -euo pipefail

SRC=${DISTILL_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
DISTILL=${DISTILL:-$SRC/build/distill}

# Python is Debian's /usr/bin/python3 (scripts/setup.sh installs it, with
# python3-jsonschema), not a python3 earlier on PATH: a version manager's shim
# (pyenv's runs a shell script and pyenv itself) took 0.4 s to start, against
# 0.05 s, and the scenarios start Python over a hundred times. Set in the
# shell's command table, not as a function: `python3 server.py &` must give
# $! the server's PID (a function runs in a subshell whose death leaves the
# server running). Assigning PATH would reset the table.
if [ -x /usr/bin/python3 ]; then
  hash -p /usr/bin/python3 python3
fi

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

need() {
  local tool
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "SKIP: $tool not installed" >&2
      exit 77
    fi
  done
}

# expect_fail PATTERN CMD...: CMD exits 1 and its stderr has a `distill: error:`
# line matching PATTERN (extended regex).
expect_fail() {
  local pattern=$1 err rc=0
  shift
  err=$("$@" 2>&1 >/dev/null) || rc=$?
  [ "$rc" -eq 1 ] || fail "expected exit 1 from: $* (got $rc): $err"
  grep -Eq "distill: error: .*$pattern" <<<"$err" || fail "expected error /$pattern/ from: $*, got: $err"
}

index_digest() {
  python3 - "$1" "$2" <<'PY'
import json, sys
index = json.load(open(sys.argv[1] + "/index.json"))
for m in index["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == sys.argv[2]:
        print(m["digest"]); break
else:
    sys.exit(1)
PY
}

# Files in a content cache that are not complete, verified entries.
cache_leftovers() {
  find "$1" -path "$1/tmp" -prune -o -type f -name '*.tmp*' -print 2>/dev/null
  find "$1/tmp" -type f 2>/dev/null || true
}

# layer_digests DIR REF: the hex digests of the layers of REF's first manifest.
layer_digests() {
  python3 - "$1" "$2" <<'PY'
import json, sys
root = sys.argv[1]
def blob(d): return json.load(open(f"{root}/blobs/sha256/{d[7:]}"))
index = json.load(open(root + "/index.json"))
desc = next(m for m in index["manifests"]
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == sys.argv[2])
doc = blob(desc["digest"])
while "manifests" in doc:
    doc = blob(doc["manifests"][0]["digest"])
for layer in doc["layers"]:
    print(layer["digest"][7:])
PY
}

# need_debian_mirror: sets MIRROR to the archive of this machine's apt sources
# (never written into the project) or exits 77 when there is none or it is
# unreachable.
need_debian_mirror() {
  need curl
  MIRROR=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk '{print $1}' | head -n1)
  if [ -z "$MIRROR" ]; then
    MIRROR=$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]*\)\{0,1\}\([^[:space:]]*\).*/\2/p' \
      /etc/apt/sources.list 2>/dev/null | head -n1)
  fi
  if [ -z "$MIRROR" ]; then
    echo "SKIP: no apt sources on this machine" >&2
    exit 77
  fi
  if ! curl -fsS -m 20 -o /dev/null "$MIRROR/dists/bookworm/InRelease"; then
    echo "SKIP: the Debian mirror of the apt sources is unreachable" >&2
    exit 77
  fi
}

# build_from_mirror SPEC REF [ARGS...]: distill build into REF with the shared
# $CACHE; a failure that reads like a network problem skips the test (exit 77),
# any other fails it.
build_from_mirror() {
  local spec=$1 ref=$2 out
  shift 2
  if ! out=$("$DISTILL" build "$spec" -o "$ref" --cache-dir "$CACHE" --progress none "$@" 2>&1); then
    if grep -qiE "network|resolve host|connect|timed out|unreachable" <<<"$out"; then
      echo "SKIP: build $spec needs the network: $out" >&2
      exit 77
    fi
    fail "distill build $spec: $out"
  fi
}

# validate_schema SCHEMA DOCUMENT: the JSON document matches the JSON schema
# (draft 7, python3-jsonschema), or the test fails listing the violations.
validate_schema() {
  python3 - "$1" "$2" <<'PY' || fail "$2 does not match $1"
import json, sys, jsonschema
schema, document = (json.load(open(p)) for p in sys.argv[1:3])
errors = list(jsonschema.Draft7Validator(schema).iter_errors(document))
for e in errors:
    print("/".join(map(str, e.path)), e.message)
sys.exit(1 if errors else 0)
PY
}
