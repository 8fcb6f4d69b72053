#!/usr/bin/env python3
# Turns a distill lock file into the inputs of the peer pipeline (mmdebstrap
# --variant=extract): the exact package list as NAME=VERSION for --include, and a
# dpkg status snippet that marks every dependency distill does not install (its
# spec's `exclude`, e.g. debconf, openssl, awk) as already installed, so apt
# downloads and extracts exactly the same package set as distill. Lock format:
# see `distill lock` (packages.<arch>[] with name, version, depends, pre_depends,
# provides). Dependency syntax: Debian Policy 7.1.
#
# usage: lock_to_peer.py LOCK.json ARCH INCLUDE_OUT STATUS_OUT
import json
import re
import subprocess
import sys


RELATION = re.compile(r"^\s*([^\s:(\[<]+)(?::\S+)?\s*(?:\(\s*(<<|<=|=|>=|>>|<|>)\s*([^)\s]+)\s*\))?")


def clauses_of(field):
    """Yields each clause of a relation field as a list of (name, op, version) alternatives."""
    for clause in (field or "").split(","):
        alts = []
        for alt in clause.split("|"):
            m = RELATION.match(alt)
            if m:
                alts.append((m.group(1), m.group(2), m.group(3)))
        if alts:
            yield alts


def version_cmp(a, op, b):
    """Debian version comparison, by dpkg itself (Debian Policy 5.6.12)."""
    return subprocess.run(["dpkg", "--compare-versions", a, op, b]).returncode == 0


def placeholder_version(constraints):
    """A version that satisfies every (op, version) constraint, if one is easy to find."""
    candidates = ["99"]
    for op, version in constraints:
        if op in ("=", ">=", "<=", ">", "<"):
            candidates.append(version)
        if op in (">>", ">"):
            candidates.append(version + "+bench")
        if op in ("<<", "<"):
            candidates.append("0~")
    for candidate in candidates:
        if all(version_cmp(candidate, op, version) for op, version in constraints):
            return candidate
    return candidates[-1]


def main():
    lock_path, arch, include_out, status_out = sys.argv[1:5]
    with open(lock_path) as f:
        lock = json.load(f)
    packages = lock["packages"].get(arch)
    if not packages:
        sys.exit(f"{lock_path}: no packages for architecture {arch}")
    have = {p["name"] for p in packages}
    for p in packages:
        for alts in clauses_of(p.get("provides")):
            have.update(name for name, _, _ in alts)
    missing = {}  # name -> [(op, version)]
    for p in packages:
        for field in ("pre_depends", "depends"):
            for alts in clauses_of(p.get(field)):
                if not any(name in have for name, _, _ in alts):
                    for name, op, version in alts:
                        constraints = missing.setdefault(name, [])
                        if op:
                            constraints.append((op, version))
    with open(include_out, "w") as f:
        f.write(",".join(f"{p['name']}={p['version']}" for p in packages) + "\n")
    with open(status_out, "w") as f:
        for name in sorted(missing):
            version = placeholder_version(missing[name])
            f.write(
                f"Package: {name}\nStatus: install ok installed\nVersion: {version}\n"
                f"Architecture: {arch}\nMulti-Arch: allowed\n"
                "Maintainer: bench <bench@localhost>\n"
                "Description: placeholder for a dependency distill does not install\n\n"
            )
    print(len(packages))


if __name__ == "__main__":
    main()
