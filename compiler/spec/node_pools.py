"""The node-pool contract: the labels and taints every GPU node pool's nodes must carry.

Nothing in the GitOps tree can label nodes: the provisioning tool (Terraform, Karpenter,
Cluster API) does. So each cluster's tree gets this contract, and the labels Kueue's
ResourceFlavors and the pods select come from it:

- `labels`: what the provisioning tool applies. A MIG flavor's nodes select their mig-parted
  config with nvidia.com/mig.config (the GPU Operator only ever applies `all-disabled`, to
  unlabelled MIG-capable nodes: NVIDIA/gpu-operator v26.7.0 controllers/nodelabeling_controller.go);
  a time-sliced flavor's nodes select their device-plugin config with nvidia.com/device-plugin.config;
  other GPUs of a MIG-capable product on a cluster with MIG say `all-disabled` explicitly; plus the
  pool's own `labels` from the spec.
- `taints`: the pool's taints (the platform's pods tolerate them).
- `discoveredLabels`: what GPU feature discovery writes itself (nvidia.com/gpu.product,
  `<product>-SHARED` under time-slicing): listed so the pool's spec labels cannot contradict it.

Pure functions of the spec: compile writes the contract, the spec checks refuse a pool label that
contradicts it, and `platformc diff` reports a change of it (nodes must be relabelled).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from compiler.gpu_allocation import Allocation, device_plugin_on
from compiler.naming import (
    DEVICE_PLUGIN_CONFIG_LABEL,
    GPU_PRODUCT_LABEL,
    MIG_CONFIG_LABEL,
    device_plugin_config_name,
    mig_config_name,
)
from compiler.spec.gpus import mig_profiles
from compiler.spec.models import API_VERSION, Cluster, GPUFlavor, MigSharing, NodePool, TimeSlicingSharing
from compiler.tree_contract import NODE_POOLS_FILE, NODE_POOLS_TABLE

CONTRACT_JSON = NODE_POOLS_FILE
CONTRACT_TABLE = NODE_POOLS_TABLE
MIG_DISABLED_CONFIG = "all-disabled"  # mig-parted config of MIG-capable GPUs used whole
# GPU feature discovery appends this to the product label of a time-sliced GPU whose resource
# keeps its name (NVIDIA/k8s-device-plugin v0.20.0 internal/lm/resource.go, productLabel).
SHARED_PRODUCT_SUFFIX = "-SHARED"
# Labels whose value the platform (or the GPU Operator's discovery) decides for GPU nodes.
OWNED_LABELS = (MIG_CONFIG_LABEL, DEVICE_PLUGIN_CONFIG_LABEL, GPU_PRODUCT_LABEL)


def is_mig(flavor: GPUFlavor) -> bool:
    return isinstance(flavor.spec.sharing, MigSharing)


def is_time_sliced(flavor: GPUFlavor) -> bool:
    return isinstance(flavor.spec.sharing, TimeSlicingSharing)


def discovered_product(flavor: GPUFlavor, allocation: Allocation) -> str:
    """nvidia.com/gpu.product as GFD writes it: device-plugin time-slicing (renameByDefault
    false) marks the product shared."""
    if is_time_sliced(flavor) and device_plugin_on(allocation):
        return flavor.spec.product + SHARED_PRODUCT_SUFFIX
    return flavor.spec.product


def platform_labels(cluster: Cluster, flavor_name: str, flavors: Mapping[str, GPUFlavor]) -> dict[str, str]:
    """Labels the platform's configuration needs on every node of this flavor on this cluster."""
    flavor = flavors[flavor_name]
    if is_mig(flavor):
        return {MIG_CONFIG_LABEL: mig_config_name(flavor_name)}
    labels = {}
    if is_time_sliced(flavor) and device_plugin_on(cluster.spec.gpuAllocation):
        labels[DEVICE_PLUGIN_CONFIG_LABEL] = device_plugin_config_name(flavor_name)
    on_cluster = [flavors[p.flavor] for p in cluster.spec.nodePools if p.flavor in flavors]
    if any(is_mig(f) for f in on_cluster) and mig_profiles(flavor.spec.product) is not None:
        # mig-manager runs on this cluster and would apply whatever the label says.
        labels[MIG_CONFIG_LABEL] = MIG_DISABLED_CONFIG
    return labels


