#!/usr/bin/env bash
# t_flavor_apps: application images on the runtime flavors, built from the real
# Debian archive (the mirror of this machine's apt sources; skipped when
# unreachable) and run under runc with `distill run`:
#  1. python3 imports ssl, sqlite3, json and finds libssl with ctypes; a
#     private CA added the Debian way (/usr/local/share/ca-certificates/*.crt)
#     lets python3 and node fetch https://127.0.0.1 from a local TLS server
#     signed by it; the same images without the CA fail with a certificate
#     error; a .crt that is not PEM fails the build naming it;
#  2. java17: `java -version` and `java -jar hello.jar` (compiled on the host)
#     run, and an HTTPS request validates against the generated trust store
#     with that CA only, also after a spec on top installs one more package;
#  3. nodejs: the article's hello_http.js (`cmd: ["hello_http.js"]`, port 8000,
#     host network) answers curl and stops cleanly (DISTILL_TEST_NODE_PORT picks
#     another port; a busy port skips this part);
#  4. accounts: an `app` user and group added to base, exact passwd/group lines,
#     the program runs as uid 1000;
#  5. `from:` oci:, oci-archive: and docker-archive: images: the base's layers
#     are reused byte for byte and the app runs;
#  6. arm64 static, base, cc, python3, nodejs and java17 validate with
#     oci-image-tool, and `python3 --version` / `node --version` run through
#     qemu-aarch64-static (without binfmt) when it is installed.
# Exit 0 pass, 1 fail, 77 skipped.
. "$(dirname "$0")/lib/common.sh"
need curl python3 openssl runc gcc oci-image-tool
need_debian_mirror
[ "$(id -u)" = 0 ] || { echo "SKIP: runc needs root" >&2; exit 77; }

W=$(mktemp -d "${TMPDIR:-/tmp}/t_flavor_apps.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$W"
}
trap cleanup EXIT
cd "$W" # a file named like a flavor in the caller's directory would be taken as the spec
CACHE=${DISTILL_TEST_CACHE:-$W/cache}

build() { build_from_mirror "$@"; }

# --- 1. a private CA, python3 -------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
  -keyout ca.key -out myca.crt -subj "/CN=distill test private CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  2>/dev/null || fail "making the CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key \
  -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null || fail "making the server key"
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.ext
openssl x509 -req -in server.csr -CA myca.crt -CAkey ca.key -CAcreateserial -days 30 \
  -extfile server.ext -out server.crt 2>/dev/null || fail "signing the server certificate"

cat >tls_server.py <<'PY'
# An HTTPS server on 127.0.0.1 (a free port, written to argv[3]) answering a text.
import http.server, ssl, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello over tls\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
server.socket = context.wrap_socket(server.socket, server_side=True)
with open(sys.argv[3] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os; os.rename(sys.argv[3] + ".tmp", sys.argv[3])
server.serve_forever()
PY
python3 tls_server.py server.crt server.key tls.port &
PIDS+=($!)
for _ in $(seq 100); do
  [ -s tls.port ] && break
  sleep 0.1
done
[ -s tls.port ] || fail "the TLS server did not start"
URL="https://127.0.0.1:$(cat tls.port)/"
curl -fsS --cacert myca.crt "$URL" >/dev/null || fail "the host cannot reach $URL"

cat >fetch.py <<'PY'
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode(), end="")
except urllib.error.URLError as e:
    print("fetch failed:", e.reason)
    sys.exit(3)
PY
cat >pyca.yaml <<'YAML'
name: pyca
from: python3
files:
  - {src: myca.crt, dst: /usr/local/share/ca-certificates/myca.crt}
  - {src: fetch.py, dst: /app/fetch.py}
cmd: ["/app/fetch.py"]
YAML
grep -v myca pyca.yaml | sed 's/name: pyca/name: pynoca/' >pynoca.yaml
build pyca.yaml oci:img:pyca
build pynoca.yaml oci:img:pynoca
# The issue's python3 check: the standard modules and ctypes through ld.so.cache.
out=$("$DISTILL" run oci:img:pynoca -- -c "import ssl, sqlite3, json, ctypes.util; print(ctypes.util.find_library('ssl'))") ||
  fail "python3 modules: $out"
