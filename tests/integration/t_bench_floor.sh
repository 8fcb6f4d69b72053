#!/usr/bin/env bash
# t_bench_floor: the bench's CPU-floor tool (bench/deflate_cpu.cpp, built as
# deflate-cpu) measures the work it says it measures. `-x` decodes the data.tar
# of .debs in each compression dpkg-deb writes (xz, gzip, zstd, none) to the
# bytes `dpkg-deb --fsys-tarfile` gives, and refuses a file that is not a .deb;
# a level deflates and hashes its input; `-d` decodes a gzip or xz index to its size.
# Exit 0 pass, 1 fail, 77 skipped.
. "$(dirname "$0")/lib/common.sh"
. "$SRC/tests/integration/lib/aptrepo.sh"
aptrepo_require_tools
aptrepo_init
W=$APTREPO_WORK
TOOL=${DISTILL_BUILD_DIR:-$SRC/build}/deflate-cpu
[ -x "$TOOL" ] || fail "no $TOOL"

expected=0
: >"$W/debs.txt"
# Several MiB each, so that every decoder fills its 1 MiB output buffer many times.
mkdir -p "$W/tree/usr/share/pkg"
seq 1 600000 >"$W/tree/usr/share/pkg/numbers"
head -c 1000000 /dev/urandom >"$W/tree/usr/share/pkg/noise"
for compression in xz gzip zstd none; do
  make_deb "pkg-$compression" 1.0 amd64 --compression "$compression" \
    --data-tar-from "$W/tree" >/dev/null
  deb=$(ls "$APTREPO_DEBS"/pkg-"$compression"_1.0_amd64.deb)
  member=$(ar t "$deb" | grep '^data\.tar')
  case $compression in
    xz) [ "$member" = data.tar.xz ] ;; gzip) [ "$member" = data.tar.gz ] ;;
    zstd) [ "$member" = data.tar.zst ] ;; none) [ "$member" = data.tar ] ;;
  esac || fail "make_deb --compression $compression wrote $member"
  expected=$((expected + $(dpkg-deb --fsys-tarfile "$deb" | wc -c)))
  echo "$deb" >>"$W/debs.txt"
done
read -r cpu bytes < <("$TOOL" -x <"$W/debs.txt")
[ "$bytes" = "$expected" ] || fail "deflate-cpu -x decoded $bytes bytes, dpkg-deb gives $expected"
python3 -c "import sys; assert 0 <= float(sys.argv[1]) < 60" "$cpu" || fail "bad CPU time $cpu"

# Not a .deb, and a .deb whose data.tar is damaged: an error, no figure.
head -c 4096 /dev/urandom >"$W/not-a-deb"
echo "$W/not-a-deb" | "$TOOL" -x >"$W/out" 2>"$W/err" && fail "a random file was decoded"
grep -q "no data.tar member" "$W/err" || fail "unexpected error: $(cat "$W/err")"
[ ! -s "$W/out" ] || fail "a figure was printed for a random file"
xz_deb=$(head -n 1 "$W/debs.txt")
python3 - "$xz_deb" "$W/damaged.deb" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
at = data.index(b"data.tar.xz") + 60 + 200  # inside the xz stream
data[at] ^= 0xFF
open(sys.argv[2], "wb").write(data)
PY
echo "$W/damaged.deb" | "$TOOL" -x >/dev/null 2>"$W/err" && fail "a damaged data.tar.xz was decoded"
grep -q "cannot decode data.tar.xz" "$W/err" || fail "unexpected error: $(cat "$W/err")"

# A level: the same bytes as input, some output, SHA-256 time reported.
dpkg-deb --fsys-tarfile "$xz_deb" >"$W/layer.tar"
read -r cpu compressed input sha < <("$TOOL" 6 <"$W/layer.tar")
[ "$input" = "$(wc -c <"$W/layer.tar")" ] || fail "deflate-cpu 6 read $input bytes"
[ "$compressed" -gt 0 ] && [ "$compressed" -lt "$input" ] || fail "deflate-cpu 6 wrote $compressed bytes"
python3 -c "import sys; assert float(sys.argv[1]) >= 0 and float(sys.argv[2]) >= 0" "$cpu" "$sha" ||
  fail "bad CPU times $cpu $sha"
"$TOOL" 13 <"$W/layer.tar" >/dev/null 2>&1 && fail "level 13 was accepted"

# -d: a gzip file inflated to its size.
gzip -c "$W/layer.tar" >"$W/layer.tar.gz"
read -r cpu out < <("$TOOL" -d <"$W/layer.tar.gz")
[ "$out" = "$input" ] || fail "deflate-cpu -d gave $out bytes, expected $input"
xz -c "$W/layer.tar" >"$W/layer.tar.xz"
read -r cpu out < <("$TOOL" -d <"$W/layer.tar.xz")
[ "$out" = "$input" ] || fail "deflate-cpu -d gave $out bytes of an xz file, expected $input"
echo "PASS t_bench_floor"
