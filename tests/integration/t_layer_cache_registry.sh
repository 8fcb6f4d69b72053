#!/usr/bin/env bash
# t_layer_cache_registry: a layer cache shared through a registry (issue 10,
# part 5): `build --cache-to` on one cache, then `build --cache-from` on an
# empty one with the apt repository stopped gives the same digest, from a
# docker-registry with htpasswd auth on 127.0.0.1. A damaged blob, an entry
# whose diff_id lies and a foreign document are warned about and ignored;
# --cache-to never replaces what is not a distill layer cache.
# Exit 0 pass, 1 fail, 77 skipped.
. "$(dirname "$0")/lib/common.sh"
. "$SRC/tests/integration/lib/aptrepo.sh"
. "$SRC/tests/integration/lib/registry.sh"
aptrepo_require_tools
need docker-registry htpasswd skopeo curl
aptrepo_init
W=$APTREPO_WORK
trap 'registry_stop; aptrepo_cleanup' EXIT

make_base_stand_ins
build_repo "$W/repo" bookworm
start_server "$W/repo"
mkdir -p "$W/root/etc/apt/sources.list.d"
make_sources "$W/root/etc/apt/sources.list.d/test.sources" bookworm
export DISTILL_APT_ROOT=$W/root

registry_start "$W/registry" alice s3cret
R=docker://$REGISTRY/ci/cache
AUTH=(--dest-creds alice:s3cret)

mkdir -p "$W/app"
printf 'hello from the app\n' >"$W/app/hello.txt"
cat >"$W/app/app.yaml" <<'YAML'
name: app
from: base
files:
  - {src: hello.txt, dst: /app/hello.txt}
entrypoint: ["/app/hello.txt"]
YAML
"$DISTILL" lock "$W/app/app.yaml" --arch amd64 --cache-dir "$W/lockcache" --progress none \
  -o "$W/app.lock" || fail "lock"
B=(--lock "$W/app.lock" --arch amd64 --progress none)

# --- one runner builds and exports ---------------------------------------------------
"$DISTILL" build "$W/app/app.yaml" "${B[@]}" --cache-dir "$W/c1" -o "oci:$W/out1:app" \
  --cache-to "$R" "${AUTH[@]}" 2>"$W/err1" || fail "build --cache-to: $(cat "$W/err1")"
want=$(index_digest "$W/out1" app)
# The cache is an artifact manifest skopeo reads: distill's artifactType, one
# annotated layer per entry, every blob present.
skopeo inspect --raw --tls-verify=false --creds alice:s3cret "$R:distill-layer-cache" >"$W/cache.json" ||
  fail "skopeo cannot read the cache manifest"
