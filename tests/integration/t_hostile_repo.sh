#!/usr/bin/env bash
# t_hostile_repo: a signed apt repository that attacks the build (issue 11,
# items 1-5 and 12), served on 127.0.0.1. Every case must fail with one clear
# line naming what was wrong, in bounded time and memory, writing no output:
#  - an index bomb (one 256 MiB stanza, no blank line, in a small Packages.gz);
#  - a control bomb (control.tar inflating to 64 MiB);
#  - a replayed older Release after a newer one was seen (--refresh);
#  - trixie's Release served under dists/bookworm;
#  - a dependency named "..";
#  - two packages that Conflict.
# Exit 0 pass, 1 fail, 77 skipped.
. "$(dirname "$0")/lib/common.sh"
. "$SRC/tests/integration/lib/aptrepo.sh"
aptrepo_require_tools
aptrepo_init
W=$APTREPO_WORK

spec() {  # spec FILE PACKAGE [SUITE]
  cat >"$1" <<YAML
name: hostile
sources:
  - url: $APTREPO_URL
    suites: [${3:-bookworm}]
    components: [main]
    keyring: $W/repo/keyring.gpg
packages: [$2]
YAML
}

# run_bounded NAME PATTERN CMD...: CMD fails (exit 1) with a `distill: error:`
# line matching PATTERN, within 60 s and 200 MB of RSS.
run_bounded() {
  local name=$1 pattern=$2 rc=0
  shift 2
  /usr/bin/time -f '%M %e' -o "$W/$name.time" timeout 60 "$@" >/dev/null 2>"$W/$name.err" || rc=$?
  [ "$rc" -eq 1 ] || fail "$name: exit $rc: $(cat "$W/$name.err")"
  grep -Eq "distill: error: .*$pattern" "$W/$name.err" || fail "$name: expected /$pattern/, got: $(cat "$W/$name.err")"
  read -r kb seconds < <(tail -n 1 "$W/$name.time")
  [ "$kb" -lt 200000 ] || fail "$name: $kb KB of RSS"
  echo "$name: refused in ${seconds}s, ${kb} KB RSS"
}

