"""Offline ValidatingAdmissionPolicy evaluation, as kube-apiserver does it.

Follows k8s.io/apiserver/pkg/admission/plugin/policy/validating (dispatcher.go,
validator.go) and .../policy/matching: the policy's matchConstraints and the binding's
matchResources select the request, paramRef finds params (parameterNotFoundAction),
matchConditions gate it, variables are composed, and each failed validation becomes a
Deny, Warn or Audit per the binding's validationActions, with the API server's messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from celpy import celtypes
from lark import Tree

from .engine import CelError, Expression, compile_expression, evaluate, to_cel

__all__ = ["AdmissionRequest", "Decision", "Violation", "admit", "label_selector_matches"]


@dataclass(frozen=True)
class AdmissionRequest:
    """What the API server hands a policy: the object, its old version, the operation."""

    operation: str  # CREATE, UPDATE, DELETE, CONNECT
    object: dict[str, Any] | None
    old_object: dict[str, Any] | None = None
    namespace_object: dict[str, Any] | None = None
    resource: str = ""  # plural; defaults to the lowercased kind + "s"
    sub_resource: str = ""
    username: str = "user@example.com"
    groups: tuple[str, ...] = ("system:authenticated",)
    dry_run: bool = False

    @property
    def subject(self) -> dict[str, Any]:
        return self.object if self.object is not None else self.old_object or {}

    @property
    def group_version_kind(self) -> tuple[str, str, str]:
        api_version = str(self.subject.get("apiVersion", ""))
        group, _, version = api_version.rpartition("/")
        return group, version, str(self.subject.get("kind", ""))

    @property
    def plural(self) -> str:
        return self.resource or self.group_version_kind[2].lower() + "s"

    @property
    def namespace(self) -> str:
        return str((self.subject.get("metadata") or {}).get("namespace") or "")

    def as_cel_map(self) -> dict[str, Any]:
        """The `request` variable (k8s.io/api/admission/v1 AdmissionRequest fields)."""
        group, version, kind = self.group_version_kind
        meta = self.subject.get("metadata") or {}
        return {
            "uid": "00000000-0000-0000-0000-000000000000",
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": self.plural},
            "subResource": self.sub_resource,
            "requestKind": {"group": group, "version": version, "kind": kind},
            "requestResource": {"group": group, "version": version, "resource": self.plural},
            "requestSubResource": self.sub_resource,
            "name": str(meta.get("name") or ""),
            "namespace": self.namespace,
            "operation": self.operation,
            "userInfo": {"username": self.username, "groups": list(self.groups)},
            "dryRun": self.dry_run,
        }


@dataclass(frozen=True)
class Violation:
    policy: str
    binding: str
    action: str  # Deny, Warn, Audit
    message: str


@dataclass
class Decision:
    """The outcome across every policy/binding pair: denied with the first Deny message."""

    violations: list[Violation] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not any(v.action == "Deny" for v in self.violations)

    @property
    def message(self) -> str | None:
        """The API server's refusal text (dispatcher.go), or None when admitted."""
        for v in self.violations:
            if v.action == "Deny":
                return (
                    f"ValidatingAdmissionPolicy '{v.policy}' with binding '{v.binding}' "
                    f"denied request: {v.message}"
                )
        return None

    @property
    def warnings(self) -> list[str]:
        """What kubectl prints as "Warning: ..." lines."""
        return [
            f"Validation failed for ValidatingAdmissionPolicy '{v.policy}' "
            f"with binding '{v.binding}': {v.message}"
            for v in self.violations
            if v.action == "Warn"
        ]

    @property
    def audit(self) -> list[Violation]:
        return [v for v in self.violations if v.action == "Audit"]


