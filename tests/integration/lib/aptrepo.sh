# aptrepo.sh: build and serve a SIGNED local apt repository for integration tests.
#
# Source it from a scenario (bash, set -eu friendly):
#
#   . "$DISTILL_SOURCE_DIR/tests/integration/lib/aptrepo.sh"
#   aptrepo_require_tools                # exit 77 (skip) if a tool is missing
#   aptrepo_init                         # temp work dir + throwaway gpg key;
#                                        # installs `trap aptrepo_cleanup EXIT`
#   make_deb hello 1.0-1 amd64 --depends "libfoo (>= 1)" \
#       --file /usr/bin/hello='#!/bin/true' --file-mode /usr/bin/hello=0755
#   make_deb libfoo 1.2 amd64 --provides libfoo-abi --data-tar-from ./rootfs
#   make_escape_deb evil 1.0 amd64        # data.tar holds ./../../escaped
#   make_base_stand_ins                  # tiny stand-ins for static's and base's
#                                        # packages (base-files ... libc6, libssl3)
#   build_repo "$APTREPO_WORK/repo" bookworm [--by-hash] [--archs "amd64 arm64"]
#   start_server "$APTREPO_WORK/repo" [--fail500 'Packages\.xz$:2' ...]
#   curl "$APTREPO_URL/dists/bookworm/InRelease"
#   make_sources "$APTREPO_WORK/test.sources" bookworm   # deb822 for distill
#   stop_server                          # also done by aptrepo_cleanup
#
# Variables set: APTREPO_WORK (temp dir), APTREPO_DEBS (where make_deb puts
# .debs; change it to build a second set), GNUPGHOME (throwaway), and after
# start_server: APTREPO_PORT, APTREPO_URL (http://127.0.0.1:PORT),
# APTREPO_SERVER_PID. Repository layout made by build_repo DIR SUITE:
#   DIR/pool/main/<letter>/<name>/<name>_<version>_<arch>.deb
#   DIR/dists/SUITE/main/binary-ARCH/Packages{,.gz,.xz}
#   DIR/dists/SUITE/{Release,Release.gpg,InRelease}
#   DIR/keyring.gpg   (binary public keyring: gpgv --keyring DIR/keyring.gpg)
# Everything made here has mtimes = $SOURCE_DATE_EPOCH (default 1700000000).
# Server options are those of http_server.py (see its header).

APTREPO_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SOURCE_DATE_EPOCH:=1700000000}"
export SOURCE_DATE_EPOCH

aptrepo_require_tools() {
  local tool
  for tool in dpkg-deb apt-ftparchive gpg gpgv python3 xz gzip curl "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "SKIP: $tool not installed" >&2
      exit 77
    fi
  done
}

aptrepo_init() {
  APTREPO_WORK=$(mktemp -d "${TMPDIR:-/tmp}/distill-aptrepo.XXXXXX")
  APTREPO_DEBS="$APTREPO_WORK/debs"
  mkdir -p "$APTREPO_DEBS" "$APTREPO_WORK/gnupg"
  chmod 700 "$APTREPO_WORK/gnupg"
  export GNUPGHOME="$APTREPO_WORK/gnupg"
  trap aptrepo_cleanup EXIT
  gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
    --quick-generate-key "distill test repository <repo@distill.invalid>" ed25519 sign never \
    2>/dev/null
  APTREPO_KEYID=$(gpg --batch --with-colons --list-secret-keys 2>/dev/null | awk -F: '/^fpr:/ {print $10; exit}')
}

aptrepo_cleanup() {
  stop_server
  if [ -n "${GNUPGHOME:-}" ] && [ -d "${GNUPGHOME:-}" ]; then
    gpgconf --kill all >/dev/null 2>&1 || true
  fi
  if [ -n "${APTREPO_WORK:-}" ] && [ -z "${APTREPO_KEEP:-}" ]; then
    rm -rf "$APTREPO_WORK"
  fi
}

# Pool path of a package: pool/main/<letter or libX>/<name>
_aptrepo_pool_subdir() {
  local name=$1
  case "$name" in
    lib?*) echo "main/${name:0:4}/$name" ;;
    *) echo "main/${name:0:1}/$name" ;;
  esac
}

# make_base_stand_ins: one tiny package for each of the static and base
# flavors' packages, enough to build them (and specs on them) offline.
make_base_stand_ins() {
  local cert
  cert=$(printf -- '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')
  make_deb base-files 12.4 amd64 --file /etc/debian_version=$'12.4\n' >/dev/null
  make_deb netbase 6.4 all --file /etc/protocols=$'ip 0 IP\n' >/dev/null
  make_deb tzdata 2024a all --file /usr/share/zoneinfo/UTC=TZif2 >/dev/null
  make_deb media-types 10.0 all --file /etc/mime.types=$'text/plain txt\n' >/dev/null
  make_deb ca-certificates 20230311 all --file "/usr/share/ca-certificates/mozilla/A.crt=$cert" >/dev/null
  make_deb libc6 2.36-9 amd64 --file /usr/share/doc/libc6/copyright=libc >/dev/null
  make_deb libssl3 3.0.11 amd64 --depends libc6 --file /usr/share/doc/libssl3/copyright=ssl >/dev/null
}

