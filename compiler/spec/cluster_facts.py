"""Facts derived from the spec about one cluster (effective version, engine, GPU capacity).

The spec checks, the cluster model and review all read them; a leaf of the spec package so
none of them has to import another stage for them.
"""

from __future__ import annotations

from compiler.spec.gpus import units_per_gpu
from compiler.spec.model import PlatformModel
from compiler.spec.models import Cluster
from compiler.tree_contract import Engine


def cluster_kubernetes_version(model: PlatformModel, cluster: Cluster) -> str:
    return cluster.spec.kubernetesVersion or model.platform.spec.kubernetesVersion


def cluster_engine(model: PlatformModel, cluster: Cluster) -> Engine:
    return cluster.spec.gitops.engine or model.platform.spec.gitops.engine


def cluster_capacity(model: PlatformModel, cluster: Cluster) -> dict[str, int]:
    """Schedulable units per flavor on a cluster (GPUs × MIG instances or time-slice replicas)."""
    capacity: dict[str, int] = {}
    for pool in cluster.spec.nodePools:
        flavor = model.flavors.get(pool.flavor)
        if flavor is not None:
            units = pool.nodes * pool.gpusPerNode * units_per_gpu(flavor)
            capacity[pool.flavor] = capacity.get(pool.flavor, 0) + units
    return capacity
