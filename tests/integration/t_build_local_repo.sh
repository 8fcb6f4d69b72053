#!/usr/bin/env bash
# t_build_local_repo: `distill build` end to end against a signed apt repository
# served on 127.0.0.1 (no internet). Covers dependency resolution through the
# real pipeline, generated files, the CA bundle, status.d, every output format
# validated by oci-image-tool/skopeo/umoci, reproducibility (cold/warm cache,
# -j1/-j8, two cache dirs), lock/--frozen, and the failure modes of issue 2:
# tampered InRelease, Packages hash mismatch, .deb hash mismatch, ../ paths,
# 500-then-200 and truncated downloads. Exit 0 pass, 1 fail, 77 skipped.
. "$(dirname "$0")/lib/common.sh"
. "$SRC/tests/integration/lib/aptrepo.sh"
aptrepo_require_tools
need oci-image-tool skopeo umoci
aptrepo_init
W=$APTREPO_WORK

# --- the repository ---------------------------------------------------------
cert() { printf -- '-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n' "$1"; }
make_deb base-files 12.4 amd64 --file /etc/debian_version=$'12.4\n' >/dev/null
make_deb libfoo1 1.0-1 amd64 --file /usr/lib/libfoo.so.1=old >/dev/null
make_deb libfoo1 1.2-1 amd64 --file /usr/lib/libfoo.so.1=new --multi-arch same >/dev/null
make_deb provider 1.0 all --provides "virt-thing (= 2.0)" --file /usr/share/provider=p >/dev/null
make_deb shelly 1.0 amd64 --file /bin/sh=$'#!shell\n' --file-mode /bin/sh=0755 >/dev/null
make_deb app 2.0-1 amd64 --depends "libfoo1 (>= 1.1), virt-thing (>= 2), shelly | base-files" \
  --pre-depends "base-files" --file /usr/bin/app=$'#!/app\n' --file-mode /usr/bin/app=0755 \
  --symlink /usr/bin/app-link=app >/dev/null
make_deb ca-certificates 20230311 all --depends "openssl (>= 1.1.1), debconf (>= 0.5) | debconf-2.0" \
  --file "/usr/share/ca-certificates/mozilla/B.crt=$(cert BBBB)" \
  --file "/usr/share/ca-certificates/mozilla/A.crt=$(cert AAAA)" \
  --file /usr/sbin/update-ca-certificates=$'#!/bin/sh\n' >/dev/null
build_repo "$W/repo" bookworm --by-hash
start_server "$W/repo"

cat >"$W/app.txt" <<<'application data'
write_spec() {  # write_spec FILE URL [extra packages]
  cat >"$1" <<YAML
name: localapp
sources:
  - url: $2
    suites: [bookworm]
    components: [main]
    keyring: $W/repo/keyring.gpg
packages: [app, ca-certificates${3:+, $3}]
exclude: [openssl, debconf]
files:
  - {src: app.txt, dst: /app/data.txt}
  - {dst: /etc/app.conf, content: "port=8000\n"}
  - {dst: /var/lib/app, type: directory, mode: "0750", uid: 65532, gid: 65532}
entrypoint: ["/usr/bin/app"]
env: {TZ: UTC}
ports: ["8000/tcp"]
YAML
}
write_spec "$W/spec.yaml" "$APTREPO_URL"

# --- a build, every output --------------------------------------------------
"$DISTILL" build "$W/spec.yaml" --cache-dir "$W/cache1" -j8 --progress none --json \
  -o "oci:$W/layout:v1" -o "oci-archive:$W/img.oci.tar:v1" -o "docker-archive:$W/img.docker.tar:localapp:v1" \
  >"$W/build1.json" || fail "build failed"
