"""The two sides of a review, compared cluster by cluster without reading what is the same.

A side is a spec's typed model and each selected cluster's files. Where the cluster cache
(compiler/cluster_cache.py) holds a cluster's entry, only its sealed header is read: clusters whose
keys are equal on both sides are the same, and otherwise files are compared by their digests and
only those that differ are read (each checked against its digest). Clusters without an entry are
compiled (and stored). A damaged entry is dropped and its cluster recompiled, never shown.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from compiler.charts.location import chart_cache
from compiler.cluster_cache import ClusterCache
from compiler.cluster_model import generated_header, select_clusters
from compiler.review.objects import Change, TreeDiff, file_changes, is_support_file, object_changes
from compiler.spec.build import PlatformModel, load_platform
from compiler.spec.loader import ParseCache
from compiler.write import file_digest

if TYPE_CHECKING:
    from compiler.core import CompiledCluster


class ClusterFiles(Protocol):
    """One cluster's files on one side: a cache entry's index, or a cluster compiled in memory."""

    @property
    def key(self) -> str | None: ...  # the cache key, when the files come from the cache

    def digests(self) -> Mapping[str, str]: ...  # file_digest by path, in the tree's order

    def read(self, paths: Iterable[str]) -> dict[str, bytes] | None: ...  # None: damaged


@dataclass(frozen=True)
class InMemory:
    compiled: CompiledCluster
    key: str | None = None

    @functools.cached_property
    def _digests(self) -> dict[str, str]:
        return {path: file_digest(content) for path, content in self.compiled.tree.items()}

    def digests(self) -> Mapping[str, str]:
        return self._digests

    def read(self, paths: Iterable[str]) -> dict[str, bytes]:
        return {path: self.compiled.tree[path] for path in paths}


@dataclass(frozen=True)
class Side:
    model: PlatformModel
    clusters: dict[str, ClusterFiles]  # in the spec's cluster order
    recompile: Callable[[str], ClusterFiles]  # a cluster whose entry turned out damaged, compiled

    def paths(self) -> list[str]:
        return [path for files in self.clusters.values() for path in files.digests()]


def load_side(
    spec_dir: Path,
    overlays_dir: Path | None,
    *,
    cluster_names: Sequence[str] = (),
    unknown_names_fail: bool = True,
    charts_dir: Path | None = None,
    cache_root: Path | None = None,
    parse_cache: ParseCache | None = None,
) -> Side:
    """The spec's model and its clusters (the named ones, when given; a name the spec lacks is a
    UsageError when unknown_names_fail), from the cache where it holds them. Raises SpecErrors /
    PlatformcError."""
    model = load_platform(spec_dir, parse_cache=parse_cache)
    overlays = overlays_dir if overlays_dir is not None and overlays_dir.is_dir() else None
    charts = chart_cache(charts_dir)
    if unknown_names_fail:
        selected = [c.name for c in select_clusters(model, cluster_names)]
    else:
        everything = select_clusters(model, ())
        selected = [c.name for c in everything if not cluster_names or c.name in cluster_names]
    found: dict[str, ClusterFiles | None] = dict.fromkeys(selected)
    keys: dict[str, str] = {}
    cache = ClusterCache.for_compile(cache_root, overlays, charts) if cache_root is not None else None
    if cache is not None:
        for cluster in select_clusters(model, selected) if selected else ():
            keys[cluster.name] = cache.key(cluster, generated_header(model, cluster.name))
            found[cluster.name] = cache.index(keys[cluster.name])

    # The stages are imported only when something is compiled: a diff of cached clusters needs none.
    def compiled(names: Sequence[str]) -> dict[str, ClusterFiles]:
        from compiler.pipeline import compile_cached

        done = compile_cached(model, cache_root, names, overlays_dir=overlays, charts_dir=charts)
        return {c.info.name: InMemory(c) for c in done}

    missing = [name for name, files in found.items() if files is None]
    if missing:
        found.update(compiled(missing))
        if cache is not None:  # stored by the compile with their digests: no need to hash them again
            for name in missing:
                found[name] = cache.index(keys[name]) or found[name]
    elif overlays is not None:
        # Problems of the overlays as a whole (a layer naming a cluster no longer in the spec), as
        # compile_cached reports them when every cluster comes from the cache.
        from compiler.overlays import load_overlays
        from compiler.pipeline import registered

        load_overlays(overlays, model, [c.name for c in registered()]).problems.raise_if_any()
    if parse_cache is not None:
        parse_cache.save()

    def recompile(name: str) -> ClusterFiles:
        files = found[name]
        if cache is not None and files is not None and files.key is not None:
            cache.drop(files.key)
        return compiled([name])[name]

    return Side(model, {name: files for name, files in found.items() if files is not None}, recompile)


def diff_sides(before: Side | None, now: Side, *, with_diffs: bool = True) -> TreeDiff:
    """The per-object diff of two sides (before None: nothing existed), reading only the files that
    differ. A cluster whose entry is damaged is recompiled on its side and compared again."""
    changes: list[tuple[str, Change]] = []
    old_bytes: dict[str, bytes] = {}
    new_bytes: dict[str, bytes] = {}
    old_clusters = before.clusters if before is not None else {}
    for name in dict.fromkeys([*now.clusters, *old_clusters]):
        old, new = old_clusters.get(name), now.clusters.get(name)
        while True:
            if old is not None and new is not None and old.key is not None and old.key == new.key:
                break  # the same inputs: the same files
            found = file_changes(old.digests() if old else {}, new.digests() if new else {})
            objects = [(p, c) for p, c in found if not is_support_file(p)]
            wanted_old = [p for p, c in objects if c == "removed" or (c == "changed" and with_diffs)]
            wanted_new = [p for p, c in objects if c != "removed"]
            read_old = old.read(wanted_old) if old is not None else {}
            if read_old is None:
                assert before is not None
                old = before.recompile(name)
                continue
            read_new = new.read(wanted_new) if new is not None else {}
            if read_new is None:
                new = now.recompile(name)
                continue
            changes.extend(found)
            old_bytes.update(read_old)
            new_bytes.update(read_new)
            break
    return object_changes(changes, old_bytes, new_bytes, with_diffs=with_diffs)
