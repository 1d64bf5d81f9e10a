"""Simulated nodes and ResourceSlices.

Upstream: kubernetes-sigs/dra-driver-nvidia-gpu v0.4.1 cmd/gpu-kubelet-plugin/deviceinfo.go
(GpuInfo.Attributes, CanonicalName gpu-<minor>), mig.go (CommonAttributesMig, ToCanonicalName
gpu-<minor>-mig-<profile>-<id>-<placement>), nvlib.go (a MIG-enabled GPU publishes only its static
MIG devices); NVIDIA/gpu-operator v26.7.0 controllers/nodelabeling_controller.go (unlabelled MIG
nodes get nvidia.com/mig.config=all-disabled); GPU feature discovery's -SHARED product under
time-slicing with renameByDefault false (gpu-operator docs, "Time-Slicing GPUs in Kubernetes").
"""

from __future__ import annotations

import json
from pathlib import Path

from compiler.cel import device_class_matches
from compiler.verify.nodes import GpuStackConfig, NodePoolContract, build_nodes, contract_pools

MIG_PARTED = {
    "kind": "ConfigMap",
    "metadata": {"name": "mig", "namespace": "gpu-operator"},
    "data": {
        "config.yaml": "version: v1\nmig-configs:\n  a100-1g:\n  - devices: all\n    mig-enabled: true\n"
        "    mig-devices: {1g.10gb: 7}\n  all-disabled:\n  - devices: all\n    mig-enabled: false\n"
    },
}
TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}


def mig_pool(labels: dict[str, str]) -> NodePoolContract:
    return NodePoolContract(
        "a100",
        "a100-1g",
        1,
        8,
        "NVIDIA-A100-SXM4-80GB",
        {"mode": "mig", "migProfile": "1g.10gb"},
        labels,
        (TAINT,),
    )


def gpu_config(dra: bool = True, device_plugin: dict | None = None) -> GpuStackConfig:
    """The GPU Operator's ClusterPolicy as its chart renders it (templates/clusterpolicy.yaml)."""
    policy = {
        "apiVersion": "nvidia.com/v1",
        "kind": "ClusterPolicy",
        "metadata": {"name": "cluster-policy"},
        "spec": {
            "migManager": {"config": {"name": "mig"}},
            "devicePlugin": device_plugin or {"enabled": not dra},
        },
    }
    return GpuStackConfig.from_tree([policy, MIG_PARTED, *((TS_CONFIG,) if device_plugin else ())], dra)


def test_partitioned_mig_gpu_publishes_only_its_mig_devices() -> None:
    (node,) = [
        n for n in build_nodes([mig_pool({"nvidia.com/mig.config": "a100-1g"})], gpu_config()) if n.flavor
    ]
    assert len(node.devices) == 8 * 7
    device = node.devices[0]
    assert device["name"] == "gpu-0-mig-1g10gb-0-0"
    attrs = device["attributes"]
    assert attrs["type"] == {"string": "mig"} and attrs["profile"] == {"string": "1g.10gb"}
    assert attrs["productName"] == {"string": "NVIDIA A100-SXM4-80GB"}
    cls = {
        "spec": {
            "selectors": [
                {
                    "cel": {
                        "expression": 'device.driver == "gpu.nvidia.com" && device.attributes["gpu.nvidia.com"].type == "mig" && device.attributes["gpu.nvidia.com"].productName.replace(" ", "-") == "NVIDIA-A100-SXM4-80GB"'
                    }
                }
            ]
        }
    }
    assert device_class_matches(cls, "gpu.nvidia.com", device)


def test_unlabelled_mig_node_is_all_disabled_and_publishes_whole_gpus() -> None:
    (node,) = [n for n in build_nodes([mig_pool({})], gpu_config()) if n.flavor]
    assert node.labels["nvidia.com/mig.config"] == "all-disabled"
    assert {d["attributes"]["type"]["string"] for d in node.devices} == {"gpu"}
    assert [d["name"] for d in node.devices][:2] == ["gpu-0", "gpu-1"]


TS_CONFIG = {
    "kind": "ConfigMap",
    "metadata": {"name": "dp", "namespace": "gpu-operator"},
    "data": {
        "l40s": "version: v1\nsharing:\n  timeSlicing:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 4\n"
    },
}


def test_time_sliced_node_is_labelled_shared_with_replicated_allocatable() -> None:
    pool = NodePoolContract(
        "l40s",
        "l40s",
        1,
        4,
        "NVIDIA-L40S",
        {"mode": "time-slicing"},
        {"nvidia.com/device-plugin.config": "l40s"},
        (TAINT,),
    )
    config = gpu_config(
        dra=False, device_plugin={"enabled": True, "config": {"name": "dp", "default": "default"}}
    )
    (node,) = [n for n in build_nodes([pool], config) if n.flavor]
    assert node.labels["nvidia.com/gpu.product"] == "NVIDIA-L40S-SHARED"
    assert node.labels["nvidia.com/gpu.replicas"] == "4"
    assert node.allocatable["nvidia.com/gpu"] == 16
    assert node.devices == []


def test_contract_file_in_the_gpu_issue_format(tmp_path: Path) -> None:
    (tmp_path / "node-pools.json").write_text(
        json.dumps(
            {
                "kind": "NodePoolContract",
                "pools": [
                    {
                        "name": "mig",
                        "flavor": "a100-1g",
                        "nodes": 2,
                        "gpusPerNode": 8,
                        "labels": {"nvidia.com/mig.config": "a100-1g"},
                        "taints": [TAINT],
                        "discoveredLabels": {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"},
                    },
                    {
                        "name": "ts",
                        "flavor": "l40s",
                        "nodes": 1,
                        "gpusPerNode": 4,
                        "labels": {"nvidia.com/device-plugin.config": "l40s"},
                        "taints": [],
                        "discoveredLabels": {"nvidia.com/gpu.product": "NVIDIA-L40S-SHARED"},
                    },
                ],
            }
        )
    )
    mig, ts = contract_pools(tmp_path) or []
    assert (mig.product, mig.sharing["mode"], mig.labels) == (
        "NVIDIA-A100-SXM4-80GB",
        "mig",
        {"nvidia.com/mig.config": "a100-1g"},
    )
    assert (ts.product, ts.sharing["mode"]) == ("NVIDIA-L40S", "time-slicing")
    assert contract_pools(tmp_path / "missing") is None
