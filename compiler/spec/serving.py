"""What a serving path's spec lines mean, computed once for the checks and the components.

- resources: CPU, memory and /dev/shm per replica, each defaulting from the GPU flavor;
- model store: which Platform.spec.modelStores entry a storageUri belongs to;
- autoscaling: which autoscaler KServe v0.20 runs for the path (HPA or KEDA);
- replicas: how many pods the path can run at most (stable + canary), for the quota check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from compiler.spec.models import GPUFlavor, ModelStore, ServingPath
from compiler.spec.quantity import parse_quantity

MI = Decimal(2) ** 20
GI = Decimal(2) ** 30
# Flavor-derived defaults (README "Serving resources"): host memory holds what the GPU memory
# holds (weights are staged through it), one CPU per 10 GiB of GPU memory, /dev/shm an eighth.
CPU_PER_GPU_GIB = Decimal(10)
SHM_FRACTION = Decimal(8)
# Signals KServe v0.20's HPA cannot use (its HPA reconciler only builds Resource metrics):
# these run through KServe's KEDA autoscaler class.
KEDA_METRICS = frozenset({"concurrency", "requestRate", "prometheus"})
# Signals that exist while no replica runs (gateway requests, or the user's own query).
SCALE_FROM_ZERO_METRICS = frozenset({"requestRate", "prometheus"})
DEFAULT_CPU_UTILIZATION = 80  # KServe v0.20 constants.DefaultCPUUtilization
STORE_FREE_SCHEMES = ("pvc://",)  # mounted, not downloaded: no store, no egress


@dataclass(frozen=True)
class ReplicaResources:
    cpu: Decimal  # cores
    memory: Decimal  # bytes for the server process
    shared_memory: Decimal  # bytes of /dev/shm

    @property
    def pod_memory(self) -> Decimal:
        """Memory limit: tmpfs pages of a memory-backed emptyDir count against the container."""
        return self.memory + self.shared_memory


def format_cpu(cores: Decimal) -> str:
    millis = int(cores * 1000)
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def format_bytes(amount: Decimal) -> str:
    mebibytes = math.ceil(amount / MI)
    return f"{mebibytes // 1024}Gi" if mebibytes % 1024 == 0 else f"{mebibytes}Mi"


def replica_resources(path: ServingPath, flavor: GPUFlavor) -> ReplicaResources:
    gpu_memory = parse_quantity(flavor.spec.memory) * path.spec.gpu.count
    given = path.spec.resources
    default_cpu = max(Decimal(1), Decimal(math.floor(gpu_memory / GI / CPU_PER_GPU_GIB)))
    return ReplicaResources(
        cpu=parse_quantity(given.cpu) if given.cpu else default_cpu,
        memory=parse_quantity(given.memory) if given.memory else gpu_memory,
        shared_memory=(
            parse_quantity(given.sharedMemory)
            if given.sharedMemory
            else Decimal(math.ceil(gpu_memory / SHM_FRACTION / MI)) * MI
        ),
    )


def needs_store(storage_uri: str) -> bool:
    return not storage_uri.startswith(STORE_FREE_SCHEMES)


def matching_store(stores: list[ModelStore], storage_uri: str, team: str) -> ModelStore | None:
    """The store with the longest uriPrefix that contains the URI and that the team may use."""
    usable = [s for s in stores if team in s.teams and holds(s, storage_uri)]
    return max(usable, key=lambda s: len(s.uriPrefix), default=None)


def holds(store: ModelStore, uri: str) -> bool:
    """s3://models holds s3://models/llama but not s3://models-old/llama."""
    prefix = store.uriPrefix
    return uri == prefix.rstrip("/") or uri.startswith(prefix if prefix.endswith("/") else prefix + "/")


def uses_keda(path: ServingPath) -> bool:
    return path.spec.autoscaling is not None and path.spec.autoscaling.metric in KEDA_METRICS


def canary_replicas(path: ServingPath) -> int:
    """KServe v0.20 predictor.go canaryReplicaCount: ceil(stable min × trafficPercent / 100)."""
    if path.spec.canary is None:
        return 0
    return math.ceil(path.spec.replicas.min * path.spec.canary.trafficPercent / 100)


def max_pods(path: ServingPath) -> int:
    return path.spec.replicas.max + canary_replicas(path)