d1=$(index_digest "$W/layout" v1) || fail "no ref v1 in index.json"
python3 - "$W/build1.json" "$d1" <<'PY' || fail "--json output"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["index_digest"] == sys.argv[2], (r["index_digest"], sys.argv[2])
names = sorted(p["name"] for p in r["packages"])
assert names == ["app", "base-files", "ca-certificates", "libfoo1", "provider"], names
assert [p["version"] for p in r["packages"] if p["name"] == "libfoo1"] == ["1.2-1"]
m = r["manifests"][0]
assert m["arch"] == "amd64" and len(m["layers"]) <= 16 and m["config_digest"].startswith("sha256:")
PY

oci-image-tool validate --type image --ref name=v1 "$W/layout" >/dev/null 2>"$W/oit.err" ||
  fail "oci-image-tool: $(cat "$W/oit.err")"
skopeo inspect "oci:$W/layout:v1" >"$W/skopeo.json" || fail "skopeo inspect oci"
skopeo inspect "oci-archive:$W/img.oci.tar:v1" >/dev/null || fail "skopeo inspect oci-archive"
skopeo inspect "docker-archive:$W/img.docker.tar" >/dev/null || fail "skopeo inspect docker-archive"
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); assert c["Architecture"]=="amd64"' "$W/skopeo.json" ||
  fail "skopeo architecture"
umoci unpack --image "$W/layout:v1" "$W/bundle" >/dev/null 2>&1 || fail "umoci unpack"
R=$W/bundle/rootfs

printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$W/passwd"
printf 'root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n' >"$W/group"
cmp -s "$R/etc/passwd" "$W/passwd" || fail "passwd differs: $(cat "$R/etc/passwd")"
cmp -s "$R/etc/group" "$W/group" || fail "group differs"
[ "$(stat -c %a "$R/tmp")" = 1777 ] || fail "/tmp mode $(stat -c %a "$R/tmp")"
[ "$(stat -c '%a %u:%g' "$R/home/nonroot")" = "700 65532:65532" ] || fail "/home/nonroot"
[ "$(stat -c '%a %u:%g' "$R/root")" = "700 0:0" ] || fail "/root"
[ "$(stat -c '%a %u:%g' "$R/var/lib/app")" = "750 65532:65532" ] || fail "/var/lib/app"
[ "$(cat "$R/usr/lib/libfoo.so.1")" = new ] || fail "highest libfoo1 not installed"
[ -L "$R/usr/bin/app-link" ] || fail "symlink from the .deb lost"
[ -e "$R/bin/sh" ] && fail "/bin/sh from an alternative that was not needed"
grep -q '^Package: app$' "$R/var/lib/dpkg/status.d/app" || fail "status.d/app"
grep -q 'usr/bin/app$' "$R/var/lib/dpkg/status.d/app.md5sums" || fail "status.d/app.md5sums"
[ -e "$R/var/lib/dpkg/status" ] && fail "/var/lib/dpkg/status must not exist"
[ "$(cat "$R/etc/ssl/certs/ca-certificates.crt")" = "$(cert AAAA; cert BBBB)" ] || fail "CA bundle"
[ -e "$R/usr/share/ca-certificates" ] && fail "loose certificates shipped"
[ -e "$R/usr/sbin/update-ca-certificates" ] && fail "update-ca-certificates shipped"
[ -e "$R/var/lib/dpkg/status.d/ca-certificates" ] || fail "status.d/ca-certificates"
grep -q '^ID="debian"' "$R/usr/lib/os-release" || fail "os-release"
[ "$(cat "$R/etc/app.conf")" = "port=8000" ] || fail "inline content"
[ "$(cat "$R/app/data.txt")" = "application data" ] || fail "file from src"
grep -q '"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"' "$W/bundle/config.json" || fail "SSL_CERT_FILE"
grep -q '"TZ=UTC"' "$W/bundle/config.json" || fail "env TZ"
[ "$(stat -c %Y "$R/etc/passwd")" = "$SOURCE_DATE_EPOCH" ] || fail "generated mtime should be SOURCE_DATE_EPOCH"

# --- reproducibility ----------------------------------------------------------
"$DISTILL" build "$W/spec.yaml" --cache-dir "$W/cache1" -j1 --progress none -o "oci:$W/layout:warm" ||
  fail "warm build"