[ "$out" = libssl.so.3 ] || fail "find_library('ssl') printed: $out"
out=$("$DISTILL" run --network host oci:img:pyca -- /app/fetch.py "$URL") ||
  fail "python3 with the private CA: $out"
[ "$out" = "hello over tls" ] || fail "python3 with the private CA printed: $out"
rc=0
out=$("$DISTILL" run --network host oci:img:pynoca -- /app/fetch.py "$URL") || rc=$?
[ "$rc" = 3 ] && grep -q CERTIFICATE_VERIFY_FAILED <<<"$out" ||
  fail "python3 without the CA should fail verification (exit $rc): $out"
# The bundle is the package's followed by the local certificate, which ends it.
out=$("$DISTILL" run oci:img:pyca -- -c 'import sys; sys.stdout.write(open("/etc/ssl/certs/ca-certificates.crt").read())')
[ "$(grep -c 'BEGIN CERTIFICATE' <<<"$out")" -gt 100 ] || fail "the package's certificates are gone"
[ "$(tail -n "$(wc -l <myca.crt)" <<<"$out")" = "$(cat myca.crt)" ] ||
  fail "the bundle does not end with the private CA"
# Reproducible: the regenerated bundle gives the same image again.
build pyca.yaml oci:img:pyca-again
[ "$(index_digest img pyca)" = "$(index_digest img pyca-again)" ] || fail "pyca rebuilt differs"
cp ca.key notpem.crt
cat >badca.yaml <<'YAML'
name: badca
from: python3
files: [{src: notpem.crt, dst: /usr/local/share/ca-certificates/notpem.crt}]
YAML
expect_fail 'notpem.crt.*not a CERTIFICATE' \
  "$DISTILL" build badca.yaml --cache-dir "$CACHE" --progress none -o oci:img:badca
# Debian's node uses the system CA store too.
cat >get.js <<'JS'
require('https').get(process.argv[2], function (r) {
  r.setEncoding('utf8');
  r.on('data', function (d) { process.stdout.write(d); });
}).on('error', function (e) { console.log('fetch failed:', e.code); process.exit(3); });
JS
printf 'name: nodeca\nfrom: nodejs\nfiles:\n  - {src: myca.crt, dst: /usr/local/share/ca-certificates/myca.crt}\n  - {src: get.js, dst: /app/get.js}\n' >nodeca.yaml
grep -v myca nodeca.yaml | sed 's/name: nodeca/name: nodenoca/' >nodenoca.yaml
build nodeca.yaml oci:img:nodeca
build nodenoca.yaml oci:img:nodenoca
out=$("$DISTILL" run --network host oci:img:nodeca -- /app/get.js "$URL") || fail "node with the private CA: $out"
[ "$out" = "hello over tls" ] || fail "node with the private CA printed: $out"
rc=0
out=$("$DISTILL" run --network host oci:img:nodenoca -- /app/get.js "$URL") || rc=$?
[ "$rc" = 3 ] && grep -q 'fetch failed: UNABLE_TO_VERIFY_LEAF_SIGNATURE' <<<"$out" ||
  fail "node without the CA should fail verification (exit $rc): $out"
echo "t_flavor_apps: private CA (python3, node) ok"

# --- 2. java17 ----------------------------------------------------------------
if command -v javac >/dev/null && command -v jar >/dev/null; then
  mkdir -p java
  cat >java/Hello.java <<'JAVA'
import java.io.InputStream;
import java.net.URL;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLException;

public class Hello {
  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      System.out.println("hello from java " + Runtime.version().feature());
      return;
    }
    HttpsURLConnection connection = (HttpsURLConnection) new URL(args[0]).openConnection();
    try (InputStream in = connection.getInputStream()) {
      System.out.print(new String(in.readAllBytes(), "UTF-8"));
    } catch (SSLException e) {
      System.out.println("tls failed: " + e.getMessage());
      System.exit(3);
    }
  }
}
JAVA
  javac --release 17 -d java java/Hello.java || fail "javac"
  jar --create --file hello.jar --main-class Hello -C java Hello.class || fail "jar"
  cat >javaca.yaml <<'YAML'