# make_deb NAME VERSION ARCH [options]; prints the .deb path on stdout.
#   --depends S --pre-depends S --provides S --conflicts S --breaks S
#   --replaces S --recommends S --section S --priority S --multi-arch S
#   --essential (Essential: yes) --description S --field 'Name: value'
#   --file /path=content      a file (content may contain \n via $'..')
#   --file-mode /path=0755    mode of a --file (default 0644)
#   --symlink /path=target    a symlink
#   --dir /path               an empty directory
#   --data-tar-from DIR       copy DIR's tree into the package root
#   --compression xz|gzip|zstd|none (default xz)   --out DIR (default APTREPO_DEBS)
make_deb() {
  local name=$1 version=$2 arch=$3
  shift 3
  local out=${APTREPO_DEBS:?call aptrepo_init first} compression=xz
  local description="test package $name" fields=() files=() modes=() links=() dirs=() from=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --depends) fields+=("Depends: $2"); shift 2 ;;
      --pre-depends) fields+=("Pre-Depends: $2"); shift 2 ;;
      --provides) fields+=("Provides: $2"); shift 2 ;;
      --conflicts) fields+=("Conflicts: $2"); shift 2 ;;
      --breaks) fields+=("Breaks: $2"); shift 2 ;;
      --replaces) fields+=("Replaces: $2"); shift 2 ;;
      --recommends) fields+=("Recommends: $2"); shift 2 ;;
      --section) fields+=("Section: $2"); shift 2 ;;
      --priority) fields+=("Priority: $2"); shift 2 ;;
      --multi-arch) fields+=("Multi-Arch: $2"); shift 2 ;;
      --essential) fields+=("Essential: yes"); shift ;;
      --field) fields+=("$2"); shift 2 ;;
      --description) description=$2; shift 2 ;;
      --file) files+=("$2"); shift 2 ;;
      --file-mode) modes+=("$2"); shift 2 ;;
      --symlink) links+=("$2"); shift 2 ;;
      --dir) dirs+=("$2"); shift 2 ;;
      --data-tar-from) from=$2; shift 2 ;;
      --compression) compression=$2; shift 2 ;;
      --out) out=$2; shift 2 ;;
      *) echo "make_deb: unknown option $1" >&2; return 2 ;;
    esac
  done
  local stage
  stage=$(mktemp -d "$APTREPO_WORK/stage.XXXXXX")
  local root="$stage/root"
  mkdir -p "$root/DEBIAN" "$root/usr/share/doc/$name"
  if [ -n "$from" ]; then
    cp -a "$from/." "$root/"
  fi
  printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nFiles: *\nCopyright: none\nLicense: MIT\n' \
    >"$root/usr/share/doc/$name/copyright"
  local spec path
  for spec in "${dirs[@]+"${dirs[@]}"}"; do
    mkdir -p "$root$spec"
  done
  for spec in "${files[@]+"${files[@]}"}"; do
    path=${spec%%=*}
    mkdir -p "$root$(dirname "$path")"
    printf '%s' "${spec#*=}" >"$root$path"
    chmod 0644 "$root$path"
  done
  for spec in "${modes[@]+"${modes[@]}"}"; do
    chmod "${spec#*=}" "$root${spec%%=*}"
  done
  for spec in "${links[@]+"${links[@]}"}"; do
    path=${spec%%=*}
    mkdir -p "$root$(dirname "$path")"
    ln -sfn "${spec#*=}" "$root$path"
  done
  # md5sums of regular files, as dpkg's tools write it (relative paths, sorted).
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | LC_ALL=C sort |
    sed 's|^\./||' | while IFS= read -r f; do md5sum "$f"; done) >"$root/DEBIAN/md5sums"
  local size
  size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
  {
    echo "Package: $name"
    echo "Version: $version"
    echo "Architecture: $arch"
    echo "Maintainer: distill tests <tests@distill.invalid>"
    echo "Installed-Size: $size"
    for spec in "${fields[@]+"${fields[@]}"}"; do
      echo "$spec"
    done
    echo "Description: $description"
    echo " Generated by tests/integration/lib/aptrepo.sh."
  } >"$root/DEBIAN/control"
  find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  mkdir -p "$out"
  local deb="$out/${name}_${version#*:}_${arch}.deb"
  local zflag=(-Z"$compression")
  [ "$compression" = none ] && zflag=(-Znone)
  dpkg-deb --root-owner-group "${zflag[@]}" --build "$root" "$deb" >/dev/null
  rm -rf "$stage"
  echo "$deb"
}

