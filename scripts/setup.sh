#!/usr/bin/env bash
# Installs every Debian package that building distill, its tests, `make run` and
# `make bench` need. Idempotent: when everything is present it returns at once.
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ clang clang-format clang-tidy libclang-rt-14-dev pkg-config
  libssl-dev zlib1g-dev libzstd-dev libdeflate-dev liblzma-dev libcurl4-openssl-dev libarchive-dev
  nlohmann-json3-dev libyaml-cpp-dev libre2-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
  # repository verification at run time
  gpgv debian-archive-keyring
  # integration tests: a signed local apt repository, peers to validate against
  dpkg-dev apt-utils gnupg xz-utils zstd python3 python3-jsonschema curl
  runc skopeo umoci oci-image-tool docker-registry podman apache2-utils busybox-static
  # t_flavor_apps: a jar compiled on the host, arm64 programs run without binfmt
  openjdk-17-jdk-headless qemu-user-static
  # benchmarks
  mmdebstrap hyperfine time
)

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
