"""Flux packaging: a GitRepository and root Kustomization, one Kustomization per unit with
dependsOn, wait and prune, and HelmRepository/OCIRepository + HelmRelease per chart."""

from __future__ import annotations

from typing import Any

from compiler.cluster_model import ClusterModel
from compiler.components.base import HelmChart, KubeObject, obj
from compiler.packaging.common import (
    APPS_DIR,
    BOOTSTRAP_DIR,
    PlacedObject,
    component_objects,
    crd_groups_annotation,
    engine_namespace,
    git_source,
    unit_folder,
)
from compiler.packaging.units import Unit
from compiler.tree_contract import CLUSTER_LABEL

SOURCE_API = "source.toolkit.fluxcd.io/v1"
KUSTOMIZE_API = "kustomize.toolkit.fluxcd.io/v1"
HELM_API = "helm.toolkit.fluxcd.io/v2"
GIT_SOURCE_NAME = "platform"
HELM_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
REMEDIATION = {"retries": 3}
# A HelmRelease whose chart installs CRDs is never pruned: pruning it uninstalls the chart, and
# CRDs rendered from templates (kserve-crd, kueue) go with it, taking every custom resource.
PRUNE_DISABLED = {"kustomize.toolkit.fluxcd.io/prune": "disabled"}


def _source_name(chart: HelmChart) -> str:
    # Named after the release, not the repository: two units sharing a repository must not
    # both own one HelmRepository object.
    return chart.release


def git_repository(cluster: ClusterModel) -> KubeObject:
    git = git_source(cluster)
    return obj(
        SOURCE_API,
        "GitRepository",
        GIT_SOURCE_NAME,
        engine_namespace(cluster),
        spec={"interval": "1m", "url": git.repo_url, "ref": {"branch": git.revision}},
    )


def kustomization(
    cluster: ClusterModel, name: str, path: str, depends_on: tuple[str, ...] = (), **extra: Any
) -> KubeObject:
    spec: dict[str, Any] = {
        "interval": "10m",
        "retryInterval": "1m",
        "timeout": "10m",
        "path": f"./{path}",
        "prune": True,
        "wait": True,  # health-checks everything applied, HelmReleases included, before dependants start
        "sourceRef": {"kind": "GitRepository", "name": GIT_SOURCE_NAME},
        **extra,
    }
    if depends_on:
        spec["dependsOn"] = [{"name": d} for d in depends_on]
    return obj(
        KUSTOMIZE_API,
        "Kustomization",
        name,
        engine_namespace(cluster),
        labels={CLUSTER_LABEL: cluster.name},
        spec=spec,
    )


def chart_objects(cluster: ClusterModel, chart: HelmChart) -> list[KubeObject]:
    namespace = engine_namespace(cluster)
    source = _source_name(chart)
    crds = "Skip" if chart.skip_crds else "CreateReplace"
    release_spec: dict[str, Any] = {
        "interval": "10m",
        "releaseName": chart.release,
        "targetNamespace": chart.namespace,
        "install": {"crds": crds, "remediation": REMEDIATION},
        "upgrade": {"crds": crds, "remediation": REMEDIATION},
    }
    if chart.repository.startswith("oci://"):
        repo = obj(
            SOURCE_API,
            "OCIRepository",
            source,
            namespace,
            spec={
                "interval": "1h",
                "url": f"{chart.repository.rstrip('/')}/{chart.chart}",
                "ref": {"tag": chart.version},
                "layerSelector": {"mediaType": HELM_LAYER, "operation": "copy"},
            },
        )
        release_spec["chartRef"] = {"kind": "OCIRepository", "name": source}
    else:
        repo = obj(
            SOURCE_API, "HelmRepository", source, namespace, spec={"interval": "1h", "url": chart.repository}
        )
        release_spec["chart"] = {
            "spec": {
                "chart": chart.chart,
                "version": chart.version,
                "sourceRef": {"kind": "HelmRepository", "name": source},
            }
        }
    if chart.values:
        release_spec["values"] = chart.values
    release = obj(
        HELM_API,
        "HelmRelease",
        chart.release,
        namespace,
        annotations={
            **crd_groups_annotation([chart]),
            **(PRUNE_DISABLED if chart.crd_groups and not chart.skip_crds else {}),
        },
        spec=release_spec,
    )
    return [repo, release]


def package(cluster: ClusterModel, units: list[Unit]) -> list[PlacedObject]:
    git = git_source(cluster)
    placed: list[PlacedObject] = [
        (BOOTSTRAP_DIR, git_repository(cluster)),
        (
            BOOTSTRAP_DIR,
            kustomization(cluster, "platform-apps", git.cluster_path(cluster.name, APPS_DIR), wait=False),
        ),
    ]
    for unit in units:
        path = git.cluster_path(cluster.name, unit_folder(unit))
        placed.append((APPS_DIR, kustomization(cluster, unit.name, path, unit.depends_on)))
        for chart in unit.charts:
            placed += [(unit_folder(unit), o) for o in chart_objects(cluster, chart)]
    return placed + component_objects(units)
