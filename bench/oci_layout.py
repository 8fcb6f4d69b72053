"""Reading an OCI image layout, for the bench's helper scripts."""
import json
import os


def first_manifest(root):
    """The image manifest of a layout's first index.json entry (through any
    image indexes, their first entry each)."""

    def blob(digest):
        return os.path.join(root, "blobs", *digest.split(":"))

    with open(os.path.join(root, "index.json")) as f:
        desc = json.load(f)["manifests"][0]
    with open(blob(desc["digest"])) as f:
        doc = json.load(f)
    while "manifests" in doc:
        with open(blob(doc["manifests"][0]["digest"])) as f:
            doc = json.load(f)
    return doc
