#!/usr/bin/env bash
# Installs the Debian packages a make target needs, and no more:
#   scripts/setup.sh run    building distill and `make run` (compiler, cmake, the
#                           -dev libraries, gpgv + the archive keyring, runc)
#   scripts/setup.sh test   the above, plus GoogleTest and the peers the
#                           integration scenarios validate against (`make test`)
#   scripts/setup.sh bench  the above, plus the peer pipeline of `make bench`
#   scripts/setup.sh dev    the above, plus clang tools (format, tidy, fuzz)
#   scripts/setup.sh ci     `test` plus clang-format: what .ci/run uses, so CI
#                           does not spend its budget installing clang and the
#                           bench's peers
# Idempotent: when everything is present it returns at once.
set -euo pipefail

run_packages=(
  cmake ninja-build g++ pkg-config ca-certificates
  libssl-dev zlib1g-dev libzstd-dev libdeflate-dev liblzma-dev libcurl4-openssl-dev libarchive-dev
  nettle-dev libbz2-dev
  nlohmann-json3-dev libyaml-cpp-dev libre2-dev libcli11-dev
  # repository verification at run time
  gpgv debian-archive-keyring
  # `distill run`
  runc
)
test_packages=(
  libgtest-dev libgmock-dev
  # integration tests: a signed local apt repository, peers to validate against
  dpkg-dev apt-utils gnupg xz-utils zstd python3 python3-jsonschema curl man-db bsdextrautils
  skopeo umoci oci-image-tool docker-registry podman apache2-utils busybox-static
  # t_flavor_apps: a jar compiled on the host, arm64 programs run without binfmt
  openjdk-17-jdk-headless qemu-user-static
)
bench_packages=(
  mmdebstrap hyperfine time libbenchmark-dev
)
dev_packages=(
  clang clang-format clang-tidy libclang-rt-14-dev
)

packages=("${run_packages[@]}")
case "${1:-run}" in
  run) ;;
  test) packages+=("${test_packages[@]}") ;;
  bench) packages+=("${test_packages[@]}" "${bench_packages[@]}") ;;
  ci) packages+=("${test_packages[@]}" clang-format) ;;
  dev|all) packages+=("${test_packages[@]}" "${bench_packages[@]}" "${dev_packages[@]}") ;;
  *)
    echo "usage: scripts/setup.sh run|test|bench|ci|dev" >&2
    exit 2
    ;;
esac

# t_sbom_validate, t_check_flavors: the reference SBOM validators come from npm
# (tests/integration/lib/sbom_validators.sh). A node that already brings its own
# npm (a vendor build) is kept as it is.
if [ "${1:-run}" != run ] && ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
