# registry.sh: a docker-registry with htpasswd auth on 127.0.0.1 for scenarios
# (source it after common.sh).
#   registry_start DIR [USER PASSWORD]  starts it; sets REGISTRY (host:port) and
#                                       REGISTRY_PID; with USER, Basic auth
#   registry_stop                       stops it by PID
#   seed_layout DIR REF                 writes a single-manifest OCI layout (two
#                                       gzip layers, 2 MiB and tiny), deterministic
#   free_port                           prints a free TCP port on 127.0.0.1

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

REGISTRY_PID=
registry_start() {
  local dir=$1 user=${2:-} password=${3:-} port
  port=$(free_port)
  mkdir -p "$dir/storage"
  {
    printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n'
    printf 'storage:\n  filesystem:\n    rootdirectory: %s\n' "$dir/storage"
    printf 'http:\n  addr: 127.0.0.1:%s\n' "$port"
    if [ -n "$user" ]; then
      htpasswd -Bbn "$user" "$password" >"$dir/htpasswd"
      printf 'auth:\n  htpasswd:\n    realm: distill-test\n    path: %s\n' "$dir/htpasswd"
    fi
  } >"$dir/registry.yml"
  docker-registry serve "$dir/registry.yml" >"$dir/registry.log" 2>&1 &
  REGISTRY_PID=$!
  local _
  for _ in $(seq 100); do
    # 200 anonymous, 401 with auth: either way it answers.
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" || true)
    [ "$code" = 200 ] || [ "$code" = 401 ] && break
    sleep 0.05
  done
  [ "$code" = 200 ] || [ "$code" = 401 ] || fail "docker-registry did not start: $(cat "$dir/registry.log")"
  REGISTRY=127.0.0.1:$port
}

registry_stop() {
  if [ -n "$REGISTRY_PID" ]; then
    kill "$REGISTRY_PID" 2>/dev/null || true
    wait "$REGISTRY_PID" 2>/dev/null || true
    REGISTRY_PID=
  fi
}

seed_layout() {
  python3 - "$1" "$2" <<'PY'
import gzip, hashlib, io, json, os, random, sys, tarfile
root, ref = sys.argv[1], sys.argv[2]
os.makedirs(root + "/blobs/sha256", exist_ok=True)
def put(data):
    digest = hashlib.sha256(data).hexdigest()
    with open(f"{root}/blobs/sha256/{digest}", "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + digest, "size": len(data)}
def layer(files):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in files:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(content), 0, 0o644
            tar.addfile(info, io.BytesIO(content))
    tar_bytes = raw.getvalue()
    gz = gzip.compress(tar_bytes, mtime=0)
    return "sha256:" + hashlib.sha256(tar_bytes).hexdigest(), gz
# The big (2 MiB, incompressible) layer first: the first upload is cut midway.
layers = [layer([("app/data.bin", random.Random(1).randbytes(2 << 20))]),
          layer([("etc/hello", b"hello\n")])]
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "config": {"Entrypoint": ["/app/run"]},
                     "rootfs": {"type": "layers", "diff_ids": [d for d, _ in layers]}},
                    separators=(",", ":"), sort_keys=True).encode()
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": dict(mediaType="application/vnd.oci.image.config.v1+json", **put(config)),
            "layers": [dict(mediaType="application/vnd.oci.image.layer.v1.tar+gzip", **put(gz))
                       for _, gz in layers]}
m = json.dumps(manifest, separators=(",", ":")).encode()
desc = dict(mediaType=manifest["mediaType"], **put(m))
desc["annotations"] = {"org.opencontainers.image.ref.name": ref}
json.dump({"schemaVersion": 2, "manifests": [desc]}, open(root + "/index.json", "w"))
open(root + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
PY
}
