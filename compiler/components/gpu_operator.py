"""NVIDIA GPU Operator: drivers, container toolkit, GFD, DCGM exporter, and the sharing
configuration the flavors ask for (MIG layouts through mig-manager, time-slicing through
the device plugin). On dra clusters the device plugin is left off; the DRA driver (dra.py)
advertises the GPUs instead.
"""

from __future__ import annotations

from typing import Any

from compiler.cluster_model import ClusterModel
from compiler.components.base import (
    Chart,
    Component,
    ComponentOutput,
    CrdRelease,
    KubeObject,
    VersionPin,
    config_yaml,
    obj,
    pod_security_namespace,
)
from compiler.components.gpu_common import all_pool_tolerations
from compiler.gpu_allocation import device_plugin_on
from compiler.naming import (
    DEVICE_PLUGIN_CONFIG_MAP,
    DEVICE_PLUGIN_DEFAULT_CONFIG,
    GPU_OPERATOR_NAMESPACE,
    MIG_CONFIG_MAP,
    device_plugin_config_name,
    mig_config_name,
)
from compiler.spec.gpus import mig_profiles
from compiler.spec.models import MigSharing, TimeSlicingSharing
from compiler.spec.node_pools import MIG_DISABLED_CONFIG, is_mig

CHART = Chart(
    "https://helm.ngc.nvidia.com/nvidia",
    "gpu-operator",
    # Everything the chart's crds/ folders install: ClusterPolicy/NVIDIADriver/GPUCluster, the
    # ComputeDomain CRDs (the DRA driver's release skips its own copy) and node-feature-discovery's.
    crd_groups=frozenset({"nvidia.com", "resource.nvidia.com", "nfd.k8s-sigs.io"}),
    uses_crd_groups=frozenset({"monitoring.coreos.com"}),  # the DCGM exporter's ServiceMonitor
)
# The ClusterPolicy's DCGM exporter runs as this service account (NVIDIA/gpu-operator v26.7.0
# assets/state-dcgm-exporter/0100_service_account.yaml).
DCGM_EXPORTER_SERVICE_ACCOUNT = "nvidia-dcgm-exporter"
DCGM_DRA_ROLE = "platformc-dcgm-exporter-dra"


def privileged_namespace(name: str) -> KubeObject:
    """Node agents (driver, toolkit, device plugins) need host access: privileged here only."""
    return pod_security_namespace(name, "privileged", audit="privileged", warn="privileged")


def mig_strategy(cluster: ClusterModel) -> str:
    # mixed: each MIG profile is its own resource (nvidia.com/mig-1g.10gb), and whole GPUs keep
    # nvidia.com/gpu, so MIG and non-MIG pools can live on one cluster.
    return "mixed" if any(is_mig(f) for f in cluster.flavors.values()) else "single"


def mig_parted_config(cluster: ClusterModel) -> KubeObject | None:
    configs: dict[str, Any] = {MIG_DISABLED_CONFIG: [{"devices": "all", "mig-enabled": False}]}
    for name, flavor in cluster.flavors.items():
        sharing = flavor.spec.sharing
        if not isinstance(sharing, MigSharing):
            continue
        found = mig_profiles(flavor.spec.product)
        per_gpu = found[1].get(sharing.migProfile, 1) if found else 1
        configs[mig_config_name(name)] = [
            {"devices": "all", "mig-enabled": True, "mig-devices": {sharing.migProfile: per_gpu}}
        ]
    if len(configs) == 1:
        return None
    data = {"config.yaml": config_yaml({"version": "v1", "mig-configs": configs})}
    return obj("v1", "ConfigMap", MIG_CONFIG_MAP, GPU_OPERATOR_NAMESPACE, data=data)


def device_plugin_config(cluster: ClusterModel) -> KubeObject | None:
    """One config key per time-sliced flavor; nodes pick theirs with nvidia.com/device-plugin.config."""
    strategy = mig_strategy(cluster)
    data = {DEVICE_PLUGIN_DEFAULT_CONFIG: config_yaml({"version": "v1", "flags": {"migStrategy": strategy}})}
    for name, flavor in cluster.flavors.items():
        sharing = flavor.spec.sharing
        if isinstance(sharing, TimeSlicingSharing):
            config = {
                "version": "v1",
                "flags": {"migStrategy": strategy},
                "sharing": {
                    "timeSlicing": {
                        # The resource keeps its name, so GFD labels the product <product>-SHARED
                        # (gpu_common.product_label); one pod gets one slice, never several
                        # slices of one GPU that it would take for several GPUs.
                        "renameByDefault": False,
                        "failRequestsGreaterThanOne": True,
                        "resources": [{"name": "nvidia.com/gpu", "replicas": sharing.replicas}],
                    }
                },
            }
            data[device_plugin_config_name(name)] = config_yaml(config)
    if len(data) == 1:
        return None
    return obj("v1", "ConfigMap", DEVICE_PLUGIN_CONFIG_MAP, GPU_OPERATOR_NAMESPACE, data=data)


