"""Team tenancy: namespace, quotas, limits and access for every team on the cluster."""

from __future__ import annotations

from compiler.cluster_model import ClusterModel, TeamOnCluster
from compiler.components.base import Component, ComponentOutput, KubeObject, obj
from compiler.gpu_allocation import quota_key, reach

# Container defaults for pods that set no resources; requests stay small so bin-packing works.
DEFAULT_LIMITS = {"cpu": "2", "memory": "4Gi"}
DEFAULT_REQUESTS = {"cpu": "100m", "memory": "256Mi"}


def namespace(cluster: ClusterModel, team: TeamOnCluster) -> KubeObject:
    level = team.team.spec.podSecurity
    psa_version = f"v{cluster.kubernetes_version}"
    labels = {
        **team.labels,
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/enforce-version": psa_version,
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
    }
    return obj("v1", "Namespace", team.namespace, labels=labels)


def gpu_quota(cluster: ClusterModel, team: TeamOnCluster) -> dict[str, int]:
    """GPU hard limits: each flavor's reach (quota plus borrowingLimit, no borrowing when it is
    absent, never above the cluster's capacity), under the key the allocation mode counts."""
    hard: dict[str, int] = {}
    for quota in team.entry.gpus:
        key = quota_key(cluster.allocation, quota.flavor, cluster.gpu_resource(quota.flavor))
        hard[key] = hard.get(key, 0) + reach(quota, cluster.capacity[quota.flavor])
    return hard


def resource_quota(cluster: ClusterModel, team: TeamOnCluster) -> KubeObject:
    hard: dict[str, str] = {
        "requests.cpu": team.entry.cpu,
        "requests.memory": team.entry.memory,
        **{key: str(value) for key, value in sorted(gpu_quota(cluster, team).items())},
    }
    return obj("v1", "ResourceQuota", team.namespace, team.namespace, labels=team.labels, spec={"hard": hard})


def limit_range(team: TeamOnCluster) -> KubeObject:
    limit = {"type": "Container", "default": dict(DEFAULT_LIMITS), "defaultRequest": dict(DEFAULT_REQUESTS)}
    return obj("v1", "LimitRange", "defaults", team.namespace, labels=team.labels, spec={"limits": [limit]})


def role_binding(team: TeamOnCluster, name: str, cluster_role: str, groups: list[str]) -> KubeObject:
    subjects = [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g} for g in sorted(set(groups))
    ]
    return obj(
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        name,
        team.namespace,
        labels=team.labels,
        roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_role},
        subjects=subjects,
    )


def build(cluster: ClusterModel) -> ComponentOutput:
    objects: list[KubeObject] = []
    for team in cluster.teams:
        objects += [namespace(cluster, team), resource_quota(cluster, team), limit_range(team)]
        objects.append(role_binding(team, "owners-admin", "admin", team.team.spec.owners))
        if team.team.spec.members:
            objects.append(role_binding(team, "members-edit", "edit", team.team.spec.members))
    return ComponentOutput(objects=tuple(objects))


COMPONENT = Component("tenancy", build)
