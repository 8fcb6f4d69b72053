#!/usr/bin/env bash
# t_registry_faults: pushes through a fault-injecting proxy (lib/fault_proxy.py)
# in front of a real docker-registry on 127.0.0.1. Blob uploads that are reset
# midway, whose reply is lost after the registry stored the blob, or that are
# answered 500 or 429 + Retry-After are started again and the push succeeds
# with the digest skopeo reads back; a push whose uploads keep failing exits 1
# with one line naming the blob and leaves no tag behind. A repeat push
# uploads no blob byte.
# Exit 0 pass, 1 fail, 77 skipped.
. "$(dirname "$0")/lib/common.sh"
. "$SRC/tests/integration/lib/registry.sh"
need docker-registry skopeo curl python3

W=$(mktemp -d)
PROXY_PID=
stop_proxy() {
  if [ -n "$PROXY_PID" ]; then
    kill "$PROXY_PID" 2>/dev/null || true
    wait "$PROXY_PID" 2>/dev/null || true
    PROXY_PID=
  fi
}
trap 'stop_proxy; registry_stop; rm -rf "$W"' EXIT
export HOME=$W/home XDG_CACHE_HOME=$W/cache
unset REGISTRY_AUTH_FILE XDG_RUNTIME_DIR DOCKER_CONFIG
mkdir -p "$HOME"

registry_start "$W/registry"
seed_layout "$W/seed" v1
want=$(skopeo inspect --raw "oci:$W/seed:v1" | sha256sum | cut -d' ' -f1)

# start_proxy FAULTS: sets P (host:port of the proxy).
start_proxy() {
  stop_proxy
  rm -f "$W/proxy.port" "$W/proxy.pid"
  python3 "$SRC/tests/integration/lib/fault_proxy.py" --upstream "$REGISTRY" --faults "$1" \
    --port-file "$W/proxy.port" --pid-file "$W/proxy.pid" --log "$W/proxy.log" &
  PROXY_PID=$!
  local _
  for _ in $(seq 100); do
    [ -s "$W/proxy.port" ] && break
    sleep 0.05
  done
  [ -s "$W/proxy.port" ] || fail "the fault proxy did not start"
  P=127.0.0.1:$(cat "$W/proxy.port")
}

# Each fault alone, then all four in a row on one push.
for faults in reset lost 500 429 reset,lost,500,429; do
  repo=f-${faults//,/-}
  start_proxy "$faults"
  : >"$W/proxy.log"
  out=$("$DISTILL" copy "oci:$W/seed:v1" "docker://$P/$repo:v1" --progress plain 2>&1) ||
    fail "push through faults $faults: $out"
  got=$(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/$repo:v1" | sha256sum | cut -d' ' -f1)
  [ "$got" = "$want" ] || fail "faults $faults: the tag names sha256:$got, want sha256:$want"
  # Every blob is whole: skopeo copies the image back and verifies each digest.
  skopeo copy -q --src-tls-verify=false "docker://$REGISTRY/$repo:v1" "oci:$W/back-$repo:v1" ||
    fail "faults $faults: skopeo cannot pull what was pushed"
  grep -q "uploads restarted" <<<"$out" || fail "faults $faults: no restart reported: $out"
  echo "ok faults=$faults: $(grep -o 'pushed .*' <<<"$out")"
done

# Uploads that never get through: exit 1, one line, no tag, no manifest.
start_proxy 'reset*'
rc=0
err=$("$DISTILL" copy "oci:$W/seed:v1" "docker://$P/broken:v1" --progress none 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 1 ] || fail "a push that cannot upload: exit $rc, want 1: $err"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "a failed push: want one line, got: $err"
grep -Eq "distill: error: .*blob sha256:[0-9a-f]{64}.*upload attempts" <<<"$err" || fail "failed push message: $err"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$REGISTRY/v2/broken/manifests/v1")
[ "$code" = 404 ] || fail "a failed push left tag broken:v1 (HTTP $code)"

# A repeat push uploads nothing.
start_proxy ok
"$DISTILL" copy "oci:$W/seed:v1" "docker://$P/again:v1" --progress none || fail "first push"
: >"$W/proxy.log"
out=$("$DISTILL" copy "oci:$W/seed:v1" "docker://$P/again:v1" --progress plain 2>&1) || fail "repeat push: $out"
grep -q "0 blobs, 0 bytes uploaded, 3 already there" <<<"$out" || fail "repeat push: $out"
! grep -q "/blobs/uploads/" "$W/proxy.log" || fail "repeat push opened uploads: $(cat "$W/proxy.log")"

echo "PASS: t_registry_faults"
