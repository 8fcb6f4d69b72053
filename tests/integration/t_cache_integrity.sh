#!/usr/bin/env bash
# t_cache_integrity: the cache shared by concurrent builds, and a cache that does
# not trust itself (issue 11, items 6 and 7).
#  - 8 cold builds at once on one cache, several rounds: every build succeeds
#    and all give the same digest (publishing a blob another build is
#    publishing must succeed);
#  - an output never shares an inode with the cache;
#  - a flipped byte in a cached layer: the next build rebuilds it, gives the
#    same digest, and an earlier output is untouched;
#  - a flipped byte in a cached .deb: the next build fetches it again;
#  - distill prune: entries unused for the limit go (never the release dates),
#    not while the cache is in use, and the build after it gives the same digest;
#  - SIGINT/SIGTERM at any moment of a cold build writing an archive leaves no
#    temporary file in the cache nor beside the archive (item 9).
# Exit 0 pass, 1 fail, 77 skipped.
. "$(dirname "$0")/lib/common.sh"
. "$SRC/tests/integration/lib/aptrepo.sh"
aptrepo_require_tools
aptrepo_init
W=$APTREPO_WORK

for i in 1 2 3 4 5 6; do
  make_deb "lib$i" 1.0 amd64 --file "/usr/lib/lib$i.so=$(head -c 20000 /dev/urandom | base64)" >/dev/null
done
make_deb app 1.0 amd64 --depends "lib1, lib2, lib3, lib4, lib5, lib6" \
  --file /usr/bin/app=$'#!/app\n' --file-mode /usr/bin/app=0755 >/dev/null
build_repo "$W/repo" bookworm
start_server "$W/repo"
cat >"$W/spec.yaml" <<YAML
name: cacheapp
sources:
  - url: $APTREPO_URL
    suites: [bookworm]
    components: [main]
    keyring: $W/repo/keyring.gpg
packages: [app]
entrypoint: ["/usr/bin/app"]
YAML

build() {  # build CACHE OUTPUT_LAYOUT [extra args]
  local cache=$1 out=$2
  shift 2
  "$DISTILL" build "$W/spec.yaml" --cache-dir "$cache" -j2 --progress none -o "oci:$out:v1" "$@"
}

# --- 8 parallel cold builds on one cache, 5 rounds (bounded: 300 s in all) ---------
deadline=$((SECONDS + 300))
ref=""
for round in 1 2 3 4 5; do
  rm -rf "$W/shared" "$W"/par-*
  pids=()
  for b in 1 2 3 4 5 6 7 8; do
    build "$W/shared" "$W/par-$b" 2>"$W/par-$b.err" &
    pids+=($!)
  done
  for b in 1 2 3 4 5 6 7 8; do
    wait "${pids[$((b - 1))]}" || fail "round $round, build $b: $(cat "$W/par-$b.err")"
  done
  for b in 1 2 3 4 5 6 7 8; do
    d=$(index_digest "$W/par-$b" v1) || fail "round $round, build $b: no ref"
    [ -z "$ref" ] && ref=$d
    [ "$d" = "$ref" ] || fail "round $round, build $b: digest $d, expected $ref"
  done
  leftovers=$(cache_leftovers "$W/shared")
  [ -z "$leftovers" ] || fail "round $round: temporaries left: $leftovers"
  [ "$SECONDS" -lt "$deadline" ] || fail "stress test over its time bound at round $round"
done

# --- outputs never share an inode with the cache -----------------------------------
build "$W/cache" "$W/out1" 2>"$W/err" || fail "build: $(cat "$W/err")"
[ "$(index_digest "$W/out1" v1)" = "$ref" ] || fail "out1 digest"
shared=$(find "$W/out1/blobs" -type f -links +1)
[ -z "$shared" ] || fail "output blobs with several links: $shared"
layers=$(layer_digests "$W/out1" v1)
for l in $layers; do
  cached="$W/cache/blobs/sha256/$l"
  [ -f "$cached" ] || fail "layer $l not in the cache"
  [ "$(stat -c %i "$cached")" != "$(stat -c %i "$W/out1/blobs/sha256/$l")" ] ||
    fail "layer $l shares its inode with the cache"
done

