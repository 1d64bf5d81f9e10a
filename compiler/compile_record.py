"""The compile record: when a compile's inputs and the tree it wrote are as they were after the
last compile, the answer is known without compiling: a stat of every output file, no reading.

After each successful compile (or clean `--check`), `.platformc-cache/runs/<out folder>` records
the key of its inputs (compiler/cache_keys: the compiler, the spec and overlays by content, the
schema and chart caches and helm by stat, the working folder, the output folder, the clusters
asked for) with the result (counts and findings) and each output file's stat signature (inode,
size, mtime, ctime) as written. The next compile with the same key takes the record only if the
cluster folders hold exactly those files with those signatures, no link, and no interrupted
write: a file edited, added, removed or replaced by hand changes its signature (as `git status`
trusts its index), and the compile then runs in full. The record is sealed (compiler/sealed.py),
so one committed to a repository or damaged is never believed. Standard-library imports only,
apart from the light result types: a current tree is answered without the compiler's heavy parts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from compiler.cache_keys import (
    cache_root,
    compiler_digest,
    content_digest,
    helm_binary,
    machine_caches,
    stat_digest,
)
from compiler.compile_result import CompileResult
from compiler.sealed import seal, unseal
from compiler.validate.findings import Finding, Report
from compiler.write import Drift, existing_clusters, fingerprint, journal_pending

FORMAT = "platformc-run 2"


def run_key(
    root: Path,
    spec_dir: Path,
    out_dir: Path,
    *,
    cluster_names: Sequence[str],
    schema_dirs: Sequence[Path],
    overlays_dir: Path | None,
    charts_dir: Path | None,
) -> str:
    """Everything a compile's result depends on."""
    parts = [
        FORMAT,
        compiler_digest(),
        str(Path.cwd()),
        str(out_dir.resolve()),
        json.dumps(list(cluster_names)),
        json.dumps([str(p) for p in schema_dirs]),
        str(spec_dir),
        str(overlays_dir),
        str(charts_dir),
        content_digest([spec_dir, overlays_dir]),
        stat_digest([*schema_dirs, charts_dir, *machine_caches(root), helm_binary()]),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _path(root: Path, out_dir: Path) -> Path:
    where = hashlib.sha256(os.fsencode(out_dir.resolve())).hexdigest()[:32]
    return root / "runs" / where


def _considered(out_dir: Path, clusters: Sequence[str], full: bool) -> list[str]:
    return sorted(set(clusters) | (set(existing_clusters(out_dir)) if full else set()))


def recorded(root: Path, key: str, out_dir: Path, *, check: bool, full: bool) -> CompileResult | None:
    """The result of the last compile when its key is `key` and the tree on disk is as it left it;
    else None (then compile runs)."""
    try:
        body = unseal(_path(root, out_dir).read_bytes())
        record = json.loads(body) if body is not None else None
        if not isinstance(record, dict) or record.get("format") != FORMAT or record.get("key") != key:
            return None
        real = out_dir.resolve()
        if journal_pending(real):
            return None
        if fingerprint(real, _considered(real, record["clusters"], full)) != (
            record["files"],
            record["signatures"],
        ):
            return None
        stored = record["report"]
        report = Report(
            [Finding(**f) for f in stored["findings"]], stored["objects"], list(stored["clusters"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    result = CompileResult(
        clusters=list(record["clusters"]),
        objects=record["objects"],
        files=record["files"],
        validation=report,
        charts_dir=Path(record["charts_dir"]) if record["charts_dir"] else None,
        recorded=True,
    )
    if check:
        result.drift = Drift((), (), ())
    else:
        result.written = Drift((), (), ())
    return result


def store(root: Path, key: str, out_dir: Path, result: CompileResult) -> None:
    """Record a successful compile (or a clean check) with the fingerprint its write or comparison
    took of the cluster folders under the lock: a file changed since then no longer matches it."""
    done = result.drift if result.drift is not None else result.written
    if done is None or done.fingerprint is None:
        return
    record: dict[str, Any] = {
        "format": FORMAT,
        "key": key,
        "clusters": result.clusters,
        "objects": result.objects,
        "charts_dir": str(result.charts_dir) if result.charts_dir else None,
        "report": {
            "findings": [dataclasses.asdict(f) for f in result.validation.findings],
            "objects": result.validation.objects,
            "clusters": result.validation.clusters,
        },
        "files": done.fingerprint[0],
        "signatures": done.fingerprint[1],
    }
    path = _path(root, out_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_bytes(seal(json.dumps(record, separators=(",", ":")).encode()))
        os.replace(temporary, path)
    except OSError:
        pass


def forget(root: Path, out_dir: Path) -> None:
    """Drop the record (before a compile that may change the tree or fail)."""
    _path(root, out_dir).unlink(missing_ok=True)


def compile_current(
    spec_dir: Path,
    out_dir: Path,
    *,
    cluster_names: Sequence[str] = (),
    check: bool = False,
    schema_dirs: Sequence[Path] = (),
    progress: Callable[[str], None] | None = None,
    overlays_dir: Path | None = None,
    charts_dir: Path | None = None,
    cache: bool = True,
) -> CompileResult:
    """`platformc compile`: the recorded result when nothing changed, else the pipeline's compile
    (compiler/pipeline.compile_platform) with the compile cache, recorded for next time."""
    root = cache_root(cache)
    full = not cluster_names
    key = None
    if root is not None:
        key = run_key(
            root,
            spec_dir,
            out_dir,
            cluster_names=cluster_names,
            schema_dirs=schema_dirs,
            overlays_dir=overlays_dir,
            charts_dir=charts_dir,
        )
        hit = recorded(root, key, out_dir, check=check, full=full)
        if hit is not None:
            return hit
    from compiler.pipeline import compile_platform

    result = compile_platform(
        spec_dir,
        out_dir,
        cluster_names=cluster_names,
        check=check,
        schema_dirs=schema_dirs,
        progress=progress,
        overlays_dir=overlays_dir,
        charts_dir=charts_dir,
        cache_root=root,
    )
    if root is not None and key is not None and (result.drift is None or result.drift.clean):
        store(root, key, out_dir, result)
    return result