name: javaca
from: java17
files:
  - {src: myca.crt, dst: /usr/local/share/ca-certificates/myca.crt}
  - {src: hello.jar, dst: /app/hello.jar}
cmd: ["/app/hello.jar"]
YAML
  grep -v myca javaca.yaml | sed 's/name: javaca/name: javanoca/' >javanoca.yaml
  build javaca.yaml oci:img:javaca
  build javanoca.yaml oci:img:javanoca
  out=$("$DISTILL" run --entrypoint /usr/bin/java oci:img:javanoca -- -version 2>&1) ||
    fail "java -version: $out"
  grep -q 'openjdk version "17\.' <<<"$out" || fail "java -version printed: $out"
  out=$("$DISTILL" run oci:img:javanoca) || fail "java -jar hello.jar: $out"
  [ "$out" = "hello from java 17" ] || fail "java -jar hello.jar printed: $out"
  out=$("$DISTILL" run --network host oci:img:javaca -- /app/hello.jar "$URL") ||
    fail "java with the private CA: $out"
  [ "$out" = "hello over tls" ] || fail "java with the private CA printed: $out"
  # A spec on top that installs a package regenerates the trust store: the CA
  # added below it is carried over.
  printf 'name: javachain\nfrom: javaca.yaml\npackages: [libzstd1]\n' >javachain.yaml
  build javachain.yaml oci:img:javachain
  out=$("$DISTILL" run --network host oci:img:javachain -- /app/hello.jar "$URL") ||
    fail "java with the CA of the spec below: $out"
  [ "$out" = "hello over tls" ] || fail "java with the CA of the spec below printed: $out"
  rc=0
  out=$("$DISTILL" run --network host oci:img:javanoca -- /app/hello.jar "$URL") || rc=$?
  [ "$rc" = 3 ] && grep -q 'PKIX path building failed' <<<"$out" ||
    fail "java without the CA should fail validation (exit $rc): $out"
  echo "t_flavor_apps: java17 ok"
else
  echo "t_flavor_apps: javac/jar not installed, java17 part skipped" >&2
fi

# --- 3. nodejs: the article's hello_http.js ----------------------------------
NODE_PORT=${DISTILL_TEST_NODE_PORT:-8000}
if python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' \
  "$NODE_PORT" 2>/dev/null; then
  mkdir -p node
  cat >node/hello_http.js <<'JS'
// Adapted from https://howtonode.org/hello-node (the article's example).
var http = require('http');
var port = Number(process.env.PORT || 8000);
var server = http.createServer(function (request, response) {
  response.writeHead(200, {'Content-Type': 'text/plain'});
  response.end('Hello World\n');
});
server.listen(port, '127.0.0.1');
console.log('Server running at http://127.0.0.1:' + port + '/');
// PID 1 gets no default SIGTERM action: stop when asked.
process.on('SIGTERM', function () { server.close(); process.exit(0); });
JS
  cat >node/hello_http.yaml <<'YAML'
name: hello_http
from: nodejs
files: [{src: hello_http.js, dst: /app/hello_http.js}]
workdir: /app
cmd: ["hello_http.js"]
ports: ["8000/tcp"]
YAML
  build node/hello_http.yaml oci:img:hello_http
  "$DISTILL" inspect oci:img:hello_http --json | python3 -c '