"$DISTILL" build "$W/spec.yaml" --cache-dir "$W/cache2" -j1 --progress none -o "oci:$W/layout:cold-j1" ||
  fail "second cold build"
"$DISTILL" build "$W/spec.yaml" --cache-dir "$W/cache3" --compression zstd --progress none \
  -o "oci:$W/layout:zstd" || fail "zstd build"
for ref in warm cold-j1; do
  [ "$(index_digest "$W/layout" $ref)" = "$d1" ] || fail "$ref build digest differs from the first"
done
[ "$(index_digest "$W/layout" zstd)" != "$d1" ] || fail "zstd build has the gzip digest"
# oci-image-tool 1.0.0-rc1 and umoci 0.4.7 predate tar+zstd layers: check the
# zstd image with skopeo and by reading its layers with zstd + tar.
skopeo inspect "oci:$W/layout:zstd" >/dev/null || fail "skopeo inspect zstd"
found=""
for layer in $(layer_digests "$W/layout" zstd); do
  zstd -q -dc "$W/layout/blobs/sha256/$layer" >"$W/layer.tar" || fail "zstd layer $layer"
  if tar -xOf "$W/layer.tar" etc/passwd >"$W/zpasswd.try" 2>/dev/null; then
    found=1 && mv "$W/zpasswd.try" "$W/zpasswd"
  fi
done
[ -n "$found" ] && cmp -s "$W/zpasswd" "$W/passwd" || fail "zstd image: etc/passwd"
[ -z "$(cache_leftovers "$W/cache1")" ] || fail "cache leftovers: $(cache_leftovers "$W/cache1")"

# --- lock and --frozen ----------------------------------------------------------
"$DISTILL" lock "$W/spec.yaml" --cache-dir "$W/cache1" --progress none -o "$W/lock.json" || fail "lock"
grep -q '"libfoo1"' "$W/lock.json" || fail "lock lacks libfoo1"
"$DISTILL" build "$W/spec.yaml" --lock "$W/lock.json" --frozen --cache-dir "$W/cache4" --progress none \
  -o "oci:$W/layout:locked" || fail "build --lock --frozen"
[ "$(index_digest "$W/layout" locked)" = "$d1" ] || fail "locked build differs"
write_spec "$W/spec2.yaml" "$APTREPO_URL" provider
expect_fail 'lock' "$DISTILL" build "$W/spec2.yaml" --lock "$W/lock.json" --frozen --cache-dir "$W/cache4" --progress none -o "oci:$W/x:y"

# --- a rebuild right after a build does not ask the mirror ---------------------
# Release copies under 5 minutes old vouch for the cached resolution: with the
# server stopped, a rebuild still succeeds with the same digest; --refresh asks
# the mirror again and fails naming its InRelease.
stop_server
"$DISTILL" build "$W/spec.yaml" --cache-dir "$W/cache1" --progress none -o "oci:$W/layout:offline" ||
  fail "rebuild within the Release copies' age with the server stopped"
[ "$(index_digest "$W/layout" offline)" = "$d1" ] || fail "offline rebuild differs"
expect_fail 'InRelease' "$DISTILL" build "$W/spec.yaml" --cache-dir "$W/cache1" --refresh --progress none -o "oci:$W/x:y"

# --- transient server faults are retried ------------------------------------
# On the same port: the source URL is part of the spec, and so of the image's
# provenance (docs/formats/provenance.md).
port=$APTREPO_PORT
start_server "$W/repo" --port "$port" --fail500 'app_.*\.deb$:2' --truncate 'libfoo1_.*\.deb$:100:1'
write_spec "$W/spec.yaml" "$APTREPO_URL"
"$DISTILL" build "$W/spec.yaml" --cache-dir "$W/cache5" --progress none -o "oci:$W/layout:retry" ||
  fail "build with 500-then-200 and a truncated download"
[ "$(index_digest "$W/layout" retry)" = "$d1" ] || fail "retried build differs"
[ -z "$(cache_leftovers "$W/cache5")" ] || fail "leftovers after retries"

