"""gpu-operator: the NVIDIA GPU Operator chart and the sharing configuration each flavor asks for."""

from __future__ import annotations

import yaml

from compiler.components import gpu_operator
from tests.components.objects import named
from tests.components.synth import cluster


def _values(**overrides: object) -> dict:
    (chart,) = gpu_operator.build(cluster(**overrides)).charts
    return dict(chart.values)


def test_chart_is_the_pinned_ngc_release_in_a_privileged_namespace() -> None:
    output = gpu_operator.build(cluster())
    (chart,) = output.charts
    assert (chart.repository, chart.chart, chart.version) == (
        "https://helm.ngc.nvidia.com/nvidia",
        "gpu-operator",
        "v26.7.0",
    )
    labels = named(output, "Namespace", "gpu-operator")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"


def test_mig_flavor_gets_a_mig_parted_layout_with_seven_instances_per_a100() -> None:
    """mig-parted config format: NVIDIA/mig-parted examples/config.yaml (version v1, mig-configs)."""
    output = gpu_operator.build(cluster(sharing={"mode": "mig", "migProfile": "1g.10gb"}))
    config = yaml.safe_load(named(output, "ConfigMap", "platformc-mig-parted-config")["data"]["config.yaml"])
    assert config["mig-configs"]["gpu"] == [
        {"devices": "all", "mig-enabled": True, "mig-devices": {"1g.10gb": 7}}
    ]
    assert _values(sharing={"mode": "mig", "migProfile": "1g.10gb"})["mig"] == {"strategy": "mixed"}


def test_time_slicing_replicas_reach_the_device_plugin_config() -> None:
    """Time-slicing config format: NVIDIA/k8s-device-plugin README "Shared Access to GPUs"."""
    output = gpu_operator.build(cluster(sharing={"mode": "time-slicing", "replicas": 4}))
    data = named(output, "ConfigMap", "platformc-device-plugin-config")["data"]
    sharing = yaml.safe_load(data["gpu"])["sharing"]["timeSlicing"]["resources"]
    assert sharing == [{"name": "nvidia.com/gpu", "replicas": 4}]


def test_on_dra_clusters_the_device_plugin_is_off() -> None:
    assert _values(allocation="dra")["devicePlugin"] == {"enabled": False}
    assert "devicePlugin" not in _values()  # exclusive GPUs: the chart's default plugin
