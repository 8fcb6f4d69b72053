#!/usr/bin/env bash
# t_registry_copy: `distill copy` in all 16 transport pairs (oci:, oci-archive:,
# docker-archive:, docker://) against a real docker-registry with htpasswd auth
# on 127.0.0.1, with skopeo as the reference client: every pair is done by both,
# and the results must have the same digest (the manifest's; the config's when
# a docker-archive is the destination, since skopeo stores its layers
# uncompressed there; the config's content when one is the source, since skopeo
# re-serialises a Docker config it converts to OCI). The registry credentials are given each supported way in turn:
# --src-creds/--dest-creds, --authfile, $REGISTRY_AUTH_FILE,
# $XDG_RUNTIME_DIR/containers/auth.json, $DOCKER_CONFIG/config.json and a
# credHelpers entry served by a docker-credential-NAME program. Also: a wrong
# password and no credentials give one clear line; no internal name leaks into
# a written index; a docker-archive without NAME:TAG keeps the source's name;
# a layer altered in the source layout is refused as it is pushed, leaving no
# tag; inspect reads a registry image with --creds; SIGTERM stops a copy to or
# from a registry that stalls, as it stops a build.
# Exit 0 pass, 1 fail, 77 skipped.
. "$(dirname "$0")/lib/common.sh"
. "$SRC/tests/integration/lib/registry.sh"
need docker-registry skopeo htpasswd curl python3 sha256sum

W=$(mktemp -d)
stall_pid=
trap 'registry_stop; [ -z "$stall_pid" ] || kill "$stall_pid" 2>/dev/null; rm -rf "$W"' EXIT
# Nothing of the user's: no credentials, no cache.
export HOME=$W/home XDG_CACHE_HOME=$W/cache
unset REGISTRY_AUTH_FILE XDG_RUNTIME_DIR XDG_CONFIG_HOME DOCKER_CONFIG
mkdir -p "$HOME"

registry_start "$W/registry" alice s3cret
R=$REGISTRY
CREDS=alice:s3cret
AUTH=$(printf %s "$CREDS" | base64)

# The credential files, one per way.
printf '{"auths":{"%s":{"auth":"%s"}}}' "$R" "$AUTH" >"$W/auth.json"
mkdir -p "$W/run/containers" "$W/dockercfg" "$W/helpercfg" "$W/bin"
cp "$W/auth.json" "$W/run/containers/auth.json"
cp "$W/auth.json" "$W/dockercfg/config.json"
printf '{"credHelpers":{"%s":"distilltest"}}' "$R" >"$W/helpercfg/config.json"
cat >"$W/bin/docker-credential-distilltest" <<SH
#!/bin/sh
[ "\$1" = get ] || exit 1
read server
echo "\$server" >>"$W/helper.log"
printf '{"ServerURL":"%s","Username":"alice","Secret":"s3cret"}' "\$server"
SH
chmod +x "$W/bin/docker-credential-distilltest"

# --- the seed, in every transport, made by skopeo ---------------------------------
seed_layout "$W/seed" v1
skopeo copy -q "oci:$W/seed:v1" "oci-archive:$W/seed.tar:v1" || fail "skopeo: oci-archive seed"
skopeo copy -q "oci:$W/seed:v1" "docker-archive:$W/seed-docker.tar:seed/img:v1" ||
  fail "skopeo: docker-archive seed"
skopeo copy -q --dest-tls-verify=false --dest-creds "$CREDS" "oci:$W/seed:v1" "docker://$R/seed:v1" ||
  fail "skopeo: registry seed"

declare -A SOURCE=(
  [oci]="oci:$W/seed:v1"
  [ocia]="oci-archive:$W/seed.tar:v1"
  [da]="docker-archive:$W/seed-docker.tar"
  [reg]="docker://$R/seed:v1"
)
# dest WHO KIND PAIR: where WHO (distill|skopeo) writes pair PAIR.
dest() {
  case $2 in
    oci) echo "oci:$W/out/$1-$3:v1" ;;
    ocia) echo "oci-archive:$W/out/$1-$3.tar:v1" ;;
    da) echo "docker-archive:$W/out/$1-$3-docker.tar" ;;
    reg) echo "docker://$R/$1-$3:v1" ;;
  esac
}
mkdir -p "$W/out"

