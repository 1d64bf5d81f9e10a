"""What the GPU components agree on about a flavor on one cluster: where its nodes are
(labels, taints), what a pod asks for (resource or claim), and how Kueue counts it.

Kept in one place so that the ResourceFlavor, the InferenceService's node selector, the
device-plugin / mig-manager configuration and the DRA claim templates never disagree.
"""

from __future__ import annotations

from typing import Any

from compiler import gpu_allocation
from compiler.cluster_model import ClusterModel, TeamOnCluster
from compiler.gpu_allocation import device_plugin_on
from compiler.naming import (
    DEVICE_PLUGIN_CONFIG_LABEL,
    GPU_PRODUCT_LABEL,
    MIG_CONFIG_LABEL,
    device_plugin_config_name,
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


def node_labels(cluster: ClusterModel, name: str) -> dict[str, str]:
    """Labels every node of this flavor carries: the GFD product label, the sharing config
    selector (mig-manager / device plugin read it) and the labels all its pools share."""
    flavor = cluster.flavors[name]
    labels = {GPU_PRODUCT_LABEL: flavor.spec.product}
    if is_mig(flavor):
        labels[MIG_CONFIG_LABEL] = mig_config_name(name)
    elif is_time_sliced(flavor) and device_plugin_on(cluster.allocation):
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
    """Resource name Kueue counts a flavor's units under (see gpu_allocation.queue_resource)."""
    return gpu_allocation.queue_resource(cluster.allocation, flavor, cluster.gpu_resource(flavor))


def claim_counts(cluster: ClusterModel, team: TeamOnCluster, flavor: str) -> list[int]:
    """Claim template sizes a team gets for a flavor: powers of two up to min(reach, 8), plus
    every per-replica count its serving paths on this cluster use."""
    quota = next((q for q in team.entry.gpus if q.flavor == flavor), None)
    if quota is None:
        return []
    most = gpu_allocation.reach(quota, cluster.capacity.get(flavor, 0))
    counts = {c for c in (1, 2, 4, 8) if c <= min(most, MAX_CLAIM_COUNT)}
    counts |= {
        p.spec.gpu.count
        for p in cluster.serving_paths
        if p.spec.team == team.name and p.spec.gpu.flavor == flavor and p.spec.gpu.count <= most
    }
    return sorted(counts)
