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
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import itertools
import json
import os
from collections.abc import Iterable, Mapping
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

FORMAT = "platformc-cluster-cache 2"


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
        entry = _decode(raw, key)
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
            temporary = self.folder / f".{key}.{os.getpid()}.tmp"
            temporary.write_bytes(_encode(key, compiled, validation, digests or {}))
            os.replace(temporary, self.folder / key)
        except OSError:
            pass

    def index(self, key: str) -> EntryIndex | None:
        """The entry of key read as far as its sealed header (each file's size and digest), for
        comparing entries without reading their files; None when missing or damaged."""
        path = self.folder / key
        try:
            with path.open("rb") as handle:
                mac = handle.readline(_MAC_LINE)
                head = handle.readline()
                start = handle.tell()
        except OSError:
            return None
        header = _header(unseal(mac + head.removesuffix(b"\n")), key)
        if header is None:
            self.drop(key)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used now: an entry's mtime says when it was last used
        return EntryIndex(path, start, *header)

    def drop(self, key: str) -> None:
        """Remove a damaged entry (the next compile of its cluster stores it again)."""
        (self.folder / key).unlink(missing_ok=True)


@dataclasses.dataclass(frozen=True)
class EntryIndex:
    """A cache entry's verified header: the cluster, what it was validated with, and its files in
    order with their sizes and digests. The files' bytes are read on demand and each is checked
    against its digest (the header is sealed, the digests bind the bytes to it)."""

    path: Path  # the entry file
    start: int  # where the files' bytes begin in it
    key: str
    info: ClusterInfo
    objects: int
    validation: str | None
    report: Report
    sizes: dict[str, int]  # by path, in the tree's order (the order of the bytes)
    _digests: dict[str, str]

    def digests(self) -> Mapping[str, str]:
        """file_digest by path."""
        return self._digests

    @functools.cached_property
    def _offsets(self) -> dict[str, int]:
        return dict(zip(self.sizes, itertools.accumulate(self.sizes.values(), initial=0), strict=False))

    def read(self, paths: Iterable[str]) -> dict[str, bytes] | None:
        """The bytes of these files, or None when the entry is gone or any file does not match its
        digest (the caller drops the entry and recomputes the cluster)."""
        found: dict[str, bytes] = {}
        try:
            with self.path.open("rb") as handle:
                for offset, path in sorted((self._offsets[p], p) for p in paths):
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


def _encode(key: str, compiled: CompiledCluster, validation: str | None, digests: Mapping[str, str]) -> bytes:
    files = list(compiled.tree.items())
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
        "digests": [digests.get(path) or file_digest(content) for path, content in files],
    }
    # The seal covers the header line only (JSON holds no raw newline); the files' digests in it
    # cover their bytes, so one file can be read and checked without the rest of the entry.
    return seal(orjson.dumps(header)) + b"\n" + b"".join(content for _, content in files)


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


def _header(
    head: bytes | None, key: str
) -> tuple[str, ClusterInfo, int, str | None, Report, dict[str, int], dict[str, str]] | None:
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
        stored = header["report"]
        report = Report(
            [Finding(**f) for f in stored["findings"]], stored["objects"], list(stored["clusters"])
        )
        files = dict(zip(paths, sizes, strict=True)), dict(zip(paths, digests, strict=True))
        return key, info, int(header["objects"]), header["validation"], report, *files
    except (ValueError, KeyError, TypeError):
        return None


def _decode(raw: bytes, key: str) -> tuple[CompiledCluster, str | None, dict[str, str]] | None:
    from compiler.core import CompiledCluster  # compile's, imported by compile already

    mac, _, rest = raw.partition(b"\n")
    head, _, data = rest.partition(b"\n")
    header = _header(unseal(mac + b"\n" + head), key)
    if header is None:
        return None
    _, info, objects, validation, report, sizes, digests = header
    if sum(sizes.values()) != len(data):
        return None
    tree: Tree = {}
    offset = 0
    for path, size in sizes.items():
        content = data[offset : offset + size]
        if file_digest(content) != digests[path]:
            return None
        tree[path] = content
        offset += size
    return CompiledCluster(info, tree, objects, report), validation, digests
