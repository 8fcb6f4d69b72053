#!/usr/bin/env bash
# scripts/unit-tests.sh BUILD_DIR [JOBS]: runs every unit test binary of
# BUILD_DIR (tests/unit_<layer>) whole, JOBS at a time, for the sanitizer
# builds (`make test-asan`, `make test-tsan`). ctest starts one process per
# test, 727 of them, and under a sanitizer starting the process is most of a
# test's time: 3 minutes for the ASan run here, 51 s so (TSan 132 s, 69 s).
# Prints a line per binary (with its seconds) and the whole output of those
# that fail; exits 1 if any fails.
set -euo pipefail
build=${1:?usage: scripts/unit-tests.sh BUILD_DIR [JOBS]}
jobs=${2:-$(nproc)}
logs=$(mktemp -d "${TMPDIR:-/tmp}/unit-tests.XXXXXX")
trap 'rm -rf "$logs"' EXIT
export DISTILL_SOURCE_DIR=${DISTILL_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}

binaries=()
for b in "$build"/tests/unit_*; do
  [ -f "$b" ] && [ -x "$b" ] && binaries+=("$b")
done
if [ ${#binaries[@]} -eq 0 ]; then
  echo "unit-tests: no tests/unit_* binary in $build" >&2
  exit 1
fi

run_one() {
  local b=$1 logs=$2 name rc=0 start=$SECONDS
  name=$(basename "$b")
  "$b" --gtest_brief=1 >"$logs/$name.log" 2>&1 || rc=$?
  echo "$rc" >"$logs/$name.rc"
  echo "$((SECONDS - start))" >"$logs/$name.seconds"
}
export -f run_one
started=$SECONDS
printf '%s\n' "${binaries[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$1" "$2"' _ {} "$logs"

failed=0
for b in "${binaries[@]}"; do
  name=$(basename "$b")
  rc=$(cat "$logs/$name.rc" 2>/dev/null || echo 1)
  summary=$(grep -E '^\[  (PASSED|FAILED)  \]' "$logs/$name.log" | tr '\n' ' ' || true)
  if [ "$rc" != 0 ]; then
    failed=1
    echo "FAIL $name (exit $rc): $summary"
    cat "$logs/$name.log"
  else
    echo "ok   $name: $summary($(cat "$logs/$name.seconds" 2>/dev/null || echo '?') s)"
  fi
done
echo "unit-tests: ${#binaries[@]} binaries, $jobs at a time, in $((SECONDS - started)) s"
exit $failed
