"""Type checking against Kubernetes schemas: a typo in a field path is an error.

The API server type-checks policy expressions per matched kind and publishes the findings in
ValidatingAdmissionPolicy status.typeChecking
(k8s.io/apiserver/pkg/admission/plugin/policy/validating/typechecking.go); platformc does it
offline with the same schemas (kubernetes-validate, CRDs from ../shared/schemas/crds).
"""

from __future__ import annotations

import pytest

from compiler.cel import TypeCheckError, check_expression, check_policy, check_selector, kind_type
from compiler.cel.types import BOOL, STRING
from tests.conftest import shared_registry


@pytest.fixture(scope="module")
def pod_env() -> dict:
    registry = shared_registry()
    return {
        "object": kind_type(registry, "1.34", "v1", "Pod"),
        "params": kind_type(registry, "1.34", "v1", "ConfigMap"),
    }


@pytest.mark.parametrize(
    "expression",
    [
        "object.spec.containers.all(c, c.image.startsWith(params.data['registries']))",
        "!has(object.spec.hostNetwork) || !object.spec.hostNetwork",
        "object.spec.volumes.exists(v, has(v.hostPath))",
        "object.metadata.labels['owner'] != '' && 'owner' in object.metadata.labels",
        "object.spec.priorityClassName in params.data.allowed.split(',')",
        "object.spec.containers.all(c, !has(c.resources.limits) || "
        "quantity(string(c.resources.limits['nvidia.com/gpu'])).asInteger() <= int(params.data.max))",
    ],
)
def test_well_typed_pod_expressions(pod_env: dict, expression: str) -> None:
    assert check_expression(expression, pod_env, BOOL) is BOOL


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        (
            "object.spec.contianers.size() > 0",
            "undefined field 'contianers' on Pod.spec; did you mean 'containers'?",
        ),
        (
            "object.spec.volumes.exists(v, has(v.hostpath))",
            "undefined field 'hostpath' on Pod.spec.volumes[]; did you mean 'hostPath'?",
        ),
        ("object.spec.containers.map(c, c.image)", "must evaluate to bool, not list(string)"),
        ("double(1) / 16 > 0.5", "no matching overload for '/' applied to (double, int)"),
        ("object.spec.containers.startsWith('x')", "found no matching overload for 'startsWith'"),
        ("nosuch(object)", "undeclared reference to 'nosuch'"),
        ("oldObjekt == null", "undeclared reference to 'oldObjekt'"),
        ("object.spec['containers'].size() > 0", "is an object: select its fields with '.'"),
    ],
)
def test_type_errors(pod_env: dict, expression: str, error: str) -> None:
    with pytest.raises(TypeCheckError, match=None) as err:
        check_expression(expression, pod_env, BOOL)
    assert error in str(err.value)


def test_message_expression_must_be_a_string(pod_env: dict) -> None:
    assert check_expression("'pod ' + object.metadata.name", pod_env, STRING) is STRING
    with pytest.raises(TypeCheckError, match="must evaluate to string"):
        check_expression("size(object.spec.containers)", pod_env, STRING)


def test_custom_resource_fields_come_from_the_crd() -> None:
    """InferenceService from ../shared/schemas/crds/serving.kserve.io."""
    isvc = kind_type(shared_registry(), "1.34", "serving.kserve.io/v1beta1", "InferenceService")
    assert check_expression("has(object.spec.predictor.model)", {"object": isvc}, BOOL) is BOOL
    with pytest.raises(TypeCheckError, match="undefined field 'predicter'"):
        check_expression("has(object.spec.predicter)", {"object": isvc}, BOOL)


def _policy(expression: str, resources: list[str]) -> dict:
    return {
        "metadata": {"name": "p"},
        "spec": {
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": ["apps"],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE"],
                        "resources": resources,
                    }
                ]
            },
            "variables": [{"name": "spec", "expression": "object.spec.template.spec"}],
            "validations": [{"expression": expression}],
        },
    }


def test_policy_is_checked_per_matched_kind_with_variables() -> None:
    registry = shared_registry()
    kinds = [("apps/v1", "Deployment"), ("apps/v1", "StatefulSet")]
    ok = _policy("variables.spec.containers.all(c, c.image != '')", ["deployments", "statefulsets"])
    assert check_policy(ok, registry, "1.34", kinds) == []
    bad = _policy("variables.spec.containres.all(c, c.image != '')", ["deployments", "statefulsets"])
    problems = check_policy(bad, registry, "1.34", kinds)
    assert len(problems) == 2
    assert "on apps/v1 Deployment" in problems[0] and "undefined field 'containres'" in problems[0]


def test_policy_rules_and_kinds_must_agree() -> None:
    policy = _policy("true", ["deployments", "daemonsets"])
    problems = check_policy(policy, shared_registry(), "1.34", [("apps/v1", "Deployment")])
    assert problems == [
        "ValidatingAdmissionPolicy p: resourceRules match apps/v1 daemonsets, which has no kind to type-check against"
    ]


def test_dra_selector_typo_is_an_error() -> None:
    check_selector('device.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA")')
    with pytest.raises(
        TypeCheckError, match="undefined field 'attribute' on device; did you mean 'attributes'"
    ):
        check_selector('device.attribute["gpu.nvidia.com"].productName == "x"')
