#!/usr/bin/env bash
# t_inspect_sizes: `distill inspect` against what other tools measure on the same
# image. Builds the cc and java17 flavors from the machine's Debian mirror, then:
# each layer's compressed size is its blob's size and its uncompressed size what
# `gzip -dc` gives; the image unpacked by umoci holds exactly the regular-file
# bytes inspect accounts for (per layer, per package + unpackaged: the same
# total), each of the largest files has the size `stat` gives there, and java17's
# largest package is its JRE; the text report has the layer table. The du figure
# (which adds directories and block rounding) is printed for reference.
# Exit 0 pass, 1 fail, 77 skipped (mirror unreachable, tool missing).
. "$(dirname "$0")/lib/common.sh"
need python3 umoci gzip

need_debian_mirror

W=$(mktemp -d "${TMPDIR:-/tmp}/t_inspect_sizes.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"
CACHE=${DISTILL_TEST_CACHE:-$W/cache}

for flavor in cc java17; do
  build_from_mirror "$flavor" "oci:$W/$flavor:latest"
  "$DISTILL" inspect "oci:$W/$flavor:latest" --json --top 20 >"$W/$flavor.json" ||
    fail "inspect --json $flavor"
  "$DISTILL" inspect "oci:$W/$flavor:latest" >"$W/$flavor.txt" || fail "inspect $flavor"
  grep -q '^  #   digest        compressed  uncompressed   files  holds$' "$W/$flavor.txt" ||
    fail "$flavor: no layer table: $(head -30 "$W/$flavor.txt")"
  grep -q '^Largest files:$' "$W/$flavor.txt" || fail "$flavor: no largest files"
  grep -q '^Size by package' "$W/$flavor.txt" || fail "$flavor: no size by package"

  umoci unpack --rootless --image "$W/$flavor:latest" "$W/$flavor-bundle" >/dev/null 2>&1 ||
    fail "umoci unpack $flavor"
  rootfs="$W/$flavor-bundle/rootfs"
  python3 - "$W/$flavor.json" "$W/$flavor" "$rootfs" "$flavor" <<'PY' || fail "$flavor: sizes differ"
import gzip, json, os, sys
report, layout, rootfs, flavor = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4]
errors = []
for i, layer in enumerate(report["layers"]):
    blob = os.path.join(layout, "blobs", "sha256", layer["digest"].split(":")[1])
    if os.path.getsize(blob) != layer["size"]:
        errors.append(f"layer {i}: size {layer['size']} != blob {os.path.getsize(blob)}")
    with gzip.open(blob) as f:
        raw = sum(len(chunk) for chunk in iter(lambda: f.read(1 << 20), b""))
    if raw != layer["uncompressed_size"]:
        errors.append(f"layer {i}: uncompressed {layer['uncompressed_size']} != gzip -dc {raw}")
    if not layer["holds"]:
        errors.append(f"layer {i}: holds nothing")
# Regular-file bytes of the unpacked image (hard links counted per name, as inspect does).
files = 0
for top, dirs, names in os.walk(rootfs):
    for name in names:
        st = os.lstat(os.path.join(top, name))
        if os.path.isfile(os.path.join(top, name)) and not os.path.islink(os.path.join(top, name)):
            files += st.st_size
layers = sum(l["content_size"] for l in report["layers"])
shares = sum(p["size"] for p in report["package_sizes"]) + sum(u["size"] for u in report["unpackaged"])
if not (files == layers == shares):
    errors.append(f"regular-file bytes: umoci rootfs {files}, inspect layers {layers}, packages {shares}")
for f in report["largest_files"]:
    real = os.path.getsize(rootfs + f["path"])
    if real != f["size"]:
        errors.append(f"{f['path']}: {f['size']} != stat {real}")
packages = {p["name"]: p for p in report["packages"]}
if set(p["name"] for p in report["package_sizes"]) != set(packages):
    errors.append("package_sizes does not list every package")
if flavor == "java17":
    top = report["package_sizes"][0]["name"]
    if not top.startswith("openjdk-17-jre-headless"):
        errors.append(f"java17's largest package is {top}")
    if not report["largest_files"][0]["package"].startswith("openjdk-17"):
        errors.append(f"java17's largest file {report['largest_files'][0]} has no JDK owner")
# A package's md5sums files are all counted for it.
for name in packages:
    listing = os.path.join(rootfs, "var/lib/dpkg/status.d", name + ".md5sums")
    if not os.path.exists(listing):
        continue
    listed = 0
    for line in open(listing, encoding="utf-8", errors="replace"):
        path = os.path.join(rootfs, line.split("  ", 1)[1].rstrip("\n"))
        if os.path.isfile(path) and not os.path.islink(path):
            listed += os.path.getsize(path)
    share = next(p for p in report["package_sizes"] if p["name"] == name)
    if share["size"] < listed:
        errors.append(f"{name}: {share['size']} < its md5sums files {listed}")
for e in errors:
    print(e, file=sys.stderr)
print(f"{flavor}: {len(report['layers'])} layers, regular files {files} bytes "
      f"({files / 1048576:.1f} MiB), uncompressed layers "
      f"{sum(l['uncompressed_size'] for l in report['layers']) / 1048576:.1f} MiB", file=sys.stderr)
sys.exit(1 if errors else 0)
PY
  echo "$flavor: du -sb of the umoci rootfs: $(du -sb "$rootfs" | cut -f1) bytes" >&2
done
echo "PASS"
