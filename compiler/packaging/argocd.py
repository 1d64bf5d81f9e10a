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
from compiler.tree_contract import CLUSTER_LABEL, UNIT_LABEL

API = "argoproj.io/v1alpha1"
IN_CLUSTER = "https://kubernetes.default.svc"
WAVE = "argocd.argoproj.io/sync-wave"
# Teams may not loosen the guardrails the platform sets in their namespace.
TEAM_BLACKLIST = [
    {"group": "", "kind": "ResourceQuota"},
    {"group": "", "kind": "LimitRange"},
    {"group": "networking.k8s.io", "kind": "NetworkPolicy"},
    {"group": "kueue.x-k8s.io", "kind": "*"},
    {"group": "rbac.authorization.k8s.io", "kind": "*"},
]
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
# argocd-cm key and Lua that make Argo CD assess a child Application's health from its own
# status: without it (removed from the defaults in Argo CD 1.8) a wave of child Applications does
# not wait for the previous wave to be healthy. The script is the one Argo CD's operator manual
# (docs/operator-manual/health.md, "Argo CD App") gives.
APPLICATION_HEALTH_KEY = "resource.customizations.health.argoproj.io_Application"
APPLICATION_HEALTH_LUA = """hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil then
  if obj.status.health ~= nil then
    hs.status = obj.status.health.status
    if obj.status.health.message ~= nil then
      hs.message = obj.status.health.message
    end
  end
end
return hs
"""
ARGOCD_CM = "argocd-cm"
SYNC_RETRY = {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "3m"}}


def platform_project(cluster: ClusterModel) -> str:
    return f"{cluster.name}-platform"


def bootstrap_project(cluster: ClusterModel) -> str:
    return f"{cluster.name}-bootstrap"


def chart_source(chart: HelmChart) -> dict[str, Any]:
    # Argo CD addresses OCI Helm registries without the scheme.
    repo = chart.repository.removeprefix("oci://")
    helm: dict[str, Any] = {"releaseName": chart.release}
    if chart.skip_crds:
        helm["skipCrds"] = True
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
        labels={CLUSTER_LABEL: cluster.name, UNIT_LABEL: unit.name},
        annotations={WAVE: str(unit.wave), **crd_groups_annotation(unit.charts)},
        finalizers=None if installs_crds(unit) else [RESOURCES_FINALIZER],
        spec=spec,
    )


def installs_crds(unit: Unit) -> bool:
    """Deleting an Application with the resources finalizer deletes what it synced; for CRDs
    that deletes every custom resource of them cluster-wide (all InferenceServices with the
    KServe CRDs). Such Applications carry no finalizer: deleting them, or the root, orphans."""
    return any(chart.crd_groups and not chart.skip_crds for chart in unit.charts)


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
            labels={CLUSTER_LABEL: cluster.name},
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
        project = f"{cluster.name}-{team.name}"
        result.append(
            obj(
                API,
                "AppProject",
                project,
                engine_namespace(cluster),
                labels={CLUSTER_LABEL: cluster.name, **team.labels},
                annotations={WAVE: "-1"},
                spec={
                    "description": f"Team {team.name} on cluster {cluster.name}: its namespace only",
                    "sourceRepos": [git.repo_url],
                    "destinations": [{"server": destination, "namespace": team.namespace}],
                    "clusterResourceWhitelist": [],
                    "namespaceResourceBlacklist": TEAM_BLACKLIST,
                    "roles": team_project_roles(project, team.team.spec.owners, team.team.spec.members),
                },
            )
        )
    return result


def team_project_roles(project: str, owners: list[str], members: list[str]) -> list[dict[str, Any]]:
    """Project roles bound to the team's identity-provider groups (Argo CD RBAC `p` lines):
    owners manage the project's Applications, members see and sync them."""
    apps = f"{project}/*"

    def policies(role: str, actions: tuple[str, ...]) -> list[str]:
        return [f"p, proj:{project}:{role}, applications, {a}, {apps}, allow" for a in actions]

    roles = [
        {
            "name": "owners",
            "description": "team owners: manage the team's Applications",
            "groups": sorted(set(owners)),
            "policies": policies("owners", ("*",)),
        }
    ]
    if members:
        roles.append(
            {
                "name": "members",
                "description": "team members: view and sync the team's Applications",
                "groups": sorted(set(members)),
                "policies": policies("members", ("get", "sync")),
            }
        )
    return roles


def root_project(cluster: ClusterModel) -> KubeObject:
    """The root Application's own project, applied with it: it may only put Applications and
    AppProjects into the engine's namespace from the platform repository (not project default,
    which allows any source, destination and kind)."""
    git = git_source(cluster)
    kinds = [{"group": "argoproj.io", "kind": "Application"}, {"group": "argoproj.io", "kind": "AppProject"}]
    return obj(
        API,
        "AppProject",
        bootstrap_project(cluster),
        engine_namespace(cluster),
        labels={CLUSTER_LABEL: cluster.name},
        spec={
            "description": f"The app of apps of cluster {cluster.name}, managed by platformc",
            "sourceRepos": [git.repo_url],
            "destinations": [{"server": IN_CLUSTER, "namespace": engine_namespace(cluster)}],
            "clusterResourceWhitelist": [],
            "namespaceResourceWhitelist": kinds,
        },
    )


def root_application(cluster: ClusterModel) -> KubeObject:
    git = git_source(cluster)
    return obj(
        API,
        "Application",
        f"{cluster.name}-root",
        engine_namespace(cluster),
        labels={CLUSTER_LABEL: cluster.name},
        finalizers=[RESOURCES_FINALIZER],
        spec={
            "project": bootstrap_project(cluster),
            "source": {
                "repoURL": git.repo_url,
                "targetRevision": git.revision,
                "path": git.cluster_path(cluster.name, APPS_DIR),
            },
            "destination": {"server": IN_CLUSTER, "namespace": engine_namespace(cluster)},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "retry": SYNC_RETRY},
        },
    )


def application_health_config(cluster: ClusterModel) -> KubeObject:
    """The argocd-cm entry applied with the bootstrap (server-side or `kubectl apply` merge: only
    this key is set). Argo CD reads argocd-cm only with the part-of label."""
    return obj(
        "v1",
        "ConfigMap",
        ARGOCD_CM,
        engine_namespace(cluster),
        labels={"app.kubernetes.io/name": ARGOCD_CM, "app.kubernetes.io/part-of": "argocd"},
        data={APPLICATION_HEALTH_KEY: APPLICATION_HEALTH_LUA},
    )


def package(cluster: ClusterModel, units: list[Unit]) -> list[PlacedObject]:
    placed: list[PlacedObject] = [
        (BOOTSTRAP_DIR, root_project(cluster)),
        (BOOTSTRAP_DIR, root_application(cluster)),
        (BOOTSTRAP_DIR, application_health_config(cluster)),
    ]
    placed += [(APPS_DIR, p) for p in projects(cluster, units)]
    placed += [(APPS_DIR, application(cluster, u)) for u in units]
    return placed + component_objects(units)
