"""Content-addressed cache of compiled clusters: `.platformc-cache/clusters/<key>`.

A cluster's rendered files are a pure function of its ClusterModel (its slice of the spec: the
platform, the cluster, its flavors, teams, serving paths and pins), its generated header, the
overlays folder (patches, objects and custom component templates), the chart cache and helm when
charts render, and the compiler itself (compiler/cache_keys.compiler_digest). The key is a SHA-256
of exactly those; a compile recomputes only clusters whose key has no entry. Findings also depend
on the CRD schemas, so an entry records the schemas it was validated against and a validated
compile takes only entries that match (`diff`, which does not validate, takes any entry).

An entry is a seal line, a JSON header and the files' bytes. The seal (an HMAC under a key kept
outside the repository, compiler/sealed.py) covers everything after it, so a torn, flipped or
planted entry is noticed, dropped and recomputed, never emitted; header paths must also stay
inside the cluster's folder. Entries are plain data (no pickle), so a cache folder cannot run
code. Deleting the folder is always safe: the next compile refills it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from compiler.cluster_model import ClusterModel
from compiler.core import CompiledCluster
from compiler.sealed import seal, unseal
from compiler.tree_contract import ClusterInfo, Tree
from compiler.validate.findings import Finding, Report

FORMAT = "platformc-cluster-cache 1"


def _plain(value: Any, digests: dict[int, tuple[Any, str]]) -> Any:
    """A ClusterModel as JSON-able data; mapping order is kept (it may decide output order). Spec
    documents (pydantic models) become the digest of their JSON, computed once per compile: every
    cluster shares the platform and most teams, so each is serialised once, not once per cluster."""
    if isinstance(value, BaseModel):
        known = digests.get(id(value))
        if known is None or known[0] is not value:
            dumped = json.dumps(
                [type(value).__qualname__, value.model_dump(mode="json")], separators=(",", ":")
            )
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

    def key(self, cluster: ClusterModel, header: str) -> str:
        model = json.dumps(_plain(cluster, self._digests), separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(f"{self._inputs}{header}\0{model}".encode()).hexdigest()

    def get(self, key: str, validation: str | None) -> CompiledCluster | None:
        """The entry of key, or None when it is missing, damaged or validated differently
        (a validated compile needs a report made against the same schemas)."""
        path = self.folder / key
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        entry = _decode(raw, key)
        if entry is None:
            path.unlink(missing_ok=True)  # damaged: recomputed and rewritten
            return None
        compiled, recorded = entry
        if validation is not None and recorded != validation:
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used now: kept longest by prune()
        return compiled

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

    def put(self, key: str, compiled: CompiledCluster, validation: str | None) -> None:
        """Store an entry; a failure to store is not a failure to compile."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary = self.folder / f".{key}.{os.getpid()}.tmp"
            temporary.write_bytes(_encode(key, compiled, validation))
            os.replace(temporary, self.folder / key)
        except OSError:
            pass


def _encode(key: str, compiled: CompiledCluster, validation: str | None) -> bytes:
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
        "files": [[p, len(content)] for p, content in files],
    }
    head = json.dumps(header, separators=(",", ":")).encode()
    return seal(head + b"\n" + b"".join(content for _, content in files))


def _inside(path: str, cluster: str) -> bool:
    parts = path.split("/")
    return parts[0] == cluster and len(parts) > 1 and all(p not in ("", ".", "..") for p in parts)


def _decode(raw: bytes, key: str) -> tuple[CompiledCluster, str | None] | None:
    body = unseal(raw)
    if body is None:
        return None
    head, _, data = body.partition(b"\n")
    try:
        header = json.loads(head)
        if header["format"] != FORMAT or header["key"] != key:
            return None
        info = ClusterInfo(**header["info"])
        tree: Tree = {}
        offset = 0
        for path, size in header["files"]:
            if not _inside(path, info.name):
                return None
            tree[path] = data[offset : offset + size]
            offset += size
        if offset != len(data):
            return None
        stored = header["report"]
        report = Report(
            [Finding(**f) for f in stored["findings"]], stored["objects"], list(stored["clusters"])
        )
        return CompiledCluster(info, tree, int(header["objects"]), report), header["validation"]
    except (ValueError, KeyError, TypeError):
        return None
