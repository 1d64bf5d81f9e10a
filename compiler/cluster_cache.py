"""Content-addressed cache of compiled clusters: `.platformc-cache/clusters/<key>`.

A cluster's rendered files are a pure function of its ClusterModel (its slice of the spec: the
platform, the cluster, its flavors, teams, serving paths and pins), its generated header, the
overlays folder (patches, objects and custom component templates), the chart cache and helm when
charts render, and the compiler itself (compiler/cache_keys.compiler_digest). The key is a SHA-256
of exactly those; a compile recomputes only clusters whose key has no entry. Findings also depend
on the CRD schemas, so an entry records the schemas it was validated against and a validated
compile takes only entries that match (`diff`, which does not validate, takes any entry).

An entry is a seal line, a JSON header line and the files' bytes. The seal (an HMAC under a key
kept outside the repository, compiler/sealed.py) covers the header, and the header holds each
file's size and digest (compiler/write.file_digest), so every byte is bound to the seal: a torn,
flipped or planted entry is noticed, dropped and recomputed, never emitted. `get` checks every
file; `index` reads the header alone, so `diff` compares two entries by their digests and reads
(and checks) only the files that differ. Header paths must also stay inside the cluster's folder.
Entries are plain data (no pickle), so a cache folder cannot run code. Deleting the folder is
always safe: the next compile refills it.

Most changes leave most of a cluster's files as they were, so an entry may be a delta: it holds
the bytes of the files its cluster's base entry (the last full entry stored for that cluster,
named in `cluster-bases/`) does not, and takes the others from the base by digest. A base is
always a full entry, so reading any entry reads at most two files; a delta whose base is gone or
damaged is a miss like any damaged entry. One team's change then stores a header and a few files
per cluster (~330 KB) instead of every file again (3.4 MB on the 20 x 100 x 200 platform).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import itertools
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel

from compiler.cluster_model import ClusterModel
from compiler.sealed import seal, unseal
from compiler.tree_contract import ClusterInfo, Tree
from compiler.validate.findings import Finding, Report
from compiler.write import file_digest

if TYPE_CHECKING:
    from compiler.core import CompiledCluster

FORMAT = "platformc-cluster-cache 3"
# A delta holds at most this share of its files (more: a full entry, the cluster's new base).
DELTA_AT_MOST = 0.5
BASES_FOLDER = "cluster-bases"  # by cluster: the key of its last full entry
_KEY = re.compile(r"[0-9a-f]{64}")


def _plain(value: Any, digests: dict[int, tuple[Any, str]]) -> Any:
    """A ClusterModel as JSON-able data; mapping order is kept (it may decide output order). Spec
    documents (pydantic models) become the digest of their JSON, computed once per compile: every
    cluster shares the platform and most teams, so each is serialised once, not once per cluster."""
    if isinstance(value, BaseModel):
        known = digests.get(id(value))
        if known is None or known[0] is not value:
            dumped = f"{type(value).__qualname__}\0{value.model_dump_json()}"  # pydantic-core's JSON
            known = (value, hashlib.sha256(dumped.encode()).hexdigest())
            digests[id(value)] = known  # the object is kept alive with its id, so ids are not reused
        return known[1]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _plain(getattr(value, f.name), digests) for f in dataclasses.fields(value)}
        return [type(value).__qualname__, fields]
    if isinstance(value, Mapping):
        return [[_plain(k, digests), _plain(v, digests)] for k, v in value.items()]
    if isinstance(value, list | tuple):
        return [_plain(v, digests) for v in value]
    return value


class ClusterCache:
    """Entries of compiled clusters under `root/clusters`, keyed by input digest. `inputs` names
    everything besides the cluster's model and header that its files depend on."""

    def __init__(self, root: Path, inputs: str) -> None:
        self.folder = root / "clusters"
        self._inputs = f"{FORMAT}\0{inputs}\0"
        self._digests: dict[int, tuple[Any, str]] = {}

    @classmethod
    def for_compile(cls, root: Path, overlays_dir: Path | None, charts_dir: Path | None) -> ClusterCache:
        """The cache as a compile with these overlays and this chart cache keys it (its other inputs:
        the compiler, and helm when charts render)."""
        from compiler.cache_keys import compiler_digest, content_digest, helm_binary, stat_digest

        rendered_with = stat_digest([charts_dir, helm_binary()]) if charts_dir is not None else "-"
        # Files do not depend on where the overlays are (diff compiles its base in a temporary
        # checkout); findings name overlay files, so where they are shown goes with the validation.
        return cls(root, "\0".join([compiler_digest(), content_digest([overlays_dir]), rendered_with]))

    def key(self, cluster: ClusterModel, header: str) -> str:
        model = json.dumps(_plain(cluster, self._digests), separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(f"{self._inputs}{header}\0{model}".encode()).hexdigest()

    def get(self, key: str, validation: str | None) -> CompiledCluster | None:
        """The entry of key, every file checked against its digest, or None when it is missing,
        damaged or validated differently (a validated compile needs a report made against the same
        schemas)."""
        found = self.get_with_digests(key, validation)
        return found[0] if found is not None else None

    def get_with_digests(
        self, key: str, validation: str | None
    ) -> tuple[CompiledCluster, Mapping[str, str]] | None:
        """get, with each file's digest (file_digest), as checked."""
        path = self.folder / key
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        entry = _decode(raw, key, self._base_bytes)
        if entry is None:
            self.drop(key)  # damaged: recomputed and rewritten
            return None
        compiled, recorded, digests = entry
        if validation is not None and recorded != validation:
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used now: kept longest by prune()
        return compiled, digests

    def prune(self, keep: int) -> int:
        """Delete all but the `keep` most recently used or written entries; the number deleted.
        Without it the folder grows by a cluster's files with every change (a diff's base is the
        last compile or two, so a few generations per cluster are plenty)."""
        try:
            entries = [(e.stat().st_mtime_ns, e.path) for e in os.scandir(self.folder) if e.is_file()]
        except OSError:
            return 0
        bases = {os.fspath(self.folder / key) for key in self._bases()}  # kept for their deltas
        entries = [entry for entry in entries if entry[1] not in bases]
        entries.sort(reverse=True)
        for _, path in entries[keep:]:
            with contextlib.suppress(OSError):
                os.unlink(path)
        return max(len(entries) - keep, 0)

    def put(
        self,
        key: str,
        compiled: CompiledCluster,
        validation: str | None,
        digests: Mapping[str, str] | None = None,
    ) -> None:
        """Store an entry (digests: file_digest by path, when the caller has them); a failure to
        store is not a failure to compile."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            base = self._base_of(compiled.info.name)
            parts, full = _encode(key, compiled, validation, digests or {}, base)
            _write_parts(self.folder / key, parts)
            if full:
                self._bases_folder.mkdir(parents=True, exist_ok=True)
                _write_parts(self._base_pointer(compiled.info.name), [key.encode()])
        except OSError:
            pass

    @property
    def _bases_folder(self) -> Path:
        return self.folder.parent / BASES_FOLDER

    def _base_pointer(self, cluster: str) -> Path:
        return (
            self._bases_folder / hashlib.sha256(cluster.encode("utf-8", "surrogateescape")).hexdigest()[:32]
        )

    def _bases(self) -> set[str]:
        """The keys the clusters' base pointers name (each checked to be a key, never a path)."""
        try:
            named = {p.read_text("ascii").strip() for p in self._bases_folder.iterdir() if p.is_file()}
        except (OSError, ValueError):
            return set()
        return {key for key in named if _KEY.fullmatch(key)}

    def _base_of(self, cluster: str) -> EntryIndex | None:
        """The full entry a new entry of cluster may take files from, or None."""
        try:
            key = self._base_pointer(cluster).read_text("ascii").strip()
        except (OSError, ValueError):
            return None
        if not _KEY.fullmatch(key):
            return None
        base = self.index(key, as_base=True)
        return base if base is not None and base.info.name == cluster else None

    def _base_bytes(self, key: str, cluster: str) -> _BaseBytes | None:
        """A base entry's files' bytes and where each digest's bytes are in them; None when it is
        missing, damaged, a delta itself or another cluster's."""
        if not _KEY.fullmatch(key):
            return None
        try:
            raw = (self.folder / key).read_bytes()
        except OSError:
            return None
        opened = _opened(raw, key)
        if opened is None or opened[0].base is not None or opened[0].info.name != cluster:
            return None
        header, data = opened
        with contextlib.suppress(OSError):
            os.utime(self.folder / key)  # used now: kept with its deltas
        return _BaseBytes(self.folder / key, data, header.by_digest())

    def index(self, key: str, *, as_base: bool = False) -> EntryIndex | None:
        """The entry of key read as far as its sealed header (each file's size and digest), for
        comparing entries without reading their files; None when missing or damaged (or, as_base,
        a delta: a base is always full)."""
        path = self.folder / key
        try:
            with path.open("rb") as handle:
                mac = handle.readline(_MAC_LINE)
                head = handle.readline()
                start = handle.tell()
        except OSError:
            return None
        header = _header(unseal(mac + head.removesuffix(b"\n")), key)
        base = None
        if header is not None and header.base is not None:
            if as_base:
                return None  # not a base (never written as one): left as it is
            base = self.index(header.base, as_base=True)
            if base is None or base.info.name != header.info.name:
                header = None  # a delta is read with its base, or not at all
        if header is None:
            self.drop(key)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used now: an entry's mtime says when it was last used
        return EntryIndex(
            path,
            start,
            key,
            header.info,
            header.objects,
            header.validation,
            header.report,
            header.sizes,
            header.digests,
            header.base,
            header.from_base,
            base,
        )

    def drop(self, key: str) -> None:
        """Remove a damaged entry (the next compile of its cluster stores it again)."""
        (self.folder / key).unlink(missing_ok=True)


@dataclasses.dataclass(frozen=True)
class EntryIndex:
    """A cache entry's verified header: the cluster, what it was validated with, and its files in
    order with their sizes and digests. The files' bytes are read on demand and each is checked
    against its digest (the header is sealed, the digests bind the bytes to it); a delta's files
    that its base holds are read from the base."""

    path: Path  # the entry file
    start: int  # where the files' bytes begin in it
    key: str
    info: ClusterInfo
    objects: int
    validation: str | None
    report: Report
    sizes: dict[str, int]  # by path, in the tree's order (the order of the bytes)
    _digests: dict[str, str]
    base: str | None = None  # the key of the full entry a delta takes files from
    from_base: frozenset[str] = frozenset()  # the paths whose bytes are in the base
    _base: EntryIndex | None = None

    def digests(self) -> Mapping[str, str]:
        """file_digest by path."""
        return self._digests

    @functools.cached_property
    def _offsets(self) -> dict[str, int]:
        here = [(path, size) for path, size in self.sizes.items() if path not in self.from_base]
        sizes = [size for _, size in here]
        return dict(zip([p for p, _ in here], itertools.accumulate(sizes, initial=0), strict=False))

    @functools.cached_property
    def _path_by_digest(self) -> dict[str, str]:
        return {digest: path for path, digest in self._digests.items() if path not in self.from_base}

    def read(self, paths: Iterable[str]) -> dict[str, bytes] | None:
        """The bytes of these files, or None when the entry (or its base) is gone or any file does
        not match its digest (the caller drops the entry and recomputes the cluster)."""
        wanted = list(paths)
        found: dict[str, bytes] = {}
        inherited = [p for p in wanted if p in self.from_base]
        if inherited:
            if self._base is None:
                return None
            in_base = {p: self._base._path_by_digest.get(self._digests[p]) for p in inherited}
            if None in in_base.values():
                return None
            read = self._base.read({b for b in in_base.values() if b is not None})
            if read is None:
                self._base.path.unlink(missing_ok=True)  # damaged: its clusters store full entries again
                return None
            found.update({p: read[b] for p, b in in_base.items() if b is not None})
        try:
            with self.path.open("rb") as handle:
                for offset, path in sorted((self._offsets[p], p) for p in wanted if p not in self.from_base):
                    handle.seek(self.start + offset)
                    content = handle.read(self.sizes[path])
                    if len(content) != self.sizes[path] or file_digest(content) != self._digests[path]:
                        return None
                    found[path] = content
        except OSError:
            return None
        return found


# The seal line: an HMAC-SHA256 in hex and its newline.
_MAC_LINE = 65


def _encode(
    key: str,
    compiled: CompiledCluster,
    validation: str | None,
    digests: Mapping[str, str],
    base: EntryIndex | None,
) -> tuple[list[bytes], bool]:
    """The entry's parts (seal and header line, then the bytes it holds), and whether it is full:
    a delta against base when base holds all but at most DELTA_AT_MOST of its files."""
    files = list(compiled.tree.items())
    file_digests = [digests.get(path) or file_digest(content) for path, content in files]
    from_base = ""
    if base is not None:
        held = set(base._path_by_digest)
        marks = ["1" if digest in held else "0" for digest in file_digests]
        if marks.count("0") <= DELTA_AT_MOST * len(marks):
            from_base = "".join(marks)
    header = {
        "format": FORMAT,
        "key": key,
        "info": dataclasses.asdict(compiled.info),
        "objects": compiled.objects,
        "validation": validation,
        "report": {
            "findings": [dataclasses.asdict(f) for f in compiled.report.findings],
            "objects": compiled.report.objects,
            "clusters": compiled.report.clusters,
        },
        "paths": [p for p, _ in files],
        "sizes": [len(content) for _, content in files],
        "digests": file_digests,
        "base": base.key if from_base and base is not None else None,
        "fromBase": from_base,  # "1" for each file (in order) whose bytes are the base's
    }
    # The seal covers the header line only (JSON holds no raw newline); the files' digests in it
    # cover their bytes, so one file can be read and checked without the rest of the entry.
    held_here = [content for (_, content), mark in itertools.zip_longest(files, from_base) if mark != "1"]
    return [seal(orjson.dumps(header)) + b"\n", *held_here], not from_base


def _write_parts(path: Path, parts: list[bytes]) -> None:
    """path holds the parts, replaced atomically (written with one writev: no joined copy)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        remaining = [memoryview(part) for part in parts if part]
        while remaining:
            written = os.writev(fd, remaining[:1024])  # IOV_MAX
            while written and remaining:
                if written >= len(remaining[0]):
                    written -= len(remaining.pop(0))
                else:
                    remaining[0] = remaining[0][written:]
                    written = 0
    finally:
        os.close(fd)
    os.replace(temporary, path)


def _outside(paths: list[str], cluster: str) -> bool:
    """Whether a path is not a file inside the cluster's folder (another first folder; an empty,
    "." or ".." segment), or a path repeats. Substring counts over all paths, one a line: a
    header holds thousands."""
    if not paths:
        return False
    if cluster in ("", ".", "..") or "/" in cluster or len(set(paths)) != len(paths):
        return True
    lines = "\n" + "\n".join(paths) + "\n"
    if lines.count("\n") != len(paths) + 1 or lines.count(f"\n{cluster}/") != len(paths):
        return True  # a path holds a newline, or one does not start in the cluster's folder
    if "//" in lines or "/\n" in lines:
        return True
    return "/." in lines and any(bad in lines for bad in ("/./", "/../", "/.\n", "/..\n"))


@dataclasses.dataclass(frozen=True)
class _Head:
    info: ClusterInfo
    objects: int
    validation: str | None
    report: Report
    sizes: dict[str, int]
    digests: dict[str, str]
    base: str | None
    from_base: frozenset[str]

    def by_digest(self) -> dict[str, tuple[int, int]]:
        """Where each digest's bytes are among the entry's bytes: (offset, size)."""
        found: dict[str, tuple[int, int]] = {}
        offset = 0
        for path, size in self.sizes.items():
            if path not in self.from_base:
                found.setdefault(self.digests[path], (offset, size))
                offset += size
        return found


def _header(head: bytes | None, key: str) -> _Head | None:
    """The fields of a sealed header, or None when it is not this format's header of key or names
    a path outside its cluster's folder."""
    if head is None:
        return None
    try:
        header = orjson.loads(head)
        if header["format"] != FORMAT or header["key"] != key:
            return None
        info = ClusterInfo(**header["info"])
        paths, sizes, digests = header["paths"], header["sizes"], header["digests"]
        if not (len(paths) == len(sizes) == len(digests)) or _outside(paths, info.name):
            return None
        if not all(type(size) is int and size >= 0 for size in sizes):
            return None
        base, marks = header["base"], header["fromBase"]
        if not _delta_fields_valid(base, marks, key, len(paths)):
            return None
        stored = header["report"]
        report = Report(
            [Finding(**f) for f in stored["findings"]], stored["objects"], list(stored["clusters"])
        )
        return _Head(
            info,
            int(header["objects"]),
            header["validation"],
            report,
            dict(zip(paths, sizes, strict=True)),
            dict(zip(paths, digests, strict=True)),
            base,
            frozenset(p for p, mark in zip(paths, marks, strict=False) if mark == "1"),
        )
    except (ValueError, KeyError, TypeError):
        return None


