#!/usr/bin/env python3
# Prints "yes" when the image of OCI layout APP (its first manifest) is the image
# of layout BASE plus exactly one layer on top, with BASE's layers byte for byte
# (same digests), else "NO". Used by bench/run.sh for the application-layer figure.
#
# usage: layers_reused.py BASE_LAYOUT APP_LAYOUT
import json
import os
import sys


def layers(root):
    def blob(digest):
        return os.path.join(root, "blobs", *digest.split(":"))

    with open(os.path.join(root, "index.json")) as f:
        desc = json.load(f)["manifests"][0]
    with open(blob(desc["digest"])) as f:
        doc = json.load(f)
    while "manifests" in doc:
        with open(blob(doc["manifests"][0]["digest"])) as f:
            doc = json.load(f)
    return [layer["digest"] for layer in doc["layers"]]


base, app = layers(sys.argv[1]), layers(sys.argv[2])
print("yes" if app[: len(base)] == base and len(app) == len(base) + 1 else "NO")
