#!/usr/bin/env python3
# Prints, one per line, the packages of OCI layout LAYOUT's image (its first
# manifest) that have a layer of their own (MODE "own") or share their layer
# with other packages (MODE "grouped"), from distill's layer annotations.
# Used by bench/run.sh to pick the package `update` brings forward.
#
# usage: layer_packages.py LAYOUT own|grouped
import sys

from oci_layout import first_manifest


root, mode = sys.argv[1], sys.argv[2]
for layer in first_manifest(root)["layers"]:
    listed = layer.get("annotations", {}).get("dev.distill.layer.packages", "")
    names = [p.split("=", 1)[0] for p in listed.split(",") if p]
    if (mode == "own" and len(names) == 1) or (mode == "grouped" and len(names) > 1):
        print("\n".join(names))
