#!/usr/bin/env bash
# t_outdated: `distill outdated` against the project's own signed repository on
# 127.0.0.1 (issue 14). An application image (a `files:` layer and a package
# on the static flavor) is built; then a newer `hello` is published in the
# -security suite, its changelog naming CVE-2026-12345 with urgency=high:
# outdated lists exactly that package with both versions, the CVE and the
# urgency, and --exit-code exits 1; once rebuilt with --refresh, nothing is
# outdated and --exit-code exits 0. The lock and the spec with its lock give
# the same answer. A warm run answers in under 0.5 s. A Release signed by an
# unknown key, or an older Release replayed, is refused by outdated as by
# build. Exit 0 pass, 1 fail, 77 skipped.
. "$(dirname "$0")/lib/common.sh"
. "$SRC/tests/integration/lib/aptrepo.sh"
aptrepo_require_tools
aptrepo_init
W=$APTREPO_WORK
C=$W/cache

# --- the repository: the static flavor's packages and hello, two suites ------------------
cert() { printf -- '-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n' "$1"; }
make_deb base-files 12.4 amd64 --file /etc/debian_version=$'12.4\n' >/dev/null
make_deb netbase 6.4 all --file /etc/services=$'ssh 22/tcp\n' >/dev/null
make_deb tzdata 2024a-0+deb12u1 all --file /usr/share/zoneinfo/UTC=TZif >/dev/null
make_deb media-types 10.0.0 all --file /etc/mime.types=$'text/plain txt\n' >/dev/null
make_deb ca-certificates 20230311 all --file "/usr/share/ca-certificates/mozilla/A.crt=$(cert AAAA)" >/dev/null

changelog_entry() {  # VERSION DIST URGENCY CHANGE
  printf 'hello (%s) %s; urgency=%s\n\n  * %s\n\n -- Maintainer <m@distill.invalid>  Sat, 01 Aug 2026 00:00:00 +0000\n\n' \
    "$1" "$2" "$3" "$4"
}
hello_deb() {  # VERSION CHANGELOG-TEXT
  local tree="$W/hello-$1"
  mkdir -p "$tree/usr/share/doc/hello"
  printf '%s' "$2" | gzip -9n >"$tree/usr/share/doc/hello/changelog.Debian.gz"
  make_deb hello "$1" amd64 --data-tar-from "$tree" \
    --file /usr/bin/hello=$'#!/hello '"$1"$'\n' --file-mode /usr/bin/hello=0755 >/dev/null
}
old_changes=$(changelog_entry 1.0-1 bookworm medium "Initial release.")
hello_deb 1.0-1 "$old_changes"
build_repo "$W/repo" bookworm
build_repo "$W/repo" bookworm-security
cp -a "$W/repo/dists/bookworm-security" "$W/security.old"
start_server "$W/repo"

# The flavor takes the host's sources: an apt root naming the local repository.
mkdir -p "$W/root/etc/apt/sources.list.d"
make_sources "$W/root/etc/apt/sources.list.d/local.sources" "bookworm bookworm-security"
export DISTILL_APT_ROOT=$W/root

echo 'application data' >"$W/app.txt"
cat >"$W/app.yaml" <<YAML
name: app
from: static
packages: [hello]
files:
  - {src: app.txt, dst: /app/data.txt}
entrypoint: ["/usr/bin/hello"]
YAML

"$DISTILL" build "$W/app.yaml" --cache-dir "$C" --progress none -o "oci:$W/img:v1" \
  2>"$W/build1.err" || fail "build: $(cat "$W/build1.err")"
"$DISTILL" lock "$W/app.yaml" --cache-dir "$C" --progress none -o "$W/app.lock" \
  2>"$W/lock.err" || fail "lock: $(cat "$W/lock.err")"

outdated() {  # outdated ARGS...: stdout to $W/out, stderr to $W/err, sets rc
  rc=0
  "$DISTILL" outdated "$@" --cache-dir "$C" --progress none >"$W/out" 2>"$W/err" || rc=$?
}

outdated "oci:$W/img:v1" --exit-code
[ "$rc" -eq 0 ] || fail "fresh image: exit $rc: $(cat "$W/err") $(cat "$W/out")"
grep -q "all 6 packages are up to date" "$W/out" || fail "fresh image: $(cat "$W/out")"
grep -q "the host's apt sources for bookworm" "$W/out" || fail "sources not named: $(cat "$W/out")"
grep -q "$APTREPO_URL bookworm bookworm-security (main)" "$W/out" || fail "sources: $(cat "$W/out")"

