"""Scheduling against the simulated nodes: node selectors and required affinity, taints and
tolerations, allocatable resources, and DRA claims allocated from the ResourceSlices with the
DeviceClasses' and claims' CEL selectors evaluated by a real CEL engine (compiler.cel).

Per pod, not per cluster: each pod is placed on an empty node (no scoring, no bin packing)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from compiler.cel import CelError, device_class_matches, selector_matches
from compiler.naming import device_class_name
from compiler.verify.admission import claim_requests
from compiler.verify.context import VerifyContext
from compiler.verify.nodes import DRA_DRIVER, SimNode
from compiler.verify.resources import pod_totals
from compiler.verify.selectors import node_matches, untolerated
from compiler.verify.workloads import Workload

MIG_CONFIG = "nvidia.com/mig.config"


def _device_flavor(ctx: VerifyContext, node: SimNode, device: dict[str, Any]) -> str | None:
    """The flavor a device belongs to: its pool's flavor, if the device has the flavor's shape."""
    pool = next((p for p in ctx.cluster.pools if p.name == node.pool), None)
    if pool is None:
        return None
    dtype = device["attributes"]["type"]["string"]
    if pool.sharing.get("mode") == "mig":
        profile = (device["attributes"].get("profile") or {}).get("string")
        wanted = pool.sharing.get("migProfile")  # a contract may leave it to the mig-parted config
        return pool.flavor if dtype == "mig" and wanted in (None, profile) else None
    return pool.flavor if dtype == "gpu" else None


_MATCH_CACHE: dict[tuple[str, str], bool] = {}


def _device_key(memo: dict[Any, Any], expressions: str, device: dict[str, Any]) -> tuple[str, str]:
    """Devices of one pool differ only in name and UUIDs; selectors that do not read them give the
    same answer for all, so one CEL evaluation per shape suffices."""
    reads_uuid = "uuid" in expressions.lower()
    shape_key = ("device-shape", id(device), reads_uuid)  # the cluster's devices live as long as memo
    if shape_key not in memo:
        attrs = device.get("attributes") or {}
        if not reads_uuid:
            attrs = {k: v for k, v in attrs.items() if k not in ("uuid", "parentUUID")}
        memo[shape_key] = json.dumps([attrs, device.get("capacity")], sort_keys=True)
    shape = memo[shape_key]
    return expressions, shape if "name" not in expressions else shape + str(device.get("name"))


def _class_matches(ctx: VerifyContext, cls: dict[str, Any], device: dict[str, Any]) -> bool:
    memo = ctx.cluster.memo
    selectors_key = ("class-selectors", id(cls))  # the cluster's objects live as long as memo
    if selectors_key not in memo:
        memo[selectors_key] = json.dumps((cls.get("spec") or {}).get("selectors"), sort_keys=True)
    key = _device_key(memo, memo[selectors_key], device)
    if key not in _MATCH_CACHE:
        try:
            _MATCH_CACHE[key] = device_class_matches(cls, DRA_DRIVER, device)
        except (CelError, TypeError, KeyError):
            _MATCH_CACHE[key] = False  # a selector that errors on a device does not select it (allocator.go)
    return _MATCH_CACHE[key]


def unpartitioned_mig_flavors(ctx: VerifyContext) -> set[str]:
    return {n.flavor for n in _unpartitioned_nodes(ctx) if n.flavor}


def _unpartitioned_nodes(ctx: VerifyContext) -> list[SimNode]:
    return [
        n
        for n in ctx.cluster.nodes
        if _is_mig_pool(ctx, n)
        and (
            n.labels.get("nvidia.com/mig.config") == "all-disabled"
            or n.labels.get("nvidia.com/mig.config.state") == "failed"
        )
    ]


def _is_mig_pool(ctx: VerifyContext, node: SimNode) -> bool:
    return any(p.name == node.pool and p.sharing.get("mode") == "mig" for p in ctx.cluster.pools)


def check_gpu_nodes(ctx: VerifyContext) -> None:
    """MIG pools whose nodes mig-manager never partitions (gpu-operator nodelabeling controller)."""
    seen = set()
    for n in ctx.cluster.nodes:
        if not n.flavor or n.pool in seen or not _is_mig_pool(ctx, n):
            continue
        config = n.labels.get("nvidia.com/mig.config")
        pool = next(p for p in ctx.cluster.pools if p.name == n.pool)
        if config == "all-disabled" or n.labels.get("nvidia.com/mig.config.state") == "failed":
            seen.add(n.pool)
            why = (
                "the pool's nodes carry no nvidia.com/mig.config label, so the GPU Operator labels them "
                "all-disabled"
                if "nvidia.com/mig.config" not in pool.labels
                else f"nvidia.com/mig.config={config} names no config of the mig-parted ConfigMap"
            )
            ctx.add(
                "gpu.mig-unpartitioned",
                f"NodePool/{n.pool}",
                f"MIG flavor {n.flavor}: {why} (node-pool source: {ctx.cluster.pools_source}); no "
                f"{pool.sharing.get('migProfile')} instance ever exists",
            )


def check_device_classes(ctx: VerifyContext) -> None:
    if not ctx.cluster.slices:
        return
    flavors = {p.flavor for p in ctx.cluster.pools}
    unpartitioned = unpartitioned_mig_flavors(ctx)
    devices = [(n, d) for n in ctx.cluster.nodes for d in n.devices]
    for cls in ctx.cluster.of_kind("DeviceClass"):
        name = cls["metadata"]["name"]
        flavor = next((f for f in flavors if device_class_name(f) == name), None)
        if flavor is None:
            continue  # the driver's generic classes select every device by design
        matched = [(n, d) for n, d in devices if _class_matches(ctx, cls, d)]
        if not matched:
            ctx.broken_classes.add(name)
            if flavor not in unpartitioned:
                ctx.add(
                    "dra.class-selects-nothing",
                    f"DeviceClass/{name}",
                    f"DeviceClass {name} (flavor {flavor}) selects none of the {len(devices)} devices the "
                    "ResourceSlices publish",
                )
            continue
        others = sorted({f"{n.name}/{d['name']}" for n, d in matched if _device_flavor(ctx, n, d) != flavor})
        if others:
            ctx.broken_classes.add(name)
            ctx.add(
                "dra.class-selects-other-flavor",
                f"DeviceClass/{name}",
                f"DeviceClass {name} (flavor {flavor}) also selects {len(others)} devices that are not "
                f"{flavor}, "
                f"e.g. {others[0]}",
            )


def _claim_fits(ctx: VerifyContext, node: SimNode, claim: dict[str, Any]) -> str | None:
    classes = {c["metadata"]["name"]: c for c in ctx.cluster.of_kind("DeviceClass")}
    free = list(node.devices)
    for req in ((claim.get("spec") or {}).get("devices") or {}).get("requests") or ():
        exactly = req.get("exactly") or {}
        cls = classes.get(exactly.get("deviceClassName", ""))
        if cls is None:
            return f"DeviceClass {exactly.get('deviceClassName')} does not exist"
        wanted = [d for d in free if _class_matches(ctx, cls, d) and _selectors(exactly, d)]
        count = len(wanted) if exactly.get("allocationMode") == "All" else int(exactly.get("count", 1))
        if len(wanted) < count or not wanted:
            return (
                f"{count} device(s) of class {cls['metadata']['name']} requested, node offers {len(wanted)}"
            )
        taken = {d["name"] for d in wanted[:count]}
        free = [d for d in free if d["name"] not in taken]
    return None


def _selectors(request: dict[str, Any], device: dict[str, Any]) -> bool:
    try:
        return all(
            selector_matches(s["cel"]["expression"], DRA_DRIVER, device)
            for s in request.get("selectors") or ()
            if "cel" in s
        )
    except (CelError, TypeError, KeyError):
        return False


def schedule(ctx: VerifyContext, w: Workload) -> tuple[bool, str | None, str]:
    """(scheduled, rule, reason). rule None with scheduled False: reported elsewhere (root cause)."""
    spec = ctx.admitted_pods.get(w.ref, w.pod["spec"])
    nodes = [n for n in ctx.cluster.nodes if node_matches(spec, n.labels)]
    if not nodes:
        selector = {**(spec.get("nodeSelector") or {})}
        relaxed = {**spec, "nodeSelector": {k: v for k, v in selector.items() if k != MIG_CONFIG}}
        if any(node_matches(relaxed, n.labels) for n in _unpartitioned_nodes(ctx)):
            return False, None, "its MIG nodes are never partitioned (reported on the node pool)"
        return (
            False,
            "scheduling.node-affinity",
            f"no node has the labels {selector or 'its node affinity requires'}",
        )
    tolerated = [n for n in nodes if not untolerated(spec, n.taints)]
    if not tolerated:
        taints = {
            f"{t['key']}={t.get('value', '')}:{t['effect']}"
            for n in nodes
            for t in untolerated(spec, n.taints)
        }
        return (
            False,
            "scheduling.taint-toleration",
            f"the {len(nodes)} matching nodes have untolerated taints {sorted(taints)}",
        )
    requests = pod_totals(spec, "requests")
    for k, v in pod_totals(spec, "limits").items():
        if "/" in k:  # extended resources: request = limit
            requests.setdefault(k, v)
    fitting = [
        n
        for n in tolerated
        if all(n.allocatable.get(k, Decimal(0)) >= v for k, v in requests.items() if k != "ephemeral-storage")
    ]
    if not fitting:
        short = sorted(
            {
                k
                for n in tolerated
                for k, v in requests.items()
                if k != "ephemeral-storage" and n.allocatable.get(k, Decimal(0)) < v
            }
        )
        unpartitioned = unpartitioned_mig_flavors(ctx)
        if any(k.startswith("nvidia.com/mig-") for k in short) and unpartitioned:
            return False, None, f"no MIG devices ({', '.join(short)}): pool never partitioned"
        return False, "scheduling.insufficient-resources", f"no tolerated node has enough {', '.join(short)}"
    claims = [c for _, c in claim_requests(ctx, w)]
    if not claims:
        return True, None, ""
    used_classes: set[str] = {
        str((r.get("exactly") or {}).get("deviceClassName"))
        for c in claims
        for r in ((c.get("spec") or {}).get("devices") or {}).get("requests") or ()
    }
    reasons = []
    for n in fitting:
        problem = next((p for c in claims if (p := _claim_fits(ctx, n, c))), None)
        if problem is None:
            return True, None, ""
        reasons.append(problem)
    if used_classes & ctx.broken_classes:
        return (
            False,
            None,
            f"DeviceClass {sorted(used_classes & ctx.broken_classes)[0]} is broken (reported on the class)",
        )
    return False, "dra.claim-unsatisfiable", reasons[0] if reasons else "no node"


def check_scheduling(ctx: VerifyContext) -> None:
    for w in ctx.workloads:
        out = ctx.outcome(w)
        if not out.admitted:
            continue
        if w.kind == "DaemonSet":
            spec = ctx.admitted_pods.get(w.ref, w.pod["spec"])
            selected = [n for n in ctx.cluster.nodes if node_matches(spec, n.labels)]
            blocked = [n for n in selected if untolerated(spec, n.taints)]
            out.scheduled = bool(selected) and not blocked
            if blocked:
                ctx.add(
                    "scheduling.taint-toleration",
                    w.owner,
                    f"DaemonSet {w.namespace}/{w.name} selects {len(blocked)} nodes it does not tolerate "
                    f"(e.g. {blocked[0].name} taints "
                    f"{[t['key'] for t in untolerated(spec, blocked[0].taints)]})",
                )
            continue
        if w.replicas == 0:
            out.scheduled = None
            continue
        ok, rule, reason = schedule(ctx, w)
        out.scheduled = ok
        if not ok:
            out.notes.append(reason)
            if rule:
                ctx.add(
                    rule, w.owner, f"pod of {w.kind} {w.namespace}/{w.name} cannot be scheduled: {reason}"
                )
