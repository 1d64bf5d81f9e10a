"""What both engines share: folder layout of a cluster tree and where units live in Git."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from compiler.cluster_model import ClusterModel
from compiler.components.base import HelmChart, KubeObject
from compiler.packaging.units import Unit
from compiler.tree_contract import (
    APPS_DIR,
    BOOTSTRAP_DIR,
    COMPONENTS_DIR,
    CRD_GROUPS_ANNOTATION,
    CRDS_ANNOTATION,
    USES_CRD_GROUPS_ANNOTATION,
    WEBHOOK_GROUPS_ANNOTATION,
    join_groups,
)

__all__ = [
    "APPS_DIR",
    "BOOTSTRAP_DIR",
    "COMPONENTS_DIR",
    "CRD_GROUPS_ANNOTATION",
    "USES_CRD_GROUPS_ANNOTATION",
    "WEBHOOK_GROUPS_ANNOTATION",
]

PlacedObject = tuple[str, KubeObject]  # (folder inside the cluster tree, object)


def crd_groups_annotation(charts: Iterable[HelmChart]) -> dict[str, str]:
    charts = list(charts)
    annotations: dict[str, str] = {}
    provides = {g for chart in charts for g in chart.crd_groups}
    if provides:
        annotations[CRD_GROUPS_ANNOTATION] = join_groups(provides)
    uses = {g for chart in charts for g in chart.uses_crd_groups}
    if uses:
        annotations[USES_CRD_GROUPS_ANNOTATION] = join_groups(uses)
    gated = {g for chart in charts for g in chart.webhook_groups}
    if gated:
        annotations[WEBHOOK_GROUPS_ANNOTATION] = join_groups(gated)
    crds = {name for chart in charts for name in chart.crds}
    if crds:
        annotations[CRDS_ANNOTATION] = join_groups(crds)
    return annotations


@dataclass(frozen=True)
class GitSource:
    repo_url: str
    revision: str
    root: str  # path of generated/ inside the repository

    def cluster_path(self, cluster: str, *parts: str) -> str:
        return "/".join(p.strip("/") for p in (self.root, cluster, *parts) if p.strip("/"))


def git_source(cluster: ClusterModel) -> GitSource:
    gitops = cluster.platform.spec.gitops
    return GitSource(gitops.repoURL, gitops.revision, gitops.path)


def engine_namespace(cluster: ClusterModel) -> str:
    configured = cluster.platform.spec.gitops.namespace
    return configured or ("argocd" if cluster.engine == "argocd" else "flux-system")


def unit_folder(unit: Unit) -> str:
    return f"{COMPONENTS_DIR}/{unit.name}"


def component_objects(units: list[Unit]) -> list[PlacedObject]:
    return [(folder, o) for u in units for folder in (unit_folder(u),) for o in u.objects]


def object_folder(folder: str, obj: KubeObject) -> str:
    """Namespaced objects of a component folder go to a sub-folder per namespace, so that
    `<kind>-<name>.yaml` stays unique (every team namespace has a `default-deny-ingress`)."""
    namespace = obj["metadata"].get("namespace")  # namespace_of without its call: once per object
    return f"{folder}/{namespace}" if namespace and folder.startswith(_COMPONENTS_PREFIX) else folder


_COMPONENTS_PREFIX = COMPONENTS_DIR + "/"
