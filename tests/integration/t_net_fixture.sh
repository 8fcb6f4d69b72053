#!/usr/bin/env bash
# t_net_fixture: the shared apt-repository fixture works. Builds a signed
# repository with three packages (one depending on another, one by data-tar),
# serves it on 127.0.0.1, and checks with curl + gpgv that InRelease and
# Release.gpg verify against the exported keyring, that Packages lists the
# packages with matching SHA256s, and that fault injection (500s, truncation)
# behaves as documented. Exit 0 pass, 1 fail, 77 skipped (tool missing).
. "$(dirname "$0")/lib/common.sh"
. "$SRC/tests/integration/lib/aptrepo.sh"
aptrepo_require_tools sha256sum

# has PATTERN COMMAND...: COMMAND's output has a line matching PATTERN (no
# pipe, so `grep -q` closing early cannot kill COMMAND under pipefail).
has() {
  local pattern=$1 out
  shift
  out=$("$@") || return 1
  grep -q -- "$pattern" <<<"$out"
}

aptrepo_init

mkdir -p "$APTREPO_WORK/tree/usr/lib/x"
printf 'library bytes\n' >"$APTREPO_WORK/tree/usr/lib/x/libbar.so.1"
make_deb libbar1 2.0-1 amd64 --data-tar-from "$APTREPO_WORK/tree" --multi-arch same >/dev/null
make_deb foo 1:1.0-1 amd64 --depends "libbar1 (>= 2.0)" --provides foo-api \
  --file /usr/bin/foo=$'#!/bin/true\n' --file-mode /usr/bin/foo=0755 >/dev/null
make_deb foo-data 1.0 all --file /usr/share/foo/data.txt=hello >/dev/null
escape=$(make_escape_deb evil 1.0 amd64)

# The .debs themselves are well formed.
deb="$APTREPO_DEBS/foo_1.0-1_amd64.deb"
[ -f "$deb" ] || fail "make_deb did not write $deb"
has '^1:1.0-1$' dpkg-deb -f "$deb" Version || fail "foo version"
has '^libbar1 (>= 2.0)$' dpkg-deb -f "$deb" Depends || fail "foo depends"
has '^-rwxr-xr-x root/root .* ./usr/bin/foo$' dpkg-deb -c "$deb" || fail "foo mode/owner"
has './usr/share/doc/foo/copyright$' dpkg-deb -c "$deb" || fail "foo copyright"
has ' usr/bin/foo$' dpkg-deb -I "$deb" md5sums || fail "foo md5sums"
has './usr/lib/x/libbar.so.1$' dpkg-deb -c "$APTREPO_DEBS/libbar1_2.0-1_amd64.deb" ||
  fail "data-tar-from"
[ "$(ar t "$escape" | tr '\n' ' ')" = 'debian-binary control.tar.gz data.tar.gz ' ] ||
  fail "escape deb members"
python3 -c 'import sys,tarfile,subprocess
data = subprocess.run(["ar","p",sys.argv[1],"data.tar.gz"],capture_output=True,check=True).stdout
import io; names = tarfile.open(fileobj=io.BytesIO(data)).getnames()
sys.exit(0 if "./../../escaped" in names else 1)' "$escape" || fail "escape deb lacks ../ path"
rm -f "$escape"

REPO="$APTREPO_WORK/repo"
build_repo "$REPO" bookworm --by-hash --archs "amd64 arm64"
start_server "$REPO"
base="$APTREPO_URL/dists/bookworm"

# Signatures verify against the exported keyring (what distill does).
curl -fsS -o "$APTREPO_WORK/InRelease" "$base/InRelease"
gpgv --keyring "$REPO/keyring.gpg" "$APTREPO_WORK/InRelease" 2>/dev/null ||
  fail "InRelease does not verify"
curl -fsS -o "$APTREPO_WORK/Release" "$base/Release"
curl -fsS -o "$APTREPO_WORK/Release.gpg" "$base/Release.gpg"
gpgv --keyring "$REPO/keyring.gpg" "$APTREPO_WORK/Release.gpg" "$APTREPO_WORK/Release" 2>/dev/null ||
  fail "Release.gpg does not verify"