def admit(
    policies: Iterable[dict[str, Any]],
    bindings: Iterable[dict[str, Any]],
    request: AdmissionRequest,
    objects: Sequence[dict[str, Any]] = (),
) -> Decision:
    """Evaluate every binding against `request`; `objects` holds params (and anything else)."""
    by_name = {p["metadata"]["name"]: p for p in policies}
    decision = Decision()
    for binding in bindings:
        policy = by_name.get(binding["spec"]["policyName"])
        if policy is None:
            continue  # a binding to a missing policy is ignored by the API server
        decision.violations.extend(_evaluate_binding(policy, binding, request, objects))
    return decision


def _evaluate_binding(
    policy: dict[str, Any],
    binding: dict[str, Any],
    request: AdmissionRequest,
    objects: Sequence[dict[str, Any]],
) -> list[Violation]:
    spec, bspec = policy["spec"], binding["spec"]
    if not _matches(spec.get("matchConstraints") or {}, request):
        return []
    if bspec.get("matchResources") and not _matches(bspec["matchResources"], request, binding=True):
        return []
    actions: list[str] = list(bspec.get("validationActions") or [])
    pname, bname = policy["metadata"]["name"], binding["metadata"]["name"]
    fail_closed = spec.get("failurePolicy", "Fail") == "Fail"

    def report(message: str) -> list[Violation]:
        return [Violation(pname, bname, action, message) for action in actions]

    params_list: list[dict[str, Any] | None] = [None]
    if spec.get("paramKind"):
        try:
            params_list = list(_find_params(spec["paramKind"], bspec.get("paramRef") or {}, request, objects))
        except LookupError as exc:
            return report(f"failed to configure binding: {exc}") if fail_closed else []
        if not params_list:
            return []
    out: list[Violation] = []
    for params in params_list:
        out.extend(_evaluate_with_params(spec, request, params, fail_closed, report))
    return out


def _evaluate_with_params(
    spec: dict[str, Any],
    request: AdmissionRequest,
    params: dict[str, Any] | None,
    fail_closed: bool,
    report: Any,
) -> list[Violation]:
    activation: dict[str, Any] = {
        "object": to_cel(request.object),
        "oldObject": to_cel(request.old_object),
        "params": to_cel(params),
        "namespaceObject": to_cel(request.namespace_object),
        "request": to_cel(request.as_cel_map()),
    }
    # Variables compose in order; one that fails only fails the expressions that use it,
    # as the API server evaluates them lazily.
    variables = celtypes.MapType()
    failed_variables: dict[str, str] = {}
    activation["variables"] = variables
    for variable in spec.get("variables") or []:
        try:
            variables[celtypes.StringType(variable["name"])] = _run(
                variable["expression"], activation, failed_variables, raw=True
            )
        except CelError as exc:
            failed_variables[variable["name"]] = str(exc)

    for condition in spec.get("matchConditions") or []:
        try:
            matched = _run(condition["expression"], activation, failed_variables)
        except CelError as exc:
            if fail_closed:
                return report(f"expression '{condition['expression']}' resulted in error: {exc}")
            return []
        if matched is not True:
            return []

    out: list[Violation] = []
    for validation in spec.get("validations") or []:
        source = validation["expression"]
        try:
            passed = _run(source, activation, failed_variables)
        except CelError as exc:
            if fail_closed:
                out.extend(report(f"expression '{source}' resulted in error: {exc}"))
            continue
        if passed is True:
            continue
        out.extend(report(_message(validation, activation, failed_variables)))
    return out


def _message(validation: Mapping[str, Any], activation: dict[str, Any], failed: dict[str, str]) -> str:
    """messageExpression when it yields a usable string, else message, else the expression."""
    fallback = validation.get("message") or f"failed expression: {validation['expression']}"
    source = validation.get("messageExpression")
    if not source:
        return fallback
    try:
        text = _run(source, activation, failed)
    except CelError:
        return fallback
    if not isinstance(text, str) or not text.strip() or "\n" in text:
        return fallback
    return text


