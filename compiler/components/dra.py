"""Dynamic Resource Allocation (gpuAllocation: dra, resource.k8s.io/v1): the NVIDIA DRA
driver, one DeviceClass per GPU flavor and, in every team namespace, ResourceClaimTemplates
for the device counts the team's quota allows.

Claim template sizes: powers of two up to min(reach, 8) (compiler.gpu_allocation.reach), plus
any per-replica count a serving path of the team uses (see gpu_common.claim_counts).
"""

from __future__ import annotations

from typing import Any

from compiler.cluster_model import ClusterModel
from compiler.components.base import (
    Chart,
    Component,
    ComponentOutput,
    CrdRelease,
    HelmChart,
    KubeObject,
    VersionPin,
    obj,
)
from compiler.components.gpu_common import (
    all_pool_tolerations,
    chart_version,
    claim_counts,
    serving_gpu_counts,
)
from compiler.components.gpu_operator import privileged_namespace
from compiler.naming import (
    DRA_CLAIM_REQUEST,
    DRA_DRIVER_NAME,
    DRA_DRIVER_NAMESPACE,
    claim_template_name,
    device_class_name,
)
from compiler.spec.models import GPUFlavor, MigSharing

API = "resource.k8s.io/v1"
# Its crds/ (the ComputeDomain CRDs, resource.nvidia.com) are skipped: the gpu-operator chart
# installs the same CRDs and always syncs first; compute domains stay off here, so the
# operator's copy is the one.
CHART = Chart("oci://registry.k8s.io/dra-driver-nvidia/charts", "dra-driver-nvidia-gpu", skip_crds=True)
# Where the GPU Operator's driver container puts the driver; the DRA driver must look there.
OPERATOR_DRIVER_ROOT = "/run/nvidia/driver"


def selector(flavor: GPUFlavor) -> str:
    """CEL over the driver's device attributes (type, productName, profile in v0.4.1).

    productName is NVML's name ("NVIDIA H100 80GB HBM3"); the flavor's product is the GFD node
    label, the same name with blanks turned into '-'. Comparing after replace() keeps one
    spelling in the spec for both allocation modes.
    """
    attrs = f'device.attributes["{DRA_DRIVER_NAME}"]'
    terms = [f'device.driver == "{DRA_DRIVER_NAME}"']
    sharing = flavor.spec.sharing
    if isinstance(sharing, MigSharing):
        terms += [f'{attrs}.type == "mig"', f'{attrs}.profile == "{sharing.migProfile}"']
    else:
        terms.append(f'{attrs}.type == "gpu"')
    terms.append(f'{attrs}.productName.replace(" ", "-") == "{flavor.spec.product}"')
    return " && ".join(terms)


def device_class(name: str, flavor: GPUFlavor) -> KubeObject:
    return obj(
        API,
        "DeviceClass",
        device_class_name(name),
        spec={"selectors": [{"cel": {"expression": selector(flavor)}}]},
    )


def claim_template(namespace: str, labels: dict[str, str], flavor: str, count: int) -> KubeObject:
    request = {
        "name": DRA_CLAIM_REQUEST,
        "exactly": {
            "deviceClassName": device_class_name(flavor),
            "allocationMode": "ExactCount",
            "count": count,
        },
    }
    return obj(
        API,
        "ResourceClaimTemplate",
        claim_template_name(flavor, count),
        namespace,
        labels=labels,
        spec={"spec": {"devices": {"requests": [request]}}},
    )


def driver_chart(cluster: ClusterModel) -> HelmChart:
    values: dict[str, Any] = {
        "nvidiaDriverRoot": OPERATOR_DRIVER_ROOT,
        # The chart refuses GPU allocation unless told the device plugin is off (gpu-operator does that).
        "gpuResourcesEnabledOverride": True,
        "resources": {"gpus": {"enabled": True}, "computeDomains": {"enabled": False}},
    }
    if all_pool_tolerations(cluster):
        values["kubeletPlugin"] = {"tolerations": all_pool_tolerations(cluster)}
    return CHART.release(chart_version(COMPONENT.version_of(cluster)), DRA_DRIVER_NAMESPACE, values)


def build(cluster: ClusterModel) -> ComponentOutput:
    if not cluster.dra:
        return ComponentOutput()
    objects: list[KubeObject] = [privileged_namespace(DRA_DRIVER_NAMESPACE)]
    objects += [device_class(name, flavor) for name, flavor in cluster.flavors.items()]
    serving = serving_gpu_counts(cluster)
    for team in cluster.teams:
        labels = team.labels
        for quota in sorted(team.entry.gpus, key=lambda q: q.flavor):
            if quota.flavor not in cluster.flavors:
                continue
            for count in claim_counts(cluster, team, quota.flavor, serving):
                objects.append(claim_template(team.namespace, labels, quota.flavor, count))
    # After the GPU Operator: the DRA driver uses the driver and toolkit the operator installs.
    after = ("gpu-operator",) if cluster.flavors else ()
    return ComponentOutput(charts=(driver_chart(cluster),), objects=tuple(objects), after=after)


COMPONENT = Component(
    "dra",
    build,
    namespaces=(DRA_DRIVER_NAMESPACE,),
    version=VersionPin("draDriver", "v0.4.1"),
    charts=(CHART,),
    crds=(
        CrdRelease(
            "kubernetes-sigs/dra-driver-nvidia-gpu",
            "764900e7833798a1528bd52a2af3e1b2d5f7a616",
            "https://raw.githubusercontent.com/kubernetes-sigs/dra-driver-nvidia-gpu/{version}/deployments/helm/dra-driver-nvidia-gpu/crds/{file}",
            ("resource.nvidia.com_computedomains.yaml", "resource.nvidia.com_computedomaincliques.yaml"),
            chart_archive="dra-driver-nvidia-gpu-0.4.1.tgz",
            chart_path="deployments/helm/dra-driver-nvidia-gpu",
            helm_set=("resources.gpus.enabled=false",),
        ),
    ),
)
