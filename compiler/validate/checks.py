"""Whole-set checks: the extension point for cross-object validation.

Schema validation looks at one object at a time. Checks that need the whole picture
(references that must resolve, CRDs installed before their custom resources, security
baselines) are plain functions `Check = Callable[[ObjectSet], Iterable[Finding]]`
registered in a list; `validate_objects` runs every check once over the full set.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from .findings import ERROR, Finding, Severity

# (API group, kind, namespace or None for cluster-scoped, name)
ObjectKey = tuple[str, str, str | None, str]


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


class Entry:
    """One object of one cluster and the file it came from (relative to the tree root).

    Identity fields are extracted once here: checks read them many times, and a plain
    slotted class keeps building the set cheap for trees of tens of thousands of objects.
    """

    __slots__ = ("api_version", "cluster", "file", "group", "kind", "name", "namespace", "obj", "seq")

    seq: int  # where it arrived in its cluster (set by ClusterObjects.add)

    def __init__(self, cluster: str, file: str | None, obj: dict[str, Any]) -> None:
        self.cluster = cluster
        self.file = file
        self.obj = obj
        api_version = obj.get("apiVersion")
        if not isinstance(api_version, str):
            api_version = ""
        self.api_version = api_version
        self.group = api_version.rpartition("/")[0]  # split_api_version's group, inline: it runs per object
        kind = obj.get("kind")
        self.kind = kind if isinstance(kind, str) else ""
        metadata = obj.get("metadata")
        if isinstance(metadata, dict):
            name, namespace = metadata.get("name"), metadata.get("namespace")
            self.name = name if isinstance(name, str) else ""
            self.namespace: str | None = namespace if isinstance(namespace, str) and namespace else None
        else:
            self.name, self.namespace = "", None

    @property
    def metadata(self) -> dict[str, Any]:
        value = self.obj.get("metadata")
        return value if isinstance(value, dict) else {}

    @property
    def key(self) -> ObjectKey:
        return (self.group, self.kind, self.namespace, self.name)

    def finding(self, check: str, path: str, message: str, severity: Severity = ERROR) -> Finding:
        """A finding about this object, so checks need not repeat the identity fields."""
        return Finding(severity, check, self.file, self.kind, self.namespace, self.name, path, message)

    def __repr__(self) -> str:
        return f"Entry({self.cluster!r}, {self.file!r}, {self.kind} {self.namespace}/{self.name})"


@dataclass
class ClusterObjects:
    """All objects of one cluster, indexed by (group, kind, namespace, name)."""

    name: str
    kubernetes_version: str
    entries: list[Entry] = field(default_factory=list)
    index: dict[ObjectKey, list[Entry]] = field(default_factory=dict)
    # (group, kind) -> entries in arrival order: checks ask for a kind dozens of times per cluster.
    kinds: dict[tuple[str, str], list[Entry]] = field(default_factory=dict)

    def add(self, entry: Entry) -> None:
        entry.seq = len(self.entries)
        self.entries.append(entry)
        group, kind = entry.group, entry.kind
        key = (group, kind, entry.namespace, entry.name)
        same = self.index.get(key)
        if same is None:
            self.index[key] = [entry]
        else:
            same.append(entry)
        of_kind = self.kinds.get((group, kind))
        if of_kind is None:
            self.kinds[(group, kind)] = [entry]
        else:
            of_kind.append(entry)

    def get(self, group: str, kind: str, name: str, namespace: str | None = None) -> Entry | None:
        """The object with that identity, or None. `group` is "" for the core group."""
        found = self.index.get((group, kind, namespace, name))
        return found[0] if found else None

    def of_kind(self, group: str, kind: str) -> list[Entry]:
        return list(self.kinds.get((group, kind), ()))

    def of_kinds(self, kinds: Container[tuple[str, str]]) -> list[Entry]:
        """Entries whose (group, kind) is in `kinds`, in arrival order."""
        found = [self.kinds[k] for k in self.kinds if k in kinds]
        if len(found) < 2:
            return list(found[0]) if found else []
        return sorted((e for entries in found for e in entries), key=attrgetter("seq"))


@dataclass
class ObjectSet:
    """Objects of every cluster being validated; what a Check receives."""

    clusters: dict[str, ClusterObjects] = field(default_factory=dict)

    def add(self, cluster: str, kubernetes_version: str, file: str | None, obj: dict[str, Any]) -> Entry:
        entry = Entry(cluster, file, obj)
        self.cluster(cluster, kubernetes_version).add(entry)
        return entry

    def cluster(self, name: str, kubernetes_version: str) -> ClusterObjects:
        """The cluster's objects, made empty when it has none yet."""
        objects = self.clusters.get(name)
        if objects is None:
            objects = self.clusters[name] = ClusterObjects(name, kubernetes_version)
        return objects

    def __iter__(self) -> Iterator[Entry]:
        for cluster in sorted(self.clusters):
            yield from self.clusters[cluster].entries

    def __len__(self) -> int:
        return sum(len(c.entries) for c in self.clusters.values())


Check = Callable[[ObjectSet], Iterable[Finding]]


def check_duplicates(objects: ObjectSet) -> Iterator[Finding]:
    """Two objects with the same identity in one cluster: GitOps tools would fight over it."""
    for cluster in objects.clusters.values():
        for key, entries in cluster.index.items():
            if len(entries) < 2 or not key[1] or not key[3]:
                continue  # objects without kind/name are already reported by schema validation
            # Sorted by file so the report does not depend on the order objects arrived in.
            first, *others = sorted(entries, key=lambda e: e.file or "")
            for other in others:
                yield other.finding(
                    "duplicate", "$.metadata.name", f"same object is also defined in {first.file}"
                )
