"""The DRA quota cannot be bypassed through the driver's own DeviceClasses (issue 13, item 3),
asserted on the dra-driver-nvidia-gpu 0.4.1 chart rendered with real Helm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compiler.spec.quantity import parse_quantity
from tests.ai.charts import of_kind, render_chart
from tests.ai.conftest import build_all, mini_docs, objects

# kubernetes/kubernetes v1.34 pkg/apis/resource/types.go: AllocationResultsMaxSize, what the
# quota evaluator charges a request with allocationMode All (worst case).
ALLOCATION_RESULTS_MAX_SIZE = 32


def parse_count(text: str) -> int:
    return int(parse_quantity(text))


def claim_usage(claim_spec: dict[str, Any]) -> dict[str, int]:
    """kubernetes v1.34 pkg/quota/v1/evaluator/core/resource_claims.go (Usage): each request
    charges `<deviceClassName>.deviceclass.resource.k8s.io/devices` with its count, or with
    AllocationResultsMaxSize for allocationMode All."""
    usage: dict[str, int] = {}
    for request in claim_spec["devices"]["requests"]:
        exactly = request["exactly"]
        count = (
            ALLOCATION_RESULTS_MAX_SIZE if exactly.get("allocationMode") == "All" else exactly.get("count", 1)
        )
        key = f"{exactly['deviceClassName']}.deviceclass.resource.k8s.io/devices"
        usage[key] = usage.get(key, 0) + count
    return usage


def admitted(quotas: list[dict[str, Any]], usage: dict[str, int]) -> bool:
    """ResourceQuota admission: refused when any quota's hard limit on a charged key is exceeded."""
    for quota in quotas:
        for key, amount in usage.items():
            hard = quota["spec"]["hard"].get(key)
            if hard is not None and amount > parse_count(hard):
                return False
    return True


def _claim(device_class: str, mode: str = "All", count: int = 1) -> dict[str, Any]:
    exactly: dict[str, Any] = {"deviceClassName": device_class, "allocationMode": mode}
    if mode == "ExactCount":
        exactly["count"] = count
    return {"devices": {"requests": [{"name": "gpu", "exactly": exactly}]}}


def test_driver_device_classes_are_closed_in_every_team_namespace(
    shared_charts: Path, example_builds, write_spec
):
    """kubernetes-sigs/dra-driver-nvidia-gpu v0.4.1 templates/deviceclass-gpu.yaml,
    deviceclass-mig.yaml, deviceclass-vfio-gpu.yaml install DeviceClasses that select every
    NVIDIA GPU / MIG device with no product filter; a team member claiming through them with
    allocationMode All would take every GPU past the team's quota. Each one, and every
    platform DeviceClass of a flavor the team has no quota for, is held at 0 in every team
    namespace, while the team's own flavors stay usable up to its quota."""
    builds = [example_builds["prod-us-east"], *build_all(write_spec(mini_docs("dra"))).values()]
    for build in builds:
        assert build.model.dra
        rendered = render_chart(shared_charts, build, "dra-driver-nvidia-gpu")
        driver_classes = of_kind(rendered, "DeviceClass")
        assert {c["metadata"]["name"] for c in driver_classes} >= {"gpu.nvidia.com", "mig.nvidia.com"}
        platform_classes = {c["metadata"]["name"] for c in objects(build, "DeviceClass")}
        for team in build.model.teams:
            quotas = [
                q for q in objects(build, "ResourceQuota") if q["metadata"]["namespace"] == team.namespace
            ]
            for device_class in driver_classes:
                name = device_class["metadata"]["name"]
                assert not admitted(quotas, claim_usage(_claim(name))), (team.name, name)
                assert not admitted(quotas, claim_usage(_claim(name, "ExactCount", 1))), (team.name, name)
                extended = device_class["spec"].get("extendedResourceName")
                if extended:
                    assert any(q["spec"]["hard"].get(f"requests.{extended}") == "0" for q in quotas), extended
            granted = {q.flavor: q.quota for q in team.entry.gpus if q.flavor in build.model.flavors}
            for flavor in build.model.flavors:
                device_class = f"gpu-{flavor}"
                assert device_class in platform_classes
                one = claim_usage(_claim(device_class, "ExactCount", 1))
                assert admitted(quotas, one) == (granted.get(flavor, 0) > 0), (team.name, flavor)


def test_device_plugin_teams_cannot_ask_for_gpus_they_have_no_quota_for(example_builds):
    """kubernetes v1.34 pkg/quota/v1/evaluator/core/pods.go: a pod's extended-resource requests
    are charged as requests.<resource>; a resource absent from every quota is unlimited, so
    the resources of flavors a team has no quota for are held at 0."""
    build = example_builds["staging-eu"]
    assert not build.model.dra
    resources = {build.model.gpu_resource(f) for f in build.model.flavors}
    for team in build.model.teams:
        quotas = [q for q in objects(build, "ResourceQuota") if q["metadata"]["namespace"] == team.namespace]
        granted = {
            build.model.gpu_resource(q.flavor) for q in team.entry.gpus if q.flavor in build.model.flavors
        }
        for resource in resources:
            limits = [
                parse_count(q["spec"]["hard"][f"requests.{resource}"])
                for q in quotas
                if f"requests.{resource}" in q["spec"]["hard"]
            ]
            assert limits, (team.name, resource)
            assert (min(limits) > 0) == (resource in granted), (team.name, resource)
