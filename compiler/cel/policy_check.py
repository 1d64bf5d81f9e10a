"""Type-check every CEL expression of a ValidatingAdmissionPolicy against the kinds it matches.

The API server does the same after a policy is created and reports the result in
status.typeChecking (k8s.io/apiserver/pkg/admission/plugin/policy/validating/typechecking.go):
each expression is checked once per matched kind, with `object`/`oldObject` typed by that
kind's schema, `params` by the paramKind's, `namespaceObject` as a Namespace and `request`
as an AdmissionRequest. platformc makes any finding a compile error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from .checker import TypeCheckError, check_expression
from .engine import UnsupportedSyntax
from .types import BOOL, NULL, STRING, CelType, ListType, MapType, declared_object, from_schema

__all__ = ["REQUEST_TYPE", "check_policy", "kind_type", "plural"]

_GVK = declared_object("GroupVersionKind", {"group": STRING, "version": STRING, "kind": STRING})
_GVR = declared_object("GroupVersionResource", {"group": STRING, "version": STRING, "resource": STRING})

# k8s.io/api/admission/v1 AdmissionRequest, as the `request` variable.
REQUEST_TYPE = declared_object(
    "request",
    {
        "uid": STRING,
        "kind": _GVK,
        "resource": _GVR,
        "subResource": STRING,
        "requestKind": _GVK,
        "requestResource": _GVR,
        "requestSubResource": STRING,
        "name": STRING,
        "namespace": STRING,
        "operation": STRING,
        "userInfo": declared_object(
            "request.userInfo",
            {
                "username": STRING,
                "uid": STRING,
                "groups": ListType(STRING),
                "extra": MapType(STRING, ListType(STRING)),
            },
        ),
        "dryRun": BOOL,
    },
)


class SchemaRegistry(Protocol):
    """Where kind schemas come from (compiler.validate.schemas.SchemaRegistry): the CEL engine
    sits below the validate stage, which calls it, so it names only the one method it uses."""

    def schema(self, api_version: str, kind: str, kubernetes_version: str) -> dict[str, Any]: ...


def plural(kind: str) -> str:
    """The resource name platformc uses for a kind in resourceRules (all its kinds add 's')."""
    return kind.lower() + "s"


def kind_type(registry: SchemaRegistry, kubernetes_version: str, api_version: str, kind: str) -> CelType:
    schema = registry.schema(api_version, kind, kubernetes_version)
    return from_schema(schema, schema.get("$defs") or {}, kind)


def _covered(policy: dict[str, Any], kinds: Sequence[tuple[str, str]]) -> list[str]:
    """Rules naming a resource no given kind stands for, and kinds no rule matches."""
    problems = []
    given = set()
    for api_version, kind in kinds:
        group, _, version = api_version.rpartition("/")
        given.add((group, version, plural(kind)))
    rules = (policy["spec"].get("matchConstraints") or {}).get("resourceRules") or []
    matched = set()
    for rule in rules:
        for group in rule.get("apiGroups") or []:
            for version in rule.get("apiVersions") or []:
                for resource in rule.get("resources") or []:
                    key = (group, version, resource.partition("/")[0])
                    if "*" in key or key not in given:
                        problems.append(
                            f"resourceRules match {group or 'core'}/{version} {resource}, "
                            "which has no kind to type-check against"
                        )
                    matched.add(key)
    for key in sorted(given - matched):
        problems.append(f"{key[0] or 'core'}/{key[1]} {key[2]} is not matched by resourceRules")
    return problems


def check_policy(
    policy: dict[str, Any],
    registry: SchemaRegistry,
    kubernetes_version: str,
    kinds: Sequence[tuple[str, str]],
    unsupported: list[str] | None = None,
) -> list[str]:
    """Every problem with the policy's expressions, one message each, [] when it checks.

    With `unsupported`, expressions in syntax the engine cannot parse (UnsupportedSyntax) are
    listed there instead of among the problems; without it they are problems."""
    name = policy["metadata"]["name"]
    spec = policy["spec"]
    problems = [f"ValidatingAdmissionPolicy {name}: {p}" for p in _covered(policy, kinds)]
    params: CelType = NULL
    if spec.get("paramKind"):
        ref = spec["paramKind"]
        params = kind_type(registry, kubernetes_version, ref["apiVersion"], ref["kind"])
    namespace = kind_type(registry, kubernetes_version, "v1", "Namespace")
    for api_version, kind in kinds:
        obj = kind_type(registry, kubernetes_version, api_version, kind)
        env: dict[str, CelType] = {
            "object": obj,
            "oldObject": obj,
            "params": params,
            "namespaceObject": namespace,
            "request": REQUEST_TYPE,
        }
        where = f"ValidatingAdmissionPolicy {name} on {api_version} {kind} (Kubernetes {kubernetes_version})"
        declared: dict[str, CelType] = {}
        for i, variable in enumerate(spec.get("variables") or []):
            env["variables"] = declared_object("variables", declared)
            try:
                declared[variable["name"]] = check_expression(variable["expression"], env)
            except UnsupportedSyntax as exc:
                (problems if unsupported is None else unsupported).append(
                    f"{where}: spec.variables[{i}] {exc}"
                )
                declared[variable["name"]] = from_schema({}, {}, variable["name"])
            except (TypeCheckError, ValueError) as exc:
                problems.append(f"{where}: spec.variables[{i}] {exc}")
                declared[variable["name"]] = from_schema({}, {}, variable["name"])
        env["variables"] = declared_object("variables", declared)
        checks: list[tuple[str, str, CelType]] = []
        for i, cond in enumerate(spec.get("matchConditions") or []):
            checks.append((f"spec.matchConditions[{i}].expression", cond["expression"], BOOL))
        for i, validation in enumerate(spec.get("validations") or []):
            checks.append((f"spec.validations[{i}].expression", validation["expression"], BOOL))
            if validation.get("messageExpression"):
                checks.append(
                    (f"spec.validations[{i}].messageExpression", validation["messageExpression"], STRING)
                )
        for i, annotation in enumerate(spec.get("auditAnnotations") or []):
            checks.append(
                (f"spec.auditAnnotations[{i}].valueExpression", annotation["valueExpression"], STRING)
            )
        for path, source, expect in checks:
            try:
                check_expression(source, env, expect)
            except UnsupportedSyntax as exc:
                (problems if unsupported is None else unsupported).append(f"{where}: {path} {exc}")
            except (TypeCheckError, ValueError) as exc:
                problems.append(f"{where}: {path} {exc}")
    return problems