# digest_key REF MODE: sha256 of the manifest (MODE=manifest) or of the config
# (MODE=config), as skopeo reads them.
# MODE=content: of the config's platform, entrypoint and layer diff_ids, parsed.
digest_key() {
  local args=(--raw)
  [ "$2" != manifest ] && args+=(--config)
  if [ "$2" = content ]; then
    skopeo inspect "${args[@]}" --tls-verify=false --creds "$CREDS" "$1" | python3 -c '
import json, sys
c = json.load(sys.stdin)
print(json.dumps([c["architecture"], c["os"], c["config"], c["rootfs"]], sort_keys=True))' |
      sha256sum | cut -d' ' -f1
    return
  fi
  skopeo inspect "${args[@]}" --tls-verify=false --creds "$CREDS" "$1" | sha256sum | cut -d' ' -f1
}

# Runs distill copy SRC DST with the credentials given way number $WAY (for the
# registry ends of the pair).
run_copy() {
  local src=$1 dst=$2 way=$3
  local args=(copy "$src" "$dst" --tls-verify=false --progress none)
  local env_args=()
  case $way in
    flags)
      [[ $src == docker://* ]] && args+=(--src-creds "$CREDS")
      [[ $dst == docker://* ]] && args+=(--dest-creds "$CREDS")
      ;;
    authfile) args+=(--authfile "$W/auth.json") ;;
    registry_auth_file) env_args+=("REGISTRY_AUTH_FILE=$W/auth.json") ;;
    xdg) env_args+=("XDG_RUNTIME_DIR=$W/run") ;;
    docker_config) env_args+=("DOCKER_CONFIG=$W/dockercfg") ;;
    helper) env_args+=("DOCKER_CONFIG=$W/helpercfg" "PATH=$W/bin:$PATH") ;;
    none) ;;
  esac
  env "${env_args[@]}" "$DISTILL" "${args[@]}"
}

