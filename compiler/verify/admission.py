"""Admission of every workload, in the API server's order: mutation (LimitRange defaults, Kueue),
then validation (Pod Security, LimitRange, ResourceQuota, ValidatingAdmissionPolicies), then
Kueue's own admission of batch jobs; and the DRA quota bypass through uncapped DeviceClasses."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from compiler.cel import AdmissionRequest, CelError, admit
from compiler.verify import kueue as kq
from compiler.verify.context import VerifyContext
from compiler.verify.copying import copy_tree
from compiler.verify.pod_security import evaluate, namespace_level
from compiler.verify.resources import apply_limit_ranges, limit_range_violations, pod_totals, quota_violations
from compiler.verify.workloads import Workload

QUOTA_DEVICES = ".deviceclass.resource.k8s.io/devices"


def claim_requests(ctx: VerifyContext, workload: Workload) -> list[tuple[str, dict[str, Any]]]:
    """(pod claim name, ResourceClaim object) for each claim template the pod uses."""
    in_ns = ctx.cluster.in_namespace("ResourceClaimTemplate", workload.namespace)
    templates = {t["metadata"]["name"]: t for t in in_ns}
    out = []
    for claim in workload.pod["spec"].get("resourceClaims") or ():
        tmpl = templates.get(claim.get("resourceClaimTemplateName", ""))
        if tmpl is None:
            continue
        out.append(
            (
                claim["name"],
                {
                    "apiVersion": "resource.k8s.io/v1",
                    "kind": "ResourceClaim",
                    "metadata": {"name": f"{workload.name}-{claim['name']}", "namespace": workload.namespace},
                    "spec": copy_tree((tmpl.get("spec") or {}).get("spec") or {}),
                },
            )
        )
    return out


def claim_devices(claims: list[tuple[str, dict[str, Any]]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _, claim in claims:
        for req in ((claim.get("spec") or {}).get("devices") or {}).get("requests") or ():
            exactly = req.get("exactly") or {}
            cls = exactly.get("deviceClassName")
            if cls:
                counts[cls] = counts.get(cls, 0) + int(exactly.get("count", 1))
    return counts


def _vap(ctx: VerifyContext, resource: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The policies whose matchConstraints name the resource (or "*"), and their bindings; the
    others cannot match (admit() would skip them after evaluating their selectors)."""
    key = ("vap", resource)
    if key not in ctx.cluster.memo:
        policies = [
            p
            for p in ctx.cluster.of_kind("ValidatingAdmissionPolicy")
            if any(
                resource in (rule.get("resources") or ()) or "*" in (rule.get("resources") or ())
                for rule in ((p.get("spec") or {}).get("matchConstraints") or {}).get("resourceRules") or ()
            )
        ]
        names = {p["metadata"]["name"] for p in policies}
        bindings = [
            b
            for b in ctx.cluster.of_kind("ValidatingAdmissionPolicyBinding")
            if (b.get("spec") or {}).get("policyName") in names
        ]
        ctx.cluster.memo[key] = (policies, bindings)
    return ctx.cluster.memo[key]


def _param_kinds(policies: list[dict[str, Any]]) -> list[str]:
    """Kinds the policies take params from (the only objects admit() looks up)."""
    return sorted(
        {str(((p.get("spec") or {}).get("paramKind") or {}).get("kind")) for p in policies} - {"None"}
    )


def vap_denial(ctx: VerifyContext, obj: dict[str, Any], resource: str) -> str | None:
    policies, bindings = _vap(ctx, resource)
    if not bindings:
        return None
    ns_name = (obj.get("metadata") or {}).get("namespace")
    request = AdmissionRequest(
        "CREATE",
        obj,
        namespace_object=ctx.cluster.namespaces().get(ns_name) if ns_name else None,
        resource=resource,
    )
    try:
        return admit(policies, bindings, request, ctx.cluster.of_kind(*_param_kinds(policies))).message
    except CelError as exc:  # failurePolicy Fail (the default) rejects on evaluation errors
        return f"policy evaluation failed: {exc}"


def check_admission(ctx: VerifyContext) -> None:
    namespaces = ctx.cluster.namespaces()
    # plugin/pkg/admission/priority: a pod without priorityClassName gets the globalDefault class.
    default_priority = next(
        (pc["metadata"]["name"] for pc in ctx.cluster.of_kind("PriorityClass") if pc.get("globalDefault")),
        None,
    )
    for w in ctx.workloads:
        out = ctx.outcome(w)
        owner = w.owner
        denial = vap_denial(ctx, w.controller, w.kind.lower() + "s")
        if denial:
            out.admitted = False
            ctx.add("admission.validating-policy", owner, f"{w.kind} {w.name}: {denial}")
            continue
        managed = kq.managed_reason(ctx.cluster, ctx.kueue, w.kind, w.controller)
        if w.role == "serving" and managed:
            out.notes.append("queued by Kueue")
            ctx.add(
                "kueue.manages-serving",
                owner,
                f"Kueue manages serving Deployment {w.namespace}/{w.name} through {managed}: it is suspended "
                "until admitted and can be preempted by batch",
            )
        ns = namespaces.get(w.namespace)
        level, version = namespace_level(ns)
        pod_meta, pod_spec = w.pod["metadata"], w.pod["spec"]
        failures = evaluate(pod_meta, pod_spec, level, version)
        if failures:
            out.admitted = False
            rules = ", ".join(f.rule for f in failures)
            ctx.add(
                "admission.pod-security",
                owner,
                f"pod of {w.kind} {w.namespace}/{w.name} violates PodSecurity "
                f'"{level}:v{version[0]}.{version[1]}" '
                f"({rules}): " + "; ".join(f.detail for f in failures),
            )
        ns_limits = ctx.cluster.in_namespace("LimitRange", w.namespace)
        defaulted = apply_limit_ranges(pod_spec, ns_limits)
        if default_priority and not defaulted.get("priorityClassName"):
            defaulted["priorityClassName"] = default_priority
        ctx.admitted_pods[w.ref] = defaulted
        lr_problems = limit_range_violations(defaulted, ns_limits)
        if lr_problems:
            out.admitted = False
            ctx.add(
                "admission.limit-range",
                owner,
                f"pod of {w.kind} {w.namespace}/{w.name}: " + "; ".join(lr_problems),
            )
        claims = claim_requests(ctx, w)
        for _, claim in claims:
            denial = vap_denial(ctx, claim, "resourceclaims")
            if denial:
                out.admitted = False
                ctx.add("admission.validating-policy", owner, f"ResourceClaim of {w.name}: {denial}")
        ns_quotas = ctx.cluster.in_namespace("ResourceQuota", w.namespace)
        q_problems = quota_violations(defaulted, claim_devices(claims), ns_quotas)
        if q_problems:
            out.admitted = False
            ctx.add(
                "admission.resource-quota",
                owner,
                f"pod of {w.kind} {w.namespace}/{w.name}: " + "; ".join(q_problems),
            )
        if w.role == "batch":
            _kueue_batch(ctx, w, managed, defaulted, claims)


