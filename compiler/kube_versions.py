"""Kubernetes versions platformc can validate against: those kubernetes-validate bundles schemas for.

A leaf module, so the spec checks can refuse an unsupported version without importing the
validate stage that comes after them.
"""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from pathlib import Path

_DIR_RE = re.compile(r"^v(\d+)\.(\d+)\.0-local-strict$")


@cache
def schema_root() -> Path:
    """Folder `kubernetes-json-schema` inside the installed kubernetes-validate package.

    Located with find_spec so that we do not import kubernetes_validate (and its
    dependencies) just to find data files.
    """
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or spec.origin is None:
        raise RuntimeError("kubernetes-validate is not installed; it provides the Kubernetes schemas")
    return Path(spec.origin).parent / "kubernetes-json-schema"


@cache
def supported_versions() -> tuple[str, ...]:
    """Kubernetes minor versions ("1.33", "1.34", ...) with strict bundled schemas, ascending."""
    found: list[tuple[int, int]] = []
    root = schema_root()
    if root.is_dir():
        for entry in root.iterdir():
            m = _DIR_RE.match(entry.name)
            if m and (entry / "_definitions.json").is_file():
                found.append((int(m.group(1)), int(m.group(2))))
    return tuple(f"{major}.{minor}" for major, minor in sorted(found))
