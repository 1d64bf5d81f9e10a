"""ValidatingAdmissionPolicies and their bindings for one cluster.

One policy per rule and workload shape, one binding per mode that some team uses:
validationActions come from the mode (deny → Deny, warn → Warn, audit → Audit). A binding
selects team namespaces by platformc's team label and their names, so platform namespaces
never match; paramRef reads the team's params ConfigMap in the request's namespace and
denies when it is missing (fail closed).
"""

from __future__ import annotations

from typing import Any

from compiler.cluster_model import TEAM_LABEL, ClusterModel
from compiler.components.base import KubeObject, obj
from compiler.components.guardrails.params import PARAMS_NAME
from compiler.components.guardrails.rules import RULES, PolicyBody, Rule, bodies_of
from compiler.spec.policies import effective_rule

API = "admissionregistration.k8s.io/v1"
PREFIX = "platformc-"
ACTIONS = {"deny": ["Deny"], "warn": ["Warn"], "audit": ["Audit"]}
NAME_LABEL = "kubernetes.io/metadata.name"  # set by the API server on every Namespace
# Never bound, whatever labels they carry.
SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")
TEAM_NAMESPACES = {"matchExpressions": [{"key": TEAM_LABEL, "operator": "Exists"}]}


def plural(kind: str) -> str:
    return kind.lower() + "s"


def _resource_rules(kinds: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
    by_group: dict[tuple[str, str], list[str]] = {}
    for api_version, kind in kinds:
        group, _, version = api_version.rpartition("/")
        by_group.setdefault((group, version), []).append(plural(kind))
    return [
        {
            "apiGroups": [group],
            "apiVersions": [version],
            "operations": ["CREATE", "UPDATE"],
            "resources": sorted(resources),
        }
        for (group, version), resources in sorted(by_group.items())
    ]


def policy_name(rule: Rule, body: PolicyBody) -> str:
    return f"{PREFIX}{rule.slug}-{body.suffix}"


def policy(rule: Rule, body: PolicyBody) -> KubeObject:
    spec: dict[str, Any] = {
        "failurePolicy": "Fail",
        "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
        "matchConstraints": {
            "namespaceSelector": TEAM_NAMESPACES,
            "resourceRules": _resource_rules(body.kinds),
        },
    }
    if body.match_conditions:
        spec["matchConditions"] = [{"name": n, "expression": e} for n, e in body.match_conditions]
    if body.variables:
        spec["variables"] = [{"name": n, "expression": e} for n, e in body.variables]
    spec["validations"] = [dict(v) for v in body.validations]
    return obj(API, "ValidatingAdmissionPolicy", policy_name(rule, body), spec=spec)


def binding(name: str, mode: str, namespaces: list[str]) -> KubeObject:
    selector = {
        "matchExpressions": [
            {"key": TEAM_LABEL, "operator": "Exists"},
            {"key": NAME_LABEL, "operator": "In", "values": sorted(namespaces)},
            {"key": NAME_LABEL, "operator": "NotIn", "values": list(SYSTEM_NAMESPACES)},
        ]
    }
    return obj(
        API,
        "ValidatingAdmissionPolicyBinding",
        f"{name}-{mode}",
        spec={
            "policyName": name,
            "validationActions": ACTIONS[mode],
            "paramRef": {"name": PARAMS_NAME, "parameterNotFoundAction": "Deny"},
            "matchResources": {"namespaceSelector": selector},
        },
    )


def team_modes(cluster: ClusterModel, rule: Rule) -> dict[str, list[str]]:
    """mode → team namespaces that have the rule in that mode on this cluster."""
    modes: dict[str, list[str]] = {}
    for team in cluster.teams:
        found = effective_rule(cluster.platform.spec.policies, team.team.spec.policies, rule.name)
        if found is not None:
            modes.setdefault(found.mode, []).append(team.namespace)
    return modes


def admission_objects(cluster: ClusterModel) -> list[KubeObject]:
    objects: list[KubeObject] = []
    for rule in RULES:
        modes = team_modes(cluster, rule)
        if not modes:
            continue
        for body in bodies_of(rule, cluster.dra):
            objects.append(policy(rule, body))
            name = policy_name(rule, body)
            objects += [binding(name, mode, namespaces) for mode, namespaces in sorted(modes.items())]
    return objects


def guardrails_enabled(cluster: ClusterModel) -> bool:
    return any(team_modes(cluster, rule) for rule in RULES)