python3 - "$W/cache.json" <<'PY' || fail "cache manifest: $(cat "$W/cache.json")"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["artifactType"] == "application/vnd.distill.layer-cache.v1", m.get("artifactType")
assert m["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
keys = [l["annotations"]["dev.distill.layer-cache.key"] for l in m["layers"]]
assert len(keys) >= 3 and len(set(keys)) == len(keys), keys
for l in m["layers"]:
    assert l["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
    assert l["annotations"]["dev.distill.layer-cache.diff-id"].startswith("sha256:")
    int(l["annotations"]["dev.distill.layer-cache.uncompressed-size"])
PY
for d in $(python3 -c 'import json,sys; [print(l["digest"]) for l in json.load(open(sys.argv[1]))["layers"]]' "$W/cache.json"); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -u alice:s3cret -I "http://$REGISTRY/v2/ci/cache/blobs/$d")
  [ "$code" = 200 ] || fail "the cache lists $d, the registry answers $code"
done
# A repeat export with nothing new leaves the manifest as it is.
before=$(sha256sum <"$W/cache.json")
"$DISTILL" build "$W/app/app.yaml" "${B[@]}" --cache-dir "$W/c1" -o "oci:$W/out1:app" \
  --cache-to "$R" "${AUTH[@]}" || fail "repeat build --cache-to"
skopeo inspect --raw --tls-verify=false --creds alice:s3cret "$R:distill-layer-cache" | sha256sum |
  grep -qF "${before%% *}" || fail "a repeat export changed the cache manifest"

# --- another runner: empty cache, the apt repository stopped ------------------------
port=$APTREPO_PORT
stop_server
APTREPO_PORT=$port
"$DISTILL" build "$W/app/app.yaml" "${B[@]}" --cache-dir "$W/c2" -o "oci:$W/out2:app" \
  --cache-from "$R" "${AUTH[@]}" 2>"$W/err2" || fail "build --cache-from without the mirror: $(cat "$W/err2")"
[ "$(index_digest "$W/out2" app)" = "$want" ] || fail "--cache-from gave another digest"
! grep -q warning "$W/err2" || fail "unexpected warning: $(cat "$W/err2")"
# No .deb came into the second cache: every layer was the registry's.
for f in "$W/c2"/sha256/*; do
  if [ -f "$f" ] && [ "$(head -c 7 "$f" | tr -d '\0')" = '!<arch>' ]; then fail "a .deb was downloaded: $f"; fi
done
# Credentials from $REGISTRY_AUTH_FILE work as well as --dest-creds.
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REGISTRY" "$(printf alice:s3cret | base64)" >"$W/auth.json"
REGISTRY_AUTH_FILE=$W/auth.json "$DISTILL" build "$W/app/app.yaml" "${B[@]}" --cache-dir "$W/c2b" \
  -o "oci:$W/out2b:app" --cache-from "$R" || fail "--cache-from with REGISTRY_AUTH_FILE"
[ "$(index_digest "$W/out2b" app)" = "$want" ] || fail "REGISTRY_AUTH_FILE: another digest"

# --- damaged and lying entries are ignored, the layers made again -------------------
start_server "$W/repo" --port "$APTREPO_PORT"  # the port the lock names
# An entry whose diff_id annotation lies: pushed as another tag of the cache.
python3 - "$W/cache.json" >"$W/lying.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["layers"][0]["annotations"]["dev.distill.layer-cache.diff-id"] = "sha256:" + "0" * 64
print(json.dumps(m, separators=(",", ":")), end="")
PY
curl -fsS -u alice:s3cret -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
  --data-binary "@$W/lying.json" "http://$REGISTRY/v2/ci/cache/manifests/lying" >/dev/null ||
  fail "cannot push the lying manifest"
"$DISTILL" build "$W/app/app.yaml" "${B[@]}" --cache-dir "$W/c3" -o "oci:$W/out3:app" \
  --cache-from "$R:lying" "${AUTH[@]}" 2>"$W/err3" || fail "build with a lying entry: $(cat "$W/err3")"
[ "$(index_digest "$W/out3" app)" = "$want" ] || fail "a lying entry changed the digest"
grep -q "warning: layer cache .*does not hold the layer its entry names" "$W/err3" ||
  fail "no warning for the lying entry: $(cat "$W/err3")"
# A blob damaged in the registry's storage: its digest check fails.
first=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"][7:])' "$W/cache.json")
data="$W/registry/storage/docker/registry/v2/blobs/sha256/${first:0:2}/$first/data"
[ -f "$data" ] || fail "no blob file at $data"
cp "$data" "$W/good-blob"
printf 'garbage' >"$data"
"$DISTILL" build "$W/app/app.yaml" "${B[@]}" --cache-dir "$W/c4" -o "oci:$W/out4:app" \
  --cache-from "$R" "${AUTH[@]}" 2>"$W/err4" || fail "build with a damaged blob: $(cat "$W/err4")"
[ "$(index_digest "$W/out4" app)" = "$want" ] || fail "a damaged blob changed the digest"
grep -q "warning: layer cache" "$W/err4" || fail "no warning for the damaged blob: $(cat "$W/err4")"
[ -z "$(cache_leftovers "$W/c4")" ] || fail "leftovers in the cache: $(cache_leftovers "$W/c4")"
cp "$W/good-blob" "$data"

# --- foreign documents, bad references, refused credentials -------------------------
"$DISTILL" copy "oci:$W/out1:app" "docker://$REGISTRY/ci/app:1" --dest-creds alice:s3cret \
  >/dev/null || fail "copy app to the registry"
"$DISTILL" build "$W/app/app.yaml" "${B[@]}" --cache-dir "$W/c5" -o "oci:$W/out5:app" \
  --cache-from "docker://$REGISTRY/ci/app:1" "${AUTH[@]}" 2>"$W/err5" || fail "build with a foreign cache"
grep -q "warning: .*not a distill layer cache" "$W/err5" || fail "foreign cache not named: $(cat "$W/err5")"
[ "$(index_digest "$W/out5" app)" = "$want" ] || fail "a foreign cache changed the digest"
expect_fail "not a distill layer cache.*will not replace it" \
  "$DISTILL" build "$W/app/app.yaml" "${B[@]}" --cache-dir "$W/c5" -o "oci:$W/out5:app" \
  --cache-to "docker://$REGISTRY/ci/app:1" "${AUTH[@]}"
skopeo inspect --raw --tls-verify=false --creds alice:s3cret "docker://$REGISTRY/ci/app:1" |
  grep -q layer-cache && fail "--cache-to replaced an image"
rc=0
"$DISTILL" build "$W/app/app.yaml" "${B[@]}" --cache-dir "$W/c6" -o "oci:$W/out6:app" \
  --cache-to "oci:$W/cachedir" 2>"$W/err6" || rc=$?
[ "$rc" = 2 ] && grep -q "usage: --cache-to 'oci:.*docker://" "$W/err6" ||
  fail "--cache-to oci: not a usage error ($rc): $(cat "$W/err6")"
# A wrong password: --cache-from warns (naming the user, never the password)
# and builds; --cache-to fails, after the outputs are written.
"$DISTILL" build "$W/app/app.yaml" "${B[@]}" --cache-dir "$W/c7" -o "oci:$W/out7:app" \
  --cache-from "$R" --dest-creds alice:wrong 2>"$W/err7" || fail "--cache-from with a wrong password"
grep -q "warning: .*rejected the credentials for alice" "$W/err7" || fail "no credential warning: $(cat "$W/err7")"
grep -q wrong "$W/err7" && fail "the password is printed"
expect_fail "rejected the credentials for alice" \
  "$DISTILL" build "$W/app/app.yaml" "${B[@]}" --cache-dir "$W/c7" -o "oci:$W/out7:app" \
  --cache-to "$R" --dest-creds alice:wrong
[ "$(index_digest "$W/out7" app)" = "$want" ] || fail "the outputs of a refused export are missing"
echo PASS
