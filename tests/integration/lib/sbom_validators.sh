# sbom_validators.sh: the reference SBOM validators, from npm (source it).
#   sbom_validators_setup   installs them once into $DISTILL_BUILD_DIR/sbom-validators
#                           (or uses that copy); returns 1 when node/npm or the
#                           registry is not there, so the caller can skip (exit 77)
#   validate_sbom spdx|cyclonedx FILE [spdx|cyclonedx FILE]...
#                           fails the test unless every FILE passes validate_sbom.js
#                           (one node process for them all)
#
# The packages: @cyclonedx/cyclonedx-library (the official CycloneDX JSON schemas
# and its strict validator, on ajv), packageurl-js (the reference purl library for
# JavaScript), spdx-expression-parse (SPDX license expressions against the SPDX
# license list). The SPDX 2.3 JSON schema is tests/data/schemas/spdx-2.3.official.schema.json.
SBOM_VALIDATOR_PACKAGES=(
  "@cyclonedx/cyclonedx-library@10.3.0" "ajv@8.17.1" "ajv-formats@3.0.1"
  "ajv-formats-draft2019@1.6.1" "packageurl-js@2.0.1" "spdx-expression-parse@4.0.0"
)

sbom_validators_setup() {
  local dir=${DISTILL_BUILD_DIR:-$SRC/build}/sbom-validators
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || {
    echo "SKIP: node/npm not installed" >&2
    return 1
  }
  local stamp=".installed-${SBOM_VALIDATOR_PACKAGES[*]// /_}"
  stamp="$dir/${stamp//[@\/]/_}"  # only the name is rewritten, not $dir
  if [ ! -e "$stamp" ]; then
    mkdir -p "$dir"
    [ -e "$dir/package.json" ] || echo '{"name":"distill-sbom-validators","private":true}' >"$dir/package.json"
    if ! (cd "$dir" && timeout 300 npm install --no-audit --no-fund --silent \
      "${SBOM_VALIDATOR_PACKAGES[@]}" >"$dir/npm.log" 2>&1); then
      echo "SKIP: npm install of the SBOM validators failed (no registry?): $(tail -3 "$dir/npm.log")" >&2
      return 1
    fi
    touch "$stamp"
  fi
  SBOM_VALIDATORS=$dir
}

validate_sbom() {
  local out
  out=$(NODE_PATH="$SBOM_VALIDATORS/node_modules" node "$SRC/tests/integration/lib/validate_sbom.js" \
    "$SRC/tests/data/schemas/spdx-2.3.official.schema.json" "$@" 2>&1) ||
    fail "not a valid SBOM: $out"
  echo "$out"
}
