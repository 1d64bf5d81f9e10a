"""How a cluster tree is synced: its Argo CD Applications or Flux Kustomizations ("units").

The reference and ordering checks both need to know which unit syncs which file, what
each unit installs and when it runs. Git paths in Applications and Kustomizations are
repository-relative (`<gitops path>/<cluster>/components/kueue`); the tree on disk may sit
under another name, so paths are matched on the part after the cluster folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import repeat
from operator import attrgetter, itemgetter
from typing import Any

from compiler.tree_contract import Engine

from .checks import ClusterObjects, Entry
from .schemas import json_path

ARGO_GROUP = "argoproj.io"
WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave"
KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
HELM_GROUP = "helm.toolkit.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
FLUX_GROUP_SUFFIX = ".toolkit.fluxcd.io"
CRD_GROUP = "apiextensions.k8s.io"
_FILE, _HEAD = attrgetter("file"), itemgetter(0)
UNIT_KINDS = frozenset({(ARGO_GROUP, "Application"), (KUSTOMIZE_GROUP, "Kustomization")})

WAVE_PATH = json_path(["metadata", "annotations", WAVE_ANNOTATION])


@dataclass(frozen=True)
class GitPath:
    """One git path of a unit: where it points in the repository and in this tree."""

    json_path: str  # where the path is written in the unit object, "$.spec.source.path"
    path: str
    folder: str | None  # relative to the cluster folder; None when outside this cluster's tree


@dataclass
class SyncUnit:
    entry: Entry  # the Application or Kustomization
    engine: Engine
    paths: list[GitPath] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)  # Helm chart names this unit installs
    wave: int = 0  # Argo CD sync wave
    wave_error: str | None = None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class ClusterLayout:
    """Folders, units and engine of one cluster's tree, computed once per check run."""

    def __init__(self, cluster: ClusterObjects) -> None:
        self.cluster = cluster
        self.root = self._root_folder(cluster)
        self.folders: set[str] = set()
        if self.root is not None:
            # Each folder holding a file of this tree, and every folder above it (up to the first
            # one already known); files share a few hundred folders. The root holds a file's folder.
            self.folders.add("")
            prefix = self.root + "/"
            files = filter(None, map(_FILE, cluster.entries))  # C loops: thousands of entries
            for folder in set(map(_HEAD, map(str.rpartition, files, repeat("/")))):
                if folder.startswith(prefix):
                    rel = folder[len(prefix) :]
                    while rel not in self.folders:
                        self.folders.add(rel)
                        rel = rel[: max(rel.rfind("/"), 0)]
        self.units: list[SyncUnit] = [
            self._argo_unit(entry) if entry.group == ARGO_GROUP else self._flux_unit(entry)
            for entry in cluster.of_kinds(UNIT_KINDS)
        ]
        self.engines = frozenset(u.engine for u in self.units)
        self._unit_of_folder: dict[str, SyncUnit | None] = {}  # by the file's folder in the tree
        self._unit_at: dict[str, SyncUnit] = {}  # cluster-relative folder -> first unit with that git path
        for unit in self.units:
            for git in unit.paths:
                if git.folder is not None:
                    self._unit_at.setdefault(git.folder, unit)

    @staticmethod
    def _root_folder(cluster: ClusterObjects) -> str | None:
        for entry in cluster.entries:
            if entry.file and "/" in entry.file:
                return entry.file.split("/", 1)[0]
        return None

    def relative(self, entry: Entry) -> str | None:
        """The entry's file relative to the cluster folder."""
        if not entry.file or "/" not in entry.file:
            return None
        head, rest = entry.file.split("/", 1)
        return rest if head == self.root else None

    def in_tree(self, path: str) -> str | None:
        """Cluster-relative folder of a repository path, or None when it is not in this tree."""
        parts = [p for p in path.split("/") if p not in ("", ".")]
        for marker in (self.cluster.name, self.root):
            if marker and marker in parts:
                return "/".join(parts[parts.index(marker) + 1 :])
        return None

    def _git_path(self, where: str, path: str) -> GitPath:
        return GitPath(where, path, self.in_tree(path))

    def _argo_unit(self, entry: Entry) -> SyncUnit:
        unit = SyncUnit(entry, "argocd")
        spec = _dict(entry.obj.get("spec"))
        sources: list[tuple[str, dict[str, Any]]] = []
        if isinstance(spec.get("source"), dict):
            sources.append(("$.spec.source", spec["source"]))
        if isinstance(spec.get("sources"), list):
            sources += [
                (f"$.spec.sources[{i}]", s) for i, s in enumerate(spec["sources"]) if isinstance(s, dict)
            ]
        for where, source in sources:
            chart = _str(source.get("chart"))
            if chart:
                unit.charts.append(chart)
            elif _str(source.get("path")) is not None:
                unit.paths.append(self._git_path(f"{where}.path", source["path"]))
        raw = _dict(entry.metadata.get("annotations")).get(WAVE_ANNOTATION)
        if raw is not None:
            try:
                unit.wave = int(str(raw).strip())
            except ValueError:
                unit.wave_error = f"sync-wave {raw!r} is not an integer"
        return unit

    def _flux_unit(self, entry: Entry) -> SyncUnit:
        unit = SyncUnit(entry, "flux")
        path = _str(_dict(entry.obj.get("spec")).get("path"))
        # Flux reads the source's root when path is empty.
        unit.paths.append(self._git_path("$.spec.path", path or "./"))
        return unit

    def unit_of(self, entry: Entry) -> SyncUnit | None:
        """The unit whose git path holds the entry's file most specifically."""
        if not entry.file or "/" not in entry.file:
            return None
        # A git path holds whole folders, so the answer is the same for every file of a folder.
        folder = entry.file.rpartition("/")[0]
        if folder in self._unit_of_folder:
            return self._unit_of_folder[folder]
        # The most specific git path holding the file is its deepest folder some unit has (several
        # units with that path: the first); "" is the cluster folder, which holds every file.
        rel = self.relative(entry)
        best = None
        if rel is not None:
            cut = len(rel)
            while best is None and cut >= 0:
                cut = rel.rfind("/", 0, cut)
                best = self._unit_at.get(rel[:cut] if cut >= 0 else "")
        self._unit_of_folder[folder] = best
        return best

    def flux_unit_by_name(self, name: str, namespace: str | None) -> SyncUnit | None:
        for unit in self.units:
            if unit.engine == "flux" and unit.entry.name == name and unit.entry.namespace == namespace:
                return unit
        return None

    def flux_dependencies(self, unit: SyncUnit) -> Iterator[SyncUnit]:
        """Every Kustomization `unit` depends on, transitively (each once)."""
        seen = {id(unit)}
        pending = [unit]
        while pending:
            current = pending.pop()
            for name, namespace in depends_on(current.entry):
                dep = self.flux_unit_by_name(name, namespace)
                if dep is not None and id(dep) not in seen:
                    seen.add(id(dep))
                    pending.append(dep)
                    yield dep


def depends_on(entry: Entry) -> list[tuple[str, str | None]]:
    """(name, namespace) of a Flux object's spec.dependsOn; namespace defaults to its own."""
    out = []
    items = _dict(entry.obj.get("spec")).get("dependsOn")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and _str(item.get("name")):
            out.append((item["name"], _str(item.get("namespace")) or entry.namespace))
    return out


def layout(cluster: ClusterObjects) -> ClusterLayout:
    """The cluster's layout, built once per validation run (checks run after every object is in)."""
    cached = cluster.__dict__.get("_layout")
    if cached is None or cached[0] != len(cluster.entries):
        cached = cluster.__dict__["_layout"] = (len(cluster.entries), ClusterLayout(cluster))
    return cached[1]