# --- a flipped byte in a cached layer -----------------------------------------------
flip() {  # flip FILE: one byte changed in place (same size, same inode)
  python3 - "$1" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(200)
    b = f.read(1)
    f.seek(200)
    f.write(bytes([b[0] ^ 0xFF]))
PY
}
out1_sums=$(cd "$W/out1/blobs/sha256" && sha256sum ./*)
for l in $layers; do flip "$W/cache/blobs/sha256/$l"; done
build "$W/cache" "$W/out2" 2>"$W/err" || fail "build after damaging layers: $(cat "$W/err")"
[ "$(index_digest "$W/out2" v1)" = "$ref" ] || fail "digest changed after damaging the layer cache"
for l in $layers; do
  [ "$(sha256sum <"$W/out2/blobs/sha256/$l" | cut -d' ' -f1)" = "$l" ] || fail "out2 blob $l corrupt"
  [ "$(sha256sum <"$W/cache/blobs/sha256/$l" | cut -d' ' -f1)" = "$l" ] || fail "cache blob $l not rebuilt"
done
[ "$(cd "$W/out1/blobs/sha256" && sha256sum ./*)" = "$out1_sums" ] || fail "an earlier output changed"

# --- a flipped byte in a cached .deb ---------------------------------------------------
deb_sha=$(sha256sum "$(find "$W/repo/pool" -name lib3_1.0_amd64.deb)" | cut -d' ' -f1)
[ -f "$W/cache/sha256/$deb_sha" ] || fail "lib3's .deb not in the cache"
flip "$W/cache/sha256/$deb_sha"
rm -rf "$W/cache/layers" "$W/cache/blobs"  # the layers must be made from the .debs again
build "$W/cache" "$W/out3" 2>"$W/err" || fail "build after damaging a .deb: $(cat "$W/err")"
[ "$(index_digest "$W/out3" v1)" = "$ref" ] || fail "digest changed after damaging a .deb"
[ "$(sha256sum <"$W/cache/sha256/$deb_sha" | cut -d' ' -f1)" = "$deb_sha" ] || fail ".deb not fetched again"
grep -q "lib3_1.0_amd64.deb" "$W/server/access.log" || fail "no request log"
[ "$(grep -c "lib3_1.0_amd64.deb" "$W/server/access.log")" -ge 2 ] || fail "the damaged .deb was not downloaded again"
# --- distill prune: what went unused goes, and a build after it is the same -----------
rm -rf "$W/pcache" "$W/pout"
build "$W/pcache" "$W/pout" || fail "prune: the first build"
before_prune=$(index_digest "$W/pout" v1) || fail "prune: no ref"
"$DISTILL" prune --cache-dir "$W/pcache" --json >"$W/prune0.json" || fail "prune of a fresh cache"
python3 - "$W/prune0.json" <<'PY' || fail "prune of a fresh cache removed something"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["removedFiles"] == 0 and r["keptFiles"] > 10, r
PY
# Everything 40 days unused, the release dates too (which are never removed).
find "$W/pcache" -type f -exec touch -a -m -d '40 days ago' {} +
"$DISTILL" prune --cache-dir "$W/pcache" --dry-run >"$W/prune-dry.txt" || fail "prune --dry-run"
grep -q '^would remove sha256/' "$W/prune-dry.txt" || fail "prune --dry-run named no .deb"
grep -q '^would remove layers/' "$W/prune-dry.txt" || fail "prune --dry-run named no layer"
[ -n "$(ls "$W/pcache/sha256")" ] || fail "prune --dry-run removed entries"
# While a process holds the cache (as a build does), prune refuses and waits for nothing.
flock -s -o "$W/pcache/lock" sleep 30 &
holder=$!
sleep 0.3
rc=0
err=$("$DISTILL" prune --cache-dir "$W/pcache" 2>&1 >/dev/null) || rc=$?
# The holder and its sleep, by their PIDs.
kill $(ps -o pid= --ppid "$holder") "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
[ "$rc" -eq 1 ] && grep -q "in use by another distill process" <<<"$err" ||
  fail "prune of a cache in use: exit $rc: $err"
"$DISTILL" prune --cache-dir "$W/pcache" >"$W/prune.txt" || fail "prune"
grep -q '^removed [1-9][0-9]* files' "$W/prune.txt" || fail "prune said: $(cat "$W/prune.txt")"
left=$(find "$W/pcache" -type f ! -path '*/release-dates/*' ! -name lock)
[ -z "$left" ] || fail "prune left: $left"
[ -n "$(ls "$W/pcache/release-dates")" ] || fail "prune removed the release dates"
rm -rf "$W/pout"
build "$W/pcache" "$W/pout" || fail "prune: the build after it"
[ "$(index_digest "$W/pout" v1)" = "$before_prune" ] || fail "prune: another digest after it"
# A directory that is not a cache is refused, and nothing made there.
mkdir -p "$W/notcache/refs"
rc=0
"$DISTILL" prune --cache-dir "$W/notcache" --all 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] && [ ! -e "$W/notcache/lock" ] && [ -d "$W/notcache/refs" ] ||
  fail "prune of a directory that is not a cache: exit $rc"
echo "t_cache_integrity: prune ok"

# --- interrupts at any moment leave no temporaries ---------------------------------------
for signal in INT TERM; do
  for delay in 0.1 0.3 0.6 1.0 1.5; do
    rm -rf "$W/icache" "$W"/iout*
    "$DISTILL" build "$W/spec.yaml" --cache-dir "$W/icache" -j2 --progress none \
      -o "oci-archive:$W/iout.tar:v1" 2>/dev/null &
    pid=$!
    sleep "$delay"
    kill -s "$signal" "$pid" 2>/dev/null || true
    rc=0
    wait "$pid" || rc=$?
    case "$rc" in
      0 | 130 | 143) ;;
      *) fail "SIG$signal after ${delay}s: exit $rc" ;;
    esac
    leftovers=$(cache_leftovers "$W/icache"; find "$W" -maxdepth 1 -name '.iout.tar.tmp.*')
    [ -z "$leftovers" ] || fail "SIG$signal after ${delay}s left: $leftovers"
  done
done
echo "PASS"
