"""Simulated nodes and DRA ResourceSlices, as the GPU stack would label and publish them.

A node pool (from the cluster's node-pool contract, or the spec's `nodePools` while a tree has no
contract) gives each node only the labels and taints the provisioning tool applies. The GPU stack
then adds what it computes, from the configuration the tree really ships:

- GPU feature discovery (NVIDIA/k8s-device-plugin, shipped by gpu-operator v26.7.0):
  `nvidia.com/gpu.product`, `gpu.count`, `gpu.present`; with time-slicing and
  `renameByDefault: false` the product label becomes `<product>-SHARED` and `gpu.replicas` the
  replica count (docs: gpu-operator "Time-Slicing GPUs in Kubernetes");
- gpu-operator controllers/nodelabeling_controller.go: an unlabelled MIG-capable node gets
  `nvidia.com/mig.config=all-disabled`; mig-manager applies the named mig-parted config from the
  ConfigMap that `migManager.config.name` points at, or fails (`mig.config.state=failed`);
- the device plugin's allocatable (`nvidia.com/gpu`, × replicas when time-sliced; MIG mixed
  strategy: `nvidia.com/mig-<profile>`), only where `devicePlugin.enabled`;
- dra-driver-nvidia-gpu v0.4.1 cmd/gpu-kubelet-plugin/deviceinfo.go, mig.go, nvlib.go: a GPU
  without MIG mode is one device `gpu-<minor>` (type gpu); a GPU with static MIG devices
  publishes only those, `gpu-<minor>-mig-<profile>-<profileId>-<placement>` (type mig, profile),
  each with productName, brand, architecture, uuid and version attributes.

CPU and memory are not part of the spec: each GPU node is given 16 CPUs and 128Gi per GPU, and a
system pool of three untainted 16-CPU / 64Gi nodes hosts the operators (stated in the README).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from compiler.spec.quantity import parse_quantity
from compiler.tree_contract import NODE_POOLS_FILE

DRA_DRIVER = "gpu.nvidia.com"
CPU_PER_GPU, MEMORY_PER_GPU = Decimal(16), parse_quantity("128Gi")
SYSTEM_NODES, SYSTEM_CPU, SYSTEM_MEMORY = 3, Decimal(16), parse_quantity("64Gi")
# NVML device names for products whose GFD label is not the name with spaces turned into '-'.
NVML_NAMES = {
    "NVIDIA-A100-SXM4-80GB": "NVIDIA A100-SXM4-80GB",
    "NVIDIA-A100-SXM4-40GB": "NVIDIA A100-SXM4-40GB",
    "NVIDIA-H100-80GB-HBM3": "NVIDIA H100 80GB HBM3",
}
ARCHITECTURES = {
    "A100": ("Ampere", "8.0.0"),
    "H100": ("Hopper", "9.0.0"),
    "H200": ("Hopper", "9.0.0"),
    "L40S": ("Ada Lovelace", "8.9.0"),
}
# NVML GPU instance profile ids (nvml.h NVML_GPU_INSTANCE_PROFILE_*), used in MIG device names.
MIG_PROFILE_IDS = {"1": 0, "2": 1, "3": 2, "4": 5, "7": 4}


@dataclass(frozen=True)
class NodePoolContract:
    """What the provisioning tool guarantees about every node of one pool."""

    name: str
    flavor: str
    nodes: int
    gpus_per_node: int
    product: str
    sharing: Mapping[str, Any]  # {"mode": exclusive|mig|time-slicing, ...}
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[Mapping[str, Any], ...] = ()


@dataclass
class SimNode:
    name: str
    pool: str
    flavor: str | None
    labels: dict[str, str]
    taints: list[dict[str, Any]]
    allocatable: dict[str, Decimal]
    devices: list[dict[str, Any]] = field(default_factory=list)  # DRA ResourceSlice devices

    def as_object(self) -> dict[str, Any]:
        return {
            "kind": "Node",
            "metadata": {"name": self.name, "labels": self.labels},
            "spec": {"taints": self.taints},
        }


def contract_pools(cluster_dir: Path) -> list[NodePoolContract] | None:
    """The pools of the tree's node-pool contract (`<cluster>/node-pools.json`), or None."""
    path = cluster_dir / NODE_POOLS_FILE
    if not path.is_file():
        return None
    return pools_of_contract(json.loads(path.read_text(encoding="utf-8")))


