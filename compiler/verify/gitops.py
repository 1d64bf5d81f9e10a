"""GitOps ordering and ownership, from the tree's Applications / Kustomizations and the charts.

- One owner per CRD: Argo CD tracks each object to one Application and Flux to one inventory; two
  units shipping the same CRD overwrite each other's schema on every sync.
- An admission webhook (failurePolicy Fail, the default) refuses every object it matches while its
  Service has no endpoints. A unit synced before the webhook's unit never meets it (the webhook
  configuration does not exist yet); one synced after it (Argo CD: a higher wave, gated by health;
  Flux: dependsOn with wait) finds its Service ready; a unit synced alongside it (same wave, no
  dependsOn either way) races it. Within one unit the engine applies everything together and retries.
  Only custom resources are checked (the objects a component's webhook exists for: InferenceServices,
  Kueue queues, cert-manager Certificates); webhooks on built-in kinds (Kueue's Deployment/Pod/Job
  webhooks) are left out, since every unit's workloads would race them and the engine's retries
  absorb it.
- Argo CD (since 1.8, docs operator-manual/health.md "Argo CD App") no longer assesses the health of
  Application resources, so an app-of-apps' waves are not gated unless argocd-cm carries
  `resource.customizations.health.argoproj.io_Application`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compiler.charts.releases import builtin_api_versions
from compiler.verify.context import VerifyContext
from compiler.verify.selectors import label_selector_matches

HEALTH_KEY = "resource.customizations.health.argoproj.io_Application"


def plural(kind: str) -> str:
    lower = kind.lower()
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + ("es" if lower.endswith("s") else "s")


def unit_order(ctx: VerifyContext) -> dict[str, set[str]]:
    """unit -> the units that are synced and healthy before it starts."""
    before: dict[str, set[str]] = {}
    if ctx.cluster.engine == "flux":
        deps = {
            k["metadata"]["name"]: {d["name"] for d in (k.get("spec") or {}).get("dependsOn") or ()}
            for k in ctx.cluster.of_kind("Kustomization")
            if str(k.get("apiVersion", "")).startswith("kustomize.toolkit.fluxcd.io/")
        }

        def closure(unit: str, seen: frozenset[str]) -> set[str]:
            out: set[str] = set()
            for d in deps.get(unit, ()):
                if d not in seen:
                    out |= {d} | closure(d, seen | {d})
            return out

        return {u: closure(u, frozenset({u})) for u in deps}
    waves: dict[str, int] = {}
    for app in ctx.cluster.of_kind("Application"):
        meta = app.get("metadata") or {}
        unit = (meta.get("labels") or {}).get("platformc.dev/unit")
        if unit:
            waves[unit] = int((meta.get("annotations") or {}).get("argocd.argoproj.io/sync-wave", "0"))
    for unit, wave in waves.items():
        before[unit] = {u for u, w in waves.items() if w < wave}
    return before


def check_crd_owners(ctx: VerifyContext) -> None:
    owners: dict[str, set[str]] = {}
    for t in ctx.cluster.objects:
        if t.obj.get("kind") == "CustomResourceDefinition":
            owners.setdefault(t.obj["metadata"]["name"], set()).add(t.unit)
    for name, units in sorted(owners.items()):
        if len(units) > 1:
            ctx.add(
                "gitops.crd-two-units",
                f"CustomResourceDefinition/{name}",
                f"CRD {name} is installed by units {', '.join(sorted(units))}",
            )


def _rule_matches(rule: Mapping[str, Any], obj: Mapping[str, Any]) -> bool:
    api = str(obj.get("apiVersion", ""))
    group, _, version = api.rpartition("/")
    ops = rule.get("operations") or ()
    if not ({"CREATE", "*"} & set(ops)):
        return False
    if not ({group, "*"} & set(rule.get("apiGroups") or ())):
        return False
    if not ({version, "*"} & set(rule.get("apiVersions") or ("*",))):
        return False
    return bool({plural(str(obj.get("kind", ""))), "*", "*/*"} & set(rule.get("resources") or ()))


def check_webhook_order(ctx: VerifyContext) -> None:
    before = unit_order(ctx)
    units = {id(t.obj): t.unit for t in ctx.cluster.objects}
    services = {
        (t.obj["metadata"].get("namespace"), t.obj["metadata"]["name"]): t.unit
        for t in ctx.cluster.objects
        if t.obj.get("kind") == "Service"
    }
    namespaces = ctx.cluster.namespaces()
    builtin = {
        "" if gv.startswith("v1") else gv.split("/")[0] for gv in builtin_api_versions(ctx.cluster.version)
    }
    custom = [
        t for t in ctx.cluster.objects if str(t.obj.get("apiVersion", "")).rpartition("/")[0] not in builtin
    ]
    reported: set[tuple[str, str]] = set()
    for t in ctx.cluster.objects:
        if t.obj.get("kind") not in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
            continue
        for hook in t.obj.get("webhooks") or ():
            svc = (hook.get("clientConfig") or {}).get("service")
            if not svc or hook.get("failurePolicy", "Fail") != "Fail":
                continue
            svc_unit = services.get((svc.get("namespace"), svc.get("name")), t.unit)
            rules = hook.get("rules") or ()
            matched: dict[tuple[Any, Any], bool] = {}  # the rules read an object's apiVersion and kind
            for other in custom:
                unit = units[id(other.obj)]
                if unit in (svc_unit, "apps"):
                    continue
                gvk = (other.obj.get("apiVersion"), other.obj.get("kind"))
                if gvk not in matched:
                    matched[gvk] = any(_rule_matches(r, other.obj) for r in rules)
                if not matched[gvk]:
                    continue
                meta = other.obj.get("metadata") or {}
                ns = meta.get("namespace")
                if ns and "namespaceSelector" in hook:
                    labels = (namespaces.get(ns) or {}).get("metadata", {}).get("labels") or {}
                    if not label_selector_matches(hook["namespaceSelector"], labels):
                        continue
                if "objectSelector" in hook and not label_selector_matches(
                    hook["objectSelector"], meta.get("labels") or {}
                ):
                    continue
                # Before the webhook's unit the webhook does not exist yet; after it (gated) its Service
                # answers. Only units synced alongside it race it.
                if svc_unit in before.get(unit, set()) or unit in before.get(svc_unit, set()):
                    continue
                if (unit, svc_unit) in reported:
                    continue
                reported.add((unit, svc_unit))
                ctx.add(
                    "gitops.webhook-after-objects",
                    f"{other.obj.get('kind')}/{ns + '/' if ns else ''}{meta.get('name')}",
                    f"unit {unit} syncs {other.obj.get('kind')} {meta.get('name')} through webhook "
                    f"{hook.get('name')} (Service {svc.get('namespace')}/{svc.get('name')}, unit {svc_unit}) "
                    f"without waiting for {svc_unit}",
                )


def check_health_gate(ctx: VerifyContext) -> None:
    if ctx.cluster.engine != "argocd":
        return
    apps = ctx.cluster.of_kind("Application")
    waves = {(a["metadata"].get("annotations") or {}).get("argocd.argoproj.io/sync-wave", "0") for a in apps}
    if len(waves) < 2:
        return
    for cm in ctx.cluster.of_kind("ConfigMap"):
        if cm["metadata"].get("name") == "argocd-cm" and HEALTH_KEY in (cm.get("data") or {}):
            return
    ctx.add(
        "gitops.wave-not-gated",
        "ConfigMap/argocd/argocd-cm",
        f"{len(apps)} Applications in {len(waves)} sync waves, but no argocd-cm with {HEALTH_KEY} "
        "in the tree: "
        "Argo CD moves to the next wave without waiting for the previous Applications to be healthy",
    )
