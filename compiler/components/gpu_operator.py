"""NVIDIA GPU Operator: drivers, container toolkit, GFD, DCGM exporter, and the sharing
configuration the flavors ask for (MIG layouts through mig-manager, time-slicing through
the device plugin). On dra clusters the device plugin is left off; the DRA driver (dra.py)
advertises the GPUs instead.
"""

from __future__ import annotations

from typing import Any

import yaml

from compiler.cluster_model import ClusterModel
from compiler.components.base import Chart, Component, ComponentOutput, KubeObject, VersionPin, obj
from compiler.components.gpu_common import all_pool_tolerations, is_mig
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

CHART = Chart(
    "https://helm.ngc.nvidia.com/nvidia",
    "gpu-operator",
    # crds/ of the chart: nvidia.com (ClusterPolicy, NVIDIADriver, GPUCluster), resource.nvidia.com
    # (ComputeDomain, ComputeDomainClique) and the node-feature-discovery sub-chart's nfd.k8s-sigs.io.
    crd_groups=frozenset({"nvidia.com", "resource.nvidia.com", "nfd.k8s-sigs.io"}),
    uses_crd_groups=frozenset({"monitoring.coreos.com"}),  # the DCGM exporter's ServiceMonitor
)
MIG_DISABLED_CONFIG = "all-disabled"  # what nodes without a MIG flavor label get


def privileged_namespace(name: str) -> KubeObject:
    """Node agents (driver, toolkit, device plugins) need host access: privileged here only."""
    labels = {
        "pod-security.kubernetes.io/enforce": "privileged",
        "pod-security.kubernetes.io/audit": "privileged",
        "pod-security.kubernetes.io/warn": "privileged",
    }
    return obj("v1", "Namespace", name, labels=labels)


def _dump(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=True, default_flow_style=False)


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
    data = {"config.yaml": _dump({"version": "v1", "mig-configs": configs})}
    return obj("v1", "ConfigMap", MIG_CONFIG_MAP, GPU_OPERATOR_NAMESPACE, data=data)


def device_plugin_config(cluster: ClusterModel) -> KubeObject | None:
    """One config key per time-sliced flavor; nodes pick theirs with nvidia.com/device-plugin.config."""
    strategy = mig_strategy(cluster)
    data = {DEVICE_PLUGIN_DEFAULT_CONFIG: _dump({"version": "v1", "flags": {"migStrategy": strategy}})}
    for name, flavor in cluster.flavors.items():
        sharing = flavor.spec.sharing
        if isinstance(sharing, TimeSlicingSharing):
            config = {
                "version": "v1",
                "flags": {"migStrategy": strategy},
                "sharing": {
                    "timeSlicing": {"resources": [{"name": "nvidia.com/gpu", "replicas": sharing.replicas}]}
                },
            }
            data[device_plugin_config_name(name)] = _dump(config)
    if len(data) == 1:
        return None
    return obj("v1", "ConfigMap", DEVICE_PLUGIN_CONFIG_MAP, GPU_OPERATOR_NAMESPACE, data=data)


def values(
    cluster: ClusterModel, mig_config: KubeObject | None, plugin_config: KubeObject | None
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "mig": {"strategy": mig_strategy(cluster)},
        "dcgmExporter": {"serviceMonitor": {"enabled": True}},
    }
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
    return ComponentOutput(charts=(chart,), objects=tuple(objects))


COMPONENT = Component(
    "gpu-operator",
    build,
    namespaces=(GPU_OPERATOR_NAMESPACE,),
    version=VersionPin("gpuOperator", "v26.7.0"),
    charts=(CHART,),
    emits=(("nvidia.com", "ClusterPolicy", "v1"),),
)
