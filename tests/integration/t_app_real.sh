#!/usr/bin/env bash
# t_app_real: applications on flavors built from the real Debian archive (the
# mirror of this machine's apt sources; skipped when unreachable):
#  - a C++ program linking OpenSSL and zlib on base-nossl with `trace:`: the
#    build adds libssl3 and zlib1g by itself and the program runs under runc;
#  - a soname no package provides fails the build naming it and the file;
#  - on static, a C program with its own library in `files:` (RUNPATH
#    $ORIGIN/../lib): trace adds libc6 alone and the program runs;
#  - `--variant nonroot` runs as 65532, `--variant debug` has /busybox/sh and
#    still no /bin/sh.
# Exit 0 pass, 1 fail, 77 skipped.
. "$(dirname "$0")/lib/common.sh"
need g++ gcc runc
need_debian_mirror
[ "$(id -u)" = 0 ] || { echo "SKIP: runc needs root" >&2; exit 77; }

W=$(mktemp -d "${TMPDIR:-/tmp}/t_app_real.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"
CACHE=${DISTILL_TEST_CACHE:-$W/cache}

cat >z.cpp <<'CPP'
#include <openssl/sha.h>
#include <zlib.h>
#include <cstdio>
int main() {
  unsigned char d[32];
  SHA256(reinterpret_cast<const unsigned char*>("abc"), 3, d);
  std::printf("zlib %s sha256 %02x%02x%02x\n", zlibVersion(), d[0], d[1], d[2]);
}
CPP
g++ -O2 -o zapp z.cpp -lssl -lcrypto -lz || fail "compiling the test program"
cat >traced.yaml <<'YAML'
name: traced
from: base-nossl
files:
  - {src: zapp, dst: /app/zapp, mode: "0755"}
trace: [/app/zapp]
entrypoint: ["/app/zapp"]
YAML
"$DISTILL" build traced.yaml --cache-dir "$CACHE" --progress none --json -o oci:img:traced >traced.json ||
  fail "build with trace:"
python3 - traced.json <<'PY' || fail "trace did not add libssl3 and zlib1g"
import json, sys
names = {p["name"] for p in json.load(open(sys.argv[1]))["packages"]}
assert {"libssl3", "zlib1g"} <= names, names
PY
out=$("$DISTILL" run oci:img:traced) || fail "the traced program failed: $out"
[ "$out" = "zlib 1.2.13 sha256 ba7816" ] || grep -q 'sha256 ba7816' <<<"$out" || fail "output: $out"

echo 'int nr(void){return 1;}' >nr.c
gcc -shared -fPIC -Wl,-soname,libnotreal.so.9 -o libnotreal.so.9 nr.c
echo 'int nr(void); int main(void){return nr();}' >m.c
gcc -o mapp m.c -L. -l:libnotreal.so.9
sed 's/zapp/mapp/g' traced.yaml >missing.yaml
expect_fail 'missing.yaml:5: /app/mapp needs libnotreal.so.9' \
  "$DISTILL" build missing.yaml --cache-dir "$CACHE" --progress none -o oci:img:missing

# On `from: static`, libc6 is added once for both ld-linux and libc.so.6; a
# library shipped in `files:` (found through $ORIGIN) is present, no package.
echo 'int foo(void){return 7;}' >foo.c
mkdir -p lib bin
gcc -shared -fPIC -Wl,-soname,libfoo.so.1 -o lib/libfoo.so.1 foo.c
cat >f.c <<'C'
#include <stdio.h>
int foo(void);
int main(void) { printf("foo=%d\n", foo()); return 0; }
C
# shellcheck disable=SC2016 # $ORIGIN is for the linker, not the shell
gcc -o bin/fapp f.c -Llib -l:libfoo.so.1 -Wl,-rpath,'$ORIGIN/../lib'
cat >shipped.yaml <<'YAML'
name: shipped
from: static
files:
  - {src: bin/fapp, dst: /app/bin/fapp, mode: "0755"}
  - {src: lib, dst: /app/lib}
trace: [/app/bin/fapp]
entrypoint: ["/app/bin/fapp"]
YAML
"$DISTILL" build shipped.yaml --cache-dir "$CACHE" --progress none -o oci:img:shipped ||
  fail "build on static with a library in files:"
[ "$("$DISTILL" run oci:img:shipped)" = "foo=7" ] || fail "the program with its own library"

cat >hello.cpp <<'CPP'
#include <unistd.h>
#include <iostream>
int main() { std::cout << "uid=" << getuid() << std::endl; }
CPP
g++ -O2 -o hello hello.cpp
cat >hello.yaml <<'YAML'
name: hello
from: cc
files: [{src: hello, dst: /app/hello, mode: "0755"}]
entrypoint: ["/app/hello"]
YAML
"$DISTILL" build hello.yaml --variant nonroot --cache-dir "$CACHE" --progress none -o oci:img:nonroot ||
  fail "build nonroot"
[ "$("$DISTILL" run oci:img:nonroot)" = "uid=65532" ] || fail "nonroot does not run as 65532"
"$DISTILL" build base --variant debug --cache-dir "$CACHE" --progress none -o oci:img:debug ||
  fail "build debug"
[ "$("$DISTILL" run oci:img:debug -- -c 'echo ok')" = ok ] || fail "debug: /busybox/sh -c 'echo ok'"
"$DISTILL" run --entrypoint /busybox/ls oci:img:debug -- /bin/sh >/dev/null 2>&1 &&
  fail "debug variant has /bin/sh"
"$DISTILL" audit oci:img:debug >/dev/null || fail "audit of the debug variant"
echo "t_app_real: ok"
