"""Kueue v0.19.2 as the cluster runs it: which workloads it manages, and whether it can admit a job.

The Configuration is read from the rendered chart's `kueue-manager-config` ConfigMap (not from the
values), defaults from apis/config/v1beta2/defaults.go (managedJobsNamespaceSelector excludes
kube-system and Kueue's own namespace). Management (pkg/controller/jobframework/defaults.go
ApplyDefaultLocalQueueWithManagedJobsNamespaceSelector, utils.go WorkloadShouldBeSuspended, the
deployment/pod/job webhooks): an object of an enabled integration is managed when it carries the
queue-name label, or when its namespace has a LocalQueue named `default` and matches
managedJobsNamespaceSelector, or when manageJobsWithoutQueueName is set and the namespace matches.
Admission (pkg/scheduler/flavorassigner/flavorassigner.go): every requested resource must be covered
by a resource group of the ClusterQueue, and one flavor of the group must have room for the request
within nominal quota plus what the cohort can lend (borrowingLimit, other queues' lendingLimit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import yaml

from compiler.spec.quantity import parse_quantity
from compiler.verify.cluster import SimCluster
from compiler.verify.selectors import label_selector_matches

QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
DEFAULT_QUEUE = "default"
# integrations.frameworks entries that capture each controller kind.
FRAMEWORK_OF = {
    "Deployment": ("deployment", "pod"),
    "StatefulSet": ("statefulset", "pod"),
    "Job": ("batch/job",),
}


@dataclass(frozen=True)
class KueueConfig:
    installed: bool
    namespace: str
    frameworks: frozenset[str]
    manage_without_queue_name: bool
    managed_namespaces: Mapping[str, Any]  # a LabelSelector
    device_class_mappings: Mapping[str, str]  # DeviceClass -> resource name

    @classmethod
    def from_cluster(cls, cluster: SimCluster) -> KueueConfig:
        # The kueue chart's manager ConfigMap, from a release or hydrated into the tree; where it
        # is, the controller runs (same namespace; kueue chart templates/manager/manager-config.yaml).
        cm = next(
            (o for o in cluster.of_kind("ConfigMap") if o["metadata"].get("name") == "kueue-manager-config"),
            None,
        )
        if cm is None:
            return cls(False, "", frozenset(), False, {}, {})
        namespace = cm["metadata"].get("namespace") or "default"
        raw = (cm.get("data") or {}).get("controller_manager_config.yaml", "")
        config = yaml.load(raw, Loader=yaml.CSafeLoader) or {}
        default_selector = {
            "matchExpressions": [
                {
                    "key": "kubernetes.io/metadata.name",
                    "operator": "NotIn",
                    "values": ["kube-system", namespace],
                }
            ]
        }
        mappings = {}
        for m in (config.get("resources") or {}).get("deviceClassMappings") or ():
            for dc in m.get("deviceClassNames") or ():
                mappings[dc] = m["name"]
        return cls(
            True,
            namespace,
            frozenset((config.get("integrations") or {}).get("frameworks") or ()),
            bool(config.get("manageJobsWithoutQueueName", False)),
            config.get("managedJobsNamespaceSelector") or default_selector,
            mappings,
        )


def local_queues(cluster: SimCluster, namespace: str) -> dict[str, dict[str, Any]]:
    return {lq["metadata"]["name"]: lq for lq in cluster.in_namespace("LocalQueue", namespace)}


def cluster_queue_for(
    cluster: SimCluster, namespace: str, queue: str = DEFAULT_QUEUE
) -> dict[str, Any] | None:
    lq = local_queues(cluster, namespace).get(queue)
    if lq is None:
        return None
    name = (lq.get("spec") or {}).get("clusterQueue")
    return next((cq for cq in cluster.of_kind("ClusterQueue") if cq["metadata"]["name"] == name), None)


def managed_reason(cluster: SimCluster, config: KueueConfig, kind: str, obj: Mapping[str, Any]) -> str | None:
    """Why Kueue manages this object (None when it does not)."""
    if not config.installed:
        return None
    enabled = [f for f in FRAMEWORK_OF.get(kind, ()) if f in config.frameworks]
    if not enabled:
        return None
    meta = obj.get("metadata") or {}
    ns_name = meta.get("namespace", "default")
    ns = cluster.namespaces().get(ns_name) or {
        "metadata": {"labels": {"kubernetes.io/metadata.name": ns_name}}
    }
    in_scope = label_selector_matches(config.managed_namespaces, ns["metadata"].get("labels") or {})
    integration = f"integration {enabled[0]!r}"
    if (meta.get("labels") or {}).get(QUEUE_LABEL):
        return f"{integration} and the {QUEUE_LABEL} label"
    if DEFAULT_QUEUE in local_queues(cluster, ns_name) and in_scope:
        return f"{integration} and the namespace's LocalQueue named 'default' (queue name defaulting)"
    if config.manage_without_queue_name and in_scope:
        return f"{integration} and manageJobsWithoutQueueName"
    return None


def _quantity(value: Any) -> Decimal:
    return parse_quantity(str(value))


def _lendable(cluster: SimCluster, cq: Mapping[str, Any], flavor: str, resource: str) -> Decimal:
    """What the rest of the cohort can lend this queue for one flavor/resource."""
    cohort = (cq.get("spec") or {}).get("cohortName")
    if not cohort:
        return Decimal(0)
    own = _lending(cq).get((flavor, resource), Decimal(0))
    return _cohort_lending(cluster, cohort).get((flavor, resource), Decimal(0)) - own


def _lending(cq: Mapping[str, Any]) -> dict[tuple[str, str], Decimal]:
    out: dict[tuple[str, str], Decimal] = {}
    for group in (cq.get("spec") or {}).get("resourceGroups") or ():
        for fl in group.get("flavors") or ():
            for res in fl.get("resources") or ():
                nominal = _quantity(res.get("nominalQuota", 0))
                limit = res.get("lendingLimit")
                key = (fl.get("name"), res.get("name"))
                out[key] = out.get(key, Decimal(0)) + (
                    min(nominal, _quantity(limit)) if limit is not None else nominal
                )
    return out


def _cohort_lending(cluster: SimCluster, cohort: str) -> dict[tuple[str, str], Decimal]:
    """Sum of every member queue's lendable quota per (flavor, resource), once per cluster and cohort."""
    key = ("cohort-lending", cohort)
    if key not in cluster.memo:
        total: dict[tuple[str, str], Decimal] = {}
        for cq in cluster.of_kind("ClusterQueue"):
            if (cq.get("spec") or {}).get("cohortName") == cohort:
                for k, v in _lending(cq).items():
                    total[k] = total.get(k, Decimal(0)) + v
        cluster.memo[key] = total
    return cluster.memo[key]


