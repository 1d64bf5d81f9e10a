"""Label selectors, node selector terms and taint tolerations, with Kubernetes' semantics.

Sources: k8s.io/apimachinery pkg/apis/meta/v1/helpers.go LabelSelectorAsSelector (matchLabels and
matchExpressions In/NotIn/Exists/DoesNotExist; an empty selector matches everything);
k8s.io/component-helpers scheduling/corev1/nodeaffinity (NodeSelectorTerms are ORed, expressions
within a term ANDed, Gt/Lt compare integers); k8s.io/api core/v1 toleration.go ToleratesTaint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def _expression(expr: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key, op, values = str(expr.get("key", "")), expr.get("operator"), list(expr.get("values") or ())
    present = key in labels
    if op == "In":
        return present and labels[key] in values
    if op == "NotIn":
        return not present or labels[key] not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt") and present and values:
        try:
            have, want = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False


def label_selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    if selector is None:
        return False
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items()) and all(
        _expression(e, labels) for e in selector.get("matchExpressions") or ()
    )


def node_matches(pod_spec: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """nodeSelector and requiredDuringSchedulingIgnoredDuringExecution node affinity."""
    if any(labels.get(k) != v for k, v in (pod_spec.get("nodeSelector") or {}).items()):
        return False
    required = ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    if not required:
        return True
    return any(
        all(_expression(e, labels) for e in term.get("matchExpressions") or ())
        for term in required.get("nodeSelectorTerms") or ()
    )


def tolerates(tolerations: Iterable[Mapping[str, Any]], taint: Mapping[str, Any]) -> bool:
    for tol in tolerations:
        if tol.get("effect") and tol.get("effect") != taint.get("effect"):
            continue
        if tol.get("operator", "Equal") == "Exists":
            if not tol.get("key") or tol.get("key") == taint.get("key"):
                return True
        elif tol.get("key") == taint.get("key") and (tol.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def untolerated(pod_spec: Mapping[str, Any], taints: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Taints that keep the pod off the node (NoSchedule and NoExecute; PreferNoSchedule never does)."""
    tols = pod_spec.get("tolerations") or ()
    return [t for t in taints if t.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tols, t)]