import json, sys
c = json.load(sys.stdin)["config"]
assert c["entrypoint"] == ["/usr/bin/node"] and c["cmd"] == ["hello_http.js"], c
assert c["working_dir"] == "/app" and c["exposed_ports"] == ["8000/tcp"], c' ||
    fail "hello_http config"
  # Its own TMPDIR shows what `distill run` leaves (runc state, the bundle).
  mkdir -p run-tmp
  TMPDIR=$W/run-tmp "$DISTILL" run --network host -e "PORT=$NODE_PORT" oci:img:hello_http \
    >node.out 2>&1 &
  node_pid=$!
  PIDS+=("$node_pid")
  body=""
  for _ in $(seq 200); do
    body=$(curl -fsS -m 2 "http://127.0.0.1:$NODE_PORT/" 2>/dev/null) && break
    kill -0 "$node_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ "$body" = "Hello World" ] || fail "hello_http.js did not answer on $NODE_PORT: $body $(cat node.out)"
  grep -q "Server running at http://127.0.0.1:$NODE_PORT/" node.out || fail "node output: $(cat node.out)"
  kill -TERM "$node_pid"
  rc=0
  wait "$node_pid" || rc=$?
  [ "$rc" = 0 ] || fail "distill run of hello_http exited $rc after SIGTERM: $(cat node.out)"
  ! runc list 2>/dev/null | grep -q "distill-$node_pid-" || fail "a runc container is left behind"
  [ -z "$(ls -A run-tmp)" ] || fail "distill run left $(ls run-tmp) behind"
  ! curl -fsS -m 2 "http://127.0.0.1:$NODE_PORT/" >/dev/null 2>&1 || fail "node still answers"
  echo "t_flavor_apps: nodejs hello_http ok"
else
  echo "t_flavor_apps: 127.0.0.1:$NODE_PORT is busy, nodejs part skipped (set DISTILL_TEST_NODE_PORT)" >&2
fi

# --- 4. accounts ----------------------------------------------------------------
cat >hello.c <<'C'
#include <stdio.h>
#include <unistd.h>
int main(void) { printf("hello uid=%d gid=%d\n", (int)getuid(), (int)getgid()); return 0; }
C
gcc -O2 -o hello hello.c || fail "compiling hello.c"
cat >accounts.yaml <<'YAML'
name: accounts
from: base
accounts:
  users: [{name: app, uid: 1000, gid: 1000, home: /home/app}]
  groups: [{name: app, gid: 1000}]
files: [{src: hello, dst: /app/hello, mode: "0755"}]
user: app
entrypoint: ["/app/hello"]
YAML
build accounts.yaml oci:img:accounts
build accounts.yaml oci:img:accounts-debug --variant debug
[ "$("$DISTILL" run oci:img:accounts)" = "hello uid=1000 gid=1000" ] || fail "not run as app"
passwd=$("$DISTILL" run --entrypoint /busybox/cat oci:img:accounts-debug -- /etc/passwd)
expected=$'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\napp:x:1000:1000:app:/home/app:/sbin/nologin'
[ "$passwd" = "$expected" ] || fail "passwd: $passwd"
group=$("$DISTILL" run --entrypoint /busybox/cat oci:img:accounts-debug -- /etc/group)
expected=$'root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\napp:x:1000:'
[ "$group" = "$expected" ] || fail "group: $group"
out=$("$DISTILL" run --entrypoint /busybox/id oci:img:accounts-debug)
[ "$out" = "uid=1000(app) gid=1000(app)" ] || fail "id: $out"
out=$("$DISTILL" run --entrypoint /busybox/stat oci:img:accounts-debug -- -c '%u:%g %a' /home/app)
[ "$out" = "1000:1000 700" ] || [ "$out" = "1000:1000 755" ] || fail "/home/app: $out"
echo "t_flavor_apps: accounts ok"

