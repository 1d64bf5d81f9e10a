"""Pod resources as admission sees them: API defaulting, LimitRange defaulting and validation,
and the pod's quota usage.

Sources (kubernetes/kubernetes at the cluster's version): pkg/apis/core/v1/defaults.go
SetDefaults_Pod (a missing request takes the limit), plugin/pkg/admission/limitranger/admission.go
(defaultContainerResourceRequirements,
pkg/apis/core/v1/defaults.go SetDefaults_LimitRangeItem, mergeContainerResources,
PodValidateLimitFunc: min, max,
maxLimitRequestRatio per Container, sums per Pod), pkg/api/v1/resource/helpers.go
PodRequestsAndLimits (max of the init containers and the sum of the app containers),
pkg/quota/v1/evaluator/core/pods.go (requests.*, limits.*, extended resources as requests.<name>,
a quota on a compute resource requires every container to state it; scopes and scopeSelector decide
which pods a quota counts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from compiler.spec.quantity import parse_quantity
from compiler.verify.copying import copy_tree

COMPUTE = ("cpu", "memory", "ephemeral-storage")


def q(value: Any) -> Decimal:
    return parse_quantity(str(value))


def apply_limit_ranges(pod_spec: dict[str, Any], limit_ranges: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The pod spec after API defaulting and LimitRanger's defaults (a new dict)."""
    spec = copy_tree(pod_spec)
    items = [
        i
        for lr in limit_ranges
        for i in (lr.get("spec") or {}).get("limits") or ()
        if i.get("type") == "Container"
    ]
    for c in [*(spec.get("initContainers") or ()), *(spec.get("containers") or ())]:
        res = c.setdefault("resources", {})
        limits, requests = res.setdefault("limits", {}), res.setdefault("requests", {})
        for k, v in list(limits.items()):
            requests.setdefault(k, v)  # SetDefaults_Pod
        for item in items:
            # SetDefaults_LimitRangeItem: default falls back to max, defaultRequest to default.
            default = {**(item.get("max") or {}), **(item.get("default") or {})}
            for k, v in default.items():
                limits.setdefault(k, v)
            for k, v in {**default, **(item.get("defaultRequest") or {})}.items():
                requests.setdefault(k, v)
        if not limits:
            res.pop("limits")
        if not requests:
            res.pop("requests")
    return spec


def limit_range_violations(
    pod_spec: Mapping[str, Any], limit_ranges: Iterable[Mapping[str, Any]]
) -> list[str]:
    out = []
    for lr in limit_ranges:
        for item in (lr.get("spec") or {}).get("limits") or ():
            if item.get("type") != "Container":
                continue
            for c in [*(pod_spec.get("initContainers") or ()), *(pod_spec.get("containers") or ())]:
                res = c.get("resources") or {}
                req, lim = res.get("requests") or {}, res.get("limits") or {}
                for k, v in (item.get("min") or {}).items():
                    if k in req and q(req[k]) < q(v):
                        out.append(
                            f'container "{c["name"]}" {k} request {req[k]} < LimitRange '
                            f"{lr['metadata']['name']} min {v}"
                        )
                for k, v in (item.get("max") or {}).items():
                    have = lim.get(k)
                    if have is None:
                        out.append(
                            f'container "{c["name"]}" has no {k} limit '
                            f"(LimitRange {lr['metadata']['name']} max {v})"
                        )
                    elif q(have) > q(v):
                        out.append(
                            f'container "{c["name"]}" {k} limit {have} > LimitRange '
                            f"{lr['metadata']['name']} max {v}"
                        )
                for k, v in (item.get("maxLimitRequestRatio") or {}).items():
                    if k in lim and k in req and q(req[k]) > 0 and q(lim[k]) / q(req[k]) > q(v):
                        out.append(f'container "{c["name"]}" {k} limit/request ratio exceeds {v}')
    return out


def pod_totals(pod_spec: Mapping[str, Any], field: str) -> dict[str, Decimal]:
    """Requests or limits of the pod: max(init containers, sum of containers) per resource."""
    total: dict[str, Decimal] = {}
    for c in pod_spec.get("containers") or ():
        for k, v in ((c.get("resources") or {}).get(field) or {}).items():
            total[k] = total.get(k, Decimal(0)) + q(v)
    for c in pod_spec.get("initContainers") or ():
        for k, v in ((c.get("resources") or {}).get(field) or {}).items():
            total[k] = max(total.get(k, Decimal(0)), q(v))
    return total


