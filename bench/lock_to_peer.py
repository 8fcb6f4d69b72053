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
import sys


def names_of(field):
    """Yields the list of alternative package names of each clause of a relation field."""
    for clause in (field or "").split(","):
        alts = []
        for alt in clause.split("|"):
            alt = re.sub(r"\(.*?\)|\[.*?\]|<.*?>", "", alt).strip()
            alt = alt.split(":")[0]
            if alt:
                alts.append(alt)
        if alts:
            yield alts


def main():
    lock_path, arch, include_out, status_out = sys.argv[1:5]
    with open(lock_path) as f:
        lock = json.load(f)
    packages = lock["packages"].get(arch)
    if not packages:
        sys.exit(f"{lock_path}: no packages for architecture {arch}")
    have = {p["name"] for p in packages}
    for p in packages:
        for alts in names_of(p.get("provides")):
            have.update(alts)
    missing = set()
    for p in packages:
        for field in ("pre_depends", "depends"):
            for alts in names_of(p.get(field)):
                if not any(a in have for a in alts):
                    missing.update(alts)
    with open(include_out, "w") as f:
        f.write(",".join(f"{p['name']}={p['version']}" for p in packages) + "\n")
    with open(status_out, "w") as f:
        for name in sorted(missing):
            f.write(
                f"Package: {name}\nStatus: install ok installed\nVersion: 99\n"
                "Architecture: all\nMaintainer: bench <bench@localhost>\n"
                "Description: placeholder for a dependency distill does not install\n\n"
            )
    print(len(packages))


if __name__ == "__main__":
    main()
