"""Semantic checks for the AI stack: what GPU sharing, DRA and KServe Standard mode can and
cannot do. Same error style as spec/checks.py: what is wrong (expected …) at the line to change."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import SpecError
from compiler.spec.model import PlatformModel
from compiler.spec.models import MigSharing, TimeSlicingSharing
from compiler.spec.node_pools import CONTRACT_TABLE, contradictions
from compiler.spec.serving_runtimes import KSERVE_RUNTIMES, runtimes_for


def check_dra_sharing(model: PlatformModel) -> Iterator[SpecError]:
    """Time-slicing replicas are a device-plugin setting; the DRA driver hands out whole devices."""
    for name, cluster in model.clusters.items():
        if cluster.spec.gpuAllocation != "dra":
            continue
        for i, pool in enumerate(cluster.spec.nodePools):
            flavor = model.flavors.get(pool.flavor)
            if flavor is not None and isinstance(flavor.spec.sharing, TimeSlicingSharing):
                yield SpecError(
                    model.locate("Cluster", name, ("spec", "nodePools", i, "flavor")),
                    f"GPUFlavor '{pool.flavor}' uses time-slicing, which the device plugin implements, "
                    f"but cluster '{name}' allocates GPUs with dra (expected a flavor with sharing "
                    "exclusive or mig here, or gpuAllocation: device-plugin)",
                )


def check_node_pool_labels(model: PlatformModel) -> Iterator[SpecError]:
    """A pool label on a key the node-pool contract decides must agree with it: a different
    nvidia.com/mig.config names a mig-parted config platformc does not ship, and the flavor's
    pods would never schedule there."""
    for name, cluster in model.clusters.items():
        for c in contradictions(cluster, model.flavors):
            pool = cluster.spec.nodePools[c.pool_index]
            expected = (
                f"{c.key}={c.expected}, or no such label"
                if c.expected is not None
                else f"no {c.key} label on flavor '{pool.flavor}' nodes"
            )
            yield SpecError(
                model.locate("Cluster", name, ("spec", "nodePools", c.pool_index, "labels", c.key)),
                f"node pool '{pool.name}' label {c.key}={c.value} contradicts the node-pool contract "
                f"of cluster '{name}' (expected {expected}; see {CONTRACT_TABLE} in the cluster's tree)",
            )


def check_shared_gpu_counts(model: PlatformModel) -> Iterator[SpecError]:
    """A replica gets one unit of a shared flavor: the device plugin's time-slicing config sets
    failRequestsGreaterThanOne, and a CUDA process uses one MIG instance only."""
    for name, path in model.serving_paths.items():
        flavor = model.flavors.get(path.spec.gpu.flavor)
        if flavor is None or path.spec.gpu.count == 1:
            continue
        sharing = flavor.spec.sharing
        why = {
            TimeSlicingSharing: "time slices of one GPU are refused beyond one per container "
            "(failRequestsGreaterThanOne)",
            MigSharing: "one process uses one MIG instance",
        }.get(type(sharing))
        if why is not None:
            yield SpecError(
                model.locate("ServingPath", name, ("spec", "gpu", "count")),
                f"gpu.count {path.spec.gpu.count} on GPUFlavor '{flavor.metadata.name}' ({sharing.mode}): "
                f"{why} (expected count 1, or an exclusive flavor for multi-GPU replicas)",
            )


def check_serving_models(model: PlatformModel) -> Iterator[SpecError]:
    for name, path in model.serving_paths.items():
        spec = path.spec
        runtime = spec.model.runtime
        if runtime is not None and runtime not in KSERVE_RUNTIMES:
            yield SpecError(
                model.locate("ServingPath", name, ("spec", "model", "runtime")),
                f"unknown serving runtime '{runtime}' (expected a ClusterServingRuntime the KServe install "
                f"provides: {', '.join(KSERVE_RUNTIMES)})",
            )
        elif runtime is not None and spec.model.format not in KSERVE_RUNTIMES[runtime]:
            yield SpecError(
                model.locate("ServingPath", name, ("spec", "model", "format")),
                f"runtime '{runtime}' does not serve model format '{spec.model.format}' "
                f"(expected one of: {', '.join(KSERVE_RUNTIMES[runtime])})",
            )
        elif runtime is None and not runtimes_for(spec.model.format):
            formats = sorted({f for fs in KSERVE_RUNTIMES.values() for f in fs})
            yield SpecError(
                model.locate("ServingPath", name, ("spec", "model", "format")),
                f"no serving runtime serves model format '{spec.model.format}' "
                f"(expected one of: {', '.join(formats)})",
            )


AI_CHECKS = (check_dra_sharing, check_node_pool_labels, check_shared_gpu_counts, check_serving_models)