def quota_usage(pod_spec: Mapping[str, Any], claim_devices: Mapping[str, int]) -> dict[str, Decimal]:
    """What one pod (and the ResourceClaims made for it) is charged against a ResourceQuota."""
    usage: dict[str, Decimal] = {"pods": Decimal(1), "count/pods": Decimal(1)}
    for k, v in pod_totals(pod_spec, "requests").items():
        usage[f"requests.{k}"] = v
        if k in COMPUTE:
            usage[k] = v
    for k, v in pod_totals(pod_spec, "limits").items():
        if k in COMPUTE:
            usage[f"limits.{k}"] = v
    for device_class, count in claim_devices.items():
        usage[f"{device_class}.deviceclass.resource.k8s.io/devices"] = Decimal(count)
    return usage


def _scope_matches(scope: str, operator: str, values: list[str], pod_spec: Mapping[str, Any]) -> bool:
    if scope == "PriorityClass":
        name = pod_spec.get("priorityClassName") or ""
        return {
            "In": name in values,
            "NotIn": name not in values,
            "Exists": bool(name),
            "DoesNotExist": not name,
        }.get(operator, False)
    containers = [*(pod_spec.get("initContainers") or ()), *(pod_spec.get("containers") or ())]
    best_effort = not any(
        (c.get("resources") or {}).get(f) for c in containers for f in ("requests", "limits")
    )
    terminating = pod_spec.get("activeDeadlineSeconds") is not None
    cross_ns = any(
        term.get("namespaceSelector") is not None or term.get("namespaces")
        for kind in ("podAffinity", "podAntiAffinity")
        for term in ((pod_spec.get("affinity") or {}).get(kind) or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        )
        or ()
    )
    value = {
        "Terminating": terminating,
        "NotTerminating": not terminating,
        "BestEffort": best_effort,
        "NotBestEffort": not best_effort,
        "CrossNamespacePodAffinity": cross_ns,
    }.get(scope, False)
    return value if operator in ("Exists", "In") else not value


def quota_applies(quota: Mapping[str, Any], pod_spec: Mapping[str, Any]) -> bool:
    """pkg/quota/v1/evaluator/core/pods.go podMatchesScopeFunc: every scope of the quota matches."""
    spec = quota.get("spec") or {}
    scopes: list[tuple[str, str, list[Any]]] = [(s, "Exists", []) for s in spec.get("scopes") or ()]
    scopes += [
        (e.get("scopeName", ""), e.get("operator", "Exists"), list(e.get("values") or ()))
        for e in (spec.get("scopeSelector") or {}).get("matchExpressions") or ()
    ]
    return all(_scope_matches(name, op, values, pod_spec) for name, op, values in scopes)


def quota_violations(
    pod_spec: Mapping[str, Any], claim_devices: Mapping[str, int], quotas: Iterable[Mapping[str, Any]]
) -> list[str]:
    usage = quota_usage(pod_spec, claim_devices)
    out = []
    containers = [*(pod_spec.get("initContainers") or ()), *(pod_spec.get("containers") or ())]
    for quota in quotas:
        if not quota_applies(quota, pod_spec):
            continue
        name = quota["metadata"]["name"]
        for key, hard in ((quota.get("spec") or {}).get("hard") or {}).items():
            field, _, resource = (
                key.partition(".") if key.startswith(("requests.", "limits.")) else ("requests", "", key)
            )
            if resource in COMPUTE:
                missing = [
                    c["name"]
                    for c in containers
                    if resource not in ((c.get("resources") or {}).get(field) or {})
                ]
                if missing:
                    out.append(
                        f"ResourceQuota {name} tracks {key} but containers {missing} do not specify it"
                    )
                    continue
            if key in usage and usage[key] > q(hard):
                out.append(f"ResourceQuota {name}: one pod uses {key}={usage[key]} but the quota is {hard}")
    return out
