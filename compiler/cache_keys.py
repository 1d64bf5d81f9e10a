"""What the compile cache keys on: the compiler itself, input folders by content, machine-local
caches by file stat. A leaf module with standard-library imports only, so a compile that finds
everything current never imports the compiler's heavy parts.

The cache lives in `.platformc-cache/` beside the chart and schema caches (compiler/cache_keys
owns `clusters/`, `objects/`, `spec/`, `trees/` and `runs/` there, compiler/validate/cache.py owns
`validate/`). PLATFORMC_NO_CACHE=1 (or `compile --no-cache`) turns it off; deleting the folder is
always safe.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import sys
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path

CACHE_ROOT = Path(".platformc-cache")
OWN_FOLDERS = ("clusters", "cluster-bases", "objects", "spec", "trees", "runs", "validate")
# Libraries whose behaviour shapes rendered bytes or findings.
_DISTRIBUTIONS = (
    "pyyaml",
    "ruamel.yaml",
    "pydantic",
    "pydantic-core",
    "jinja2",
    "kubernetes-validate",
    "jsonschema-rs",
    "jsonpatch",
    "json-merge-patch",
    "orjson",
    "ryaml",
    "promql-parser",
    "grafana-foundation-sdk",
    "cel-python",
    "detect-secrets",
)


def cache_root(enabled: bool = True) -> Path | None:
    """Where the compile cache lives, or None when it is turned off."""
    if not enabled or os.environ.get("PLATFORMC_NO_CACHE", "") not in ("", "0"):
        return None
    return CACHE_ROOT


def _hash_files(digest: hashlib._Hash, root: Path, paths: Iterable[Path]) -> None:
    for path in sorted(paths):
        digest.update(f"\0{path.relative_to(root).as_posix()}\0".encode())
        digest.update(path.read_bytes())


@functools.cache
def compiler_digest() -> str:
    """Every file of the compiler package (code, templates, tables, embedded schemas), the Python
    and the versions of the libraries that shape the output: any change invalidates every entry."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256(f"platformc-cache 1\0{sys.version}\0".encode())
    installed = _installed_versions()
    for name in _DISTRIBUTIONS:
        version = installed.get(_normalized(name))
        if version is None:
            try:
                version = metadata.version(name)
            except metadata.PackageNotFoundError:
                version = "-"
        digest.update(f"{name}={version}\0".encode())
    files = (
        Path(where, name)
        for where, dirs, names in os.walk(root)
        if "__pycache__" not in where
        for name in names
        if not name.endswith(".pyc")
    )
    _hash_files(digest, root, files)
    return digest.hexdigest()


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed_versions() -> dict[str, str]:
    """Version by normalized name, from the `<name>-<version>.dist-info` folders on sys.path (the
    first of a name wins, as imports resolve): one listing per path entry, where asking
    importlib.metadata for a dozen names scans every entry a dozen times (30 ms a compile)."""
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for folder in names:
            if folder.endswith(".dist-info"):
                name, _, version = folder[: -len(".dist-info")].rpartition("-")
                if name and version:
                    found.setdefault(_normalized(name), version)
    return found


def _walk(folder: Path) -> Iterable[tuple[str, Path, bool]]:
    """(relative path, path, is_link) of every file and link below folder, links not followed."""
    for where, dirs, files in os.walk(folder):
        links = [d for d in dirs if os.path.islink(os.path.join(where, d))]
        dirs[:] = sorted(d for d in dirs if d not in links)
        for name in sorted([*files, *links]):
            path = Path(where, name)
            yield path.relative_to(folder).as_posix(), path, path.is_symlink()


def content_digest(folders: Sequence[Path | None]) -> str:
    """Every file below the folders by relative path and bytes (a link by its target's name): the
    inputs a pull request can change (spec, overlays, templates)."""
    digest = hashlib.sha256()
    for folder in folders:
        # Where a folder is does not matter (diff reads its base from a temporary checkout).
        digest.update(b"\0folder\0")
        if folder is None:
            continue
        if folder.is_symlink():
            digest.update(os.readlink(folder).encode())
        elif folder.is_file():
            digest.update(folder.read_bytes())
        elif folder.is_dir():
            for rel, path, link in _walk(folder):
                digest.update(f"\0{rel}\0".encode())
                digest.update(os.readlink(path).encode() if link else path.read_bytes())
    return digest.hexdigest()


def stat_digest(paths: Sequence[Path | None]) -> str:
    """Files below the paths by relative path, size and modification time: machine-local caches
    (CRD schemas, chart archives, helm) that are large and change only by being replaced."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(f"\0path\0{path}\0".encode())
        if path is None or not path.exists():
            continue
        found = [(path.name, path, False)] if not path.is_dir() else _walk(path)
        for rel, file, _ in found:
            info = os.lstat(file)
            digest.update(f"{rel}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_ino}\0".encode())
    return digest.hexdigest()


def helm_binary() -> Path | None:
    """The helm that renders charts (PLATFORMC_HELM or PATH), part of a key when charts render."""
    found = os.environ.get("PLATFORMC_HELM") or shutil.which("helm")
    return Path(found) if found else None


def machine_caches(root: Path = CACHE_ROOT) -> list[Path]:
    """The `schemas pull` / `charts pull` caches in the cache folder (not the compile cache's own)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.name not in OWN_FOLDERS)
