"""GPU allocation: the one place that knows how a team's GPUs are counted and asked for.

Tenancy (ResourceQuota), Kueue (ClusterQueue), KServe (predictor pods), DRA (claim
templates), the GPU Operator (device plugin) and the spec checks all ask these questions,
so they can never disagree:

- allocation mode: the device plugin advertises extended resources, or (gpuAllocation: dra)
  the DRA driver publishes devices that pods claim through a DeviceClass;
- the quota key a namespace ResourceQuota counts a flavor under (`resource` below is the flavor's
  extended resource, nvidia.com/gpu or nvidia.com/mig-<profile>, spec.gpus.resource_name);
- the resource name Kueue counts it under;
- how a pod asks for `count` units;
- reach: the most units a team can hold at once.

Reach is `quota + borrowingLimit`, never above the cluster's capacity of the flavor. A missing
borrowingLimit means **no borrowing** (0), the safe reading: Kueue itself treats an absent
borrowingLimit as unlimited borrowing from the cohort, so the ClusterQueue is given
`borrowingLimit: 0` explicitly. lendingLimit limits what *others* may borrow from the team and
does not change the team's own reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from compiler.naming import DRA_CLAIM_REQUEST, claim_template_name, dra_quota_key

Allocation = Literal["dra", "device-plugin"]


class Quota(Protocol):
    """A team's quota entry for one flavor (spec.models.GPUQuota)."""

    @property
    def quota(self) -> int: ...
    @property
    def borrowingLimit(self) -> int | None: ...
    @property
    def lendingLimit(self) -> int | None: ...


def device_plugin_on(allocation: Allocation) -> bool:
    """The GPU Operator's device plugin runs only where the DRA driver does not advertise the GPUs."""
    return allocation == "device-plugin"


def uses_dra(allocation: Allocation) -> bool:
    """GPUs come from the DRA driver through ResourceClaims (resource.k8s.io/v1, Kubernetes >= 1.34)."""
    return not device_plugin_on(allocation)


def quota_key(allocation: Allocation, name: str, resource: str) -> str:
    """Key of a flavor in a namespace ResourceQuota's `hard`.

    device-plugin: `requests.<extended resource>` (nvidia.com/gpu, nvidia.com/mig-1g.10gb);
    dra: the DeviceClass device count (`gpu-<flavor>.deviceclass.resource.k8s.io/devices`,
    Kubernetes >= 1.34).
    """
    return dra_quota_key(name) if allocation == "dra" else f"requests.{resource}"


def queue_resource(allocation: Allocation, name: str, resource: str) -> str:
    """Resource Kueue counts a flavor's units under.

    device-plugin: the extended resource pods request. dra: one logical name per DeviceClass
    (Kueue's deviceClassMappings), the same key the ResourceQuota uses.
    """
    return dra_quota_key(name) if allocation == "dra" else resource


@dataclass(frozen=True)
class PodGpuRequest:
    """What a pod spec and its model container carry to get `count` units of a flavor."""

    pod_fields: dict[str, Any]  # merged into the pod spec (resourceClaims on dra)
    container_resources: dict[str, Any]  # the container's `resources`


def pod_request(allocation: Allocation, name: str, resource: str, count: int) -> PodGpuRequest:
    if allocation == "dra":
        # The device comes from a claim, so the pod must not also ask the (absent) device plugin.
        template = claim_template_name(name, count)
        return PodGpuRequest(
            {"resourceClaims": [{"name": DRA_CLAIM_REQUEST, "resourceClaimTemplateName": template}]},
            {"claims": [{"name": DRA_CLAIM_REQUEST}]},
        )
    return PodGpuRequest({}, {"limits": {resource: str(count)}})


def borrowing(quota: Quota) -> int:
    """Units a team may borrow beyond its quota: the borrowingLimit, and none when it is absent."""
    return quota.borrowingLimit if quota.borrowingLimit is not None else 0


def reach(quota: Quota, capacity: int) -> int:
    """Most units of the flavor a team can hold at once: quota plus borrowing, at most the capacity."""
    return min(quota.quota + borrowing(quota), capacity)


def kueue_flavor_quota(resource: str, quota: Quota) -> dict[str, Any]:
    """A ClusterQueue resource entry with the same reach: borrowingLimit always written (absent
    would mean unlimited borrowing to Kueue), lendingLimit when the team sets one."""
    entry: dict[str, Any] = {
        "name": resource,
        "nominalQuota": quota.quota,
        "borrowingLimit": borrowing(quota),
    }
    if quota.lendingLimit is not None:
        entry["lendingLimit"] = quota.lendingLimit
    return entry