WAYS=(flags authfile registry_auth_file xdg docker_config helper)
n=0
pairs=0
for s in oci ocia da reg; do
  for d in oci ocia da reg; do
    pair=$s-$d
    src=${SOURCE[$s]}
    mine=$(dest distill "$d" "$pair")
    theirs=$(dest skopeo "$d" "$pair")
    way=none
    if [ "$s" = reg ] || [ "$d" = reg ]; then
      way=${WAYS[$((n % ${#WAYS[@]}))]}
      n=$((n + 1))
    fi
    err=$(run_copy "$src" "$mine" "$way" 2>&1) || fail "distill copy $src $mine ($way): $err"
    skopeo copy -q --src-tls-verify=false --dest-tls-verify=false --src-creds "$CREDS" \
      --dest-creds "$CREDS" "$src" "$theirs" || fail "skopeo copy $src $theirs"
    mode=manifest
    if [ "$d" = da ]; then mode=config; fi
    if [ "$s" = da ]; then mode=content; fi
    a=$(digest_key "$mine" $mode) || fail "skopeo cannot read distill's $mine"
    b=$(digest_key "$theirs" $mode) || fail "skopeo cannot read its own $theirs"
    [ "$a" = "$b" ] || fail "$pair ($way): $mode digest $a, skopeo's $b"
    echo "ok $pair ($way): $mode sha256:$a"
    pairs=$((pairs + 1))
  done
done
[ "$pairs" -eq 16 ] || fail "ran $pairs pairs, want 16"
[ -s "$W/helper.log" ] && grep -qx "$R" "$W/helper.log" || fail "the credential helper was not asked for $R"

# The manifest digest of the registry seed is what every manifest-keeping copy has.
seed=$(digest_key "docker://$R/seed:v1" manifest)
[ "$(digest_key "$(dest distill reg oci-reg)" manifest)" = "$seed" ] || fail "oci -> registry changed the digest"
[ "$(digest_key "$(dest distill oci reg-oci)" manifest)" = "$seed" ] || fail "registry -> oci changed the digest"

# No internal name in a written index: only the requested ref.
python3 - "$W/out/distill-reg-oci/index.json" <<'PY' || fail "registry -> oci index.json"
import json, sys
index = json.load(open(sys.argv[1]))
names = [m.get("annotations", {}).get("org.opencontainers.image.ref.name") for m in index["manifests"]]
assert names == ["v1"], names
assert index["manifests"][0]["mediaType"] == "application/vnd.oci.image.manifest.v1+json", index
PY

# docker-archive without NAME:TAG: the source's name, or none; never image:latest.
repo_tags() {
  tar -xOf "$1" manifest.json | python3 -c 'import json,sys; print(",".join(json.load(sys.stdin)[0].get("RepoTags") or []))'
}
[ "$(repo_tags "$W/out/distill-reg-da-docker.tar")" = "$R/seed:v1" ] ||
  fail "registry -> docker-archive RepoTags: $(repo_tags "$W/out/distill-reg-da-docker.tar")"
# (skopeo wrote the seed's name as docker.io/seed/img:v1)
[ "$(repo_tags "$W/out/distill-da-da-docker.tar")" = "docker.io/seed/img:v1" ] ||
  fail "docker-archive -> docker-archive RepoTags: $(repo_tags "$W/out/distill-da-da-docker.tar")"
[ -z "$(repo_tags "$W/out/distill-oci-da-docker.tar")" ] ||
  fail "oci -> docker-archive invented RepoTags: $(repo_tags "$W/out/distill-oci-da-docker.tar")"
# An explicit NAME:TAG still wins.
"$DISTILL" copy "docker://$R/seed:v1" "docker-archive:$W/out/named.tar:my/app:2" --src-creds "$CREDS" \
  --progress none || fail "copy to a named docker-archive"
[ "$(repo_tags "$W/out/named.tar")" = "my/app:2" ] || fail "named docker-archive: $(repo_tags "$W/out/named.tar")"

# --- refused and missing credentials: one line, the user and registry, no password ----
err=$("$DISTILL" copy "docker://$R/seed:v1" "oci:$W/out/x:v1" --src-creds alice:wr0ngpass --progress none 2>&1 >/dev/null) && fail "a wrong password was accepted"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "wrong password: want one line, got: $err"
grep -q "registry $R rejected the credentials for alice (from --src-creds)" <<<"$err" || fail "wrong password: $err"
! grep -q "wr0ngpass\|errors\|HTTP 401" <<<"$err" || fail "wrong password message leaks: $err"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$R" "$(printf alice:bad | base64)" >"$W/bad-auth.json"
err=$(REGISTRY_AUTH_FILE=$W/bad-auth.json "$DISTILL" copy "oci:$W/seed:v1" "docker://$R/x:v1" --progress none 2>&1 >/dev/null) &&
  fail "a wrong password from REGISTRY_AUTH_FILE was accepted"
grep -q "rejected the credentials for alice (from $W/bad-auth.json)" <<<"$err" || fail "wrong auth file: $err"
err=$("$DISTILL" copy "docker://$R/seed:v1" "oci:$W/out/y:v1" --progress none 2>&1 >/dev/null) && fail "no credentials were accepted"
grep -q "registry $R needs credentials and none were found" <<<"$err" || fail "no credentials: $err"
[ ! -e "$W/out/x" ] && [ ! -e "$W/out/y" ] || fail "a refused copy wrote an output"
rc=0
"$DISTILL" copy "docker://$R/seed:v1" "oci:$W/out/z:v1" --src-creds nocolon >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "--src-creds without a colon: exit $rc, want 2"

# --- a layer altered in the layout (same size) is never pushed, and no tag points at it ---
# Into a registry, the layers are hashed as they are uploaded, not before.
cp -r "$W/seed" "$W/altered"
layer=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/index.json"))["manifests"][0]["digest"].split(":")[1]
print(json.load(open(sys.argv[1]+"/blobs/sha256/"+m))["layers"][0]["digest"].split(":")[1])' "$W/altered")
printf 'X' | dd of="$W/altered/blobs/sha256/$layer" bs=1 seek=100 conv=notrunc status=none
expect_fail "blobs/sha256/$layer: content has digest" \
  "$DISTILL" copy "oci:$W/altered:v1" "docker://$R/altered:v1" --dest-creds "$CREDS" --progress none
code=$(curl -s -o /dev/null -w '%{http_code}' -u "$CREDS" "http://$R/v2/altered/manifests/v1")
[ "$code" = 404 ] || fail "a push of an altered layer left the tag (HTTP $code)"
code=$(curl -s -o /dev/null -w '%{http_code}' -u "$CREDS" -I "http://$R/v2/altered/blobs/sha256:$layer")
[ "$code" = 404 ] || fail "the registry holds the altered layer under its digest (HTTP $code)"

# --- SIGTERM during a copy (as Ctrl-C; a script's background job ignores SIGINT):
# the transfer under way ends at once, nothing is written, `distill: interrupted`
# and exit 128+15, as a build (copy used to die by the signal without a word) ---
mkdir -p "$W/stall"
python3 "$SRC/tests/integration/lib/http_server.py" --root "$W/stall" --delay '^/v2/:60:1000' \
  --port-file "$W/stall.port" --pid-file "$W/stall.pid" --log "$W/stall.log" &
stall_pid=$!
for _ in $(seq 100); do
  [ -s "$W/stall.port" ] && break
  sleep 0.05
done
[ -s "$W/stall.port" ] || fail "the stalling server did not start"
STALL=127.0.0.1:$(cat "$W/stall.port")
# interrupted_copy SRC DST: SIGTERM 1.5 s into `distill copy SRC DST`.
interrupted_copy() {
  local pid rc=0 stopped
  "$DISTILL" copy "$1" "$2" --progress none 2>"$W/copy-int.err" &
  pid=$!
  sleep 1.5
  kill -TERM "$pid"
  stopped=$SECONDS
  wait "$pid" || rc=$?
  [ "$rc" -eq 143 ] || fail "copy $1 $2 stopped by SIGTERM: exit $rc, want 143: $(cat "$W/copy-int.err")"
  [ $((SECONDS - stopped)) -le 5 ] || fail "copy $1 $2 took $((SECONDS - stopped)) s to stop"
  grep -qx "distill: interrupted" "$W/copy-int.err" ||
    fail "copy $1 $2: no 'interrupted': $(cat "$W/copy-int.err")"
}
mkdir -p "$W/int"
interrupted_copy "oci:$W/seed:v1" "docker://$STALL/app:1"
interrupted_copy "docker://$STALL/app:1" "oci:$W/int/pulled:1"
interrupted_copy "docker://$STALL/app:1" "oci-archive:$W/int/pulled.tar:1"
kill "$stall_pid" 2>/dev/null || true
wait "$stall_pid" 2>/dev/null || true
stall_pid=
[ -z "$(ls -A "$W/int")" ] || fail "an interrupted copy left: $(ls -A "$W/int")"
[ -z "$(cache_leftovers "$XDG_CACHE_HOME/distill")" ] ||
  fail "an interrupted copy left in the cache: $(cache_leftovers "$XDG_CACHE_HOME/distill")"
! grep -q "PUT\|POST\|PATCH" "$W/stall.log" 2>/dev/null ||
  fail "an interrupted push sent: $(grep "PUT\|POST\|PATCH" "$W/stall.log")"

# --- the other readers take the same flags and files --------------------------------
"$DISTILL" inspect "docker://$R/seed:v1" --creds "$CREDS" --json >"$W/inspect.json" ||
  fail "inspect docker:// --creds"
REGISTRY_AUTH_FILE=$W/auth.json "$DISTILL" inspect "docker://$R/seed:v1" >/dev/null ||
  fail "inspect docker:// with REGISTRY_AUTH_FILE"

# --- containers-auth.json(5): the most specific key; $XDG_CONFIG_HOME, ~/.config ----
# What `podman login $R/seed` writes, beside a wrong password for the whole host.
mkdir -p "$W/xdgconfig/containers" "$HOME/.config/containers"
printf '{"auths":{"%s":{"auth":"%s"},"%s/seed":{"auth":"%s"}}}' "$R" "$(printf alice:bad | base64)" \
  "$R" "$AUTH" >"$W/xdgconfig/containers/auth.json"
XDG_CONFIG_HOME=$W/xdgconfig "$DISTILL" inspect "docker://$R/seed:v1" >/dev/null ||
  fail "inspect with the repository's key in \$XDG_CONFIG_HOME/containers/auth.json"
err=$(XDG_CONFIG_HOME=$W/xdgconfig "$DISTILL" inspect "docker://$R/altered:v1" 2>&1 >/dev/null) &&
  fail "another repository took the repository's key"
grep -q "rejected the credentials for alice (from $W/xdgconfig/containers/auth.json)" <<<"$err" ||
  fail "host key after a repository key: $err"
cp "$W/auth.json" "$HOME/.config/containers/auth.json"
"$DISTILL" inspect "docker://$R/seed:v1" >/dev/null || fail "inspect with ~/.config/containers/auth.json"
rm "$HOME/.config/containers/auth.json"

echo "PASS: t_registry_copy"