@dataclass(frozen=True)
class PoolContract:
    pool: NodePool
    labels: dict[str, str]  # to apply when provisioning
    discovered: dict[str, str]  # written by GPU feature discovery

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.pool.name,
            "flavor": self.pool.flavor,
            "nodes": self.pool.nodes,
            "gpusPerNode": self.pool.gpusPerNode,
            "labels": dict(sorted(self.labels.items())),
            "taints": [
                {"key": t.key, **({"value": t.value} if t.value is not None else {}), "effect": t.effect}
                for t in self.pool.taints
            ],
            "discoveredLabels": dict(sorted(self.discovered.items())),
        }


def pool_contracts(cluster: Cluster, flavors: Mapping[str, GPUFlavor]) -> list[PoolContract]:
    """The contract of every pool whose flavor exists (the spec checks report the others), by name."""
    result = []
    for pool in sorted(cluster.spec.nodePools, key=lambda p: p.name):  # the spec's order is not meaningful
        if pool.flavor not in flavors:
            continue
        labels = {**pool.labels, **platform_labels(cluster, pool.flavor, flavors)}
        discovered = {GPU_PRODUCT_LABEL: discovered_product(flavors[pool.flavor], cluster.spec.gpuAllocation)}
        result.append(PoolContract(pool, labels, discovered))
    return result


@dataclass(frozen=True)
class Contradiction:
    pool_index: int
    key: str
    value: str
    expected: str | None  # None: the platform sets no such label on this pool's nodes


def contradictions(cluster: Cluster, flavors: Mapping[str, GPUFlavor]) -> Iterator[Contradiction]:
    """Spec pool labels on a platform-owned key that disagree with the contract."""
    for index, pool in enumerate(cluster.spec.nodePools):
        if pool.flavor not in flavors:
            continue
        owned = {
            **platform_labels(cluster, pool.flavor, flavors),
            GPU_PRODUCT_LABEL: discovered_product(flavors[pool.flavor], cluster.spec.gpuAllocation),
        }
        for key, value in sorted(pool.labels.items()):
            if key in OWNED_LABELS and owned.get(key) != value:
                yield Contradiction(index, key, value, owned.get(key))


def contract_document(cluster: Cluster, flavors: Mapping[str, GPUFlavor]) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "NodePoolContract",
        "cluster": cluster.metadata.name,
        "gpuAllocation": cluster.spec.gpuAllocation,
        "pools": [p.to_json() for p in pool_contracts(cluster, flavors)],
    }


def _cell(mapping: Mapping[str, str]) -> str:
    # A '|' in a label would end the Markdown cell; the JSON copy keeps the value as it is.
    return "<br>".join(f"`{k}={v}`".replace("|", "\\|") for k, v in sorted(mapping.items())) or "—"


def contract_table(document: Mapping[str, Any]) -> str:
    """The same contract as a Markdown table, for the people who provision the nodes."""
    lines = [
        f"# Node pools of cluster {document['cluster']}",
        "",
        f"Generated by platformc from the spec; machine-readable copy: `{CONTRACT_JSON}`.",
        "Apply the labels and taints when provisioning each pool's nodes; GPU feature discovery",
        "writes the discovered labels itself (a pool label must not contradict them).",
        "",
        "| pool | flavor | nodes × GPUs | labels to apply | taints | discovered labels |",
        "|---|---|---|---|---|---|",
    ]
    for pool in document["pools"]:
        taints = "<br>".join(
            f"`{t['key']}" + (f"={t['value']}" if "value" in t else "") + f":{t['effect']}`"
            for t in pool["taints"]
        )
        lines.append(
            f"| {pool['name']} | {pool['flavor']} | {pool['nodes']} × {pool['gpusPerNode']} | "
            f"{_cell(pool['labels'])} | {taints or '—'} | {_cell(pool['discoveredLabels'])} |"
        )
    return "\n".join(lines) + "\n"


def contract_files(cluster: Cluster, flavors: Mapping[str, GPUFlavor]) -> dict[str, bytes]:
    """The contract files of one cluster tree, by file name."""
    document = contract_document(cluster, flavors)
    return {
        CONTRACT_JSON: (json.dumps(document, indent=2, sort_keys=False) + "\n").encode(),
        CONTRACT_TABLE: contract_table(document).encode(),
    }
