#!/usr/bin/env bash
# `make bench`: measures distill against the peer pipeline (mmdebstrap
# --variant=extract + umoci) on this machine, in the same run, against the real
# Debian archive configured in the host's apt sources, and prints one Markdown
# table. What is measured and why: docs/benchmarks.md.
#
# usage: bench/run.sh PATH/TO/distill
# env:   BENCH_FLAVORS  built-in flavors to cold-build (default: "base python3
#                       nodejs java17", about 4 minutes here; "base" alone about 1); the
#                       warm figures always use the first one
#        BENCH_RUNS     timed runs per warm/no-op figure (default 3)
#        BENCH_COLD_RUNS cold runs per side and flavor, median reported (default 3)
#        BENCH_MATRIX   1 (default) to measure the 28-image matrix (7 flavors x 4
#                       variants in one distill command) against the peer building
#                       the 7 flavors one after another; 0 to skip it
#        BENCH_TMP      scratch parent directory (default /tmp)
#        BENCH_OUT      JSON results file (default: DIR_OF_distill/bench/latest.json)
# The mirror is never named here: it is read from /etc/apt/sources.list.d/*.sources
# or /etc/apt/sources.list. If it cannot be reached, the bench says so and exits 0.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 PATH/TO/distill" >&2
  exit 2
fi
distill=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
read -r -a flavors <<<"${BENCH_FLAVORS:-base python3 nodejs java17}"
runs=${BENCH_RUNS:-3}
cold_runs=${BENCH_COLD_RUNS:-3}
release=bookworm
arch=$(dpkg --print-architecture)
out_json=${BENCH_OUT:-$(dirname "$distill")/bench/latest.json}

log() { echo "bench: $*" >&2; }

for tool in mmdebstrap umoci hyperfine python3 curl /usr/bin/time; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    log "skipped: $tool is not installed (scripts/setup.sh bench installs it)"
    exit 0
  fi
done
if [ "$(id -u)" -ne 0 ]; then
  log "skipped: the peer pipeline (mmdebstrap, umoci) runs as root here; run as root"
  exit 0
fi