def _delta_fields_valid(base: Any, marks: Any, key: str, files: int) -> bool:
    """A full entry has no base and no marks; a delta names another entry's key and marks each file."""
    if base is None:
        return bool(marks == "")
    return (
        isinstance(base, str)
        and _KEY.fullmatch(base) is not None
        and base != key
        and isinstance(marks, str)
        and len(marks) == files
        and set(marks) <= {"0", "1"}
    )


@dataclasses.dataclass(frozen=True)
class _BaseBytes:
    """A base entry's files' bytes, and where each digest's bytes are in them (offset, size)."""

    path: Path
    data: bytes
    by_digest: dict[str, tuple[int, int]]

    def take(self, digest: str, size: int) -> bytes | None:
        """The bytes of digest, checked; a base whose bytes do not match is removed (damaged)."""
        at = self.by_digest.get(digest)
        content = self.data[at[0] : at[0] + size] if at is not None and at[1] == size else None
        if content is not None and file_digest(content) != digest:
            self.path.unlink(missing_ok=True)
            return None
        return content


BaseBytes = Callable[[str, str], "_BaseBytes | None"]


def _opened(raw: bytes, key: str) -> tuple[_Head, bytes] | None:
    """A whole entry's verified header and the bytes it holds; None when the seal, the header or
    the bytes' length does not match."""
    mac, _, rest = raw.partition(b"\n")
    head, _, data = rest.partition(b"\n")
    header = _header(unseal(mac + b"\n" + head), key)
    if header is None:
        return None
    held = sum(size for path, size in header.sizes.items() if path not in header.from_base)
    return (header, data) if held == len(data) else None


def _decode(
    raw: bytes, key: str, base_bytes: BaseBytes
) -> tuple[CompiledCluster, str | None, dict[str, str]] | None:
    from compiler.core import CompiledCluster  # compile's, imported by compile already

    opened = _opened(raw, key)
    if opened is None:
        return None
    header, data = opened
    base = base_bytes(header.base, header.info.name) if header.base is not None else None
    if header.base is not None and base is None:
        return None
    tree: Tree = {}
    offset = 0
    for path, size in header.sizes.items():
        if path in header.from_base:
            assert base is not None
            taken = base.take(header.digests[path], size)
            if taken is None:
                return None
            tree[path] = taken
            continue
        content = data[offset : offset + size]
        offset += size
        if file_digest(content) != header.digests[path]:
            return None
        tree[path] = content
    return (
        CompiledCluster(header.info, tree, header.objects, header.report),
        header.validation,
        header.digests,
    )
