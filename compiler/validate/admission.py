"""Admission policies in the tree: CEL that type-checks, params that exist before their bindings.

* `check_cel` (needs the schema registry): every ValidatingAdmissionPolicy expression is
  type-checked against the kinds its resourceRules match, for the cluster's Kubernetes
  version, as the API server does after the policy is created (status.typeChecking); every
  DeviceClass CEL selector against the DRA `device` type. A typo in a field path is an error.
* `check_params`: a binding whose paramRef has no namespace reads the params object in the
  namespace of each request; with parameterNotFoundAction Deny a missing one refuses every
  request there. So each namespace the binding selects must get the params object from this
  tree, synced by an earlier unit than the binding (Argo CD wave, Flux dependsOn).
* `check_admitted`: objects of the tree its own policies would refuse (or warn about).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from compiler.object_memo import ObjectMemo
from compiler.tree_contract import MANAGED_BY

from .checks import ClusterObjects, Entry, ObjectSet
from .core import UnsupportedKubernetesVersion, split_api_version
from .findings import WARNING, Finding, finding_row, from_row
from .gitops import layout
from .ordering import _before, _describe
from .schemas import SchemaRegistry

CEL_CHECK = "cel"
PARAMS_CHECK = "params"
ADMITTED_CHECK = "admission"
ADMISSION = "admissionregistration.k8s.io"
NAME_LABEL = "kubernetes.io/metadata.name"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _policy_kinds(
    policy: dict[str, Any], registry: SchemaRegistry, version: str
) -> tuple[list[tuple[str, str]], list[str]]:
    kinds: list[tuple[str, str]] = []
    unresolved: list[str] = []
    for rule in _dict(_dict(policy.get("spec")).get("matchConstraints")).get("resourceRules") or []:
        for group in rule.get("apiGroups") or []:
            for api_version in rule.get("apiVersions") or []:
                for resource in rule.get("resources") or []:
                    name = resource.partition("/")[0]
                    kind = (
                        None
                        if "*" in (group, api_version, name)
                        else registry.kind_for_resource(group, api_version, name, version)
                    )
                    gv = f"{group}/{api_version}" if group else api_version
                    if kind is None:
                        unresolved.append(f"{gv} {resource}")
                    elif (gv, kind) not in kinds:
                        kinds.append((gv, kind))
    return kinds, unresolved


def check_cel(
    objects: ObjectSet, registry: SchemaRegistry, memo: ObjectMemo | None = None
) -> Iterator[Finding]:
    """With a memo (compiler/object_memo.py), an object checked before against the same schemas
    and Kubernetes version has its findings from it, naming the file it is in now."""
    identity = registry.identity if memo is not None else None
    for cluster in objects.clusters.values():
        version = cluster.kubernetes_version
        try:
            registry.core(version)
        except UnsupportedKubernetesVersion:
            continue  # schema validation reports the version
        policies = f"cel\0{version}\0{identity}".encode()
        for entry in cluster.of_kind(ADMISSION, "ValidatingAdmissionPolicy"):
            yield from _memoised(
                entry, memo if identity else None, policies, _check_policy, _policy_lookups, registry, version
            )
        for entry in cluster.of_kind("resource.k8s.io", "DeviceClass"):
            yield from _memoised(entry, memo, b"cel-selectors", _check_selectors, None)


def _memoised(
    entry: Entry,
    memo: ObjectMemo | None,
    purpose: bytes,
    check: Callable[..., Iterator[Finding]],
    lookups: Callable[..., None] | None,
    *args: Any,
) -> Iterator[Finding]:
    """check(entry, *args), answered by the memo for content it holds (then only its schema
    `lookups` are made, which may record schema files that fail to load); every input besides the
    object is named by `purpose`."""
    key = memo.key(purpose, entry.obj) if memo is not None else None
    rows = memo.get(key) if memo is not None else None
    if isinstance(rows, tuple):
        if lookups is not None:
            lookups(entry, *args)
        yield from (from_row(row, entry.file) for row in rows)
        return
    found = list(check(entry, *args))
    if memo is not None:
        memo.put(key, tuple(finding_row(f) for f in found))
    yield from found


def _check_policy(entry: Entry, registry: SchemaRegistry, version: str) -> Iterator[Finding]:
    from compiler.cel import check_policy  # the CEL engine is imported only where CEL is checked

    kinds, unresolved = _policy_kinds(entry.obj, registry, version)
    for what in unresolved:
        yield entry.finding(
            CEL_CHECK,
            "$.spec.matchConstraints.resourceRules",
            f"cannot type-check expressions against {what}: no schema for Kubernetes {version} or --schemas "
            "names that resource",
            WARNING,
        )
    # platformc's own policies must check in full; a chart's (hydrated output) may use CEL the
    # engine cannot parse (optional syntax), which is then a warning that names it.
    unsupported: list[str] | None = None if _platformc_authored(entry) else []
    try:
        problems = check_policy(entry.obj, registry, version, kinds, unsupported)
    except (KeyError, TypeError, AttributeError, LookupError) as exc:
        yield entry.finding(CEL_CHECK, "$.spec", f"cannot type-check this policy: {exc}", WARNING)
        return
    for problem in unsupported or []:
        yield entry.finding(CEL_CHECK, "$.spec", problem.split(": ", 1)[1], WARNING)
    for problem in problems:
        if "has no kind to type-check against" in problem or "is not matched by resourceRules" in problem:
            continue  # the kinds came from the rules, so this only repeats `unresolved`
        yield entry.finding(CEL_CHECK, "$.spec", problem.split(": ", 1)[1])


def _policy_lookups(entry: Entry, registry: SchemaRegistry, version: str) -> None:
    """The schema lookups _check_policy makes, in its order, without type-checking anything: the
    resources its rules name, then what compiler/cel/policy_check.py check_policy reads (paramKind,
    Namespace, each kind), stopping where it would stop on a malformed policy."""
    kinds, _ = _policy_kinds(entry.obj, registry, version)
    try:
        entry.obj["metadata"]["name"]
        spec = entry.obj["spec"]
        ref = spec.get("paramKind")
        wanted = [(ref["apiVersion"], ref["kind"])] if ref else []
        for api_version, kind in [*wanted, ("v1", "Namespace"), *kinds]:
            registry.schema(api_version, kind, version)
    except (KeyError, TypeError, AttributeError, LookupError):
        return


def _platformc_authored(entry: Entry) -> bool:
    labels = _dict(entry.metadata.get("labels"))
    return all(labels.get(key) == value for key, value in MANAGED_BY.items())


def _check_selectors(entry: Entry) -> Iterator[Finding]:
    from compiler.cel import check_selector

    for i, selector in enumerate(_dict(entry.obj.get("spec")).get("selectors") or []):
        expression = _dict(_dict(selector).get("cel")).get("expression")
        if not isinstance(expression, str):
            continue
        try:
            check_selector(expression)
        except ValueError as exc:
            yield entry.finding(CEL_CHECK, f"$.spec.selectors[{i}].cel.expression", str(exc))


def _labels(namespace: Entry) -> dict[str, str]:
    labels = _dict(namespace.metadata.get("labels"))
    return {**{k: v for k, v in labels.items() if isinstance(v, str)}, NAME_LABEL: namespace.name}


def check_params(objects: ObjectSet) -> Iterator[Finding]:
    for cluster in objects.clusters.values():
        bindings = cluster.of_kind(ADMISSION, "ValidatingAdmissionPolicyBinding")
        if bindings:
            yield from _check_cluster_params(cluster, bindings)


def _check_cluster_params(cluster: ClusterObjects, bindings: list[Entry]) -> Iterator[Finding]:
    from compiler.cel.admission import label_selector_matches

    tree = layout(cluster)
    namespaces = cluster.of_kind("", "Namespace")
    for binding in bindings:
        spec = _dict(binding.obj.get("spec"))
        ref = _dict(spec.get("paramRef"))
        policy = cluster.get(ADMISSION, "ValidatingAdmissionPolicy", str(spec.get("policyName")))
        if not ref.get("name") or policy is None or ref.get("parameterNotFoundAction") != "Deny":
            continue  # selector-based or optional params, or a dangling binding (not ours to judge)
        param_kind = _dict(_dict(policy.obj.get("spec")).get("paramKind"))
        group, _ = split_api_version(str(param_kind.get("apiVersion", "")))
        kind, name = str(param_kind.get("kind", "")), str(ref["name"])
        selectors = [
            _dict(_dict(spec.get("matchResources")).get("namespaceSelector")),
            _dict(_dict(_dict(policy.obj.get("spec")).get("matchConstraints")).get("namespaceSelector")),
        ]
        if ref.get("namespace"):
            targets = [str(ref["namespace"])]
        else:
            targets = [
                n.name for n in namespaces if all(label_selector_matches(s, _labels(n)) for s in selectors)
            ]
        unit = tree.unit_of(binding)
        for namespace in sorted(targets):
            params = cluster.get(group, kind, name, namespace)
            if params is None:
                yield binding.finding(
                    PARAMS_CHECK,
                    "$.spec.paramRef",
                    f"reads {kind} {name} in namespace {namespace}, which this tree does not create; with "
                    "parameterNotFoundAction Deny every request the policy matches there is refused",
                )
                continue
            provider = tree.unit_of(params)
            if unit is not None and provider is not None and not _before(tree, provider, unit):
                yield binding.finding(
                    PARAMS_CHECK,
                    "$.spec.paramRef",
                    f"syncs in {_describe(unit)}, not after {_describe(provider)}, which creates its params "
                    f"{kind} {namespace}/{name}: until they exist every matched request there is refused",
                )


def check_admitted(objects: ObjectSet) -> Iterator[Finding]:
    """Objects of this tree that its own ValidatingAdmissionPolicies would refuse or warn about.

    The GitOps engine would fail to apply a refused object, so it is an error here; the
    evaluation is kube-apiserver's (compiler/cel/admission.py) with the tree's params and
    Namespaces.
    """
    for cluster in objects.clusters.values():
        policies = [e.obj for e in cluster.of_kind(ADMISSION, "ValidatingAdmissionPolicy")]
        bindings = [e.obj for e in cluster.of_kind(ADMISSION, "ValidatingAdmissionPolicyBinding")]
        if not policies or not bindings:
            continue
        from compiler.cel import AdmissionRequest, admit

        resources = _matched_resources(policies)
        namespaces = {e.name: e.obj for e in cluster.of_kind("", "Namespace")}
        params = [e.obj for e in cluster.entries if e.kind == "ConfigMap"]
        for entry in cluster.entries:
            if entry.namespace is None or (entry.group, entry.kind.lower() + "s") not in resources:
                continue
            request = AdmissionRequest("CREATE", entry.obj, namespace_object=namespaces.get(entry.namespace))
            try:
                decision = admit(policies, bindings, request, params)
            except (KeyError, TypeError, AttributeError, ValueError):
                continue  # a malformed policy: schema validation reports it
            if decision.message is not None:
                yield entry.finding(
                    ADMITTED_CHECK, "$", f"the API server would refuse it: {decision.message}"
                )
            for warning in decision.warnings:
                yield entry.finding(ADMITTED_CHECK, "$", f"admitted with a warning: {warning}", WARNING)


def _matched_resources(policies: list[dict[str, Any]]) -> set[tuple[str, str]]:
    found = set()
    for policy in policies:
        for rule in _dict(_dict(policy.get("spec")).get("matchConstraints")).get("resourceRules") or []:
            for group in rule.get("apiGroups") or []:
                for resource in rule.get("resources") or []:
                    found.add((group, resource.partition("/")[0]))
    return found