# A tampered InRelease must not verify.
sed 's/^Suite: bookworm/Suite: evil/' "$APTREPO_WORK/InRelease" >"$APTREPO_WORK/bad"
if gpgv --keyring "$REPO/keyring.gpg" "$APTREPO_WORK/bad" 2>/dev/null; then
  fail "tampered InRelease verified"
fi
grep -qx 'Acquire-By-Hash: yes' "$APTREPO_WORK/Release" || fail "no Acquire-By-Hash"
grep -qx 'Architectures: amd64 arm64' "$APTREPO_WORK/Release" || fail "Architectures"

# Packages (.xz) matches the SHA256 the Release lists, also by hash.
curl -fsS -o "$APTREPO_WORK/Packages.xz" "$base/main/binary-amd64/Packages.xz"
sum=$(sha256sum "$APTREPO_WORK/Packages.xz" | cut -d' ' -f1)
has "^ $sum .* main/binary-amd64/Packages.xz$" \
  awk '/^SHA256:/ {s=1; next} /^[^ ]/ {s=0} s' "$APTREPO_WORK/Release" ||
  fail "Release lacks Packages.xz hash"
curl -fsS -o /dev/null "$base/main/binary-amd64/by-hash/SHA256/$sum" || fail "by-hash missing"
xz -dc "$APTREPO_WORK/Packages.xz" >"$APTREPO_WORK/Packages"
for p in foo libbar1 foo-data; do
  grep -qx "Package: $p" "$APTREPO_WORK/Packages" || fail "Packages lacks $p"
done
grep -qx 'Package: evil' "$APTREPO_WORK/Packages" && fail "escape deb leaked into the repo"
# arm64 gets only the Architecture: all package.
[ "$(curl -fsS "$base/main/binary-arm64/Packages" | grep -c '^Package:')" = 1 ] ||
  fail "arm64 Packages should list only foo-data"
filename=$(awk '/^Package: foo$/ {f=1} f && /^Filename:/ {print $2; exit}' "$APTREPO_WORK/Packages")
want=$(awk '/^Package: foo$/ {f=1} f && /^SHA256:/ {print $2; exit}' "$APTREPO_WORK/Packages")
got=$(curl -fsS "$APTREPO_URL/$filename" | sha256sum | cut -d' ' -f1)
[ "$want" = "$got" ] || fail "foo.deb sha256 $got != $want"

# Fault injection: two 500s then success; a truncated body fails curl once.
start_server "$REPO" --fail500 'InRelease$:2' --truncate 'Packages\.xz$:10:1'
base="$APTREPO_URL/dists/bookworm"
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/InRelease" || true)
[ "$code" = 500 ] || fail "first InRelease should be 500, got $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/InRelease" || true)
[ "$code" = 500 ] || fail "second InRelease should be 500, got $code"
curl -fsS -o "$APTREPO_WORK/InRelease2" "$base/InRelease" || fail "third InRelease failed"
cmp -s "$APTREPO_WORK/InRelease" "$APTREPO_WORK/InRelease2" || fail "InRelease differs"
rc=0
curl -fsS -o /dev/null "$base/main/binary-amd64/Packages.xz" 2>/dev/null || rc=$?
[ "$rc" = 18 ] || fail "truncated transfer should make curl exit 18, got $rc"
curl -fsS -o "$APTREPO_WORK/Packages2.xz" "$base/main/binary-amd64/Packages.xz"
cmp -s "$APTREPO_WORK/Packages.xz" "$APTREPO_WORK/Packages2.xz" || fail "Packages.xz differs"
has '"/dists/bookworm/InRelease": 3' server_stats || fail "stats: $(server_stats)"
# Ranges and HEAD work for resumable clients.
head=$(curl -fsS -r 0-3 "$APTREPO_URL/$filename")
[ "$head" = '!<ar' ] || fail "range request"
has '^[Cc]ontent-[Ll]ength: ' curl -fsSI "$APTREPO_URL/$filename" || fail "HEAD"

# deb822 sources file for distill.
make_sources "$APTREPO_WORK/test.sources" bookworm
grep -qx "URIs: $APTREPO_URL" "$APTREPO_WORK/test.sources" || fail "make_sources"

stop_server
echo "PASS: t_net_fixture"