# make_raw_deb NAME VERSION ARCH OUT_DEB MEMBER=CONTENT...
# Writes a .deb whose data.tar.gz holds exactly the given member names (taken
# literally: "./../x", "/abs", ...) with the given contents, built with Python's
# tarfile so dpkg-deb's own checks cannot refuse it. Prints OUT_DEB.
make_raw_deb() {
  local name=$1 version=$2 arch=$3 deb=$4
  shift 4
  python3 - "$name" "$version" "$arch" "$deb" "$@" <<'PY'
import gzip, io, os, sys, tarfile
name, version, arch, deb = sys.argv[1:5]
members = [m.split("=", 1) for m in sys.argv[5:]]
mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "1700000000"))

def tar_gz(entries):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path, data in entries:
            info = tarfile.TarInfo(path)
            info.size, info.mtime, info.mode = len(data), mtime, 0o644
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)

control = ("Package: %s\nVersion: %s\nArchitecture: %s\n"
           "Maintainer: distill tests <tests@distill.invalid>\n"
           "Description: raw test package %s\n" % (name, version, arch, name)).encode()
control_tar = tar_gz([("./control", control)])
data_tar = tar_gz([(p, c.encode()) for p, c in members])

def ar_member(member_name, data):
    header = "%-16s%-12d%-6d%-6d%-8s%-10d`\n" % (member_name, mtime, 0, 0, "100644", len(data))
    return header.encode() + data + (b"\n" if len(data) % 2 else b"")

with open(deb, "wb") as f:
    f.write(b"!<arch>\n")
    f.write(ar_member("debian-binary", b"2.0\n"))
    f.write(ar_member("control.tar.gz", control_tar))
    f.write(ar_member("data.tar.gz", data_tar))
PY
  echo "$deb"
}

# make_escape_deb NAME VERSION ARCH [MEMBER]: a .deb whose data.tar contains a
# path escaping the root (default ./../../escaped), plus a normal copyright
# file. Written into APTREPO_DEBS; prints its path.
make_escape_deb() {
  local name=$1 version=$2 arch=$3 member=${4:-./../../escaped}
  mkdir -p "$APTREPO_DEBS"
  make_raw_deb "$name" "$version" "$arch" "$APTREPO_DEBS/${name}_${version#*:}_${arch}.deb" \
    "./usr/share/doc/$name/copyright=none" "$member=escaped by $name"
}