def _kueue_batch(
    ctx: VerifyContext, w: Workload, managed: str | None, pod_spec: dict[str, Any], claims: list
) -> None:
    out = ctx.outcome(w)
    if not ctx.kueue.installed:
        return
    if managed is None:
        ctx.add(
            "kueue.not-managed",
            w.owner,
            f"Job {w.namespace}/{w.name} with the {kq.QUEUE_LABEL} label is not managed by Kueue "
            f"(integrations: {sorted(ctx.kueue.frameworks)})",
        )
        return
    queue = (w.controller["metadata"].get("labels") or {}).get(kq.QUEUE_LABEL, kq.DEFAULT_QUEUE)
    lq = kq.local_queues(ctx.cluster, w.namespace).get(queue)
    cq = kq.cluster_queue_for(ctx.cluster, w.namespace, queue)
    if lq is None or cq is None:
        out.admitted = False
        missing = (
            f"LocalQueue {w.namespace}/{queue}"
            if lq is None
            else f"ClusterQueue {lq['spec'].get('clusterQueue')}"
        )
        ctx.add(
            "kueue.inadmissible",
            w.owner,
            f"Job {w.namespace}/{w.name} waits forever: {missing} does not exist",
        )
        return
    requests: dict[str, Decimal] = {k: v for k, v in pod_totals(pod_spec, "requests").items()}
    for cls, count in claim_devices(claims).items():
        resource = ctx.kueue.device_class_mappings.get(cls)
        if resource is None:
            out.admitted = False
            ctx.add(
                "kueue.inadmissible",
                w.owner,
                f"Job {w.namespace}/{w.name}: DeviceClass {cls} has no deviceClassMappings entry in "
                "Kueue's Configuration",
            )
            return
        requests[resource] = requests.get(resource, Decimal(0)) + count
    assigned, problem = kq.assign_flavors(ctx.cluster, cq, requests)
    if problem:
        out.admitted = False
        ctx.add(
            "kueue.inadmissible",
            w.owner,
            f"Job {w.namespace}/{w.name} (one {w.flavor} device) cannot be admitted by ClusterQueue "
            f"{cq['metadata']['name']}: {problem}",
        )
        return
    labels, tolerations = kq.flavor_injection(ctx.cluster, set(assigned.values()))
    pod_spec.setdefault("nodeSelector", {}).update(labels)
    pod_spec.setdefault("tolerations", []).extend(tolerations)


def check_dra_quota_bypass(ctx: VerifyContext) -> None:
    """Every DeviceClass a team namespace can claim through must be capped by its ResourceQuota
    (<class>.deviceclass.resource.k8s.io/devices) or refused by an admission policy."""
    classes = sorted(dc["metadata"]["name"] for dc in ctx.cluster.of_kind("DeviceClass"))
    if not classes:
        return
    namespaces = ctx.cluster.namespaces()
    teams = sorted(
        n for n, ns in namespaces.items() if "platformc.dev/team" in (ns["metadata"].get("labels") or {})
    )
    quotas = ctx.cluster.of_kind("ResourceQuota")
    for team in teams:
        capped = {
            key[: -len(QUOTA_DEVICES)]
            for rq in quotas
            if rq["metadata"].get("namespace") == team
            for key in (rq.get("spec") or {}).get("hard") or {}
            if key.endswith(QUOTA_DEVICES)
        }
        open_classes = []
        for cls in classes:
            if cls in capped:
                continue
            claim = {
                "apiVersion": "resource.k8s.io/v1",
                "kind": "ResourceClaim",
                "metadata": {"name": "verify-bypass", "namespace": team},
                "spec": {
                    "devices": {
                        "requests": [
                            {"name": "gpu", "exactly": {"deviceClassName": cls, "allocationMode": "All"}}
                        ]
                    }
                },
            }
            if vap_denial(ctx, claim, "resourceclaims") is None:
                open_classes.append(cls)
        if open_classes:
            ctx.add(
                "dra.quota-bypass",
                f"Namespace/{team}",
                f"team namespace {team} can claim any number of devices through DeviceClass(es) "
                f"{', '.join(open_classes)}: "
                "its ResourceQuota does not cap them and no admission policy refuses the claim",
            )