# --- hostile or broken repositories -------------------------------------------
broken_repo() {  # a copy of the repository to damage
  rm -rf "$W/bad" && cp -a "$W/repo" "$W/bad"
}
bad_build() {  # bad_build PATTERN: the build fails naming PATTERN and leaves no partial file
  rm -rf "$W/cacheX"
  write_spec "$W/bad.yaml" "$APTREPO_URL" "${2:-}"
  expect_fail "$1" "$DISTILL" build "$W/bad.yaml" --cache-dir "$W/cacheX" --progress none -o "oci:$W/badout:x"
  [ -z "$(cache_leftovers "$W/cacheX")" ] || fail "leftovers in the cache after /$1/"
  [ -e "$W/badout/index.json" ] && fail "an output was written by a failed build (/$1/)"
  return 0
}

broken_repo
sed -i 's/^Suite: bookworm$/Suite: bookwurm/' "$W/bad/dists/bookworm/InRelease"
start_server "$W/bad"
bad_build 'InRelease.*(signature|BAD|verif)'

broken_repo
pk="$W/bad/dists/bookworm/main/binary-amd64/Packages"
# Every compressed form is changed (distill takes .gz before .xz), by-hash too.
xz -dc "$pk.xz" | sed 's/^Version: 2.0-1$/Version: 2.0-2/' >"$pk.new"
xz -c "$pk.new" >"$pk.xz"
[ -e "$pk.gz" ] && gzip -nc "$pk.new" >"$pk.gz"
rm -f "$pk.new"
find "$W/bad/dists/bookworm/main/binary-amd64/by-hash" -type f -name '*' | while read -r f; do
  case $(head -c 2 "$f" | od -An -tx1 | tr -d ' ') in
    1f8b) cp "$pk.gz" "$f" ;;
    *) cp "$pk.xz" "$f" ;;
  esac
done
start_server "$W/bad"
bad_build 'Packages.*(sha256|hash|size)'

broken_repo
appdeb=$(find "$W/bad/pool" -name 'app_2.0-1_amd64.deb')
printf 'garbage' >>"$appdeb"
start_server "$W/bad"
bad_build 'app.*(sha256|size)'

escape=$(make_escape_deb evil 1.0 amd64)
build_repo "$W/evilrepo" bookworm
start_server "$W/evilrepo"
bad_build 'evil.*\.\.' evil

# --- a changed archive is a new resolution --------------------------------------
# Cached resolutions are keyed on the Release files' bytes: once the archive
# publishes a newer libfoo1, a build that fetches the Release files again
# installs it, although the old resolution is still in the cache.
# The server serves the directory as it is, so the URL stays the same.
start_server "$W/repo"
write_spec "$W/spec.yaml" "$APTREPO_URL"
"$DISTILL" build "$W/spec.yaml" --cache-dir "$W/cache6" --progress none -o "oci:$W/layout:before" ||
  fail "build before the archive changed"
make_deb libfoo1 1.3-1 amd64 --file /usr/lib/libfoo.so.1=newer --multi-arch same >/dev/null
build_repo "$W/repo" bookworm --by-hash
"$DISTILL" lock "$W/spec.yaml" --cache-dir "$W/cache6" --refresh --progress none -o "$W/lock2.json" ||
  fail "lock after the archive changed"
grep -q '"1.3-1"' "$W/lock2.json" || fail "lock kept the resolution of an older Release file"
"$DISTILL" build "$W/spec.yaml" --cache-dir "$W/cache6" --refresh --progress none --json \
  -o "oci:$W/layout:updated" >"$W/updated.json" || fail "build after the archive changed"
python3 - "$W/updated.json" <<'PY' || fail "the cached resolution outlived its Release file"
import json, sys
r = json.load(open(sys.argv[1]))
v = [p["version"] for p in r["packages"] if p["name"] == "libfoo1"]
assert v == ["1.3-1"], v
PY
echo "t_build_local_repo: ok"
