"""Kubernetes versions this installation can validate against (kubernetes-validate's bundle)."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import kubernetes_validate

SCHEMA_ROOT = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"


@functools.cache
def supported_kubernetes_versions() -> tuple[str, ...]:
    found = []
    for entry in SCHEMA_ROOT.iterdir():
        match = re.fullmatch(r"v(1)\.(\d+)\.0-local-strict", entry.name)
        if match:
            found.append((int(match.group(1)), int(match.group(2))))
    return tuple(f"{a}.{b}" for a, b in sorted(found))