# --- a security update --------------------------------------------------------------------
APTREPO_DEBS=$W/debs2
hello_deb 1.0-2 "$(changelog_entry 1.0-2 bookworm-security high \
  "Fix a buffer overflow in the greeting (CVE-2026-12345).")
$old_changes"
SOURCE_DATE_EPOCH=$((SOURCE_DATE_EPOCH + 3600)) build_repo "$W/repo" bookworm-security --debs "$W/debs2"

# Within 5 minutes the Release copy of the build stands for the mirror...
outdated "oci:$W/img:v1" --exit-code
[ "$rc" -eq 0 ] || fail "a Release copy under 5 minutes old was not taken as current: $(cat "$W/out")"
# ... and --refresh asks the mirror.
outdated "oci:$W/img:v1" --refresh --exit-code
[ "$rc" -eq 1 ] || fail "outdated --exit-code: exit $rc: $(cat "$W/err") $(cat "$W/out")"
cat "$W/out"
[ "$(grep -c '^hello ' "$W/out")" -eq 1 ] || fail "hello not listed once: $(cat "$W/out")"
grep -Eq '^hello +1\.0-1 +1\.0-2 +security \(bookworm-security\) +high +CVE-2026-12345$' "$W/out" ||
  fail "the row: $(cat "$W/out")"
grep -q "1 of 6 packages outdated" "$W/out" || fail "summary: $(cat "$W/out")"

outdated "oci:$W/img:v1" --json
[ "$rc" -eq 0 ] || fail "--json without --exit-code: exit $rc"
python3 - "$W/out" <<'PY' || fail "--json: $(cat "$W/out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["subject_kind"] == "image" and r["archs"] == ["amd64"] and r["checked"] == 6, r
[p] = r["outdated"]
assert (p["name"], p["installed"], p["candidate"]) == ("hello", "1.0-1", "1.0-2"), p
assert (p["suite"], p["kind"], p["urgency"]) == ("bookworm-security", "security", "high"), p
assert p["cves"] == ["CVE-2026-12345"], p
assert [c["version"] for c in p["changes"]] == ["1.0-2"], p
assert r["not_in_sources"] == [], r
PY

# The lock and the spec pinned by it say the same; a spec alone is a usage error.
outdated "$W/app.lock" --exit-code
[ "$rc" -eq 1 ] || fail "lock: exit $rc: $(cat "$W/err")"
grep -Eq '^hello +1\.0-1 +1\.0-2 .*high +CVE-2026-12345$' "$W/out" || fail "lock: $(cat "$W/out")"
outdated "$W/app.yaml" --lock "$W/app.lock" --exit-code
[ "$rc" -eq 1 ] || fail "spec --lock: exit $rc: $(cat "$W/err")"
grep -Eq '^hello +1\.0-1 +1\.0-2 .*high +CVE-2026-12345$' "$W/out" || fail "spec: $(cat "$W/out")"
outdated "$W/app.yaml"
[ "$rc" -eq 2 ] && grep -q "distill: error: usage: .*--lock" "$W/err" || fail "spec alone: $rc $(cat "$W/err")"

# --- warm: the Release copy is current, candidates and changelog are cached ------------------
before=$(server_stats)
start=$(date +%s%N)
outdated "oci:$W/img:v1" --exit-code
ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" -eq 1 ] || fail "warm: exit $rc"
[ "$(server_stats)" = "$before" ] || fail "a warm outdated made requests: $before -> $(server_stats)"
echo "warm outdated: ${ms} ms"
[ "$ms" -lt 500 ] || fail "warm outdated took ${ms} ms"

# --- updated: a rebuild with --refresh is up to date ---------------------------------------
"$DISTILL" build "$W/app.yaml" --cache-dir "$C" --refresh --progress none -o "oci:$W/img:v2" \
  2>"$W/build2.err" || fail "rebuild: $(cat "$W/build2.err")"
