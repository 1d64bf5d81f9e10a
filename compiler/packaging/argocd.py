"""Argo CD packaging: a root Application (app of apps), one Application per unit with sync
waves, an AppProject for the platform and one per team limited to its namespace."""

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
from compiler.tree_contract import UNIT_LABEL

API = "argoproj.io/v1alpha1"
IN_CLUSTER = "https://kubernetes.default.svc"
WAVE = "argocd.argoproj.io/sync-wave"
# Teams may not loosen the guardrails the platform sets in their namespace.
TEAM_BLACKLIST = [
    {"group": "", "kind": "ResourceQuota"},
    {"group": "", "kind": "LimitRange"},
    {"group": "networking.k8s.io", "kind": "NetworkPolicy"},
]
SYNC_RETRY = {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "3m"}}


def platform_project(cluster: ClusterModel) -> str:
    return f"{cluster.name}-platform"


def chart_source(chart: HelmChart) -> dict[str, Any]:
    # Argo CD addresses OCI Helm registries without the scheme.
    repo = chart.repository.removeprefix("oci://")
    helm: dict[str, Any] = {"releaseName": chart.release}
    if chart.values:
        helm["valuesObject"] = chart.values
    return {"repoURL": repo, "chart": chart.chart, "targetRevision": chart.version, "helm": helm}


def application(cluster: ClusterModel, unit: Unit) -> KubeObject:
    git = git_source(cluster)
    sources = [chart_source(c) for c in unit.charts]
    if unit.objects:
        sources.append(
            {
                "repoURL": git.repo_url,
                "targetRevision": git.revision,
                "path": git.cluster_path(cluster.name, unit_folder(unit)),
            }
        )
    options = ["CreateNamespace=false"]
    if unit.charts or unit.provided_groups:
        # CRDs (from charts, or hydrated into the unit) exceed the client-side apply annotation limit.
        options.append("ServerSideApply=true")
    if any(d for d in unit.depends_on):
        options.append("SkipDryRunOnMissingResource=true")  # CRDs of earlier waves may be brand new
    destination: dict[str, Any] = {"server": cluster.cluster.spec.gitops.destination}
    if unit.namespace:
        destination["namespace"] = unit.namespace
    spec: dict[str, Any] = {"project": platform_project(cluster), "destination": destination}
    if len(sources) == 1:
        spec["source"] = sources[0]
    else:
        spec["sources"] = sources
    spec["syncPolicy"] = {
        "automated": {"prune": True, "selfHeal": True},
        "syncOptions": options,
        "retry": SYNC_RETRY,
    }
    return obj(
        API,
        "Application",
        f"{cluster.name}-{unit.name}",
        engine_namespace(cluster),
        labels={"platformc.dev/cluster": cluster.name, UNIT_LABEL: unit.name},
        annotations={WAVE: str(unit.wave), **crd_groups_annotation(unit.charts)},
        finalizers=["resources-finalizer.argocd.argoproj.io"],
        spec=spec,
    )


def projects(cluster: ClusterModel, units: list[Unit]) -> list[KubeObject]:
    git = git_source(cluster)
    destination = cluster.cluster.spec.gitops.destination
    repos = sorted({git.repo_url} | {c.repository.removeprefix("oci://") for u in units for c in u.charts})
    everything = [{"group": "*", "kind": "*"}]
    result = [
        obj(
            API,
            "AppProject",
            platform_project(cluster),
            engine_namespace(cluster),
            labels={"platformc.dev/cluster": cluster.name},
            annotations={WAVE: "-1"},
            spec={
                "description": f"Platform components of cluster {cluster.name}, managed by platformc",
                "sourceRepos": repos,
                "destinations": [{"server": destination, "namespace": "*"}],
                "clusterResourceWhitelist": everything,
                "namespaceResourceWhitelist": everything,
            },
        )
    ]
    for team in cluster.teams:
        result.append(
            obj(
                API,
                "AppProject",
                f"{cluster.name}-{team.name}",
                engine_namespace(cluster),
                labels={"platformc.dev/cluster": cluster.name, **team.labels},
                annotations={WAVE: "-1"},
                spec={
                    "description": f"Team {team.name} on cluster {cluster.name}: its namespace only",
                    "sourceRepos": ["*"],
                    "destinations": [{"server": destination, "namespace": team.namespace}],
                    "clusterResourceWhitelist": [],
                    "namespaceResourceBlacklist": TEAM_BLACKLIST,
                },
            )
        )
    return result


def root_application(cluster: ClusterModel) -> KubeObject:
    git = git_source(cluster)
    return obj(
        API,
        "Application",
        f"{cluster.name}-root",
        engine_namespace(cluster),
        labels={"platformc.dev/cluster": cluster.name},
        finalizers=["resources-finalizer.argocd.argoproj.io"],
        spec={
            "project": "default",
            "source": {
                "repoURL": git.repo_url,
                "targetRevision": git.revision,
                "path": git.cluster_path(cluster.name, APPS_DIR),
            },
            "destination": {"server": IN_CLUSTER, "namespace": engine_namespace(cluster)},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "retry": SYNC_RETRY},
        },
    )


def package(cluster: ClusterModel, units: list[Unit]) -> list[PlacedObject]:
    placed: list[PlacedObject] = [(BOOTSTRAP_DIR, root_application(cluster))]
    placed += [(APPS_DIR, p) for p in projects(cluster, units)]
    placed += [(APPS_DIR, application(cluster, u)) for u in units]
    return placed + component_objects(units)