# build_repo DIR SUITE [--by-hash] [--archs "amd64 arm64"] [--debs DIR]
#            [--codename C] [--origin O] [--no-sign] [--contents]
# Copies the .debs from --debs (default APTREPO_DEBS) into DIR/pool/main and
# writes dists/SUITE for component main (Packages lists every .deb in
# DIR/pool/main whose Architecture is ARCH or all), then signs it. --contents
# also writes main/Contents-ARCH.gz (what `trace:` looks sonames up in).
build_repo() {
  local dir=$1 suite=$2
  shift 2
  local by_hash=no archs="" debs=${APTREPO_DEBS:?call aptrepo_init first} codename=$suite
  local origin="distill-test" sign=yes contents=no
  while [ $# -gt 0 ]; do
    case "$1" in
      --by-hash) by_hash=yes; shift ;;
      --contents) contents=yes; shift ;;
      --archs) archs=$2; shift 2 ;;
      --debs) debs=$2; shift 2 ;;
      --codename) codename=$2; shift 2 ;;
      --origin) origin=$2; shift 2 ;;
      --no-sign) sign=no; shift ;;
      *) echo "build_repo: unknown option $1" >&2; return 2 ;;
    esac
  done
  mkdir -p "$dir/pool"
  local deb pkg sub
  for deb in "$debs"/*.deb; do
    [ -e "$deb" ] || continue
    pkg=$(basename "$deb")
    sub=$(_aptrepo_pool_subdir "${pkg%%_*}")
    mkdir -p "$dir/pool/$sub"
    cp "$deb" "$dir/pool/$sub/"
  done
  if [ -z "$archs" ]; then
    archs=$(dpkg --print-architecture 2>/dev/null || echo amd64)
  fi
  local dists="$dir/dists/$suite" arch bin
  rm -rf "$dists"
  for arch in $archs; do
    bin="$dists/main/binary-$arch"
    mkdir -p "$bin"
    (cd "$dir" && apt-ftparchive --arch "$arch" packages pool/main 2>/dev/null) >"$bin/Packages"
    gzip -9nkf "$bin/Packages"
    xz -kf "$bin/Packages"
    if [ "$contents" = yes ]; then  # main/Contents-ARCH.gz, for `trace:`
      (cd "$dir" && apt-ftparchive --arch "$arch" contents pool/main 2>/dev/null) |
        gzip -9n >"$dists/main/Contents-$arch.gz"
    fi
    if [ "$by_hash" = yes ]; then
      mkdir -p "$bin/by-hash/SHA256"
      local f
      for f in Packages Packages.gz Packages.xz; do
        cp "$bin/$f" "$bin/by-hash/SHA256/$(sha256sum "$bin/$f" | cut -d' ' -f1)"
      done
    fi
  done
  local date
  date=$(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" '+%a, %d %b %Y %H:%M:%S UTC')
  (cd "$dists" && apt-ftparchive \
    -o APT::FTPArchive::Release::Origin="$origin" \
    -o APT::FTPArchive::Release::Label="$origin" \
    -o APT::FTPArchive::Release::Suite="$suite" \
    -o APT::FTPArchive::Release::Codename="$codename" \
    -o APT::FTPArchive::Release::Architectures="$archs" \
    -o APT::FTPArchive::Release::Components=main \
    -o APT::FTPArchive::Release::Acquire-By-Hash="$by_hash" \
    -o APT::FTPArchive::Release::Date="$date" \
    release . 2>/dev/null) >"$APTREPO_WORK/Release.tmp"
  mv "$APTREPO_WORK/Release.tmp" "$dists/Release"
  if [ "$sign" = yes ]; then
    rm -f "$dists/InRelease" "$dists/Release.gpg"
    gpg --batch --quiet --yes --pinentry-mode loopback --passphrase '' \
      --local-user "$APTREPO_KEYID" --digest-algo SHA256 \
      --clearsign --output "$dists/InRelease" "$dists/Release"
    gpg --batch --quiet --yes --pinentry-mode loopback --passphrase '' \
      --local-user "$APTREPO_KEYID" --digest-algo SHA256 \
      --armor --detach-sign --output "$dists/Release.gpg" "$dists/Release"
  fi
  gpg --batch --quiet --yes --export --output "$dir/keyring.gpg" "$APTREPO_KEYID"
  find "$dir" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

# start_server DIR [http_server.py options]: serves DIR on 127.0.0.1.
start_server() {
  local dir=$1
  shift
  stop_server
  local state="$APTREPO_WORK/server"
  mkdir -p "$state"
  rm -f "$state/port" "$state/pid"
  python3 "$APTREPO_LIB_DIR/http_server.py" --root "$dir" --port-file "$state/port" \
    --pid-file "$state/pid" --log "$state/access.log" "$@" &
  APTREPO_SERVER_PID=$!
  local i
  for i in $(seq 1 100); do
    if [ -s "$state/port" ]; then
      APTREPO_PORT=$(cat "$state/port")
      APTREPO_URL="http://127.0.0.1:$APTREPO_PORT"
      return 0
    fi
    if ! kill -0 "$APTREPO_SERVER_PID" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  echo "start_server: http_server.py did not start" >&2
  stop_server
  return 1
}

stop_server() {
  if [ -n "${APTREPO_SERVER_PID:-}" ]; then
    kill "$APTREPO_SERVER_PID" 2>/dev/null || true
    wait "$APTREPO_SERVER_PID" 2>/dev/null || true
    APTREPO_SERVER_PID=""
  fi
}

# server_stats: the server's request counters as JSON (see http_server.py).
server_stats() {
  curl -fsS "$APTREPO_URL/__stats"
}

# make_sources FILE SUITE [URL] [REPO_DIR]: a deb822 .sources file for the
# served repository with Signed-By: REPO_DIR/keyring.gpg. URL defaults to
# $APTREPO_URL, REPO_DIR to $APTREPO_WORK/repo. When FILE lies in an apt root
# (ROOT/etc/apt/sources.list.d/) that has no os-release yet, ROOT/etc/os-release
# says the host runs the release of SUITE's first word (bookworm-security:
# bookworm), as a real host listing that release would: distill's default
# release is the host's own.
make_sources() {
  local file=$1 suite=$2 url=${3:-$APTREPO_URL} repo=${4:-$APTREPO_WORK/repo}
  cat >"$file" <<EOF
Types: deb
URIs: $url
Suites: $suite
Components: main
Signed-By: $repo/keyring.gpg
EOF
  local dir etc codename
  dir=$(dirname "$file")
  if [ "$(basename "$dir")" = sources.list.d ] && [ "$(basename "$(dirname "$dir")")" = apt ]; then
    etc=$(dirname "$(dirname "$dir")")
    codename=${suite%% *}
    codename=${codename%%-*}
    [ -e "$etc/os-release" ] || printf 'ID=debian\nVERSION_CODENAME=%s\n' "$codename" >"$etc/os-release"
  fi
}
