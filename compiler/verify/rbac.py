"""Each team group's effective permissions in its namespace, after ClusterRole aggregation.

RoleBindings in a team namespace give their Group subjects the rules of a Role or ClusterRole.
A ClusterRole with an aggregationRule has the union of the rules of every ClusterRole whose labels
match one of its clusterRoleSelectors (kubernetes/kubernetes pkg/controller/clusterroleaggregation),
transitively. The bootstrap roles (admin, edit, view, cluster-admin) come from
compiler/verify/data/bootstrap-cluster-roles.yaml (Kubernetes' bootstrap policy golden file); the
tree and the rendered charts add theirs (KServe and Kueue aggregate into admin/edit/view).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

import yaml

from compiler.verify.context import VerifyContext
from compiler.verify.copying import copy_tree
from compiler.verify.selectors import label_selector_matches

WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection", "*"})
# (apiGroup, resource): what keeps a team isolated, and must stay the platform's.
PROTECTED = (
    ("networking.k8s.io", "networkpolicies"),
    ("", "resourcequotas"),
    ("", "limitranges"),
    ("admissionregistration.k8s.io", "validatingadmissionpolicies"),
    ("admissionregistration.k8s.io", "validatingadmissionpolicybindings"),
    ("kueue.x-k8s.io", "localqueues"),
    ("kueue.x-k8s.io", "clusterqueues"),
    ("kueue.x-k8s.io", "resourceflavors"),
    ("kueue.x-k8s.io", "workloads"),
    ("resource.k8s.io", "deviceclasses"),
)


@functools.cache
def _bootstrap_text() -> str:
    return (
        resources.files("compiler.verify")
        .joinpath("data/bootstrap-cluster-roles.yaml")
        .read_text(encoding="utf-8")
    )


@functools.cache
def _bootstrap_roles() -> tuple[dict[str, Any], ...]:
    return tuple(yaml.safe_load(_bootstrap_text())["items"])


def bootstrap_roles() -> list[dict[str, Any]]:
    return copy_tree(list(_bootstrap_roles()))


def aggregated_rules(roles: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """ClusterRole name -> its rules after aggregation (own rules for roles without aggregationRule)."""
    by_name = {r["metadata"]["name"]: r for r in roles}
    memo: dict[str, list[dict[str, Any]]] = {}

    def rules_of(name: str, stack: frozenset[str]) -> list[dict[str, Any]]:
        if name in memo:
            return memo[name]
        role = by_name[name]
        rules = list(role.get("rules") or [])
        for sel in (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or ():
            for other, obj in by_name.items():
                if (
                    other not in stack
                    and other != name
                    and label_selector_matches(sel, obj["metadata"].get("labels") or {})
                ):
                    rules += rules_of(other, stack | {name})
        memo[name] = rules
        return rules

    return {name: rules_of(name, frozenset()) for name in by_name}


def _grants(rules: Iterable[Mapping[str, Any]], group: str, resource: str) -> list[str]:
    verbs: set[str] = set()
    for rule in rules:
        groups, res = rule.get("apiGroups") or (), rule.get("resources") or ()
        if (
            (group in groups or "*" in groups)
            and (resource in res or "*" in res)
            and not rule.get("resourceNames")
        ):
            verbs |= set(rule.get("verbs") or ()) & WRITE_VERBS
    return sorted(verbs)


def check_rbac(ctx: VerifyContext) -> None:
    cluster_roles = [*bootstrap_roles(), *ctx.cluster.of_kind("ClusterRole")]
    rules = aggregated_rules(cluster_roles)
    namespaces = ctx.cluster.namespaces()
    teams = {
        n for n, ns in namespaces.items() if "platformc.dev/team" in (ns["metadata"].get("labels") or {})
    }
    roles = {(r["metadata"].get("namespace"), r["metadata"]["name"]): r for r in ctx.cluster.of_kind("Role")}
    for rb in ctx.cluster.of_kind("RoleBinding"):
        ns = rb["metadata"].get("namespace")
        if ns not in teams:
            continue
        ref = rb.get("roleRef") or {}
        if ref.get("kind") == "ClusterRole":
            granted = rules.get(ref.get("name", ""), [])
        else:
            granted = list((roles.get((ns, ref.get("name"))) or {}).get("rules") or [])
        groups = [s["name"] for s in rb.get("subjects") or () if s.get("kind") in ("Group", "User")]
        writes = {f"{g or 'core'}/{r}": v for g, r in PROTECTED if (v := _grants(granted, g, r))}
        if groups and writes:
            what = ", ".join(f"{k} ({'/'.join(v)})" for k, v in sorted(writes.items()))
            ctx.add(
                "rbac.team-writes-isolation",
                f"RoleBinding/{ns}/{rb['metadata']['name']}",
                f"{', '.join(groups)} bound to {ref.get('kind')} {ref.get('name')} in {ns} can write {what}",
            )
