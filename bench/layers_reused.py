#!/usr/bin/env python3
# Prints "yes" when the image of OCI layout APP (its first manifest) is the image
# of layout BASE plus exactly one layer on top, with BASE's layers byte for byte
# (same digests), else "NO". Used by bench/run.sh for the application-layer figure.
#
# usage: layers_reused.py BASE_LAYOUT APP_LAYOUT
import sys

from oci_layout import first_manifest


def layers(root):
    return [layer["digest"] for layer in first_manifest(root)["layers"]]


base, app = layers(sys.argv[1]), layers(sys.argv[2])
print("yes" if app[: len(base)] == base and len(app) == len(base) + 1 else "NO")