# --- the host's apt sources for $release: files for mmdebstrap, URLs to probe ----
source_files=()
mirror_urls=()
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  grep -Eq "^Suites:.*\\b${release}\\b" "$f" || continue
  source_files+=("$f")
  mapfile -t -O ${#mirror_urls[@]} mirror_urls < <(awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' "$f")
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] || continue
  mapfile -t urls < <(awk -v r="$release" '$1 == "deb" { u = ""; s = "";
      for (i = 2; i <= NF; i++) { if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; continue }
        if (u == "") u = $i; else if (s == "") s = $i }
      if (s ~ "^" r) print u }' "$f")
  if [ ${#urls[@]} -gt 0 ]; then
    source_files+=("$f")
    mirror_urls+=("${urls[@]}")
  fi
done
if [ ${#mirror_urls[@]} -eq 0 ]; then
  log "skipped: no apt source for $release in /etc/apt/sources.list{,.d}"
  exit 0
fi
reachable=0
for url in "${mirror_urls[@]}"; do
  code=$(curl -sS -o /dev/null --max-time 20 -w '%{http_code}' "${url%/}/dists/" 2>/dev/null) || true
  if [ "${code:-000}" != 000 ]; then
    reachable=1
    break
  fi
done
if [ $reachable -eq 0 ]; then
  log "skipped: the Debian mirror of the host's apt sources is unreachable; no table"
  exit 0
fi

work=$(mktemp -d "${BENCH_TMP:-/tmp}/distill-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
results="$work/results.txt" # lines: KEY VALUE
: >"$results"
put() { echo "$1 $2" >>"$results"; }

# timed OUT_PREFIX CMD...: runs CMD under /usr/bin/time; writes seconds and peak KB.
# Returns CMD's exit status; its stdout goes to OUT_PREFIX.stdout, stderr to .stderr.
timed() {
  local prefix=$1
  shift
  local rc=0
  /usr/bin/time -f '%e %M' -o "$prefix.time" "$@" >"$prefix.stdout" 2>"$prefix.stderr" || rc=$?
  # /usr/bin/time writes "Command exited with non-zero status N" first on failure.
  tail -n 1 "$prefix.time" >"$prefix.time.last"
  read -r TIMED_S TIMED_KB <"$prefix.time.last"
  return $rc
}

# median N...: the middle value (the lower middle one for an even count).
median() { printf '%s\n' "$@" | sort -g | sed -n "$((($# + 1) / 2))p"; }
# hyperfine_cpu NAME: "CPU BUSY" of the runs hyperfine_median NAME measured:
# the mean user + system CPU-s of a run, and the share of the CPUs it kept
# busy (that CPU over nproc times the mean wall time); "FAIL FAIL" without them.
hyperfine_cpu() {
  python3 - "$work/$1.hyperfine.json" "$nproc" <<'EOF_PY' 2>/dev/null || echo FAIL FAIL
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
cpu = r["user"] + r["system"]
print("%.4f %.4f" % (cpu, cpu / (int(sys.argv[2]) * r["mean"])))
EOF_PY
}
# largest N...: the largest value.
largest() { printf '%s\n' "$@" | sort -g | tail -n 1; }

# hyperfine_median NAME PREPARE CMD: median wall seconds of $runs runs, or FAIL.
hyperfine_median() {
  local name=$1 prepare=$2 cmd=$3
  local json="$work/$name.hyperfine.json"
  # PREPARE is shell text (hyperfine -N runs it through sh -c here). Each run
  # starts with the page cache written back (sync): what an earlier step left
  # dirty (the peer's root filesystem, the last run's blobs) would otherwise be
  # flushed during the timed run and stall its writes.
  if hyperfine -N --style none --runs "$runs" --prepare "sh -c '$prepare && sync'" --export-json "$json" \
    "$cmd" >"$work/$name.hyperfine.log" 2>&1; then
    python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$json"
  else
    log "$name failed: $(tail -n 3 "$work/$name.hyperfine.log" | tr '\n' ' ')"
    echo FAIL
  fi
}

# layers_mb OCI_DIR: compressed size of the layers of every manifest in an OCI layout.
layers_mb() {
  python3 - "$1" <<'EOF'
import json, os, sys
root = sys.argv[1]
def blob(d):
    return os.path.join(root, "blobs", *d.split(":"))
total = 0
seen = set()
def walk(desc):
    global total
    with open(blob(desc["digest"])) as f:
        doc = json.load(f)
    for m in doc.get("manifests", []):
        walk(m)
    for l in doc.get("layers", []):
        if l["digest"] not in seen:
            seen.add(l["digest"])
            total += l["size"]
with open(os.path.join(root, "index.json")) as f:
    for m in json.load(f)["manifests"]:
        walk(m)
print("%.1f" % (total / 1e6))
EOF
}

# ref_digest LAYOUT REF: the digest index.json names for REF.
ref_digest() {
  python3 - "$1" "$2" <<'PY'
import json, sys
for m in json.load(open(sys.argv[1] + "/index.json"))["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == sys.argv[2]:
        print(m["digest"])
PY
}

log "distill: $distill; flavors: ${flavors[*]}; $runs runs per warm figure; scratch $work"

for flavor in "${flavors[@]}"; do
  d="$work/$flavor"
  mkdir -p "$d"

  # The package set both sides install: distill's own resolution, as a lock file.
  log "$flavor: resolving the package set (distill lock)"
  if ! timed "$d/lock" "$distill" lock "$flavor" -o "$d/lock.json" --cache-dir "$d/lock-cache" \
    --progress none; then
    log "$flavor: distill lock failed: $(tail -n 2 "$d/lock.stderr")"
    put "$flavor.cold.distill.s" FAIL
    continue
  fi
  npkg=$(python3 "$here/lock_to_peer.py" "$d/lock.json" "$arch" "$d/include.txt" "$d/fake.status")
  put "$flavor.packages" "$npkg"
  rm -rf "$d/lock-cache"

  # distill, cold: empty cache dir, fresh output layout; the median of
  # $cold_runs runs (a cold build is mostly waiting on the mirror, which varies
  # from one run to the next), the largest peak RSS.
  log "$flavor: distill cold build ($npkg packages), $cold_runs runs"
  times=() kbs=() ok=1
  for ((i = 0; i < cold_runs; i++)); do
    rm -rf "$d/cache" "$d/oci"
    if timed "$d/cold" "$distill" build "$flavor" --cache-dir "$d/cache" -o "oci:$d/oci:$flavor" \
      --progress none; then
      times+=("$TIMED_S") kbs+=("$TIMED_KB")
    else
      log "$flavor: distill build failed: $(tail -n 2 "$d/cold.stderr")"
      ok=0
      break
    fi
  done
  if [ $ok -eq 1 ]; then
    put "$flavor.cold.distill.s" "$(median "${times[@]}")"
    put "$flavor.cold.distill.runs" "$(IFS=,; echo "${times[*]}")"
    put "$flavor.cold.distill.kb" "$(largest "${kbs[@]}")"
    put "$flavor.image.distill.mb" "$(layers_mb "$d/oci")"
  else
    put "$flavor.cold.distill.s" FAIL
  fi

  # peer, cold: mmdebstrap extracts exactly the same packages into a directory,
  # umoci turns the directory into a one-layer OCI image. The run with the
  # median total is reported, with its two parts.
  log "$flavor: peer cold build (mmdebstrap --variant=extract + umoci), $cold_runs runs"
  peer_runs=() peer_kbs=()
  for ((i = 0; i < cold_runs; i++)); do
    rm -rf "$d/rootfs" "$d/peer-oci"
    if ! timed "$d/mmdebstrap" mmdebstrap --variant=extract --include="$(cat "$d/include.txt")" \
      --setup-hook="cat '$d/fake.status' >> \"\$1/var/lib/dpkg/status\"" \
      --skip=cleanup/apt/cache "$release" "$d/rootfs" "${source_files[@]}"; then
      log "$flavor: mmdebstrap failed: $(grep -m 4 -E '^E:|Depends:' "$d/mmdebstrap.stderr" | tr '\n' ' ')"
      peer_runs=()
      break
    fi
    mm_s=$TIMED_S
    mm_kb=$TIMED_KB
    # Check that the peer fetched the same set, then drop the .debs (kept only for
    # this count) and the placeholders again.
    peer_npkg=$(find "$d/rootfs/var/cache/apt/archives" -maxdepth 1 -name '*.deb' | wc -l)
    if [ "$peer_npkg" -ne "$npkg" ]; then
      log "$flavor: warning: the peer extracted $peer_npkg packages, distill $npkg"
    fi
    find "$d/rootfs/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -delete
    : >"$d/rootfs/var/lib/dpkg/status"
    # shellcheck disable=SC2016 # $1..$3 are the inner shell's arguments
    if ! timed "$d/umoci" sh -c 'umoci init --layout "$1" &&
        umoci new --image "$1:$2" && umoci insert --image "$1:$2" "$3" /' \
      umoci "$d/peer-oci" "$flavor" "$d/rootfs"; then
      log "$flavor: umoci failed: $(tail -n 2 "$d/umoci.stderr")"
      peer_runs=()
      break
    fi
    peer_runs+=("$(python3 -c "print('%.2f' % ($mm_s + $TIMED_S))") $mm_s $TIMED_S")
    peer_kbs+=("$((mm_kb > TIMED_KB ? mm_kb : TIMED_KB))")
  done
  if [ ${#peer_runs[@]} -eq "$cold_runs" ]; then
    read -r total mm um < <(printf '%s\n' "${peer_runs[@]}" | sort -n | sed -n "$(((cold_runs + 1) / 2))p")
    put "$flavor.peer.packages" "$peer_npkg"
    put "$flavor.cold.peer.s" "$total"
    put "$flavor.cold.peer.runs" "$(printf '%s\n' "${peer_runs[@]}" | cut -d' ' -f1 | paste -sd,)"
    put "$flavor.cold.peer.mmdebstrap.s" "$mm"
    put "$flavor.cold.peer.umoci.s" "$um"
    put "$flavor.cold.peer.kb" "$(largest "${peer_kbs[@]}")"
    put "$flavor.image.peer.mb" "$(layers_mb "$d/peer-oci")"
  else
    put "$flavor.cold.peer.s" FAIL
  fi
  rm -rf "$d/rootfs" "$d/peer-oci"
done

# --- warm figures: cache of .debs kept, layer cache emptied (every flavor) ------
for flavor in "${flavors[@]}"; do
  d="$work/$flavor"
  if [ ! -d "$d/cache/sha256" ]; then
    log "$flavor: no cache from the cold build; warm figures skipped"
    continue
  fi
  build=("$distill" build "$flavor" --cache-dir "$d/cache" -o "oci:$d/oci:$flavor" --progress none)
  empty_layers="rm -rf $d/cache/layers $d/cache/blobs $d/oci"
  log "$flavor: warm builds (layer cache emptied), $runs runs"
  put "$flavor.warm.distill.s" "$(hyperfine_median "warm-$flavor" "$empty_layers" "${build[*]}")"
  $empty_layers
  if timed "$d/warm_rss" "${build[@]}"; then put "$flavor.warm.distill.kb" "$TIMED_KB"; fi
done

# --- --lock and no-op rebuilds, first flavor --------------------------------------
flavor=${flavors[0]}
d="$work/$flavor"
if [ -d "$d/cache/sha256" ]; then
  build=("$distill" build "$flavor" --cache-dir "$d/cache" -o "oci:$d/oci:$flavor" --progress none)
  locked=("${build[@]}" --lock "$d/lock.json")
  empty_layers="rm -rf $d/cache/layers $d/cache/blobs $d/oci"
  log "$flavor: warm builds with --lock, $runs runs"
  put warm_lock.distill.s "$(hyperfine_median warm_lock "$empty_layers" "${locked[*]}")"
  "${build[@]}" >/dev/null 2>&1 || true
  log "$flavor: no-op rebuilds (full cache), $runs runs each"
  put noop.distill.s "$(hyperfine_median noop true "${build[*]}")"
  put noop_lock.distill.s "$(hyperfine_median noop_lock true "${locked[*]}")"
  if timed "$d/noop_rss" "${build[@]}"; then put noop.distill.kb "$TIMED_KB"; fi
  if timed "$d/noop_lock_rss" "${locked[@]}"; then put noop_lock.distill.kb "$TIMED_KB"; fi
fi

# --- the CPU floor of a warm build ----------------------------------------------------
# What a warm build cannot avoid: decoding every .deb's data.tar (with liblzma,
# libzstd or zlib, as xz/zstd/gzip -dc do, in one process: `deflate-cpu -x`),
# deflating every layer again (libdeflate as distill uses it, bench/deflate_cpu.cpp,
# on the image's own uncompressed layers) and the two SHA-256 digests OCI asks of
# each layer (of the tar, the diff_id, and of the gzip, the blob's digest).
# A build keeps every CPU busy at once, and a CPU does less work while the others
# are busy too (they share caches, memory and, on a virtual machine, the host's
# cores; this machine's two CPUs have also been seen to run at speeds 20-60%
# apart for minutes at a time). So the floor's work is measured the way a build
# runs it: one copy on each CPU (pinned with taskset), all at once, each copy's
# CPU time taken; the CPUs together do the work, split perfectly, in
# 1 / (1/T0 + 1/T1 + ...). That is the shortest a warm build can take here; the
# table shows it next to the target. The parts are also measured with one CPU
# busy (the floor until session 15: their sum over the number of CPUs), shown
# beside it for comparison.
deflate_cpu="$(dirname "$distill")/deflate-cpu"
# The CPUs this process may run on (what nproc counts), each to be pinned.
read -r -a floor_cpus < <(python3 -c 'import os; print(" ".join(map(str, sorted(os.sched_getaffinity(0)))))')
nproc=${#floor_cpus[@]}
# floor_all_cpus DIR: runs the floor's parts on every CPU at once, one copy pinned to
# each; prints "FLOOR DECODE DEFLATE SHA TOTALS" (the parts: means over the CPUs;
# TOTALS: each CPU's decode + deflate + SHA-256, comma-separated), or fails.
floor_all_cpus() {
  local dir=$1 c pid rc=0 pids=()
  for c in "${floor_cpus[@]}"; do
    taskset -c "$c" sh -c '"$1" -x <"$2/debs.txt" >"$2/floor.x.$3" && "$1" 6 <"$2/layers.tar" >"$2/floor.z.$3"' \
      sh "$deflate_cpu" "$dir" "$c" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
  [ $rc -eq 0 ] || return 1
  python3 - "$dir" "${floor_cpus[@]}" <<'EOF_PY'
import sys
d, cpus = sys.argv[1], sys.argv[2:]
parts = []
for c in cpus:
    decode = float(open(f"{d}/floor.x.{c}").read().split()[0])
    deflate, _, _, sha = (float(x) for x in open(f"{d}/floor.z.{c}").read().split())
    parts.append((decode, deflate, sha))
totals = [sum(p) for p in parts]
mean = lambda i: sum(p[i] for p in parts) / len(parts)
print("%.4f %.3f %.3f %.3f %s" % (1 / sum(1 / t for t in totals), mean(0), mean(1), mean(2),
                                  ",".join("%.3f" % t for t in totals)))
EOF_PY
}
# floor_median DIR: floor_all_cpus three times; the line of the median floor.
# One measurement of a floor under a second is as noisy as one warm build
# (session 20: base's rounds 0.251, 0.254 and 0.282 s), and the warm figure it
# is compared with is already a median.
floor_median() {
  local lines=() line i
  for i in 1 2 3; do
    line=$(floor_all_cpus "$1") || return 1
    lines+=("$line")
  done
  printf '%s\n' "${lines[@]}" | sort -g -k1,1 | sed -n 2p
}
for flavor in "${flavors[@]}"; do
  d="$work/$flavor"
  [ -x "$deflate_cpu" ] && [ -f "$d/oci/index.json" ] && [ -f "$d/lock.json" ] || continue
  log "$flavor: CPU floor of a warm build (decode, deflate and SHA-256 on every CPU at once, and on one), 3 rounds with warm builds"
  python3 - "$d/lock.json" "$arch" "$d/cache" >"$d/debs.txt" <<'EOF_PY'
import json, os, sys
lock = json.load(open(sys.argv[1]))
for p in lock["packages"][sys.argv[2]]:
    print(os.path.join(sys.argv[3], "sha256", p["sha256"].split(":")[-1]))
EOF_PY
  python3 - "$d/oci" <<'EOF_PY' >"$d/layers.txt"
import json, os, sys
root = sys.argv[1]
def blob(d):
    return os.path.join(root, "blobs", *d.split(":"))
doc = json.load(open(os.path.join(root, "index.json")))
while "manifests" in doc:
    doc = json.load(open(blob(doc["manifests"][0]["digest"])))
for layer in doc["layers"]:
    print(blob(layer["digest"]))
EOF_PY
  while read -r f; do gzip -dc "$f"; done <"$d/layers.txt" >"$d/layers.tar"
  # Three rounds, each measuring the floor on every CPU three times (the
  # median taken) and then the warm build (BENCH_RUNS runs, and as many with
  # --lock for the first flavor): the machine's speed drifts by several
  # percent over a bench run, so a warm build is compared with the floor
  # measured next to it. The parts are the medians of the rounds; the ratio
  # row is the median of the rounds' ratios.
  build=("$distill" build "$flavor" --cache-dir "$d/cache" -o "oci:$d/oci:$flavor" --progress none)
  empty_layers="rm -rf $d/cache/layers $d/cache/blobs $d/oci"
  decodes=() cpus=() shas=() warms=() locks=() floors=() alones=() totals=() warm_cpus=() warm_busy=()
  for round in 1 2 3; do
    if ! read -r decode _ < <("$deflate_cpu" -x <"$d/debs.txt"); then
      log "$flavor: deflate-cpu -x could not decode its .debs: no floor rows"
      continue 2
    fi
    read -r cpu _ _ sha < <("$deflate_cpu" 6 <"$d/layers.tar")
    alones+=("$(python3 -c 'import sys; print("%.4f" % (sum(map(float, sys.argv[2:])) / float(sys.argv[1])))' "$nproc" "$decode" "$cpu" "$sha")")
    if ! read -r floor decode cpu sha total < <(floor_median "$d"); then
      log "$flavor: the floor could not be measured on every CPU at once: no floor rows"
      continue 2
    fi
    floors+=("$floor") decodes+=("$decode") cpus+=("$cpu") shas+=("$sha") totals+=("$total")
    warms+=("$(hyperfine_median "floor-warm-$flavor-$round" "$empty_layers" "${build[*]}")")
    read -r c b < <(hyperfine_cpu "floor-warm-$flavor-$round")
    warm_cpus+=("$c") warm_busy+=("$b")
    if [ "$flavor" = "${flavors[0]}" ]; then
      locks+=("$(hyperfine_median "floor-lock-$flavor-$round" "$empty_layers" "${build[*]} --lock $d/lock.json")")
    fi
  done
  read -r cpu _ _ _ < <("$deflate_cpu" 1 <"$d/layers.tar") # for comparison only
  put "$flavor.floor.deflate1.cpu" "$cpu"
  rm -f "$d/layers.tar" "$d"/floor.[xz].*
  # Medians of the rounds; the parts are per CPU with every CPU busy.
  put "$flavor.floor.deflate6.cpu" "$(median "${cpus[@]}")"
  # SHA-256 of the tar (diff_id) and of the gzip (digest): the same at any level.
  put "$flavor.floor.sha256.cpu" "$(median "${shas[@]}")"
  put "$flavor.floor.decode.cpu" "$(median "${decodes[@]}")"
  put "$flavor.floor.cpu_totals.rounds" "$(IFS=';'; echo "${totals[*]}")"
  # Where a warm build's time goes beyond the floor: the CPU it spent, against
  # the floor's work (one copy's decode + deflate + SHA-256, the mean over the
  # CPUs, cpu_totals above), and how busy it kept the CPUs. Its wall time
  # over the floor is about the first over the second (bench/report.py).
  put "$flavor.floor.warm.cpu.rounds" "$(IFS=,; echo "${warm_cpus[*]}")"
  put "$flavor.floor.warm.busy.rounds" "$(IFS=,; echo "${warm_busy[*]}")"
  floor_rounds=$(IFS=,; echo "${floors[*]}")
  alone_rounds=$(IFS=,; echo "${alones[*]}")
  put "$flavor.floor.rounds" "$floor_rounds"
  put "$flavor.floor.alone.rounds" "$alone_rounds"
  for kind in warm lock; do
    if [ "$kind" = warm ]; then times=("${warms[@]}"); else times=("${locks[@]}"); fi
    [ ${#times[@]} -eq 3 ] || continue
    put "$flavor.floor.$kind.rounds" "$(IFS=,; echo "${times[*]}")"
    for against in "ratio $floor_rounds" "alone_ratio $alone_rounds"; do
      read -r key at <<<"$against"
      put "$flavor.floor.$kind.$key" "$(python3 -c 'import statistics, sys
floors, times = sys.argv[1].split(","), sys.argv[2].split()
ratios = [float(t) / float(f) for t, f in zip(times, floors) if t != "FAIL"]
print("%.3f" % statistics.median(ratios) if len(ratios) == 3 else "FAIL")' "$at" "${times[*]}")"
    done
  done
  # A cold build does that work and more, and it cannot start decoding before it
  # knows its package set: every Packages index must have arrived, been checked
  # (SHA-256) and inflated first. Its floor is that index phase, at least the
  # wall time of downloading the same InRelease and Packages files the same way
  # (in parallel, from the sources in the lock, with Python's urllib) and at
  # least the CPU of hashing and inflating them spread over the CPUs
  # (`deflate-cpu -d`: libdeflate in one call for gzip, liblzma for xz), followed by
  # the warm floor's work plus the SHA-256 of every .deb. Scanning and resolving
  # the indices and waiting for the .debs are not counted. Median of three.
  dls=() idxs=() shas_debs=()
  for _ in 1 2 3; do
    read -r sha_debs index download < <(python3 - "$d/cache/sha256" "$d/debs.txt" "$deflate_cpu" "$d/lock.json" "$arch" <<'EOF_PY' || echo FAIL FAIL FAIL
import hashlib, json, os, subprocess, sys, threading, time, urllib.request
debs = set(open(sys.argv[2]).read().split())
files = [os.path.join(sys.argv[1], f) for f in sorted(os.listdir(sys.argv[1]))]
def sha_cpu(paths):
    start = time.process_time()
    for path in paths:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    return time.process_time() - start
indices = [p for p in files if p not in debs]
sha_debs, index = sha_cpu(sorted(debs)), sha_cpu(indices)
for path in indices:
    with open(path, "rb") as f:
        out = subprocess.run([sys.argv[3], "-d"], stdin=f, capture_output=True, text=True, check=True)
    index += float(out.stdout.split()[0])
lock, arch = json.load(open(sys.argv[4])), sys.argv[5]
failed = []
def fetch(*urls):  # the first of these that the mirror has, as distill does
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=60) as r:
                while r.read(1 << 20):
                    pass
            return
        except OSError as e:
            error = e
    failed.append(error)
def suite(base, name, components):
    fetch(f"{base}/dists/{name}/InRelease")
    threads = [threading.Thread(target=fetch, args=tuple(
                   f"{base}/dists/{name}/{c}/binary-{arch}/Packages{x}" for x in (".gz", ".xz", "")))
               for c in components]
    for t in threads: t.start()
    for t in threads: t.join()
start = time.monotonic()
threads = [threading.Thread(target=suite, args=(s["url"].rstrip("/"), name, s["components"]))
           for s in lock["sources"] for name in s["suites"]]
for t in threads: t.start()
for t in threads: t.join()
download = "FAIL" if failed else "%.3f" % (time.monotonic() - start)
print("%.3f %.3f %s" % (sha_debs, index, download))
EOF_PY
)
    shas_debs+=("$sha_debs") idxs+=("$index") dls+=("$download")
  done
  if [[ " ${shas_debs[*]} ${dls[*]} " != *" FAIL "* ]]; then
    put "$flavor.floor.cold_debs_sha.cpu" "$(median "${shas_debs[@]}")"
    put "$flavor.floor.cold_index.cpu" "$(median "${idxs[@]}")"
    put "$flavor.floor.cold_index_download.s" "$(median "${dls[@]}")"
  else
    log "$flavor: the cold floor could not be measured (a download or a hash failed)"
  fi
  put "$flavor.floor.nproc" "$nproc"
done

# --- a new 50 MB application layer on a cached java17 --------------------------------
# Each run writes a new 50 MB jar (random bytes, as incompressible as a real jar),
# so only the application layer is new; java17's layers come from the cache and
# must be reused as they are (compared with java17's own layer digests).
d="$work/java17"
if [ -d "$d/cache/sha256" ]; then
  app="$work/app50"
  mkdir -p "$app"
  printf 'name: app50\nfrom: java17\nfiles:\n  - {src: app.jar, dst: /app/app.jar}\ncmd: ["/app/app.jar"]\n' >"$app/app.yaml"
  newjar="head -c 50000000 /dev/urandom >$app/app.jar"
  head -c 50000000 /dev/urandom >"$app/app.jar"
  "$distill" build java17 --cache-dir "$d/cache" -o "oci:$d/oci:java17" --progress none >/dev/null 2>&1 || true
  app_build=("$distill" build "$app/app.yaml" --cache-dir "$d/cache" -o "oci:$app/oci:app" --progress none)
  log "java17 + a new 50 MB application layer, $runs runs"
  put app50.distill.s "$(hyperfine_median app50 "$newjar" "${app_build[*]}")"
  head -c 50000000 /dev/urandom >"$app/app.jar"
  if timed "$app/rss" "${app_build[@]}"; then put app50.distill.kb "$TIMED_KB"; fi
  put app50.reused "$(python3 "$here/layers_reused.py" "$d/oci" "$app/oci")"
fi

# --- distill update: one package of the java17 application brought forward ----------
# The application image is built from a lock in which one package (the smallest
# that -updates or -security changed, among those java17 gives a layer of their own
# for update1, among those sharing a layer for update1g) is set back to the point
# release's version; `update` then brings it forward, its new .deb already in the
# cache. The old image is built on an empty layer cache (so the new version's layers
# are not there already), and each run starts from the layer cache as that build left
# it: the layer holding the changed package and what depends on it (ld.so.cache, the
# trust store) are made each run.
if [ -d "$d/cache/sha256" ] && [ -f "$app/app.yaml" ]; then
  u="$work/update"
  mkdir -p "$u"
  main_url=${mirror_urls[0]%/}
  # bench_update KEY own|grouped
  bench_update() {
    local key=$1 kind=$2 changed same
    local v="$u/$key"
    rm -rf "$v" && mkdir -p "$v"
    python3 "$here/layer_packages.py" "$d/oci" "$kind" >"$v/names" || :
    if changed=$(python3 "$here/older_lock.py" "$u/lock.json" "$u/Packages" "$main_url" "$v/old.lock" "$v/names") &&
      rm -rf "$d/cache/layers" &&
      "$distill" build "$app/app.yaml" --lock "$v/old.lock" --cache-dir "$d/cache" \
        -o "oci:$v/oci:old" --progress none >/dev/null 2>&1; then
      # Every run starts from the layer cache as the old build left it.
      rm -rf "$v/layers.old" && cp -a "$d/cache/layers" "$v/layers.old"
      local restore="rm -rf $d/cache/layers && cp -a $v/layers.old $d/cache/layers"
      local update=("$distill" update "oci:$v/oci:old" -o "oci:$v/oci:new" --cache-dir "$d/cache" --progress none)
      log "java17 application: update of ${changed%% *} ($kind layer), $runs runs"
      put "$key.package" "$changed"
      put "$key.distill.s" "$(hyperfine_median "$key" "$restore" "${update[*]}")"
      same=no
      if "$distill" build "$app/app.yaml" --cache-dir "$d/cache" --refresh \
        -o "oci:$v/oci:refreshed" --progress none >/dev/null 2>&1 &&
        [ "$(ref_digest "$v/oci" new)" = "$(ref_digest "$v/oci" refreshed)" ]; then
        same=yes
      fi
      put "$key.same_as_refresh" "$same"
    else
      log "update: no package with a layer of its kind ($kind) of the java17 application has an older version in $release main; skipped"
    fi
  }
  if "$distill" lock "$app/app.yaml" --cache-dir "$d/cache" --progress none -o "$u/lock.json" &&
    curl -fsS --max-time 120 "$main_url/dists/$release/main/binary-$arch/Packages.xz" |
    xz -dc >"$u/Packages"; then
    bench_update update1 own
    bench_update update1g grouped
  else
    log "update: no lock or Packages file for the java17 application; skipped"
  fi
fi

# --- a registry: pushing java17, and a cold build from a shared layer cache -----------
# A docker-registry on 127.0.0.1 (stopped by its PID). The push: distill copy and
# skopeo copy of the same java17 layout into an emptied registry (its storage is
# removed before each run), then a repeat push that must upload no blob bytes.
# The layer cache: java17's layers exported with --cache-to, then cold builds on
# an empty local cache with --cache-from, against java17's cold build above.
d="$work/java17"
if [ -f "$d/oci/index.json" ] && command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then
  reg="$work/registry"
  mkdir -p "$reg"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$reg/storage" "$port" >"$reg/config.yml"
  docker-registry serve "$reg/config.yml" >"$reg/log" 2>&1 &
  registry_pid=$!
  # Under `set -e` a failing command ends a trap: `|| true`, or the scratch
  # directory stays behind and the bench exits 1 (as it did until session 13).
  trap 'kill "$registry_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
  for _ in $(seq 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null && break
    sleep 0.05
  done
  dest="docker://127.0.0.1:$port/bench/java17:1"
  empty="rm -rf $reg/storage/docker"
  log "java17: push to a local registry, distill copy and skopeo copy, $runs runs each"
  put push.distill.s "$(hyperfine_median push_distill "$empty" "$distill copy oci:$d/oci:java17 $dest --progress none")"
  put push.skopeo.s "$(hyperfine_median push_skopeo "$empty" "skopeo copy --quiet --dest-tls-verify=false oci:$d/oci:java17 $dest")"
  put push.mb "$(layers_mb "$d/oci")"
  if "$distill" copy "oci:$d/oci:java17" "$dest" >"$reg/repeat.out" 2>&1; then
    put push.repeat.bytes "$(sed -n 's/.* \([0-9]*\) bytes uploaded.*/\1/p' "$reg/repeat.out" | tail -n 1)"
  fi
  cache_ref="docker://127.0.0.1:$port/bench/cache"
  if "$distill" build java17 --cache-dir "$d/cache" -o "oci:$reg/export:java17" --progress none \
    --cache-to "$cache_ref" 2>"$reg/export.err"; then
    c="$reg/cold-cache"
    log "java17: cold build (empty cache) with --cache-from, $cold_runs runs"
    times=()
    same=yes
    for ((i = 0; i < cold_runs; i++)); do
      rm -rf "$c" "$reg/from"
      if timed "$reg/from" "$distill" build java17 --cache-dir "$c" -o "oci:$reg/from:java17" \
        --progress none --cache-from "$cache_ref"; then
        times+=("$TIMED_S")
        [ "$(ref_digest "$reg/from" java17)" = "$(ref_digest "$reg/export" java17)" ] || same=no
        grep -q warning "$reg/from.stderr" && same="no ($(head -n 1 "$reg/from.stderr"))"
      fi
    done
    if [ ${#times[@]} -eq "$cold_runs" ]; then
      put cachefrom.distill.s "$(median "${times[@]}")"
      put cachefrom.distill.runs "$(IFS=,; echo "${times[*]}")"
      put cachefrom.same_digest "$same"
    fi
  else
    log "java17: --cache-to failed: $(tail -n 2 "$reg/export.err")"
  fi
  kill "$registry_pid" 2>/dev/null || true
  wait "$registry_pid" 2>/dev/null || true
  trap 'rm -rf "$work"' EXIT
fi

# --- the matrix: every flavor and variant in one command ------------------------------
# distill builds distroless's whole amd64 matrix (7 flavors x 4 variants = 28 images)
# in one process, sharing resolutions, downloads and layers; the peer builds the 7
# flavors one after another (it has no variants: a variant is a config change on top).
# bench_matrix KEY RELEASE SOURCES_DIR_OR_- FLAVOR...: results under KEY.*; the peer
# takes the host's apt source files for bookworm, the trixie ones derived from them.
bench_matrix() {
  local key=$1 rel=$2 sources=$3
  shift 3
  local all=("$@") peer_sources=("${source_files[@]}")
  if [ "$sources" != - ]; then
    peer_sources=("$sources"/*)
  fi
  local m="$work/$key"
  mkdir -p "$m"
  local matrix=("$distill" build "${all[@]}" --release "$rel" --variant all --cache-dir "$m/cache"
    -o "oci:$m/out/{name}-{debian}:{variant}" --progress none)
  log "$key: distill cold build of ${#all[@]} flavors x 4 variants ($rel)"
  if timed "$m/cold" "${matrix[@]}"; then
    put "$key.cold.distill.s" "$TIMED_S"
    put "$key.cold.distill.kb" "$TIMED_KB"
    local empty_layers="rm -rf $m/cache/layers $m/cache/blobs $m/out"
    log "$key: distill warm builds (layer cache emptied), $runs runs"
    put "$key.warm.distill.s" "$(hyperfine_median "$key-warm" "$empty_layers" "${matrix[*]}")"
    $empty_layers
    if timed "$m/warm_rss" "${matrix[@]}"; then put "$key.warm.distill.kb" "$TIMED_KB"; fi
    log "$key: no-op rebuilds, $runs runs"
    put "$key.noop.distill.s" "$(hyperfine_median "$key-noop" true "${matrix[*]}")"
    if timed "$m/noop_rss" "${matrix[@]}"; then put "$key.noop.distill.kb" "$TIMED_KB"; fi
  else
    log "$key: distill failed: $(tail -n 2 "$m/cold.stderr")"
    put "$key.cold.distill.s" FAIL
  fi
  log "$key: peer cold builds of the ${#all[@]} flavors, one after another"
  local peer_total=0 flavor p mm_s
  for flavor in "${all[@]}"; do
    p="$m/peer-$flavor"
    mkdir -p "$p"
    if ! "$distill" lock "$flavor" --release "$rel" -o "$p/lock.json" --cache-dir "$m/cache" \
      --progress none >/dev/null 2>&1; then
      peer_total=FAIL
      break
    fi
    python3 "$here/lock_to_peer.py" "$p/lock.json" "$arch" "$p/include.txt" "$p/fake.status" >/dev/null
    if ! timed "$p/mmdebstrap" mmdebstrap --variant=extract --include="$(cat "$p/include.txt")" \
      --setup-hook="cat '$p/fake.status' >> \"\$1/var/lib/dpkg/status\"" \
      "$rel" "$p/rootfs" "${peer_sources[@]}"; then
      peer_total=FAIL
      break
    fi
    mm_s=$TIMED_S
    : >"$p/rootfs/var/lib/dpkg/status"
    # shellcheck disable=SC2016 # $1..$3 are the inner shell's arguments
    if ! timed "$p/umoci" sh -c 'umoci init --layout "$1" &&
        umoci new --image "$1:$2" && umoci insert --image "$1:$2" "$3" /' \
      umoci "$p/oci" "$flavor" "$p/rootfs"; then
      peer_total=FAIL
      break
    fi
    peer_total=$(python3 -c "print('%.2f' % ($peer_total + $mm_s + $TIMED_S))")
    rm -rf "$p/rootfs" "$p/oci"
  done
  put "$key.cold.peer.s" "$peer_total"
}

if [ "${BENCH_MATRIX:-1}" = 1 ]; then
  bench_matrix matrix bookworm - static base-nossl base cc python3 nodejs java17
  # Debian 13, where the mirror carries it: the host's source files with the
  # suites renamed, as distill derives them.
  trixie_url=${mirror_urls[0]%/}/dists/trixie/InRelease
  if curl -fsS -o /dev/null --max-time 20 "$trixie_url" 2>/dev/null; then
    mkdir -p "$work/trixie-sources"
    for f in "${source_files[@]}"; do
      sed "s/\bbookworm/trixie/g" "$f" >"$work/trixie-sources/$(basename "$f")"
    done
    bench_matrix matrix13 trixie "$work/trixie-sources" static base-nossl base cc python3 nodejs java21
  else
    log "matrix13: skipped: the mirror does not carry trixie ($trixie_url)"
  fi
fi

mkdir -p "$(dirname "$out_json")"
python3 "$here/report.py" "$results" "$out_json" "${flavors[@]}"
log "results written to $out_json"