def assign_flavors(
    cluster: SimCluster, cq: Mapping[str, Any], requests: Mapping[str, Decimal]
) -> tuple[dict[str, str], str | None]:
    """Flavor per resource group, or the reason no flavor fits (flavorassigner.go)."""
    assigned: dict[str, str] = {}
    groups = (cq.get("spec") or {}).get("resourceGroups") or ()
    for resource, amount in sorted(requests.items()):
        if amount <= 0:
            continue
        group = next((g for g in groups if resource in (g.get("coveredResources") or ())), None)
        if group is None:
            return assigned, f"resource {resource} is not covered by ClusterQueue {cq['metadata']['name']}"
        reasons = []
        for fl in group.get("flavors") or ():
            res = next((r for r in fl.get("resources") or () if r.get("name") == resource), None)
            if res is None:
                continue
            nominal = _quantity(res.get("nominalQuota", 0))
            borrow = _lendable(cluster, cq, fl["name"], resource)
            if res.get("borrowingLimit") is not None:
                borrow = min(borrow, _quantity(res["borrowingLimit"]))
            if nominal + borrow >= amount:
                assigned[resource] = fl["name"]
                break
            reasons.append(f"flavor {fl['name']}: {resource} quota {nominal}+{borrow} borrowable < {amount}")
        else:
            return assigned, "; ".join(reasons) or f"no flavor of {cq['metadata']['name']} lists {resource}"
    return assigned, None


def flavor_injection(
    cluster: SimCluster, flavor_names: set[str]
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """nodeLabels and tolerations Kueue adds to an admitted pod for its assigned flavors."""
    labels: dict[str, str] = {}
    tolerations: list[dict[str, Any]] = []
    for rf in cluster.of_kind("ResourceFlavor"):
        if rf["metadata"]["name"] in flavor_names:
            spec = rf.get("spec") or {}
            labels.update(spec.get("nodeLabels") or {})
            tolerations += spec.get("tolerations") or []
    return labels, tolerations
