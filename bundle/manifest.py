"""``bundle.json``: the format version, and the digest checks that pin every file of a bundle.

A manifest is trusted only after its ``formatVersion`` is this one, its ``digest`` matches the
canonical manifest without it, and each listed file matches its sha256.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from agentflow.bundle.canonical import canonical_json, sha256_digest

FORMAT_VERSION = "agentflow.bundle/v1"
MANIFEST = "bundle.json"


class BundleReadError(ValueError):
    """Not a bundle this compiler can read; the message says why."""


def verified_manifest(files: Mapping[str, bytes], label: str) -> dict[str, Any]:
    """The manifest, once its format, its digest and every file's sha256 check out."""
    if MANIFEST not in files:
        raise BundleReadError(f"{label}: not a bundle (no {MANIFEST})")
    manifest = read_json(files[MANIFEST], label, MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("formatVersion") != FORMAT_VERSION:
        found = manifest.get("formatVersion") if isinstance(manifest, dict) else None
        raise BundleReadError(
            f"{label}: a bundle of format {found!r}; this af reads {FORMAT_VERSION}"
        )
    body = {k: v for k, v in manifest.items() if k != "digest"}
    if sha256_digest(canonical_json(body)) != manifest.get("digest"):
        raise BundleReadError(f"{label}: {MANIFEST} does not match its digest (edited?)")
    listed = manifest.get("files")
    if not isinstance(listed, dict) or set(listed) != set(files) - {MANIFEST}:
        raise BundleReadError(f"{label}: its files are not the ones {MANIFEST} lists")
    for name, digest in listed.items():
        if "sha256:" + hashlib.sha256(files[name]).hexdigest() != digest:
            raise BundleReadError(f"{label}: {name} does not match its digest (edited?)")
    return manifest


def read_json(data: bytes, label: str, name: str) -> Any:
    try:
        return json.loads(data)
    except ValueError as error:
        raise BundleReadError(f"{label}: {name} is not JSON ({error})") from None
