"""What the GPU components agree on about a flavor on one cluster: where its nodes are
(labels, taints), what a pod asks for (resource or claim), and how Kueue counts it.

Kept in one place so that the ResourceFlavor, the InferenceService's node selector, the
device-plugin / mig-manager configuration and the DRA claim templates never disagree.
"""

from __future__ import annotations

from typing import Any

from compiler import gpu_allocation
from compiler.cluster_model import ClusterModel, TeamOnCluster
from compiler.naming import GPU_PRODUCT_LABEL
from compiler.spec.models import NodePool, Taint
from compiler.spec.node_pools import discovered_product, is_mig, platform_labels

# Largest claim template offered per flavor: one 8-GPU node is the common upper bound for a
# single pod; larger shapes are multi-node jobs, which do not use a single claim.
MAX_CLAIM_COUNT = 8


def chart_version(version: str) -> str:
    """Helm chart version from a release tag, for charts published without the leading v."""
    return version.removeprefix("v")


def pools_of(cluster: ClusterModel, flavor: str) -> list[NodePool]:
    return [p for p in cluster.cluster.spec.nodePools if p.flavor == flavor]


def product_label(cluster: ClusterModel, name: str) -> str:
    """nvidia.com/gpu.product as GFD writes it on this flavor's nodes (node_pools.discovered_product)."""
    return discovered_product(cluster.flavors[name], cluster.allocation)


def node_labels(cluster: ClusterModel, name: str) -> dict[str, str]:
    """Labels every node of this flavor carries: the GFD product label, the labels the node-pool
    contract has the provisioning tool apply (mig-parted / device-plugin config selectors) and
    the labels all its pools share."""
    labels = {GPU_PRODUCT_LABEL: product_label(cluster, name)}
    labels.update(platform_labels(cluster.cluster, name, cluster.flavors))
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


def serving_gpu_counts(cluster: ClusterModel) -> dict[tuple[str, str], set[int]]:
    """(team, flavor) → the per-replica GPU counts of the team's serving paths on this cluster."""
    counts: dict[tuple[str, str], set[int]] = {}
    for path in cluster.serving_paths:
        counts.setdefault((path.spec.team, path.spec.gpu.flavor), set()).add(path.spec.gpu.count)
    return counts


def claim_counts(
    cluster: ClusterModel,
    team: TeamOnCluster,
    flavor: str,
    serving: dict[tuple[str, str], set[int]] | None = None,
) -> list[int]:
    """Claim template sizes a team gets for a flavor: powers of two up to min(reach, 8), plus
    every per-replica count its serving paths on this cluster use; 1 only for MIG flavors.
    `serving`: serving_gpu_counts(cluster), which a caller asking for every team passes (computed
    here otherwise)."""
    quota = next((q for q in team.entry.gpus if q.flavor == flavor), None)
    if quota is None:
        return []
    most = gpu_allocation.reach(quota, cluster.capacity.get(flavor, 0))
    if is_mig(cluster.flavors[flavor]):
        # A CUDA process uses one MIG instance: a claim of several would hand a pod devices it
        # cannot use together (the spec refuses gpu.count > 1 on MIG flavors).
        return [1] if most >= 1 else []
    counts = {c for c in (1, 2, 4, 8) if c <= min(most, MAX_CLAIM_COUNT)}
    used = (serving_gpu_counts(cluster) if serving is None else serving).get((team.name, flavor), set())
    counts |= {count for count in used if count <= most}
    return sorted(counts)
