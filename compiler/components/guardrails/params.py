"""The per-team params ConfigMap every guardrail policy reads (`params.data.<key>`).

One policy serves all teams: its binding's paramRef names this ConfigMap without a
namespace, so the API server reads the one in the namespace of the request
(admissionregistration.k8s.io/v1 ParamRef: "If namespace is not specified ... the params
are looked up in the namespace of the object being evaluated"). Lists are comma-joined
because ConfigMap values are strings; the policies split them.
"""

from __future__ import annotations

from compiler.cluster_model import ClusterModel, TeamOnCluster
from compiler.components.base import KubeObject, obj
from compiler.components.gpu_common import claim_counts
from compiler.components.tenancy import allowed_priority_classes
from compiler.naming import claim_template_name, device_class_name
from compiler.spec.policies import (
    LargestGpuRequest,
    RequiredLabels,
    ServingRollback,
    TrustedRegistries,
    effective_rule,
)

PARAMS_NAME = "platformc-guardrails"
GPU_RESOURCE_PREFIX = "nvidia.com/"  # every NVIDIA device-plugin resource (gpu, mig-*, shared)
CLAIM_KEY_PREFIX = "claim."  # claim.<template>: GPUs the template claims
CLAIM_POOL_PREFIX = "claimPool."  # claimPool.<template>: the flavor it claims
QUOTA_KEY_PREFIX = "quota."  # quota.<pool>: the team's nominal quota of a GPU pool
# Kueue WorkloadPriorityClasses platformc creates, lowest first (kueue component).
PRIORITY_LEVELS = ("low", "normal", "high")


def registry_prefix(prefix: str) -> str:
    """'nvcr.io' → 'nvcr.io/': a bare host must not also match nvcr.io.evil.example/…"""
    return prefix if "/" in prefix else prefix + "/"


def _join(values: list[str] | tuple[str, ...]) -> str:
    return ",".join(values)


def _team_flavors(cluster: ClusterModel, team: TeamOnCluster) -> list[str]:
    return sorted({q.flavor for q in team.entry.gpus if q.flavor in cluster.flavors})


def claim_templates(cluster: ClusterModel, team: TeamOnCluster) -> dict[str, tuple[str, int]]:
    """The team's ResourceClaimTemplates (dra component): name → (flavor, GPUs it claims)."""
    if not cluster.dra:
        return {}
    return {
        claim_template_name(flavor, count): (flavor, count)
        for flavor in _team_flavors(cluster, team)
        for count in claim_counts(cluster, team, flavor)
    }


def gpu_pools(cluster: ClusterModel, team: TeamOnCluster) -> dict[str, int]:
    """What the team's GPU quota is counted in → its nominal quota there.

    Device plugin: the extended resource (flavors sharing one add up); DRA: the flavor.
    """
    pools: dict[str, int] = {}
    for quota in team.entry.gpus:
        if quota.flavor in cluster.flavors:
            pool = quota.flavor if cluster.dra else cluster.gpu_resource(quota.flavor)
            pools[pool] = pools.get(pool, 0) + quota.quota
    return pools


def pool_key(pool: str) -> str:
    """ConfigMap keys allow [-._a-zA-Z0-9]: nvidia.com/gpu → quota.nvidia.com_gpu."""
    return QUOTA_KEY_PREFIX + pool.replace("/", "_")


def gpu_hint(cluster: ClusterModel, team: TeamOnCluster) -> str:
    """Where this team's GPUs come from, in the words a refused user needs."""
    if cluster.dra:
        templates = ", ".join(sorted(claim_templates(cluster, team))) or "none (the team has no GPU quota)"
        return (
            "on this cluster GPUs come through DRA: name a ResourceClaimTemplate in spec.resourceClaims "
            f"({templates}) and the claim in the container's resources.claims"
        )
    resources = ", ".join(sorted({cluster.gpu_resource(f) for f in _team_flavors(cluster, team)}))
    return f"request GPUs as {resources or 'nothing: the team has no GPU quota here'} in resources.limits"


def params_data(cluster: ClusterModel, team: TeamOnCluster) -> dict[str, str]:
    platform = cluster.platform.spec.policies
    mine = team.team.spec.policies
    registries = effective_rule(platform, mine, "trustedRegistries")
    labels = effective_rule(platform, mine, "requiredLabels")
    largest = effective_rule(platform, mine, "largestGpuRequest")
    priorities = effective_rule(platform, mine, "priorityClasses")
    rollback = effective_rule(platform, mine, "servingRollback")
    flavors = _team_flavors(cluster, team)
    templates = claim_templates(cluster, team)
    pools = gpu_pools(cluster, team)
    fraction = largest.fractionOfQuota if isinstance(largest, LargestGpuRequest) else 1.0
    level = PRIORITY_LEVELS.index(team.team.spec.priority)
    data = {
        "team": team.name,
        "registries": _join(
            [registry_prefix(r) for r in registries.registries]
            if isinstance(registries, TrustedRegistries)
            else []
        ),
        "requiredLabels": _join(labels.labels if isinstance(labels, RequiredLabels) else []),
        "servingLabels": _join(labels.serving if isinstance(labels, RequiredLabels) else []),
        "gpuResources": "" if cluster.dra else _join(sorted({cluster.gpu_resource(f) for f in flavors})),
        "deviceClasses": _join([device_class_name(f) for f in flavors] if cluster.dra else []),
        "claimTemplates": _join(sorted(templates)),
        "gpuHint": gpu_hint(cluster, team),
        "gpuPools": _join(sorted(pools)),
        "largestFraction": repr(fraction),
        "largestPercent": f"{fraction * 100:g}",
        "priorityClasses": _join(allowed_priority_classes(cluster, team) if priorities is not None else []),
        "workloadPriorityClasses": _join(PRIORITY_LEVELS[: level + 1]),
        "rollbackLabel": rollback.label if isinstance(rollback, ServingRollback) else "",
    }
    data.update({pool_key(pool): str(quota) for pool, quota in sorted(pools.items())})
    for name, (flavor, count) in sorted(templates.items()):
        data[CLAIM_KEY_PREFIX + name] = str(count)
        data[CLAIM_POOL_PREFIX + name] = flavor
    return data


def params_config_map(cluster: ClusterModel, team: TeamOnCluster) -> KubeObject:
    return obj(
        "v1", "ConfigMap", PARAMS_NAME, team.namespace, labels=team.labels, data=params_data(cluster, team)
    )
