"""Sealed cache of per-cluster validation results: `.platformc-cache/validate/`.

A cluster's findings are a pure function of its object files' bytes and paths, what its
platformc-cluster.json says, the schemas the registry serves, the options, and platformc itself
with the libraries that decide findings. The key is a SHA-256 over exactly those; an unchanged
cluster costs a directory walk and one small entry read instead of parsing YAML. A changed
cluster parses only its changed files: the plain documents of the others are kept per cluster
by file and content digest (a "parsed" entry), and its checks run again over all of them.

Content digests without rereading files, as git's index does: a stat record per tree folder maps
each file to (size, mtime_ns, ctime_ns, inode, digest). A file whose stat still matches keeps its
digest; any other is read and hashed again. Files modified within STAT_MARGIN_NS of the run are
not recorded, so an edit inside the same timestamp tick is never mistaken for no change.

Entries are sealed with an HMAC under a key outside the repository (compiler/sealed.py), so a
torn, flipped or planted entry (a pull request can commit files under `.platformc-cache/`) is a
miss and is recomputed, never trusted. Entries are plain data in marshal form (no pickle, no
code), read only after the seal checks. The compiler digest covers
every file of the compiler package, so an entry never outlives the platformc that wrote it.
Results are stored only when no schema file failed to load (those warnings depend on lookups
across clusters). Deleting the folder is always safe; PLATFORMC_NO_CACHE=1 turns it off.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from compiler.cache_keys import CACHE_ROOT, cache_root, compiler_digest
from compiler.sealed import seal, unseal

from .crd import SchemaSource
from .findings import Finding

FORMAT = "platformc-validate-cache 1"
DEFAULT_ROOT = CACHE_ROOT / "validate"
STAT_MARGIN_NS = 2_000_000_000

StatRecord = dict[str, list[Any]]  # relative path -> [size, mtime_ns, ctime_ns, inode, digest]


def cache_disabled() -> bool:
    return cache_root() is None


def walk_files(folder: str, prefix: str = "") -> Iterator[tuple[str, os.DirEntry[str]]]:
    """(prefix + path relative to folder, entry) of the files below `folder`, in os.walk's
    top-down order (a folder's files sorted, then its sorted subfolders), skipping hidden folders
    and never descending through a link. Plain strings: this runs once per file of a tree."""
    pending = [(folder, prefix)]
    while pending:
        here, rel = pending.pop()
        try:
            with os.scandir(here) as scan:
                entries = sorted(scan, key=_name)
        except OSError:
            continue
        subfolders = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if not is_dir:
                yield rel + entry.name, entry
            elif not entry.name.startswith(".") and not entry.is_symlink():
                subfolders.append((entry.path, f"{rel}{entry.name}/"))
        pending.extend(reversed(subfolders))


def _every_file(folder: str, prefix: str = "") -> Iterator[tuple[str, os.DirEntry[str]]]:
    """Every file and link below folder, in name order, links not followed."""
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=_name)
    except OSError:
        return
    for entry in entries:
        if not entry.is_symlink() and entry.is_dir():
            yield from _every_file(entry.path, f"{prefix}{entry.name}/")
        else:
            yield prefix + entry.name, entry


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


class Digests:
    """Content digests of files, by stat record when the stat matches (see the module docstring)."""

    def __init__(self, store: ValidationCache, scope: str) -> None:
        self._store = store
        self._name = "stat-" + hashlib.sha256(scope.encode()).hexdigest()
        self._old: StatRecord = store.read(self._name) or {}
        self._new: StatRecord = {}
        self._settled = time.time_ns() - STAT_MARGIN_NS  # older changes are recorded

    def of(self, rel: str, entry: os.DirEntry[str]) -> str | None:
        """The file's digest; "link" for a symbolic link (never read); None when unreadable."""
        if entry.is_symlink():
            return "link"
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            return None
        old = self._old.get(rel)
        if (
            old is not None
            and old[0] == st.st_size
            and old[1] == st.st_mtime_ns
            and old[2] == st.st_ctime_ns
            and old[3] == st.st_ino
        ):
            digest: str = old[4]
        else:
            try:
                with open(entry.path, "rb") as handle:
                    digest = hashlib.sha256(handle.read()).hexdigest()
            except OSError:
                return None
        if st.st_mtime_ns < self._settled and st.st_ctime_ns < self._settled:
            self._new[rel] = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, digest]
        return digest

    def save(self) -> None:
        if self._new != self._old:
            self._store.write(self._name, self._new)


class ValidationCache:
    """Sealed JSON entries in one folder; any failure to read is a miss, any failure to write is
    ignored (a cache that cannot be written only makes validation slower)."""

    def __init__(self, root: Path = DEFAULT_ROOT) -> None:
        self.root = root

    def read(self, name: str) -> Any:
        """The value stored under name, or None when missing, damaged or not sealed here."""
        try:
            body = unseal((self.root / name).read_bytes())
        except OSError:
            return None
        if body is None:
            return None
        try:
            # Only bytes this machine sealed reach marshal (the HMAC key is outside the repository),
            # and what was sealed is plain data: str, int, float, bool, None, lists and dicts.
            return marshal.loads(body)
        except (EOFError, ValueError, TypeError):
            return None

    def write(self, name: str, value: Any) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            temporary = self.root / f".{name}.{os.getpid()}.tmp"
            temporary.write_bytes(seal(marshal.dumps(value)))
            os.replace(temporary, self.root / name)
        except (OSError, ValueError):
            pass

    def digests(self, scope: str) -> Digests:
        return Digests(self, scope)

    def folder_key(self, folder: Path) -> str | None:
        """Digest of platformc and of every file below `folder` (hidden ones and links included,
        a link by name only); None when a file cannot be read."""
        digests = self.digests(f"folder\0{folder.resolve()}")
        parts = [compiler_digest()]
        for rel, entry in _every_file(str(folder)):
            content = digests.of(rel, entry)
            if content is None:
                return None
            parts.append(f"{rel}\0{content}")
        digests.save()
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def get(self, key: str) -> tuple[list[Finding], int] | None:
        """(findings, object count) stored under key, or None (missing, damaged or foreign)."""
        entry = self.read("result-" + key)
        try:
            if entry["format"] != FORMAT or entry["key"] != key:
                return None
            findings = [Finding(*row) for row in entry["findings"]]
            return findings, int(entry["objects"])
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, key: str, findings: Sequence[Finding], objects: int) -> None:
        rows = [
            [f.severity, f.check, f.file, f.kind, f.namespace, f.name, f.path, f.message, f.line, f.column]
            for f in findings
        ]
        self.write("result-" + key, {"format": FORMAT, "key": key, "objects": objects, "findings": rows})


def schema_digest(sources: Sequence[Any], cache: ValidationCache) -> str | None:
    """Digest of everything the registry's schema sources could serve; None for a source kind
    this module does not know (nothing is cached then)."""
    digest = hashlib.sha256()
    for source in sources:
        path = Path(source.path)
        if isinstance(source, SchemaSource):
            digest.update(f"\0source\0{path.resolve()}\0".encode())
            if path.is_file():
                digest.update(hashlib.sha256(path.read_bytes()).digest())
                continue
            files = cache.digests(f"schemas\0{path.resolve()}")
            for rel, entry in walk_files(str(path)):
                digest.update(f"{rel}\0{files.of(rel, entry)}\0".encode())
            files.save()
        elif isinstance(served := getattr(source, "served", None), list):
            digest.update(f"\0bundle\0{path}\0{json.dumps(served)}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        else:
            return None
    return digest.hexdigest()
