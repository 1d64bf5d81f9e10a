"""What the GPU components agree on about a flavor on one cluster: where its nodes are
(labels, taints), what a pod asks for (resource or claim), and how Kueue counts it.

Kept in one place so that the ResourceFlavor, the InferenceService's node selector, the
device-plugin / mig-manager configuration and the DRA claim templates never disagree.
"""

from __future__ import annotations

from typing import Any

from compiler.cluster_model import ClusterModel, TeamOnCluster
from compiler.naming import (
    DEVICE_PLUGIN_CONFIG_LABEL,
    GPU_PRODUCT_LABEL,
    MIG_CONFIG_LABEL,
    device_plugin_config_name,
    dra_quota_key,
    mig_config_name,
)
from compiler.spec.models import GPUFlavor, MigSharing, NodePool, Taint, TimeSlicingSharing

# Largest claim template offered per flavor: one 8-GPU node is the common upper bound for a
# single pod; larger shapes are multi-node jobs, which do not use a single claim.
MAX_CLAIM_COUNT = 8


def chart_version(version: str) -> str:
    """Helm chart version from a release tag, for charts published without the leading v."""
    return version.removeprefix("v")


def pools_of(cluster: ClusterModel, flavor: str) -> list[NodePool]:
    return [p for p in cluster.cluster.spec.nodePools if p.flavor == flavor]


def is_mig(flavor: GPUFlavor) -> bool:
    return isinstance(flavor.spec.sharing, MigSharing)


def is_time_sliced(flavor: GPUFlavor) -> bool:
    return isinstance(flavor.spec.sharing, TimeSlicingSharing)


# GPU feature discovery appends this to the product label of a time-sliced GPU whose resource
# keeps its name (NVIDIA/k8s-device-plugin v0.20.0 internal/lm/resource.go, productLabel).
SHARED_PRODUCT_SUFFIX = "-SHARED"


def product_label(cluster: ClusterModel, name: str) -> str:
    """nvidia.com/gpu.product as GFD writes it on this flavor's nodes: device-plugin
    time-slicing (renameByDefault false) marks the product shared."""
    flavor = cluster.flavors[name]
    if is_time_sliced(flavor) and not cluster.dra:
        return flavor.spec.product + SHARED_PRODUCT_SUFFIX
    return flavor.spec.product


def node_labels(cluster: ClusterModel, name: str) -> dict[str, str]:
    """Labels every node of this flavor carries: the GFD product label, the sharing config
    selector (mig-manager / device plugin read it) and the labels all its pools share."""
    flavor = cluster.flavors[name]
    labels = {GPU_PRODUCT_LABEL: product_label(cluster, name)}
    if is_mig(flavor):
        labels[MIG_CONFIG_LABEL] = mig_config_name(name)
    elif is_time_sliced(flavor) and not cluster.dra:
        labels[DEVICE_PLUGIN_CONFIG_LABEL] = device_plugin_config_name(name)
    pools = pools_of(cluster, name)
    common = set(pools[0].labels.items()) if pools else set()
    for pool in pools[1:]:
        common &= set(pool.labels.items())
    labels.update(dict(sorted(common)))
    return labels


def toleration(taint: Taint) -> dict[str, Any]:
    if taint.value is None:
        return {"key": taint.key, "operator": "Exists", "effect": taint.effect}
    return {"key": taint.key, "operator": "Equal", "value": taint.value, "effect": taint.effect}


def tolerations(cluster: ClusterModel, name: str) -> list[dict[str, Any]]:
    """Tolerations for every taint of any pool of the flavor (sorted, without duplicates)."""
    taints = {(t.key, t.value or "", t.effect): t for p in pools_of(cluster, name) for t in p.taints}
    return [toleration(taints[k]) for k in sorted(taints)]


def all_pool_tolerations(cluster: ClusterModel) -> list[dict[str, Any]]:
    """Tolerations for every GPU pool taint on the cluster (node agents must run on all of them)."""
    taints = {(t.key, t.value or "", t.effect): t for p in cluster.cluster.spec.nodePools for t in p.taints}
    return [toleration(taints[k]) for k in sorted(taints)]


def queue_resource(cluster: ClusterModel, flavor: str) -> str:
    """Resource name Kueue counts a flavor's units under.

    device-plugin: the extended resource pods request (nvidia.com/gpu, nvidia.com/mig-<profile>).
    dra: one logical name per DeviceClass (Kueue's deviceClassMappings), the same key the
    namespace ResourceQuota uses, so one name means one thing everywhere.
    """
    return dra_quota_key(flavor) if cluster.dra else cluster.gpu_resource(flavor)


def reach(cluster: ClusterModel, quota: int, borrowing: int | None, flavor: str) -> int:
    """Most units a team can hold at once: quota plus borrowing, never above capacity."""
    capacity = cluster.capacity.get(flavor, 0)
    return min(quota + (borrowing if borrowing is not None else capacity), capacity)


def claim_counts(cluster: ClusterModel, team: TeamOnCluster, flavor: str) -> list[int]:
    """Claim template sizes a team gets for a flavor: powers of two up to min(reach, 8), plus
    every per-replica count its serving paths on this cluster use."""
    quota = next((q for q in team.entry.gpus if q.flavor == flavor), None)
    if quota is None:
        return []
    most = reach(cluster, quota.quota, quota.borrowingLimit, flavor)
    counts = {c for c in (1, 2, 4, 8) if c <= min(most, MAX_CLAIM_COUNT)}
    counts |= {
        p.spec.gpu.count
        for p in cluster.serving_paths
        if p.spec.team == team.name and p.spec.gpu.flavor == flavor and p.spec.gpu.count <= most
    }
    return sorted(counts)
