"""What both engines share: folder layout of a cluster tree and where units live in Git."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from compiler.cluster_model import ClusterModel
from compiler.components.base import HelmChart, KubeObject
from compiler.packaging.units import Unit

BOOTSTRAP_DIR = "bootstrap"  # applied once by hand; then the engine takes over
APPS_DIR = "apps"  # one Application / Kustomization per unit
COMPONENTS_DIR = "components"  # the plain objects each unit syncs

PlacedObject = tuple[str, KubeObject]  # (folder inside the cluster tree, object)

# Stamped on what installs a chart (Argo CD Application, Flux HelmRelease): the API groups whose
# CRDs it installs, so `platformc validate` can check ordering on a tree without the spec.
CRD_GROUPS_ANNOTATION = "platformc.dev/crd-groups"
# …and the API groups of custom resources the chart itself creates, which must be installed first.
USES_CRD_GROUPS_ANNOTATION = "platformc.dev/uses-crd-groups"
# …and, when the charts were rendered, the names of the CRDs they install (a CRD two units install
# is an error the ordering check reports).
CRDS_ANNOTATION = "platformc.dev/crds"


def crd_groups_annotation(charts: Iterable[HelmChart]) -> dict[str, str]:
    charts = list(charts)
    annotations = {}
    provides = sorted({g for chart in charts for g in chart.crd_groups})
    if provides:
        annotations[CRD_GROUPS_ANNOTATION] = ",".join(provides)
    uses = sorted({g for chart in charts for g in chart.uses_crd_groups})
    if uses:
        annotations[USES_CRD_GROUPS_ANNOTATION] = ",".join(uses)
    crds = sorted({name for chart in charts for name in chart.crds})
    if crds:
        annotations[CRDS_ANNOTATION] = ",".join(crds)
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
    return [(unit_folder(u), o) for u in units for o in u.objects]


def object_folder(folder: str, obj: KubeObject) -> str:
    """Namespaced objects of a component folder go to a sub-folder per namespace, so that
    `<kind>-<name>.yaml` stays unique (every team namespace has a `default-deny-ingress`)."""
    namespace = obj["metadata"].get("namespace")
    return f"{folder}/{namespace}" if namespace and folder.startswith(COMPONENTS_DIR + "/") else folder