# --- 5. from: an image reference ------------------------------------------------
build base oci:refs:base
build base "oci-archive:$W/base.oci.tar:base"
build base "docker-archive:$W/base.docker.tar:base:latest"
mapfile -t base_layers < <(layer_digests refs base)
for from in "oci:$W/refs:base" "oci-archive:$W/base.oci.tar:base" "docker-archive:$W/base.docker.tar"; do
  name=${from%%:*}
  printf 'name: on-%s\nfrom: "%s"\nfiles: [{src: hello, dst: /app/hello, mode: "0755"}]\nentrypoint: ["/app/hello"]\n' \
    "$name" "$from" >"on-$name.yaml"
  build "on-$name.yaml" "oci:img:on-$name"
  mapfile -t layers < <(layer_digests img "on-$name")
  [ "${#layers[@]}" = $((${#base_layers[@]} + 1)) ] ||
    fail "from $from: ${#layers[@]} layers for ${#base_layers[@]} base layers + 1"
  [ "${layers[*]:0:${#base_layers[@]}}" = "${base_layers[*]}" ] ||
    fail "from $from: the base layers are not reused byte for byte"
  [ "$("$DISTILL" run "oci:img:on-$name")" = "hello uid=0 gid=0" ] || fail "from $from: the app"
done
echo "t_flavor_apps: from: image references ok"

# --- 6. arm64 -------------------------------------------------------------------
# oci-image-tool 1.0.0-rc1 does not follow nested indexes: validate each arm64
# manifest through a layout whose index.json names it directly.
flat_layout() { # flat_layout LAYOUT REF OUT: OUT/index.json -> REF's arm64 manifest
  python3 - "$1" "$2" "$3" <<'PY'
import json, os, sys
root, ref, out = sys.argv[1:4]
def blob(d): return json.load(open(f"{root}/blobs/sha256/{d[7:]}"))
index = json.load(open(root + "/index.json"))
desc = next(m for m in index["manifests"]
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref)
while desc["mediaType"].endswith("index.v1+json"):
    desc = next(m for m in blob(desc["digest"])["manifests"]
                if m.get("platform", {}).get("architecture") == "arm64")
assert json.load(open(f"{root}/blobs/sha256/{blob(desc['digest'])['config']['digest'][7:]}"))["architecture"] == "arm64"
import shutil  # hard links: oci-image-tool wants a real blobs directory
shutil.copytree(root + "/blobs", out + "/blobs", copy_function=os.link)
json.dump({"schemaVersion": 2, "manifests": [dict(desc, annotations={"org.opencontainers.image.ref.name": ref})]},
          open(out + "/index.json", "w"))
open(out + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
PY
}
unpack_rootfs() { # unpack_rootfs FLAT REF DIR: the layers in order (no whiteouts in distill images)
  mkdir -p "$3"
  local layer
  for layer in $(layer_digests "$1" "$2"); do
    tar -xzf "$1/blobs/sha256/$layer" -C "$3" --no-same-owner || return 1
  done
}
QEMU=$(command -v qemu-aarch64-static || true)
for flavor in static base cc python3 nodejs java17; do # cc and below share python3's packages
  build "$flavor" "oci:arm:$flavor" --arch arm64
  flat_layout arm "$flavor" "flat-$flavor" || fail "$flavor arm64: no arm64 manifest"
  oci-image-tool validate --type image --ref "name=$flavor" "flat-$flavor" >/dev/null 2>oit.err ||
    fail "oci-image-tool $flavor arm64: $(cat oit.err)"
done
if [ -n "$QEMU" ]; then
  unpack_rootfs flat-python3 python3 rootfs-python3 || fail "unpacking python3 arm64"
  out=$("$QEMU" -L rootfs-python3 rootfs-python3/usr/bin/python3.11 --version 2>&1) ||
    fail "python3 arm64 under qemu: $out"
  [ "$out" = "Python 3.11.2" ] || grep -q '^Python 3\.11\.' <<<"$out" || fail "python3 arm64: $out"
  unpack_rootfs flat-nodejs nodejs rootfs-nodejs || fail "unpacking nodejs arm64"
  out=$("$QEMU" -L rootfs-nodejs rootfs-nodejs/usr/bin/node --version 2>&1) ||
    fail "node arm64 under qemu: $out"
  grep -q '^v18\.' <<<"$out" || fail "node arm64: $out"
  echo "t_flavor_apps: arm64 validated, python3/node run under qemu"
else
  echo "t_flavor_apps: qemu-aarch64-static not installed, arm64 programs not run" >&2
fi
echo "t_flavor_apps: ok"
