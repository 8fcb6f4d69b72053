#!/usr/bin/env bash
# Runs every libFuzzer target built in BUILD_DIR/tests/fuzz for a short time
# (FUZZ_SECONDS, default 20) from a fresh corpus (with small generated seeds for
# the archive fuzzers). Exits non-zero if any target crashes, leaks or times out;
# crash inputs are kept in BUILD_DIR/fuzz-artifacts/.
set -euo pipefail

build_dir=${1:?usage: run.sh BUILD_DIR}
seconds=${FUZZ_SECONDS:-20}
fuzz_dir="$build_dir/tests/fuzz"
artifacts="$build_dir/fuzz-artifacts"
mkdir -p "$artifacts"
work=$(mktemp -d "${TMPDIR:-/tmp}/distill-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Small valid inputs so the fuzzers start past the magic bytes.
make_seeds() {
  local name=$1 corpus=$2 src="$work/src-$1"
  mkdir -p "$src/d/sub" && printf 'hello\n' >"$src/d/sub/f" && ln -sf f "$src/d/sub/l"
  case "$name" in
    fuzz_tar)
      tar -C "$src" -cf "$corpus/plain.tar" d 2>/dev/null || true
      tar -C "$src" --format=pax -czf "$corpus/pax.tar.gz" d 2>/dev/null || true
      # A sparse file: holes between its data and at its end.
      truncate -s 70000 "$src/d/sparse" && printf 'data' | dd of="$src/d/sparse" bs=1 seek=30000 conv=notrunc 2>/dev/null
      tar -C "$src" --sparse --format=gnu -cf "$corpus/sparse.tar" d/sparse 2>/dev/null || true
      ;;
    fuzz_stream_decompress)
      printf 'Package: a\nVersion: 1\n\n' >"$src/Packages"
      { printf '\x07'; gzip -nc "$src/Packages"; } >"$corpus/gz" 2>/dev/null || true
      { printf '\x21'; xz -c "$src/Packages"; } >"$corpus/xz" 2>/dev/null || true
      ;;
    fuzz_ar)
      printf '2.0\n' >"$src/debian-binary"
      tar -C "$src" -czf "$src/control.tar.gz" d 2>/dev/null || true
      tar -C "$src" -cf "$src/data.tar" d 2>/dev/null || true
      (cd "$src" && ar rc "$corpus/seed.deb" debian-binary control.tar.gz data.tar) 2>/dev/null || true
      ;;
    fuzz_changelog)
      printf 'hello (1.0-2) bookworm-security; urgency=high\n\n  * Fix CVE-2026-12345.\n\n -- A <a@b.invalid>  Sat, 01 Aug 2026 00:00:00 +0000\n' >"$corpus/entry"
      ;;
    fuzz_layer_decoder)
      # A layer as distill writes it (gzip members), as zstd and as a plain tar.
      tar -C "$src" --format=pax -cf "$corpus/plain.tar" d 2>/dev/null || true
      gzip -nc "$corpus/plain.tar" >"$corpus/layer.gz" 2>/dev/null || true
      cat "$corpus/layer.gz" "$corpus/layer.gz" >"$corpus/members.gz" 2>/dev/null || true
      zstd -qc "$corpus/plain.tar" >"$corpus/layer.zst" 2>/dev/null || true
      ;;
    fuzz_control_record)
      printf 'distill control record 1\n12 6\nPackage: a\n\nab  c\n' >"$corpus/record"
      ;;
    fuzz_layer_read)
      # One directory and one kept file, as check/view_cache.cpp encodes them.
      python3 - "$corpus/record" <<'PY' || true
import struct, sys
def n(v): return struct.pack("<Q", v)
def t(s): return n(len(s)) + s
def entry(path, kind, mode, size):
    return t(path) + n(kind) + n(mode) + n(0) + n(0) + t(b"root") + t(b"root") + n(0) + n(size) + t(b"") + n(0) + n(0)
body = n(2) + entry(b"etc", 1, 0o755, 0) + entry(b"etc/os-release", 0, 0o644, 10)
body += n(1) + n(1) + t(b"ID=debian\n") + n(1) + n(3072)
open(sys.argv[1], "wb").write(b"distill view 1\n" + body)
PY
      ;;
    fuzz_busybox_applets)
      printf 'x\0[\0[[\0ash\0cat\0ls\0run-parts\0sh\0test\0true\0zcat\0\0' >"$corpus/table"
      ;;
  esac
}

status=0
found=0
for fuzzer in "$fuzz_dir"/fuzz_*; do
  [[ -x "$fuzzer" && -f "$fuzzer" ]] || continue
  found=1
  name=$(basename "$fuzzer")
  corpus="$work/corpus-$name"
  mkdir -p "$corpus"
  make_seeds "$name" "$corpus"
  echo "== $name (${seconds}s)"
  if ! ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
       "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$artifacts/$name-" -print_final_stats=1 "$corpus" \
       >"$work/$name.log" 2>&1; then
    echo "FAIL: $name (log tail below; artifacts in $artifacts)"
    tail -n 40 "$work/$name.log"
    status=1
  else
    grep -E '^stat::number_of_executed_units' "$work/$name.log" || true
  fi
done
if [[ $found -eq 0 ]]; then
  echo "no fuzz targets in $fuzz_dir" >&2
  exit 1
fi
exit $status