def pools_of_contract(data: Mapping[str, Any]) -> list[NodePoolContract]:
    """The pools of a node-pool contract (kind NodePoolContract).

    A pool names its flavor, size, the labels and taints provisioning applies and the labels GPU
    feature discovery will write (`discoveredLabels`: the product, `-SHARED` under time-slicing).
    The sharing mode follows from the labels: `nvidia.com/mig.config` other than all-disabled is a
    MIG pool, `nvidia.com/device-plugin.config` a time-sliced one (`product`/`sharing` may also be
    given explicitly)."""
    pools = []
    for p in data.get("pools") or ():
        labels = dict(p.get("labels") or {})
        discovered = p.get("discoveredLabels") or {}
        product = p.get("product") or str(discovered.get("nvidia.com/gpu.product", "")).removesuffix(
            "-SHARED"
        )
        sharing = p.get("sharing")
        if sharing is None:
            if labels.get("nvidia.com/mig.config", "all-disabled") != "all-disabled":
                sharing = {"mode": "mig"}
            elif "nvidia.com/device-plugin.config" in labels:
                sharing = {"mode": "time-slicing"}
            else:
                sharing = {"mode": "exclusive"}
        pools.append(
            NodePoolContract(
                p["name"],
                p["flavor"],
                int(p["nodes"]),
                int(p["gpusPerNode"]),
                product,
                sharing,
                labels,
                tuple(p.get("taints") or ()),
            )
        )
    return pools


def spec_pools(spec_dir: Path, cluster: str) -> list[NodePoolContract]:
    """The spec's node pools of a cluster: labels and taints exactly as the spec lists them."""
    from compiler.verify.intents import load_spec

    model = load_spec(spec_dir)
    found = model.clusters.get(cluster)
    if found is None:
        return []
    return [
        NodePoolContract(
            p.name,
            p.flavor,
            p.nodes,
            p.gpusPerNode,
            model.flavors[p.flavor].spec.product,
            model.flavors[p.flavor].spec.sharing.model_dump(),
            dict(p.labels),
            tuple(t.model_dump(exclude_none=True) for t in p.taints),
        )
        for p in found.spec.nodePools
    ]


@dataclass(frozen=True)
class GpuStackConfig:
    """What the GPU Operator in the tree configures: its ClusterPolicy (rendered by the gpu-operator
    chart, templates/clusterpolicy.yaml; the object the operator reconciles) and the ConfigMaps it
    names."""

    device_plugin: bool
    device_plugin_configs: Mapping[str, Any]  # config name -> parsed device-plugin config
    device_plugin_default: str | None
    mig_strategy: str
    mig_configs: Mapping[str, Any]  # mig-parted config name -> list of device entries
    dra: bool

    @classmethod
    def from_tree(cls, objects: Iterable[Mapping[str, Any]], dra: bool) -> GpuStackConfig:
        """From the cluster's objects (tree and rendered charts). Without a ClusterPolicy there is
        no GPU Operator: no device plugin, no MIG manager. api/nvidia/v1/clusterpolicy_types.go:
        an unset `devicePlugin.enabled` is enabled, an unset `mig.strategy` is single."""
        objects = list(objects)
        policy = next((o for o in objects if o.get("kind") == "ClusterPolicy"), None)
        spec = (policy or {}).get("spec") or {}
        dp = spec.get("devicePlugin") or {}
        dp_cfg = dp.get("config") or {}
        mig_cfg = ((spec.get("migManager") or {}).get("config")) or {}
        maps = {
            (o.get("metadata") or {}).get("name"): o.get("data") or {}
            for o in objects
            if o.get("kind") == "ConfigMap"
        }
        dp_configs = {k: _yaml(v) or {} for k, v in (maps.get(dp_cfg.get("name")) or {}).items()}
        mig_data = maps.get(mig_cfg.get("name")) or {}
        mig_configs = (_yaml(mig_data.get("config.yaml", "")) or {}).get("mig-configs") or {}
        return cls(
            policy is not None and bool(dp.get("enabled", True)),
            dp_configs,
            dp_cfg.get("default"),
            (spec.get("mig") or {}).get("strategy", "single"),
            mig_configs,
            dra,
        )