outdated "oci:$W/img:v2" --exit-code
[ "$rc" -eq 0 ] || fail "updated image: exit $rc: $(cat "$W/err") $(cat "$W/out")"
grep -q "all 6 packages are up to date" "$W/out" || fail "updated image: $(cat "$W/out")"
outdated "oci:$W/img:v2" --exit-code --json
[ "$rc" -eq 0 ] && python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["outdated"] == []' "$W/out" ||
  fail "updated image --json: $(cat "$W/out")"

# --- a Release signed by a key the sources do not trust ------------------------------------
cp -a "$W/repo/dists/bookworm-security" "$W/security.new"
mkdir -m 700 "$W/stranger"
GNUPGHOME=$W/stranger gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
  --quick-generate-key "stranger <stranger@distill.invalid>" ed25519 sign never 2>/dev/null
rm -f "$W/repo/dists/bookworm-security/InRelease"
GNUPGHOME=$W/stranger gpg --batch --quiet --yes --pinentry-mode loopback --passphrase '' \
  --digest-algo SHA256 --clearsign --output "$W/repo/dists/bookworm-security/InRelease" \
  "$W/repo/dists/bookworm-security/Release"
outdated "oci:$W/img:v1" --refresh --exit-code
[ "$rc" -eq 2 ] || fail "unknown key: exit $rc: $(cat "$W/out")"
grep -Eq "distill: error: .*bookworm-security/InRelease: signed by a key that is not in the keyring" "$W/err" ||
  fail "unknown key: $(cat "$W/err")"
[ "$(wc -l <"$W/err")" -eq 1 ] || fail "unknown key: more than one line: $(cat "$W/err")"
expect_fail "bookworm-security/InRelease: signed by a key that is not in the keyring" \
  "$DISTILL" build "$W/app.yaml" --cache-dir "$C" --refresh --progress none -o "oci:$W/img:bad"
GNUPGHOME=$W/stranger gpgconf --kill all >/dev/null 2>&1 || true

# --- an older Release replayed ---------------------------------------------------------------
rm -rf "$W/repo/dists/bookworm-security" && cp -a "$W/security.old" "$W/repo/dists/bookworm-security"
outdated "oci:$W/img:v1" --refresh --exit-code
[ "$rc" -eq 2 ] || fail "replay: exit $rc: $(cat "$W/out")"
grep -Eq "distill: error: .*Date '.*' is older than the .* already seen" "$W/err" ||
  fail "replay: $(cat "$W/err")"
expect_fail "Date '.*' is older than the .* already seen" \
  "$DISTILL" build "$W/app.yaml" --cache-dir "$C" --refresh --progress none -o "oci:$W/img:old"
rm -rf "$W/repo/dists/bookworm-security" && mv "$W/security.new" "$W/repo/dists/bookworm-security"

# --- an image distill did not build: a classic /var/lib/dpkg/status, --sources --------------
mkdir -p "$W/foreign/var/lib/dpkg" "$W/foreign/etc"
printf 'Package: hello\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: amd64\n\nPackage: other\nStatus: install ok installed\nVersion: 3\nArchitecture: amd64\n' \
  >"$W/foreign/var/lib/dpkg/status"
cat >"$W/foreign.yaml" <<YAML
name: foreign
files:
  - {src: foreign/var, dst: /var}
YAML
"$DISTILL" build "$W/foreign.yaml" --cache-dir "$C" --progress none -o "oci:$W/foreign-img:v1" \
  2>"$W/foreign.err" || fail "foreign build: $(cat "$W/foreign.err")"
make_sources "$W/local.sources" "bookworm bookworm-security"
# --refresh: the copy kept from the stranger's Release above is under 5 minutes old.
outdated "oci:$W/foreign-img:v1" --sources "$W/local.sources" --arch amd64 --refresh --exit-code
[ "$rc" -eq 1 ] || fail "foreign image: exit $rc: $(cat "$W/err") $(cat "$W/out")"
grep -q "sources from $W/local.sources (--sources)" "$W/out" || fail "foreign: $(cat "$W/out")"
grep -Eq '^hello +1\.0-1 +1\.0-2 ' "$W/out" || fail "foreign: $(cat "$W/out")"
grep -q "not in the sources: other (amd64)" "$W/out" || fail "foreign: $(cat "$W/out")"

# Nothing half-written in the cache.
[ -z "$(cache_leftovers "$C")" ] || fail "cache leftovers: $(cache_leftovers "$C")"
echo "PASS"
