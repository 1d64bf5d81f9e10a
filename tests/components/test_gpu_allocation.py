"""One definition of reach: the ResourceQuota, the ClusterQueue and the serving check agree.

Reach = quota + borrowingLimit, at most the cluster's capacity; no borrowingLimit means no
borrowing. Kueue would read an absent borrowingLimit as unlimited ("If null, it means that there
is no borrowing limit", ClusterQueue spec.resourceGroups[].flavors[].resources[].borrowingLimit in
../shared/schemas/crds/kueue.x-k8s.io/clusterqueue_v1beta2.json, from kueue
apis/kueue/v1beta2/clusterqueue_types.go), so the ClusterQueue always carries it explicitly.
"""

from __future__ import annotations

from typing import Any

import pytest

from compiler.components import dra, kueue, tenancy
from compiler.errors import SpecErrors
from compiler.naming import dra_quota_key
from tests.components.synth import cluster

MIG = {"mode": "mig", "migProfile": "1g.10gb"}  # 7 instances per A100 80GB
TIME_SLICED = {"mode": "time-slicing", "replicas": 4}

# (sharing, allocation, quota, borrowingLimit, lendingLimit, expected reach); 2 nodes × 8 GPUs.
CASES = [
    (None, "device-plugin", 4, None, None, 4),  # absent: no borrowing
    (None, "device-plugin", 4, 0, None, 4),
    (None, "device-plugin", 4, 3, None, 7),
    (None, "device-plugin", 4, 30, None, 16),  # never above the capacity (16 GPUs)
    (None, "device-plugin", 4, None, 2, 4),  # lending does not change the team's own reach
    (None, "dra", 4, None, None, 4),
    (None, "dra", 4, 3, 1, 7),
    (MIG, "device-plugin", 10, None, None, 10),  # capacity 16 × 7 = 112 instances
    (MIG, "device-plugin", 10, 5, None, 15),
    (MIG, "dra", 10, None, 4, 10),
    (TIME_SLICED, "device-plugin", 8, None, None, 8),  # capacity 16 × 4 = 64 slices
    (TIME_SLICED, "device-plugin", 8, 56, None, 64),
    (TIME_SLICED, "device-plugin", 8, 100, 8, 64),
]


def _gpu_key(model: Any) -> str:
    resource = model.gpu_resource("gpu")
    return dra_quota_key("gpu") if model.dra else f"requests.{resource}"


def _queue_entry(model: Any) -> dict[str, Any]:
    (queue,) = [o for o in kueue.build(model).objects if o["kind"] == "ClusterQueue"]
    return next(
        r
        for group in queue["spec"]["resourceGroups"]
        for flavor in group["flavors"]
        if flavor["name"] == "gpu"
        for r in flavor["resources"]
    )


@pytest.mark.parametrize(("sharing", "allocation", "quota", "borrowing", "lending", "reach"), CASES)
def test_quota_queue_and_serving_check_agree(
    sharing: dict[str, Any] | None,
    allocation: str,
    quota: int,
    borrowing: int | None,
    lending: int | None,
    reach: int,
) -> None:
    knobs = {
        "sharing": sharing,
        "allocation": allocation,
        "quota": quota,
        "borrowing": borrowing,
        "lending": lending,
    }
    model = cluster(**knobs)
    capacity = model.capacity["gpu"]

    (resource_quota,) = _main_quota(tenancy.build(model).objects)
    assert resource_quota["spec"]["hard"][_gpu_key(model)] == str(reach)

    entry = _queue_entry(model)
    assert entry["borrowingLimit"] == (borrowing or 0)  # written even when the spec leaves it out
    assert entry.get("lendingLimit") == lending
    assert min(entry["nominalQuota"] + entry["borrowingLimit"], capacity) == reach

    # A replica of `reach` units is accepted; one more is refused, where the only reason is reach
    # (a replica also has to fit one node, and the spec allows at most 16 per replica).
    # A replica of a MIG or time-sliced flavor takes one unit (spec.ai_checks.check_shared_gpu_counts).
    largest = 1 if sharing else min(capacity // 2, 16)
    cluster(**knobs, serving_count=min(reach, largest))
    if reach + 1 <= largest:
        with pytest.raises(SpecErrors) as refused:
            cluster(**knobs, serving_count=reach + 1)
        assert f"may use at most {reach} on cluster 'c1'" in str(refused.value)

    if allocation == "dra":
        counts = {
            t["spec"]["spec"]["devices"]["requests"][0]["exactly"]["count"]
            for t in dra.build(model).objects
            if t["kind"] == "ResourceClaimTemplate"
        }
        assert max(counts) <= reach


def _main_quota(objects: Any) -> list[dict[str, Any]]:
    """The team's own ResourceQuota (named like its namespace), not the ones holding other GPU
    paths and PriorityClasses at 0."""
    return [
        o
        for o in objects
        if o["kind"] == "ResourceQuota" and o["metadata"]["name"] == o["metadata"]["namespace"]
    ]


def test_quota_one_team_cannot_run_a_two_gpu_replica_and_its_quota_says_so() -> None:
    """The reported case: quota 1, no borrowingLimit, a 2-GPU serving replica. The check refuses
    it, and the namespace ResourceQuota (formerly the whole cluster) agrees: 1 GPU."""
    with pytest.raises(SpecErrors) as refused:
        cluster(quota=1, serving_count=2)
    assert "one replica needs 2 'gpu' GPUs but team 'research' may use at most 1" in str(refused.value)
    (resource_quota,) = _main_quota(tenancy.build(cluster(quota=1)).objects)
    assert resource_quota["spec"]["hard"]["requests.nvidia.com/gpu"] == "1"
    assert _queue_entry(cluster(quota=1))["borrowingLimit"] == 0
    # With borrowingLimit 1 the replica fits, and all three say 2.
    model = cluster(quota=1, borrowing=1, serving_count=2)
    (resource_quota,) = _main_quota(tenancy.build(model).objects)
    assert resource_quota["spec"]["hard"]["requests.nvidia.com/gpu"] == "2"
