#!/usr/bin/env python3
# Formats the figures bench/run.sh collected (one "KEY VALUE" per line) as the one
# Markdown table `make bench` prints, and writes them as JSON. Layout of the table
# and the meaning of every row: docs/benchmarks.md.
#
# usage: report.py RESULTS.txt OUT.json FLAVOR...
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys


def load(path):
    values = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.strip().partition(" ")
            if key:
                values[key] = value
    return values


def number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def fmt_s(value):
    v = number(value)
    if v is None:
        return value or "—"
    return "%.2f s" % v if v >= 0.995 else "%.3f s" % v


def fmt_kb(value):
    v = number(value)
    return "%.0f MB" % (v / 1024) if v is not None else (value or "—")


def fmt_mb(value):
    v = number(value)
    return "%.1f MB" % v if v is not None else (value or "—")


def fmt_cpu(value):
    v = number(value)
    return "%.3f" % v if v is not None else (value or "—")


def fmt_pct(value):
    v = number(value)
    return "%.1f%%" % (100 * v) if v is not None else (value or "—")


def ratio(a, b):
    x, y = number(a), number(b)
    if x is None or y is None or y == 0:
        return "—"
    return "%.2f×" % (x / y)


def median(values):
    xs = sorted(v for v in (number(x) for x in values) if v is not None)
    return xs[(len(xs) - 1) // 2] if xs else None


def warm_floor(r, flavor):
    """(decode, deflate level 6, deflate level 1, sha256, cores) of a flavor's
    warm-build CPU floor, or None when the bench did not measure it."""
    parts = [number(r.get(f"{flavor}.floor.{k}")) for k in
             ("decode.cpu", "deflate6.cpu", "deflate1.cpu", "sha256.cpu", "nproc")]
    if parts[3] is None:
        parts[3] = 0.0  # a results file from before SHA-256 was measured
    return None if None in parts else tuple(parts)


def command_version(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
        return out.strip().splitlines()[0] if out.strip() else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    here = os.path.dirname(os.path.abspath(__file__))
    commit = command_version(["git", "-C", here, "rev-parse", "--short", "HEAD"])
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "load_1min": "%.1f" % os.getloadavg()[0],
        "distill_commit": commit,
        "mmdebstrap": command_version(["mmdebstrap", "--version"]),
        "umoci": command_version(["umoci", "--version"]).replace("umoci version ", ""),
    }


def main():
    results_path, out_path, flavors = sys.argv[1], sys.argv[2], sys.argv[3:]
    r = load(results_path)
    rows = []
    for flavor in flavors:
        n = r.get(f"{flavor}.packages", "?")
        peer_s = r.get(f"{flavor}.cold.peer.s")
        peer_cell = fmt_s(peer_s)
        if f"{flavor}.cold.peer.mmdebstrap.s" in r:
            peer_cell += " (mmdebstrap %s + umoci %s)" % (
                fmt_s(r[f"{flavor}.cold.peer.mmdebstrap.s"]),
                fmt_s(r[f"{flavor}.cold.peer.umoci.s"]),
            )
        d_s = r.get(f"{flavor}.cold.distill.s")
        d_cell = fmt_s(d_s)
        runs = {side: r.get(f"{flavor}.cold.{side}.runs", "") for side in ("distill", "peer")}
        count = len(runs["distill"].split(",")) if runs["distill"] else 1
        if count > 1:
            d_cell += " (runs: %s)" % ", ".join(fmt_s(x) for x in runs["distill"].split(","))
        if runs["peer"] and len(runs["peer"].split(",")) > 1:
            peer_cell += "; runs: %s" % ", ".join(fmt_s(x) for x in runs["peer"].split(","))
        peer_n = r.get(f"{flavor}.peer.packages")
        if peer_n is not None:
            peer_cell += f"; {peer_n} packages"
        what = "median of %d" % count if count > 1 else "one run"
        # java17's warm floor alone is above a third of the peer: its target is 0.45×.
        cold_target = "≤ 0.45×" if flavor == "java17" else "≤ 0.33× (3× faster)"
        rows.append((f"{flavor}: cold build, empty cache, {what} ({n} packages)", d_cell, peer_cell,
                     ratio(d_s, peer_s), cold_target))
        d_kb, p_kb = r.get(f"{flavor}.cold.distill.kb"), r.get(f"{flavor}.cold.peer.kb")
        rows.append((f"{flavor}: peak RSS, cold build", fmt_kb(d_kb), fmt_kb(p_kb),
                     ratio(d_kb, p_kb), "< 150 MB"))
        d_mb, p_mb = r.get(f"{flavor}.image.distill.mb"), r.get(f"{flavor}.image.peer.mb")
        rows.append((f"{flavor}: image layers, compressed", fmt_mb(d_mb), fmt_mb(p_mb),
                     ratio(d_mb, p_mb), "—"))
    warm_targets = {"base": "0.3 s", "java17": "1.5 s"}
    for flavor in flavors:
        for key, label, fmt, target in [
            (f"{flavor}.warm.distill.s", f"{flavor}: warm build (.debs cached, layer cache emptied)",
             fmt_s, warm_targets.get(flavor, "—")),
            (f"{flavor}.warm.distill.kb", f"{flavor}: peak RSS, warm build", fmt_kb, "< 150 MB"),
        ]:
            if key in r:
                rows.append((label, fmt(r[key]), "n/a (no cache)", "—", target))
        floor = warm_floor(r, flavor)
        if floor is not None:
            decode, d6, d1, sha, cores = floor
            floors = r.get(f"{flavor}.floor.rounds")
            alones = r.get(f"{flavor}.floor.alone.rounds")
            at = median(floors.split(",")) if floors else (decode + d6 + sha) / cores
            if alones is None:  # a results file from before session 15: parts measured alone
                label = (f"{flavor}: CPU floor of a warm build on {cores:.0f} cores: xz decode "
                         f"{decode:.2f} + deflate {d6:.2f} + SHA-256 {sha:.2f} CPU-s "
                         f"(at gzip level 1: deflate {d1:.2f})")
                cell = "%s (level 1: %s)" % (fmt_s(at), fmt_s((decode + d1 + sha) / cores))
            else:
                totals = r.get(f"{flavor}.floor.cpu_totals.rounds", "")
                label = (f"{flavor}: CPU floor of a warm build, the work split over {cores:.0f} CPUs "
                         f"busy at once: per CPU, xz decode {decode:.2f} + deflate {d6:.2f} + "
                         f"SHA-256 {sha:.2f} CPU-s (each CPU's total per round: "
                         f"{totals.replace(',', ' and ').replace(';', '; ')}); in brackets the "
                         f"same parts measured with one CPU busy, over {cores:.0f}, and deflate at "
                         f"level 1 ({d1:.2f} CPU-s alone)")
                cell = "%s (one CPU busy: %s)" % (fmt_s(at), fmt_s(median(alones.split(","))))
            rows.append((label, cell, "n/a", "—", warm_targets.get(flavor, "—")))
            for kind, what in [("warm", "warm build"), ("lock", "warm build with --lock")]:
                rounds = r.get(f"{flavor}.floor.{kind}.rounds")
                if rounds is None or floors is None:
                    continue
                times, ats = rounds.split(","), floors.split(",")
                x = number(r.get(f"{flavor}.floor.{kind}.ratio"))
                rows.append((f"{flavor}: {what} against its CPU floor, measured in turn in 3 "
                             "rounds (medians; a round's floor is the median of three "
                             "measurements; the floor in the peer's column; the ratio is the "
                             "median of the rounds' ratios)",
                             "%s (rounds: %s)" % (fmt_s(median(times)),
                                                  ", ".join(fmt_s(t) for t in times)),
                             "%s (rounds: %s)" % (fmt_s(median(ats)),
                                                  ", ".join(fmt_s(t) for t in ats)),
                             "%.2f×" % x if x is not None else "—", "≤ 1.1×"))
                cpus = r.get(f"{flavor}.floor.{kind}.cpu.rounds", "")
                busy = r.get(f"{flavor}.floor.{kind}.busy.rounds", "")
                totals = r.get(f"{flavor}.floor.cpu_totals.rounds", "")
                if cpus and busy and "FAIL" not in cpus + busy and totals:
                    work = [statistics.mean(float(x) for x in t.split(","))
                            for t in totals.split(";")]
                    # The median of the rounds' ratios, each against its own floor.
                    z = statistics.median(float(c) / w for c, w in zip(cpus.split(","), work))
                    rows.append((f"{flavor}: where the {what}'s time goes beyond the floor: its "
                                 "CPU (hyperfine's mean user + system per run) against the "
                                 "floor's work (one CPU's decode + deflate + SHA-256, the mean "
                                 "over the CPUs), and the share of the CPUs it kept busy (CPU over "
                                 "CPUs × mean wall); the wall ratio is about the CPU ratio over "
                                 "the busy share. For reading the ratio above, no target",
                                 "%s CPU-s, CPUs %s busy (rounds: %s)" % (
                                     fmt_cpu(median(cpus.split(","))),
                                     fmt_pct(median(busy.split(","))),
                                     ", ".join(f"{fmt_cpu(c)} / {fmt_pct(b)}" for c, b in
                                               zip(cpus.split(","), busy.split(",")))),
                                 "%s CPU-s of work (rounds: %s)" % (
                                     fmt_cpu(median(work)),
                                     ", ".join(fmt_cpu(w) for w in work)),
                                 "%.2f×" % z, "—"))
                y = number(r.get(f"{flavor}.floor.{kind}.alone_ratio"))
                if alones is not None and y is not None:
                    rows.append((f"{flavor}: {what} against the floor's parts measured with one "
                                 "CPU busy, over the CPUs (the floor until session 15; for "
                                 "comparison)", fmt_s(median(times)),
                                 "%s (rounds: %s)" % (fmt_s(median(alones.split(","))),
                                                      ", ".join(fmt_s(t) for t in alones.split(","))),
                                 "%.2f×" % y, "—"))
            debs_sha = number(r.get(f"{flavor}.floor.cold_debs_sha.cpu"))
            index = number(r.get(f"{flavor}.floor.cold_index.cpu"))
            download = number(r.get(f"{flavor}.floor.cold_index_download.s"))
            cold = r.get(f"{flavor}.cold.distill.s")
            if None not in (debs_sha, index, download) and number(cold) is not None:
                phase = max(download, index / cores)
                at = phase + at + debs_sha / cores
                rows.append((f"{flavor}: cold build against its floor: the index phase (downloading "
                             f"the indices {download:.2f} s; hashing and inflating them "
                             f"{index:.2f} CPU-s), then the warm floor's work + {debs_sha:.2f} "
                             "CPU-s of SHA-256 of the .debs (the floor in the peer's column)",
                             fmt_s(cold), fmt_s(at), ratio(cold, at),
                             "≤ 1.1× where the floor is above the peer target"))
    first = flavors[0]
    warm_rows = [
        ("warm_lock.distill.s", f"{first}: warm build, same, with --lock", fmt_s,
         "0.3 s" if first == "base" else "—"),
        ("noop.distill.s", f"{first}: rebuild, nothing changed (full cache)", fmt_s, "0.05 s"),
        ("noop_lock.distill.s", f"{first}: rebuild, nothing changed, with --lock", fmt_s, "0.05 s"),
        ("noop.distill.kb", f"{first}: peak RSS, rebuild", fmt_kb, "< 150 MB"),
        ("noop_lock.distill.kb", f"{first}: peak RSS, rebuild with --lock", fmt_kb, "< 150 MB"),
        ("app50.distill.s", "java17 + a new 50 MB application layer (java17 cached)", fmt_s,
         "0.5 s"),
        ("app50.distill.kb", "peak RSS, java17 + 50 MB application layer", fmt_kb, "< 150 MB"),
        ("app50.reused", "java17's layers reused byte for byte under the application", str,
         "yes"),
        ("update1.distill.s", "java17 application: `update` of one package in a layer of its "
         "own (new .deb cached)", fmt_s, "1 s"),
        ("update1.package", "the package updated (name, old, new version)", str, "—"),
        ("update1.same_as_refresh", "`update` gives the digest of `build --refresh`", str, "yes"),
        ("update1g.distill.s", "java17 application: `update` of one package in a grouped layer "
         "(new .deb cached)", fmt_s, "1 s"),
        ("update1g.package", "the package updated (name, old, new version)", str, "—"),
        ("update1g.same_as_refresh", "`update` gives the digest of `build --refresh`", str,
         "yes"),
    ]
    for key, label, fmt, target in warm_rows:
        if key in r:
            rows.append((label, fmt(r[key]), "n/a (no cache)", "—", target))
    if "push.distill.s" in r:
        d_s, p_s = r.get("push.distill.s"), r.get("push.skopeo.s")
        rows.append((f"java17 ({r.get('push.mb', '?')} MB of layers): push of the OCI layout to "
                     "an empty local registry; peer: `skopeo copy`", fmt_s(d_s), fmt_s(p_s),
                     ratio(d_s, p_s), "≤ 0.67× (1.5× faster)"))
    if "push.repeat.bytes" in r:
        rows.append(("java17: the same push again, blob bytes uploaded",
                     r["push.repeat.bytes"], "n/a", "—", "0"))
    if "cachefrom.distill.s" in r:
        d_s, c_s = r.get("cachefrom.distill.s"), r.get("java17.cold.distill.s")
        runs_cell = ", ".join(fmt_s(x) for x in r.get("cachefrom.distill.runs", "").split(",") if x)
        rows.append(("java17: cold build (empty cache) with `--cache-from` a registry holding its "
                     f"layers (runs: {runs_cell}); compared with: the cold build above",
                     fmt_s(d_s), fmt_s(c_s), ratio(d_s, c_s), "≤ 0.5×"))
        rows.append(("java17: `--cache-from` build gives the digest of the exporting build",
                     r.get("cachefrom.same_digest", "?"), "n/a", "—", "yes"))
    for key, release in (("matrix", "Debian 12"), ("matrix13", "Debian 13")):
        if f"{key}.cold.distill.s" not in r:
            continue
        d_s, p_s = r.get(f"{key}.cold.distill.s"), r.get(f"{key}.cold.peer.s")
        rows.append((f"{key} ({release}): 7 flavors × 4 variants (28 images), cold, one command; "
                     "peer: the 7 flavors one after another", fmt_s(d_s), fmt_s(p_s),
                     ratio(d_s, p_s), "≤ 0.25×"))
        for suffix, label, fmt, target in [
            ("warm.distill.s", "warm (.debs cached, layer cache emptied)", fmt_s, "—"),
            ("noop.distill.s", "rebuild, nothing changed", fmt_s, "0.3 s"),
            ("cold.distill.kb", "peak RSS, cold", fmt_kb, "< 150 MB"),
            ("warm.distill.kb", "peak RSS, warm", fmt_kb, "< 150 MB"),
            ("noop.distill.kb", "peak RSS, rebuild", fmt_kb, "< 150 MB"),
        ]:
            if f"{key}.{suffix}" in r:
                rows.append((f"{key} ({release}): {label}", fmt(r[f"{key}.{suffix}"]),
                             "n/a (no cache)", "—", target))

    m = machine()
    print(f"distill vs mmdebstrap+umoci — {m['date']}, nproc={m['nproc']} ({m['cpu']}), "
          f"load {m['load_1min']}, kernel {m['kernel']}, checkout {m['distill_commit']}, "
          f"{m['mmdebstrap']}, umoci {m['umoci']}")
    print()
    print("| what | distill | peer (mmdebstrap+umoci) | ratio | target |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    print("ratio = distill / peer (below 1× means distill is faster or smaller); "
          "times are wall-clock seconds, warm figures are hyperfine medians.")

    with open(out_path + ".tmp", "w") as f:
        json.dump({"machine": m, "flavors": flavors, "results": r}, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(out_path + ".tmp", out_path)


if __name__ == "__main__":
    main()