def _run(source: str, activation: dict[str, Any], failed: dict[str, str], raw: bool = False) -> Any:
    expression = compile_expression(source)
    for name in _variables_used(expression):
        if name in failed:
            raise CelError(failed[name])
    return evaluate(expression, activation, raw=raw)


def _variables_used(expression: Expression) -> set[str]:
    used: set[str] = set()
    for node in expression.tree.iter_subtrees():
        if node.data != "member_dot":
            continue
        target, name = node.children
        inner = target
        while isinstance(inner, Tree) and len(inner.children) == 1 and isinstance(inner.children[0], Tree):
            inner = inner.children[0]
        if isinstance(inner, Tree) and inner.data == "ident" and str(inner.children[0]) == "variables":
            used.add(str(name))
    return used


# --- matching (k8s.io/apiserver/pkg/admission/plugin/policy/matching) ------------


def _matches(resources: Mapping[str, Any], request: AdmissionRequest, binding: bool = False) -> bool:
    """A binding's matchResources without resourceRules keeps everything the policy matched."""
    if request.namespace:
        # The API server stamps every Namespace with its name label (namespace strategy.go).
        labels = {
            **(((request.namespace_object or {}).get("metadata") or {}).get("labels") or {}),
            "kubernetes.io/metadata.name": request.namespace,
        }
        if not label_selector_matches(resources.get("namespaceSelector") or {}, labels):
            return False
    selector = resources.get("objectSelector") or {}
    candidates = [o for o in (request.object, request.old_object) if o is not None]
    if not any(
        label_selector_matches(selector, (o.get("metadata") or {}).get("labels") or {}) for o in candidates
    ):
        return False
    rules = resources.get("resourceRules") or []
    if (rules or not binding) and not any(_rule_matches(rule, request) for rule in rules):
        return False
    return not any(_rule_matches(rule, request) for rule in resources.get("excludeResourceRules") or [])


def _rule_matches(rule: Mapping[str, Any], request: AdmissionRequest) -> bool:
    group, version, _ = request.group_version_kind

    def has(values: Any, value: str) -> bool:
        return "*" in (values or []) or value in (values or [])

    if not has(rule.get("operations"), request.operation):
        return False
    if not has(rule.get("apiGroups"), group) or not has(rule.get("apiVersions"), version):
        return False
    scope = rule.get("scope", "*")
    if scope != "*" and scope != ("Namespaced" if request.namespace else "Cluster"):
        return False
    names = rule.get("resourceNames") or []
    meta = request.subject.get("metadata") or {}
    if names and meta.get("name") not in names:
        return False
    for entry in rule.get("resources") or []:
        res, _, sub = entry.partition("/")
        if res not in ("*", request.plural):
            continue
        if request.sub_resource and sub in ("*", request.sub_resource):
            return True
        if not request.sub_resource and (not sub or entry == "*/*"):
            return True
    return False


def label_selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """metav1.LabelSelector semantics; an empty selector matches everything."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, operator, values = expr["key"], expr["operator"], expr.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _find_params(
    param_kind: Mapping[str, Any],
    ref: Mapping[str, Any],
    request: AdmissionRequest,
    objects: Sequence[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Params named or selected by paramRef (dispatcher.go collectParams)."""
    namespace = ref.get("namespace") or request.namespace
    found = []
    for obj in objects:
        if obj.get("apiVersion") != param_kind["apiVersion"] or obj.get("kind") != param_kind["kind"]:
            continue
        meta = obj.get("metadata") or {}
        if (meta.get("namespace") or "") != namespace:
            continue
        if ref.get("name"):
            if meta.get("name") == ref["name"]:
                found.append(obj)
        elif label_selector_matches(ref.get("selector") or {}, meta.get("labels") or {}):
            found.append(obj)
    if not found and ref.get("parameterNotFoundAction") == "Deny":
        raise LookupError("no params found for policy binding with `Deny` parameterNotFoundAction")
    return found
