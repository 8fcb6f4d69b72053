#!/usr/bin/env bash
# t_diff_ids: every command that reads one image checks each layer's
# uncompressed tar against the diff_id its config gives, as containerd and
# podman do when they unpack. An OCI layout is written here by python3 with a
# gzip layer, a zstd one (when zstd is installed) and a plain tar padded to
# tarfile's 10 KiB record (the padding is part of the diff_id). The honest
# image is inspected (sizes those of the tars), audited, given an SBOM,
# tested and, with root, runc and a static /bin/busybox, run. Then its config
# lies about layer 1 (config digest, manifest and index fixed up to match),
# and in another copy the manifest alone names another valid blob for layer
# 1: inspect, audit, sbom, test, run and diff each refuse them with one line
# naming the layer and both digests. copy, which does not decompress, still
# copies them as skopeo would.
# Exit 0 pass, 1 fail, 77 skipped.
. "$(dirname "$0")/lib/common.sh"
need python3

W=$(mktemp -d "${TMPDIR:-/tmp}/t_diff_ids.XXXXXX")
chmod 0711 "$W"  # run's bundles go in it: traversable by the container's user
trap 'rm -rf "$W"' EXIT
export TMPDIR=$W

busybox=
if [ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; then
  busybox=/bin/busybox
fi
zstd_bin=$(command -v zstd || true)

# mk_layout DIR MODE: an image "latest" in the layout DIR; MODE honest, lie
# (the config's diff_id of layer 1 is another's) or swap (the manifest names
# another blob for layer 1, the config is unchanged). Prints, one per line,
# each honest layer's diff_id and tar size, then the diff_id the config gives
# for layer 1 and that of the tar the manifest's layer 1 holds.
mk_layout() {
  python3 - "$1" "$2" "$busybox" "$zstd_bin" <<'PY'
import gzip, hashlib, io, json, os, subprocess, sys, tarfile

root, mode, busybox, zstd = sys.argv[1:5]
os.makedirs(f"{root}/blobs/sha256", exist_ok=True)

def put(data):
    digest = hashlib.sha256(data).hexdigest()
    with open(f"{root}/blobs/sha256/{digest}", "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + digest, "size": len(data)}

def tar(files):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data, mode_ in files:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                t.addfile(info)
            else:
                info.size, info.mode = len(data), mode_
                t.addfile(info, io.BytesIO(data))
    return out.getvalue()  # padded to tarfile's 10 KiB record

base = [("etc", None, 0), ("etc/passwd", b"root:x:0:0:root:/root:/sbin/nologin\n", 0o644),
        ("etc/group", b"root:x:0:\n", 0o644), ("tmp", None, 0)]
if busybox:
    base += [("bin", None, 0), ("bin/busybox", open(busybox, "rb").read(), 0o755)]
app = [("app", None, 0), ("app/version", b"1\n", 0o644),
       ("app/blob", bytes(range(256)) * 8192, 0o644)]
extra = [("app/extra", b"extra\n", 0o644)]
other = [("app", None, 0), ("app/version", b"2\n", 0o644)]

def gz(data):
    return gzip.compress(data, mtime=0)

def zst(data):
    return subprocess.run([zstd, "-q", "-c"], input=data, capture_output=True, check=True).stdout

gzip_type = "application/vnd.oci.image.layer.v1.tar+gzip"
layers = [(tar(base), gz, gzip_type),
          (tar(app), zst if zstd else gz, gzip_type.replace("gzip", "zstd") if zstd else gzip_type),
          (tar(extra), lambda d: d, "application/vnd.oci.image.layer.v1.tar")]
diff_ids = ["sha256:" + hashlib.sha256(t).hexdigest() for t, _, _ in layers]
descriptors = [dict(put(pack(t)), mediaType=media) for t, pack, media in layers]
for d, (t, _, _) in zip(diff_ids, layers):
    print(d, len(t))
held = diff_ids[1]
if mode == "lie":
    diff_ids[1] = "sha256:" + hashlib.sha256(b"another layer").hexdigest()
if mode == "swap":
    descriptors[1] = dict(put(gz(tar(other))), mediaType=gzip_type)
    held = "sha256:" + hashlib.sha256(tar(other)).hexdigest()
print(diff_ids[1])
print(held)

config = {"architecture": "amd64", "os": "linux",
          "config": {"Entrypoint": ["/bin/busybox", "cat", "/app/version"],
                     "Env": ["PATH=/bin"], "User": "0"},
          "rootfs": {"type": "layers", "diff_ids": diff_ids},
          "history": [{"created_by": f"layer {i}"} for i in range(3)]}
config_desc = dict(put(json.dumps(config).encode()),
                   mediaType="application/vnd.oci.image.config.v1+json")
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config_desc, "layers": descriptors}
manifest_desc = dict(put(json.dumps(manifest).encode()),
                     mediaType="application/vnd.oci.image.manifest.v1+json",
                     annotations={"org.opencontainers.image.ref.name": "latest"})
json.dump({"schemaVersion": 2, "manifests": [manifest_desc]}, open(f"{root}/index.json", "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(f"{root}/oci-layout", "w"))
PY
}

cat >"$W/cst.yaml" <<'YAML'
schemaVersion: 2.0.0
fileContentTests:
  - name: version
    path: /app/version
    expectedContents: ["^1\n$"]
YAML

# --- the honest image: read, measured, tested, run ----------------------------
mk_layout "$W/honest" honest >"$W/honest.ids" || fail "writing the honest layout"
H=oci:$W/honest:latest
"$DISTILL" inspect "$H" --arch amd64 --json >"$W/inspect.json" || fail "inspect of the honest image"
python3 - "$W/inspect.json" "$W/honest.ids" <<'PY' || fail "inspect's layers are not the tars"
import json, sys
layers = json.load(open(sys.argv[1]))["layers"]
ids = [line.split() for line in open(sys.argv[2]).read().split("\n")[:3]]
assert [(l["diff_id"], l["uncompressed_size"]) for l in layers] == [(d, int(s)) for d, s in ids], (layers, ids)
assert ids[2][1] != "0" and int(ids[2][1]) % 10240 == 0, ids  # the plain layer is padded
PY
"$DISTILL" audit "$H" --arch amd64 >/dev/null 2>&1 || [ $? -eq 1 ] || fail "audit of the honest image"
"$DISTILL" sbom "$H" --arch amd64 -o "$W/sbom.json" || fail "sbom of the honest image"
"$DISTILL" test "$H" --arch amd64 -c "$W/cst.yaml" >/dev/null || fail "test of the honest image"
can_run=
if [ -n "$busybox" ] && [ "$(id -u)" -eq 0 ] && command -v runc >/dev/null 2>&1; then
  can_run=yes
  out=$("$DISTILL" run "$H" --arch amd64) || fail "run of the honest image"
  [ "$out" = 1 ] || fail "run printed: $out"
fi

# --- refused: a config that lies, a blob swapped in the manifest ---------------
for mode in lie swap; do
  mk_layout "$W/$mode" "$mode" >"$W/$mode.ids" || fail "writing the $mode layout"
  R=oci:$W/$mode:latest
  claimed=$(sed -n 4p "$W/$mode.ids")
  held=$(sed -n 5p "$W/$mode.ids")
  [ "$claimed" != "$held" ] || fail "$mode: the layout does not lie"
  line="layer 1 of $R: uncompressed content has $held, the config says $claimed"
  for cmd in "inspect $R" "inspect $R --json" "audit $R" "sbom $R -o $W/$mode.sbom.json" \
    "test $R -c $W/cst.yaml"; do
    rc=0
    # shellcheck disable=SC2086
    err=$("$DISTILL" $cmd --arch amd64 2>&1 >/dev/null) || rc=$?
    [ "$rc" -ne 0 ] || fail "$mode: distill $cmd succeeded"
    [ "$(grep -c . <<<"$err")" -eq 1 ] || fail "$mode: distill $cmd said more than one line: $err"
    grep -Eq "^distill: error: $line\$" <<<"$err" || fail "$mode: distill $cmd said: $err"
  done
  if [ -n "$can_run" ]; then
    rc=0
    err=$("$DISTILL" run "$R" --arch amd64 2>&1) || rc=$?
    [ "$rc" -ne 0 ] || fail "$mode: run succeeded: $err"
    grep -Eq "^distill: error: $line\$" <<<"$err" || fail "$mode: run said: $err"
  fi
  rc=0
  err=$("$DISTILL" diff "$H" "$R" --platform linux/amd64 2>&1 >/dev/null) || rc=$?
  [ "$rc" -eq 2 ] || fail "$mode: diff exited $rc: $err"
  # (swap: the claim both images make is checked first, in diff's own words)
  grep -Eq "(uncompressed content has|decompresses to) $held, (the config says|not the diff_id) $claimed" \
    <<<"$err" || fail "$mode: diff said: $err"
  # copy does not decompress: it copies what it is given, as skopeo does.
  "$DISTILL" copy "$R" "oci:$W/$mode-copy:latest" >/dev/null 2>&1 || fail "$mode: copy refused"
done
[ -z "$(find "$W" -maxdepth 1 \( -name 'distill-run-*' -o -name 'distill-test-*' \))" ] ||
  fail "bundles left behind: $(ls "$W")"
echo "PASS: t_diff_ids"
