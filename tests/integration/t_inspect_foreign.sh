#!/usr/bin/env bash
# t_inspect_foreign: `distill inspect` of images distill did not make, packed
# by umoci from a root file system: one layer holding a distroless status entry
# (status.d/libssl3 and its md5sums) beside files no package owns, and one
# with a classic dpkg database whose created_by mimics distill's. Only what a
# file list names is a package's, and no label doubles a word ("packages
# packages ...", "(files files, no package)").
# Exit 0 pass, 1 fail, 77 skipped (umoci missing).
. "$(dirname "$0")/lib/common.sh"
need umoci python3

W=$(mktemp -d "${TMPDIR:-/tmp}/t_inspect_foreign.XXXXXX")
trap 'rm -rf "$W"' EXIT

# new_image NAME: an empty image NAME:latest in the layout $W/img, unpacked
# into $W/NAME (its root file system in $W/NAME/rootfs).
new_image() {
  [ -d "$W/img" ] || umoci init --layout "$W/img" || fail "umoci init"
  umoci new --image "$W/img:$1" || fail "umoci new"
  umoci unpack --rootless --image "$W/img:$1" "$W/$1" >/dev/null || fail "umoci unpack"
}

# --- one layer: a status.d entry beside a whole root file system ---------------
new_image distroless
R=$W/distroless/rootfs
mkdir -p "$R/usr/lib" "$R/var/lib/dpkg/status.d" "$R/etc" "$R/app"
head -c 3000 /dev/zero | tr '\0' l >"$R/usr/lib/libssl.so.3"
ln -s libssl.so.3 "$R/usr/lib/libssl.so"
printf 'Package: libssl3\nVersion: 3.0.11\nArchitecture: amd64\n' >"$R/var/lib/dpkg/status.d/libssl3"
echo "0123456789abcdef0123456789abcdef  usr/lib/libssl.so.3" >"$R/var/lib/dpkg/status.d/libssl3.md5sums"
head -c 20000 /dev/zero | tr '\0' s >"$R/app/server"
echo "root:x:0:0::/root:/sbin/nologin" >"$R/etc/passwd"
umoci repack --image "$W/img:distroless" --history.created_by "/bin/sh -c apt-get install packages libssl3" \
  "$W/distroless" >/dev/null || fail "umoci repack"

"$DISTILL" inspect "oci:$W/img:distroless" --arch amd64 >"$W/distroless.txt" || fail "inspect distroless"
"$DISTILL" inspect "oci:$W/img:distroless" --arch amd64 --json >"$W/distroless.json" ||
  fail "inspect --json distroless"
grep -Eq '^  0 .*  files \+ packages: libssl3$' "$W/distroless.txt" ||
  fail "the layer's label: $(cat "$W/distroless.txt")"
grep -q '/app/server  (layer 0)$' "$W/distroless.txt" ||
  fail "/app/server was credited to a package: $(cat "$W/distroless.txt")"
grep -q '(other files, no package)' "$W/distroless.txt" || fail "no other files: $(cat "$W/distroless.txt")"
python3 - "$W/distroless.json" <<'PY' || fail "distroless: sizes by package"
import json, sys
r = json.load(open(sys.argv[1]))
shares = {p["name"]: p for p in r["package_sizes"]}
assert list(shares) == ["libssl3"], shares
# The library and its two status files; the symlink, /etc/passwd and the server are no package's.
assert shares["libssl3"]["files"] == 3, shares
assert [(u["kind"], u["files"], u["size"]) for u in r["unpackaged"]] == [("files", 3, 20032)], r["unpackaged"]
assert r["layers"][0]["holds"] == ["files", "packages"], r["layers"][0]
PY

# --- a classic dpkg database under a created_by that says distill's words -------
new_image classic
R=$W/classic/rootfs
mkdir -p "$R/usr/lib" "$R/var/lib/dpkg/info" "$R/app"
head -c 3000 /dev/zero | tr '\0' l >"$R/usr/lib/libssl.so.3"
printf 'Package: libssl3\nStatus: install ok installed\nVersion: 3.0.11\nArchitecture: amd64\n' \
  >"$R/var/lib/dpkg/status"
printf '/.\n/usr/lib/libssl.so.3\n' >"$R/var/lib/dpkg/info/libssl3:amd64.list"
head -c 20000 /dev/zero | tr '\0' s >"$R/app/server"
umoci repack --image "$W/img:classic" --history.created_by "distill: packages libssl3 3.0.11" \
  "$W/classic" >/dev/null || fail "umoci repack"
"$DISTILL" inspect "oci:$W/img:classic" --arch amd64 >"$W/classic.txt" || fail "inspect classic"
grep -Eq '^  0 .*  packages: libssl3 3.0.11$' "$W/classic.txt" ||
  fail "the layer's label: $(cat "$W/classic.txt")"

# --- the same, packed by umoci's own words ----------------------------------------
new_image plain
cp -a "$W/classic/rootfs/." "$W/plain/rootfs/"
umoci repack --image "$W/img:plain" "$W/plain" >/dev/null || fail "umoci repack"
"$DISTILL" inspect "oci:$W/img:plain" --arch amd64 >"$W/plain.txt" || fail "inspect plain"
grep -q '(other files, no package)' "$W/plain.txt" || fail "no other files: $(cat "$W/plain.txt")"

for f in "$W"/*.txt; do
  ! grep -Eq 'packages:? packages|files files' "$f" || fail "a doubled word in $f: $(cat "$f")"
done
echo "PASS: t_inspect_foreign"
