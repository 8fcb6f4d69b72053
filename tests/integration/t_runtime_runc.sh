#!/usr/bin/env bash
# Runs a busybox image (built from the host's static /bin/busybox) through the
# runtime layer and runc: exit status and stderr pass-through, network none has
# only loopback, host networking shares interfaces, users and workdir apply,
# SIGTERM is forwarded, failures to start are errors. The scenarios live in the
# unit-test binary (RuncTest.*) until `distill run` exists; this wrapper turns
# "cannot run here" into exit 77 (skipped) instead of a pass.
set -euo pipefail

build_dir=${DISTILL_BUILD_DIR:-}
if [[ -z "$build_dir" && -n "${DISTILL:-}" ]]; then
  build_dir=$(dirname "$DISTILL")
fi
unit="$build_dir/tests/unit_runtime"
if [[ ! -x "$unit" ]]; then
  echo "skip: $unit not built (ninja unit_runtime)" >&2
  exit 77
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "skip: running containers needs root" >&2
  exit 77
fi
if ! command -v runc >/dev/null 2>&1 && ! command -v crun >/dev/null 2>&1 &&
   [[ ! -x /usr/sbin/runc ]]; then
  echo "skip: neither runc nor crun is installed" >&2
  exit 77
fi
if [[ ! -x /bin/busybox ]]; then
  echo "skip: no /bin/busybox (apt-get install busybox-static)" >&2
  exit 77
fi

log=$(mktemp)
# A private TMPDIR for the bundles and runtime state: the leftover check below
# then sees only this run's, not those of other distill processes on the machine.
private_tmp=$(mktemp -d "${TMPDIR:-/tmp}/t_runtime_runc.XXXXXX")
chmod 0711 "$private_tmp"  # as /tmp: traversable by the containers' users
trap 'rm -f "$log"; rm -rf "$private_tmp"' EXIT
status=0
TMPDIR=$private_tmp "$unit" --gtest_filter='RuncTest.*' --gtest_color=no >"$log" 2>&1 || status=$?
cat "$log"
if [[ $status -ne 0 ]]; then
  exit 1
fi
if grep -q '^\[  SKIPPED \]' "$log"; then
  echo "skip: some runc scenarios could not run here" >&2
  exit 77
fi
grep -q '^\[  PASSED  \] [1-9]' "$log"
# Nothing may be left behind: no bundle, no runtime state.
leftover=$(find "$private_tmp" -mindepth 1 -maxdepth 1 \( -name 'distill-run-*' -o -name 'distill-runc-*' \) \
  2>/dev/null | head -n 1 || true)
if [[ -n "$leftover" ]]; then
  echo "left behind: $leftover" >&2
  exit 1
fi
echo "ok: runtime runc scenarios"
