#!/usr/bin/env bash
# `make run`: builds a distroless image from Debian packages (the `cc` flavor,
# resolved from the host's apt sources) with a small C++ program on top, runs it
# with runc, and prints what was made. Needs only what `scripts/setup.sh run`
# installs (a compiler for the demo program, runc).
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

echo "== what was made (distill inspect)" >&2
"$distill" inspect oci:out/hello:latest --top 5
echo "outputs: oci:out/hello:latest, docker-archive:out/hello.tar (build result: out/hello.json)"