def _yaml(text: str) -> Any:
    return yaml.load(text, Loader=yaml.CSafeLoader)  # yaml.safe_load's objects, parsed by libyaml


def _time_slicing(config: Mapping[str, Any]) -> tuple[int, bool]:
    """(replicas, renameByDefault) of nvidia.com/gpu in a device-plugin config, (1, False) if none."""
    ts = ((config.get("sharing") or {}).get("timeSlicing")) or {}
    for res in ts.get("resources") or ():
        if res.get("name") == "nvidia.com/gpu":
            return int(res.get("replicas", 1)), bool(ts.get("renameByDefault", False))
    return 1, False


def _mig_layout(entries: list[Mapping[str, Any]]) -> dict[str, int] | None:
    """Instances per GPU of a mig-parted config applying to all devices; None if MIG is disabled."""
    for entry in entries or ():
        if entry.get("devices") in ("all", None) or entry.get("devices"):
            if not entry.get("mig-enabled"):
                return None
            return {str(k): int(v) for k, v in (entry.get("mig-devices") or {}).items()}
    return None


def _product_attributes(product: str) -> dict[str, dict[str, str]]:
    family = next((k for k in ARCHITECTURES if k in product), None)
    arch, cc = ARCHITECTURES.get(family or "", ("unknown", "0.0.0"))
    return {
        "productName": {"string": NVML_NAMES.get(product, product.replace("-", " "))},
        "brand": {"string": "Nvidia"},
        "architecture": {"string": arch},
        "cudaComputeCapability": {"version": cc},
        "driverVersion": {"version": "580.95.5"},
        "cudaDriverVersion": {"version": "13.0.0"},
    }


def build_nodes(pools: Iterable[NodePoolContract], gpu: GpuStackConfig) -> list[SimNode]:
    nodes = [
        SimNode(
            f"system-{i}",
            "system",
            None,
            {
                "kubernetes.io/hostname": f"system-{i}",
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
            },
            [],
            {"cpu": SYSTEM_CPU, "memory": SYSTEM_MEMORY, "pods": Decimal(110)},
        )
        for i in range(SYSTEM_NODES)
    ]
    for pool in pools:
        for i in range(pool.nodes):
            nodes.append(_gpu_node(pool, i, gpu))
    return nodes


