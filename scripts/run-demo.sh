#!/usr/bin/env bash
# `make run`: builds a distroless image from Debian packages (the `cc` flavor,
# resolved from the host's apt sources) with a small C++ program on top, runs it
# with runc, and prints what was made.
set -euo pipefail
distill=${1:-build/distill}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mkdir -p build/examples out
g++ -O2 -std=c++20 -o build/examples/hello examples/hello/hello.cpp

echo "== building hello (from: cc) for $(dpkg --print-architecture)" >&2
"$distill" build examples/hello/hello.yaml -o oci:out/hello:latest \
  -o docker-archive:out/hello.tar --progress plain --json > out/hello.json

echo "== running it with runc" >&2
"$distill" run oci:out/hello:latest

echo "== what was made" >&2
python3 - out/hello.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"image   {r['name']}:{r['tag']}  index {r['index_digest']}")
for m in r["manifests"]:
    total = sum(l["size"] for l in m["layers"])
    raw = sum(l.get("uncompressed_size", 0) for l in m["layers"])
    print(f"  {m['arch']}: manifest {m['digest'][:19]}  {len(m['layers'])} layers, "
          f"{total/1048576:.1f} MiB compressed, {raw/1048576:.1f} MiB uncompressed")
names = sorted({p['name'] + ' ' + p['version'] for p in r['packages']})
print(f"  {len(names)} Debian packages: " + ", ".join(n.split()[0] for n in names))
print("  outputs: " + ", ".join(r["outputs"]))
PY