def values(
    cluster: ClusterModel, mig_config: KubeObject | None, plugin_config: KubeObject | None
) -> dict[str, Any]:
    dcgm: dict[str, Any] = {"serviceMonitor": {"enabled": True}}
    if cluster.dra:
        # The kubelet reports DRA devices as (pool, device), not GPU UUIDs: without the
        # ResourceSlice lookup no metric carries a pod or namespace (gpu-operator v26.7.0
        # manifests/state-dcgm-exporter/0700_daemonset.yaml sets the same variable).
        dcgm["env"] = [{"name": "KUBERNETES_ENABLE_DRA", "value": "true"}]
    result: dict[str, Any] = {"mig": {"strategy": mig_strategy(cluster)}, "dcgmExporter": dcgm}
    if all_pool_tolerations(cluster):
        result["daemonsets"] = {"tolerations": all_pool_tolerations(cluster)}
    if not device_plugin_on(cluster.allocation):
        result["devicePlugin"] = {"enabled": False}
    elif plugin_config is not None:
        result["devicePlugin"] = {
            "enabled": True,
            "config": {
                "create": False,
                "name": DEVICE_PLUGIN_CONFIG_MAP,
                "default": DEVICE_PLUGIN_DEFAULT_CONFIG,
            },
        }
    if mig_config is not None:
        result["migManager"] = {
            "enabled": True,
            "config": {"create": False, "name": MIG_CONFIG_MAP, "default": MIG_DISABLED_CONFIG},
        }
    return result


def dcgm_dra_access() -> list[KubeObject]:
    """What the DRA exporter needs to map devices to pods: read pods and ResourceSlices
    (gpu-operator v26.7.0 manifests/state-dcgm-exporter/0210_clusterrole.yaml). The
    ClusterPolicy's exporter has at most pod reading, so platformc grants the rest."""
    read = ["get", "list", "watch"]
    role = obj(
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        DCGM_DRA_ROLE,
        rules=[
            {"apiGroups": [""], "resources": ["pods"], "verbs": read},
            {"apiGroups": ["resource.k8s.io"], "resources": ["resourceslices"], "verbs": read},
        ],
    )
    binding = obj(
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        DCGM_DRA_ROLE,
        roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": DCGM_DRA_ROLE},
        subjects=[
            {
                "kind": "ServiceAccount",
                "name": DCGM_EXPORTER_SERVICE_ACCOUNT,
                "namespace": GPU_OPERATOR_NAMESPACE,
            }
        ],
    )
    return [role, binding]


def build(cluster: ClusterModel) -> ComponentOutput:
    if not cluster.flavors:
        return ComponentOutput()
    mig_config = mig_parted_config(cluster)
    plugin_config = device_plugin_config(cluster) if device_plugin_on(cluster.allocation) else None
    chart = CHART.release(
        COMPONENT.version_of(cluster),  # NGC publishes gpu-operator versions with the leading v
        GPU_OPERATOR_NAMESPACE,
        values(cluster, mig_config, plugin_config),
    )
    objects = [privileged_namespace(GPU_OPERATOR_NAMESPACE)]
    objects += [o for o in (mig_config, plugin_config) if o is not None]
    if cluster.dra:
        objects += dcgm_dra_access()
    return ComponentOutput(charts=(chart,), objects=tuple(objects))


COMPONENT = Component(
    "gpu-operator",
    build,
    namespaces=(GPU_OPERATOR_NAMESPACE,),
    version=VersionPin("gpuOperator", "v26.7.0"),
    charts=(CHART,),
    emits=(("nvidia.com", "ClusterPolicy", "v1"),),
    crds=(
        CrdRelease(
            "NVIDIA/gpu-operator",
            "10ee5b3638b89e11e949412aafa5ba99279c3721",
            "https://raw.githubusercontent.com/NVIDIA/gpu-operator/{version}/deployments/gpu-operator/crds/{file}",
            (
                "nvidia.com_clusterpolicies.yaml",
                "nvidia.com_nvidiadrivers.yaml",
                "nvidia.com_gpuclusters.yaml",
            ),
            chart_archive="gpu-operator-v26.7.0.tgz",
            chart_path="deployments/gpu-operator",
            # The chart also carries resource.nvidia.com: that is the DRA driver's API, from its own chart.
            groups=frozenset({"nvidia.com", "nfd.k8s-sigs.io"}),
        ),
    ),
)