def _gpu_node(pool: NodePoolContract, index: int, gpu: GpuStackConfig) -> SimNode:
    name = f"{pool.name}-{index}"
    labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        **pool.labels,
        # node-feature-discovery as the gpu-operator chart configures it (pci deviceLabelFields: vendor).
        "feature.node.kubernetes.io/pci-10de.present": "true",
        "nvidia.com/gpu.present": "true",
        "nvidia.com/gpu.count": str(pool.gpus_per_node),
        "nvidia.com/gpu.product": pool.product,
    }
    allocatable = {
        "cpu": CPU_PER_GPU * pool.gpus_per_node,
        "memory": MEMORY_PER_GPU * pool.gpus_per_node,
        "pods": Decimal(110),
    }
    mode = pool.sharing.get("mode", "exclusive")
    mig_layout: dict[str, int] | None = None
    if mode == "mig":
        # nodelabeling_controller.go: MIG-capable nodes without the label get all-disabled.
        config = labels.setdefault("nvidia.com/mig.config", "all-disabled")
        if config in gpu.mig_configs:
            labels["nvidia.com/mig.config.state"] = "success"
            mig_layout = _mig_layout(gpu.mig_configs[config])
        else:
            labels["nvidia.com/mig.config.state"] = "failed"
    if gpu.device_plugin:
        config_name = labels.get("nvidia.com/device-plugin.config") or gpu.device_plugin_default
        replicas, rename = _time_slicing(gpu.device_plugin_configs.get(config_name or "") or {})
        if mig_layout and gpu.mig_strategy == "mixed":
            for profile, count in mig_layout.items():
                allocatable[f"nvidia.com/mig-{profile}"] = Decimal(count * pool.gpus_per_node)
        elif mig_layout:
            profile, count = next(iter(mig_layout.items()))
            labels["nvidia.com/gpu.product"] = f"{pool.product}-MIG-{profile}"
            allocatable["nvidia.com/gpu"] = Decimal(count * pool.gpus_per_node)
        else:
            resource = "nvidia.com/gpu.shared" if replicas > 1 and rename else "nvidia.com/gpu"
            allocatable[resource] = Decimal(pool.gpus_per_node * replicas)
            if replicas > 1:
                labels["nvidia.com/gpu.replicas"] = str(replicas)
                labels["nvidia.com/gpu.sharing-strategy"] = "time-slicing"
                if not rename:
                    labels["nvidia.com/gpu.product"] = f"{pool.product}-SHARED"
    taints = [dict(t) for t in pool.taints]
    node = SimNode(name, pool.name, pool.flavor, labels, taints, allocatable)
    if gpu.dra:
        node.devices = _dra_devices(pool, index, mig_layout)
    return node


def _dra_devices(
    pool: NodePoolContract, index: int, mig_layout: dict[str, int] | None
) -> list[dict[str, Any]]:
    devices = []
    common = _product_attributes(pool.product)
    for minor in range(pool.gpus_per_node):
        uuid = f"GPU-{pool.name}-{index}-{minor}"
        if not mig_layout:
            devices.append(
                {
                    "name": f"gpu-{minor}",
                    "attributes": {"type": {"string": "gpu"}, "uuid": {"string": uuid}, **common},
                    "capacity": {"memory": {"value": "80Gi"}},
                }
            )
            continue
        placement = 0
        for profile, count in sorted(mig_layout.items()):
            slices = profile.split("g.")[0]
            for _ in range(count):
                devices.append(
                    {
                        "name": f"gpu-{minor}-mig-{profile.replace('.', '')}-"
                        f"{MIG_PROFILE_IDS.get(slices, 0)}-{placement}",
                        "attributes": {
                            "type": {"string": "mig"},
                            "profile": {"string": profile},
                            "parentUUID": {"string": uuid},
                            "uuid": {"string": f"MIG-{uuid}-{placement}"},
                            **common,
                        },
                        "capacity": {"memory": {"value": profile.split(".")[1].upper().replace("GB", "Gi")}},
                    }
                )
                placement += int(slices)
    return devices


def resource_slices(nodes: Iterable[SimNode]) -> list[dict[str, Any]]:
    """One resource.k8s.io/v1 ResourceSlice per node that publishes devices."""
    return [
        {
            "apiVersion": "resource.k8s.io/v1",
            "kind": "ResourceSlice",
            "metadata": {"name": f"{n.name}-{DRA_DRIVER}"},
            "spec": {
                "driver": DRA_DRIVER,
                "nodeName": n.name,
                "pool": {"name": n.name, "generation": 1, "resourceSliceCount": 1},
                "devices": n.devices,
            },
        }
        for n in nodes
        if n.devices
    ]
