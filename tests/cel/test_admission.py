"""Offline ValidatingAdmissionPolicy evaluation matches kube-apiserver's behaviour.

Messages and decisions follow k8s.io/apiserver/pkg/admission/plugin/policy/validating
(dispatcher.go: "ValidatingAdmissionPolicy '%s' with binding '%s' denied request: %s",
"Validation failed for ValidatingAdmissionPolicy '%s' with binding '%s': %s",
"failed to configure binding: no params found for policy binding with `Deny`
parameterNotFoundAction"; validator.go: "failed expression: %s",
"expression '%v' resulted in error: %v") and the matching package.
"""

from __future__ import annotations

from compiler.cel import AdmissionRequest, admit

POLICY = {
    "metadata": {"name": "max-replicas"},
    "spec": {
        "failurePolicy": "Fail",
        "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
        "matchConstraints": {
            "resourceRules": [
                {
                    "apiGroups": ["apps"],
                    "apiVersions": ["v1"],
                    "operations": ["CREATE", "UPDATE"],
                    "resources": ["deployments"],
                }
            ]
        },
        "matchConditions": [
            {"name": "not-system", "expression": "!request.userInfo.username.startsWith('system:')"}
        ],
        "variables": [{"name": "limit", "expression": "int(params.data.maxReplicas)"}],
        "validations": [
            {
                "expression": "object.spec.replicas <= variables.limit",
                "messageExpression": "'replicas must be at most ' + string(variables.limit)",
                "message": "too many replicas",
            },
            {"expression": "has(object.metadata.labels) && 'owner' in object.metadata.labels"},
        ],
    },
}


def _binding(actions: list[str], not_found: str = "Deny") -> dict:
    return {
        "metadata": {"name": "max-replicas-teams"},
        "spec": {
            "policyName": "max-replicas",
            "validationActions": actions,
            "paramRef": {"name": "limits", "parameterNotFoundAction": not_found},
            "matchResources": {"namespaceSelector": {"matchLabels": {"team": "yes"}}},
        },
    }


NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "labels": {"team": "yes"}}}
PARAMS = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "limits", "namespace": "a"},
    "data": {"maxReplicas": "3"},
}


def _deployment(replicas: int, labels: dict | None = None) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "a", "labels": labels or {"owner": "me"}},
        "spec": {"replicas": replicas},
    }


def _request(obj: dict, **kw) -> AdmissionRequest:
    return AdmissionRequest("CREATE", obj, namespace_object=kw.pop("namespace_object", NAMESPACE), **kw)


def test_deny_uses_message_expression() -> None:
    decision = admit([POLICY], [_binding(["Deny"])], _request(_deployment(5)), [PARAMS])
    assert not decision.allowed
    assert decision.message == (
        "ValidatingAdmissionPolicy 'max-replicas' with binding 'max-replicas-teams' denied request: "
        "replicas must be at most 3"
    )


def test_allowed_within_limits() -> None:
    decision = admit([POLICY], [_binding(["Deny"])], _request(_deployment(3)), [PARAMS])
    assert decision.allowed and decision.violations == []


def test_warn_action_admits_with_a_warning_and_default_message() -> None:
    decision = admit(
        [POLICY], [_binding(["Warn", "Audit"])], _request(_deployment(1, {"app": "x"})), [PARAMS]
    )
    assert decision.allowed
    assert decision.warnings == [
        "Validation failed for ValidatingAdmissionPolicy 'max-replicas' with binding 'max-replicas-teams': "
        "failed expression: has(object.metadata.labels) && 'owner' in object.metadata.labels"
    ]
    assert [v.action for v in decision.audit] == ["Audit"]


def test_namespace_selector_and_match_conditions_skip() -> None:
    other = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "labels": {}}}
    assert admit(
        [POLICY], [_binding(["Deny"])], _request(_deployment(9), namespace_object=other), [PARAMS]
    ).allowed
    system = _request(_deployment(9), username="system:serviceaccount:kube-system:x")
    assert admit([POLICY], [_binding(["Deny"])], system, [PARAMS]).allowed


def test_missing_params() -> None:
    deny = admit([POLICY], [_binding(["Deny"])], _request(_deployment(1)), [])
    assert deny.message == (
        "ValidatingAdmissionPolicy 'max-replicas' with binding 'max-replicas-teams' denied request: "
        "failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction"
    )
    assert admit([POLICY], [_binding(["Deny"], "Allow")], _request(_deployment(1)), []).allowed


def test_runtime_error_fails_closed() -> None:
    broken = dict(PARAMS, data={"maxReplicas": "three"})
    decision = admit([POLICY], [_binding(["Deny"])], _request(_deployment(1)), [broken])
    assert not decision.allowed
    assert "expression 'object.spec.replicas <= variables.limit' resulted in error" in decision.message


def test_other_resources_are_not_matched() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "a"}, "spec": {}}
    assert admit([POLICY], [_binding(["Deny"])], _request(pod), [PARAMS]).allowed
    scale = _request(_deployment(9), sub_resource="scale")
    assert admit([POLICY], [_binding(["Deny"])], scale, [PARAMS]).allowed
