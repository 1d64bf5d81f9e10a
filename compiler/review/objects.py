"""Per-object diff of two compiled trees.

Both trees come from compiler.emit.render_cluster: canonical YAML bytes keyed by path, one
object per file. Comparing bytes is exact (the emitter is deterministic) and far cheaper than
comparing parsed objects; unified diffs are produced only for files that differ.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml

from compiler.charts.location import chart_cache
from compiler.spec.build import PlatformModel, load_platform
from compiler.spec.loader import ParseCache
from compiler.spec.node_pools import CONTRACT_JSON, CONTRACT_TABLE
from compiler.tree_contract import CLUSTER_INFO_FILE, KUSTOMIZATION_FILE, Tree

Change = Literal["added", "removed", "changed"]
SUPPORT_FILES = (KUSTOMIZATION_FILE, CLUSTER_INFO_FILE, CONTRACT_JSON, CONTRACT_TABLE)

if TYPE_CHECKING:
    from compiler.core import CompiledCluster
    from compiler.validate import SchemaRegistry

_HEAD = re.compile(
    rb"^kind: (?P<kind>[^\n]+)\nmetadata:\n  name: (?P<name>[^\n]+)\n"
    rb"(?:  namespace: (?P<namespace>[^\n]+)\n)?",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Compiled:
    model: PlatformModel
    tree: Tree
    clusters: tuple[CompiledCluster, ...] = ()


def compile_spec(
    spec_dir: Path,
    overlays_dir: Path | None = None,
    registry: SchemaRegistry | None = None,
    cluster_names: Sequence[str] = (),
    charts_dir: Path | None = None,
    cache_root: Path | None = None,
    parse_cache: ParseCache | None = None,
) -> Compiled:
    """The spec's typed model and its rendered tree (only `cluster_names` when given), in memory
    (validated when a registry is given). With a cache_root, clusters whose inputs were compiled
    before (now, at the base, or by an earlier compile) come from the cluster cache.
    Raises SpecErrors / PlatformcError."""
    from compiler.pipeline import compile_cached, merged_tree

    model = load_platform(spec_dir, parse_cache=parse_cache)
    present = overlays_dir if overlays_dir is not None and overlays_dir.is_dir() else None
    charts = chart_cache(charts_dir)
    clusters = tuple(
        compile_cached(
            model, cache_root, cluster_names, overlays_dir=present, registry=registry, charts_dir=charts
        )
    )
    if parse_cache is not None:
        parse_cache.save()
    return Compiled(model, merged_tree(clusters), clusters)


@dataclass(frozen=True)
class ObjectChange:
    change: Change
    path: str  # relative to the generated folder: <cluster>/...
    cluster: str
    unit: str  # sync unit (components/<unit>), or apps / bootstrap
    kind: str
    name: str
    namespace: str | None
    diff: str | None = None  # unified diff of a changed object's YAML

    @property
    def label(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


@dataclass
class TreeDiff:
    objects: list[ObjectChange] = field(default_factory=list)
    support_files: list[str] = field(
        default_factory=list
    )  # kustomization.yaml / platformc-cluster.json that changed

    def count(self, change: Change) -> int:
        return sum(1 for o in self.objects if o.change == change)

    @property
    def clusters(self) -> list[str]:
        return sorted({o.cluster for o in self.objects})

    def by_cluster(self) -> dict[str, dict[str, list[ObjectChange]]]:
        grouped: dict[str, dict[str, list[ObjectChange]]] = {}
        for obj in self.objects:
            grouped.setdefault(obj.cluster, {}).setdefault(obj.unit, []).append(obj)
        return grouped


def unit_of(path: str) -> tuple[str, str]:
    parts = path.split("/")
    cluster = parts[0]
    if len(parts) > 3 and parts[1] == "components":
        return cluster, parts[2]
    return cluster, parts[1] if len(parts) > 2 else "(cluster)"


def identify(content: bytes) -> tuple[str, str, str | None]:
    """kind, name, namespace of a canonical YAML object (read from its head, no full parse)."""
    match = _HEAD.search(content, 0, 2048)
    if match:
        ns = match["namespace"]
        return _scalar(match["kind"]), _scalar(match["name"]), _scalar(ns) if ns else None
    data = yaml.load(content, Loader=yaml.CSafeLoader) or {}
    meta = data.get("metadata") or {}
    return str(data.get("kind", "?")), str(meta.get("name", "?")), meta.get("namespace")


def _scalar(raw: bytes) -> str:
    text = raw.decode()
    if text[:1] in "'\"":
        return str(yaml.load(text, Loader=yaml.CSafeLoader))
    return text


def unified(path: str, old: bytes, new: bytes, context: int = 3) -> str:
    lines = difflib.unified_diff(
        old.decode().splitlines(keepends=True),
        new.decode().splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
        n=context,
    )
    return "".join(lines)


def diff_trees(old: Mapping[str, bytes], new: Mapping[str, bytes], *, with_diffs: bool = True) -> TreeDiff:
    return object_changes(file_changes(old, new), old, new, with_diffs=with_diffs)


def file_changes(old: Mapping[str, object], new: Mapping[str, object]) -> list[tuple[str, Change]]:
    """(path, change) of every file added, removed or changed, comparing contents or digests."""
    changes: list[tuple[str, Change]] = []
    for path, content in new.items():
        before = old.get(path)
        if before is None:
            changes.append((path, "added"))
        elif before != content:
            changes.append((path, "changed"))
    changes.extend((path, "removed") for path in old if path not in new)
    return changes


def is_support_file(path: str) -> bool:
    return path.rsplit("/", 1)[-1] in SUPPORT_FILES


def object_changes(
    changes: Iterable[tuple[str, Change]],
    old: Mapping[str, bytes],
    new: Mapping[str, bytes],
    *,
    with_diffs: bool = True,
) -> TreeDiff:
    """The TreeDiff of these file changes; old and new hold the bytes of the changed object files
    (a removed one's before, an added one's after, a changed one's after and, with diffs, before)."""
    result = TreeDiff()
    for path, change in sorted(changes):
        if is_support_file(path):
            result.support_files.append(path)
            continue
        content = old[path] if change == "removed" else new[path]
        kind, name, namespace = identify(content)
        cluster, unit = unit_of(path)
        text = unified(path, old[path], new[path]) if with_diffs and change == "changed" else None
        result.objects.append(ObjectChange(change, path, cluster, unit, kind, name, namespace, text))
    result.objects.sort(key=lambda o: (o.cluster, o.unit, o.path))
    return result
