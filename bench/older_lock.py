#!/usr/bin/env python3
"""older_lock.py LOCK PACKAGES URL OUT [NAMES]: a copy of LOCK with one package set back.

PACKAGES is the Packages file of the release's main suite (the point release)
at the archive URL; NAMES, when given, a file of the package names to choose
from (one a line).
Of the locked packages whose version there is older than the locked one (an
update from -updates or -security), the smallest is set back to that older
version (filename, sha256, size, relationships), so that `distill update`
has exactly one package to bring forward. Prints the package's name and both
versions; exits 1 when no package has an older version.
"""
import json
import sys


def stanzas(text):
    for block in text.split("\n\n"):
        fields, key = {}, None
        for line in block.split("\n"):
            if line[:1] in (" ", "\t") and key:
                fields[key] += "\n" + line
            elif ":" in line:
                key, value = line.split(":", 1)
                fields[key] = value.strip()
        if "Package" in fields:
            yield fields


def main():
    lock_path, packages_path, url, out_path = sys.argv[1:5]
    eligible = None
    if len(sys.argv) > 5:
        eligible = set(open(sys.argv[5]).read().split())
    lock = json.load(open(lock_path))
    older = {}
    for s in stanzas(open(packages_path, encoding="utf-8", errors="replace").read()):
        older.setdefault(s["Package"], []).append(s)
    candidates = []
    for arch, entries in lock["packages"].items():
        for p in entries:
            if eligible is not None and p["name"] not in eligible:
                continue
            for s in older.get(p["name"], []):
                if s.get("Version") != p["version"] and s.get("Architecture") in (arch, "all"):
                    candidates.append((p["size"], p["name"], p, s))
    if not candidates:
        sys.exit(1)
    _, name, p, s = min(candidates, key=lambda c: (c[0], c[1]))
    new_version = p["version"]
    p["version"] = s["Version"]
    p["filename"] = s["Filename"]
    p["sha256"] = s["SHA256"]
    p["size"] = int(s["Size"])
    p["repo_url"] = url.rstrip("/")
    for key, field in (("depends", "Depends"), ("pre_depends", "Pre-Depends"),
                       ("provides", "Provides"), ("multi_arch", "Multi-Arch")):
        if s.get(field):
            p[key] = s[field]
        else:
            p.pop(key, None)
    json.dump(lock, open(out_path, "w"), indent=2, sort_keys=True)
    print(name, s["Version"], new_version)


if __name__ == "__main__":
    main()
