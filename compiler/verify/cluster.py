"""The simulated cluster of one cluster folder: its objects (tree + rendered charts, each with the
unit that installs it), nodes, ResourceSlices and the workloads the spec implies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.charts.releases import Release
from compiler.verify.charts import Rendered, render_tree_charts
from compiler.verify.nodes import (
    DRA_DRIVER,
    GpuStackConfig,
    NodePoolContract,
    SimNode,
    build_nodes,
    pools_of_contract,
    resource_slices,
    spec_pools,
)

# Namespaces every cluster has before anything syncs (kube-apiserver, kube-dns).
BUILTIN_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass(frozen=True)
class TreeObject:
    obj: dict[str, Any]
    unit: str  # component unit that installs it ("apps" for the GitOps objects themselves)
    file: str  # tree file, or "chart:<chart>@<version>" for rendered chart objects


@dataclass
class SimCluster:
    name: str
    version: str
    engine: str
    objects: list[TreeObject]
    releases: list[Release]
    pools: list[NodePoolContract]
    pools_source: str  # "contract" | "spec"
    nodes: list[SimNode] = field(default_factory=list)
    slices: list[dict[str, Any]] = field(default_factory=list)
    _by_kind: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False)
    _namespaces: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    memo: dict[Any, Any] = field(default_factory=dict, repr=False)  # per-cluster derived data of checks

    def of_kind(self, *kinds: str) -> list[dict[str, Any]]:
        """Objects of these kinds, in tree order (indexed once: the object list is final after load)."""
        if not self._by_kind:
            for t in self.objects:
                self._by_kind.setdefault(str(t.obj.get("kind")), []).append(t.obj)
        if len(kinds) == 1:
            return self._by_kind.get(kinds[0], [])
        return [o for k in kinds for o in self._by_kind.get(k, [])]

    def in_namespace(self, kind: str, namespace: str) -> list[dict[str, Any]]:
        """Objects of a kind in one namespace (indexed once per kind)."""
        key = ("by-namespace", kind)
        if key not in self.memo:
            index: dict[str, list[dict[str, Any]]] = {}
            for o in self.of_kind(kind):
                index.setdefault((o.get("metadata") or {}).get("namespace") or "default", []).append(o)
            self.memo[key] = index
        return self.memo[key].get(namespace, [])

    @property
    def dra(self) -> bool:
        """The NVIDIA DRA driver is installed: its chart renders DeviceClass gpu.nvidia.com
        (dra-driver-nvidia-gpu templates/deviceclass-gpu.yaml), in a release or hydrated into the tree."""
        return any(dc["metadata"].get("name") == DRA_DRIVER for dc in self.of_kind("DeviceClass"))

    def namespaces(self) -> dict[str, dict[str, Any]]:
        if self._namespaces:
            return self._namespaces
        found: dict[str, dict[str, Any]] = {
            n: {"kind": "Namespace", "metadata": {"name": n, "labels": {}}} for n in BUILTIN_NAMESPACES
        }
        for ns in self.of_kind("Namespace"):
            found[ns["metadata"]["name"]] = ns
        for name, ns in found.items():
            # kube-apiserver sets kubernetes.io/metadata.name on every namespace (NamespaceDefaultLabelName).
            ns.setdefault("metadata", {}).setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        self._namespaces.update(found)
        return found


def _unit_of(rel: str) -> str:
    parts = rel.split("/")
    if len(parts) > 3 and parts[1] == "components":
        return parts[2]
    return "apps"


def placed_objects(tree: Iterable[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """(folder below the cluster folder, object) of (tree file, object): how releases are read."""
    return [(rel.split("/", 1)[-1].rsplit("/", 1)[0], obj) for rel, obj in tree]


def load_cluster(
    name: str,
    version: str,
    engine: str,
    contract: Mapping[str, Any] | None,
    tree: Iterable[tuple[str, dict[str, Any]]],
    charts_dir: Path,
    spec_dir: Path | None,
    render_cache: Path | None = None,
    rendered_charts: Rendered | None = None,
    pools_from_spec: list[NodePoolContract] | None = None,
) -> SimCluster:
    """Render the cluster's charts (unless `rendered_charts` has them) and build nodes and slices.
    `tree` is (file, object) pairs, `contract` the cluster's node-pool contract (None: the spec's
    pools; `pools_from_spec`, when given, are `spec_pools` of the cluster)."""
    objects = [TreeObject(obj, _unit_of(rel), rel) for rel, obj in tree]
    if rendered_charts is None:
        placed = placed_objects((t.file, t.obj) for t in objects)
        rendered_charts = render_tree_charts(placed, version, charts_dir, render_cache)
    releases = []
    for release, rendered in rendered_charts:
        releases.append(release)
        objects += [
            TreeObject(obj, release.unit, f"chart:{release.chart}@{release.version}") for obj in rendered
        ]
    if contract is not None:
        pools, source = pools_of_contract(contract), "contract"
    else:
        if pools_from_spec is None:
            pools_from_spec = spec_pools(spec_dir, name) if spec_dir else []
        pools, source = pools_from_spec, "spec"
    cluster = SimCluster(name, version, engine, objects, releases, pools, source)
    gpu = GpuStackConfig.from_tree(cluster.of_kind("ClusterPolicy", "ConfigMap"), cluster.dra)
    cluster.nodes = build_nodes(pools, gpu)
    cluster.slices = resource_slices(cluster.nodes)
    return cluster