# Re-signs dists/SUITE after its index files were changed by hand.
resign() {  # resign SUITE
  local dists="$W/repo/dists/$1" date
  date=$(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" '+%a, %d %b %Y %H:%M:%S UTC')
  (cd "$dists" && apt-ftparchive -o APT::FTPArchive::Release::Suite="$1" \
    -o APT::FTPArchive::Release::Codename="$1" -o APT::FTPArchive::Release::Architectures=amd64 \
    -o APT::FTPArchive::Release::Components=main -o APT::FTPArchive::Release::Date="$date" \
    release . 2>/dev/null) >"$W/Release.tmp"
  mv "$W/Release.tmp" "$dists/Release"
  rm -f "$dists/InRelease"
  gpg --batch --quiet --yes --pinentry-mode loopback --passphrase '' --local-user "$APTREPO_KEYID" \
    --digest-algo SHA256 --clearsign --output "$dists/InRelease" "$dists/Release"
}

make_deb hello 2.0 amd64 --file /usr/bin/hello=two >/dev/null
make_deb ok 1.0 amd64 --file /usr/share/ok=ok >/dev/null
make_deb dotdot 1.0 amd64 --depends ".." >/dev/null 2>&1 || true
make_deb left 1.0 amd64 --conflicts "right (>= 1)" >/dev/null
make_deb right 1.0 amd64 >/dev/null
make_deb both 1.0 amd64 --depends "left, right" >/dev/null
python3 - "$APTREPO_DEBS/bomb_1.0_amd64.deb" <<'PY'
import io, sys, tarfile, gzip, lzma
def member(name, data):
    h = "%-16s%-12d%-6d%-6d%-8s%-10d`\n" % (name, 1700000000, 0, 0, "100644", len(data))
    return h.encode() + data + (b"\n" if len(data) % 2 else b"")
class Zeros(io.RawIOBase):
    def __init__(self, n): self.n = n
    def readable(self): return True
    def readinto(self, b):
        k = min(len(b), self.n); b[:k] = bytes(k); self.n -= k; return k
ctl = io.BytesIO()
with tarfile.open(fileobj=ctl, mode="w:gz") as t:
    c = b"Package: bomb\nVersion: 1.0\nArchitecture: amd64\nMaintainer: t <t@t.invalid>\nDescription: bomb\n"
    i = tarfile.TarInfo("./control"); i.size = len(c); t.addfile(i, io.BytesIO(c))
    i = tarfile.TarInfo("./md5sums"); i.size = 64 << 20; t.addfile(i, Zeros(64 << 20))
data = io.BytesIO()
with tarfile.open(fileobj=data, mode="w:xz") as t:
    pass
with open(sys.argv[1], "wb") as f:
    f.write(b"!<arch>\n" + member("debian-binary", b"2.0\n") + member("control.tar.gz", ctl.getvalue())
            + member("data.tar.xz", data.getvalue()))
PY
build_repo "$W/repo" bookworm
start_server "$W/repo"

# --- a good build first: the Release Date seen is the repository's --------------------
spec "$W/ok.yaml" ok
"$DISTILL" build "$W/ok.yaml" --cache-dir "$W/cache" --progress none -o "oci:$W/ok:v1" 2>"$W/ok.err" ||
  fail "good build: $(cat "$W/ok.err")"

# --- control bomb, Conflicts, a dependency named ".." ----------------------------------
spec "$W/bomb.yaml" bomb
run_bounded control-bomb "bomb.*control.tar.gz.*larger than a control file may be" \
  "$DISTILL" build "$W/bomb.yaml" --cache-dir "$W/cache" --progress none -o "oci:$W/bomb:v1"
[ ! -e "$W/bomb" ] || fail "control bomb: an output was written"
spec "$W/both.yaml" both
run_bounded conflicts "packages left 1.0 and right 1.0 cannot be installed together" \
  "$DISTILL" build "$W/both.yaml" --cache-dir "$W/cache" --progress none -o "oci:$W/both:v1"
if grep -q '^Package: dotdot' "$W/repo/dists/bookworm/main/binary-amd64/Packages"; then
  spec "$W/dotdot.yaml" dotdot
  run_bounded dotdot "Packages.*invalid package name '\.\.'" \
    "$DISTILL" build "$W/dotdot.yaml" --cache-dir "$W/cache" --progress none -o "oci:$W/dotdot:v1"
fi

# --- a replayed older Release, validly signed ---------------------------------------------
cp -a "$W/repo/dists/bookworm" "$W/bookworm.new"
SOURCE_DATE_EPOCH=$((SOURCE_DATE_EPOCH - 86400)) resign bookworm
run_bounded rollback "Date '.*' is older than the .* already seen" \
  "$DISTILL" build "$W/ok.yaml" --cache-dir "$W/cache" --refresh --progress none -o "oci:$W/old:v1"
# A cache that never saw the newer one takes it (nothing to compare with).
"$DISTILL" build "$W/ok.yaml" --cache-dir "$W/fresh-cache" --progress none -o "oci:$W/old:v1" \
  2>"$W/old.err" || fail "older Release on a fresh cache: $(cat "$W/old.err")"
rm -rf "$W/repo/dists/bookworm" && mv "$W/bookworm.new" "$W/repo/dists/bookworm"

# --- trixie's Release served as bookworm ---------------------------------------------------
cp -a "$W/repo/dists/bookworm" "$W/repo/dists/trixie"
resign trixie
rm -rf "$W/repo/dists/bookworm" && cp -a "$W/repo/dists/trixie" "$W/repo/dists/bookworm"
run_bounded suite "a Release for 'trixie'.*served for suite 'bookworm'" \
  "$DISTILL" build "$W/ok.yaml" --cache-dir "$W/cache2" --progress none -o "oci:$W/suite:v1"

# --- index bomb: one 256 MiB stanza without a blank line, in a small Packages.gz -----------
bin="$W/repo/dists/bookworm/main/binary-amd64"
rm -f "$bin"/Packages*
python3 - "$bin/Packages.gz" <<'PY'
import gzip, sys
with gzip.open(sys.argv[1], "wb", compresslevel=9) as f:
    f.write(b"Package: bomb\nVersion: 1\nDescription: x\n")
    line = b" " + b"A" * (1 << 20) + b"\n"
    for _ in range(256):
        f.write(line)
PY
resign bookworm
run_bounded index-bomb "Packages.gz.*(a stanza longer than 1 MiB|more than the [0-9]+ bytes its Release declares)" \
  "$DISTILL" build "$W/ok.yaml" --cache-dir "$W/cache3" --progress none -o "oci:$W/ibomb:v1"
[ ! -e "$W/ibomb" ] || fail "index bomb: an output was written"
echo "PASS"
