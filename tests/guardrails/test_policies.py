"""The generated policies, bindings and params as objects: schemas, CEL types, binding scope.

ValidatingAdmissionPolicy/Binding are admissionregistration.k8s.io/v1 (GA in 1.30); they are
checked strictly against the Kubernetes 1.33-1.35 schemas from kubernetes-validate, and every
expression is type-checked per matched kind as kube-apiserver does
(k8s.io/apiserver/pkg/admission/plugin/policy/validating/typechecking.go).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.cel import check_policy
from compiler.components import guardrails
from compiler.components.guardrails.policies import policy
from compiler.components.guardrails.rules import RULES, bodies_of
from tests.conftest import schema_errors, shared_registry
from tests.guardrails.conftest import Admission, clusters_of, guardrail_docs
from tests.guardrails.test_admission_table import container, pod, warned

VERSIONS = ("1.33", "1.34", "1.35")


def _objects(cluster) -> list[dict]:
    return [*guardrails.build_params(cluster).objects, *guardrails.build(cluster).objects]


@pytest.mark.parametrize("version", VERSIONS)
def test_objects_validate_strictly(guardrail_clusters, version: str) -> None:
    for cluster in guardrail_clusters.values():
        for obj in _objects(cluster):
            assert schema_errors(obj, version) == [], obj["metadata"]["name"]


@pytest.mark.parametrize("version", VERSIONS)
def test_every_expression_type_checks_against_the_matched_kinds(version: str) -> None:
    registry = shared_registry()
    checked = 0
    for rule in RULES:
        for body in bodies_of(rule, dra=version >= "1.34"):
            problems = check_policy(policy(rule, body), registry, version, body.kinds)
            assert problems == []
            checked += 1
    assert checked == (39 if version >= "1.34" else 37)  # 8 rules x workload shapes (+2 DRA)


def test_policy_per_rule_and_shape_with_one_binding_per_mode(guardrail_clusters) -> None:
    objects = guardrails.build(guardrail_clusters["gpu-dra"]).objects
    policies = {o["metadata"]["name"] for o in objects if o["kind"] == "ValidatingAdmissionPolicy"}
    assert "platformc-gpu-access-resourceclaims" in policies
    assert "platformc-largest-gpu-request-jobs" in policies
    assert "platformc-largest-gpu-request-daemonsets" not in policies  # a DaemonSet runs per node
    bindings = [o for o in objects if o["kind"] == "ValidatingAdmissionPolicyBinding"]
    assert len(bindings) == len(policies)
    largest = next(b for b in bindings if b["spec"]["policyName"] == "platformc-largest-gpu-request-jobs")
    assert largest["spec"]["validationActions"] == ["Warn"]
    assert largest["spec"]["paramRef"] == {"name": "platformc-guardrails", "parameterNotFoundAction": "Deny"}
    # Device-plugin clusters have no DRA claims to police.
    dp = guardrails.build(guardrail_clusters["gpu-dp"]).objects
    assert not any(o["metadata"]["name"] == "platformc-gpu-access-resourceclaims" for o in dp)


def test_params_per_team(guardrail_clusters) -> None:
    dp = {
        o["metadata"]["namespace"]: o["data"]
        for o in guardrails.build_params(guardrail_clusters["gpu-dp"]).objects
    }
    assert dp["research"]["gpuPools"] == "nvidia.com/gpu"
    assert dp["research"]["quota.nvidia.com_gpu"] == "16"
    assert dp["web"]["workloadPriorityClasses"] == "low,normal"
    assert dp["web"]["registries"] == "nvcr.io/nvidia/,registry.acme.internal/"
    dra = {
        o["metadata"]["namespace"]: o["data"]
        for o in guardrails.build_params(guardrail_clusters["gpu-dra"]).objects
    }
    assert dra["research"]["deviceClasses"] == "gpu-h100"
    assert dra["research"]["claim.h100-4"] == "4"
    assert dra["research"]["claimPool.h100-4"] == "h100"
    assert dra["research"]["gpuResources"] == ""


def test_team_relaxes_and_switches_off_rules(tmp_path: Path) -> None:
    """A team's entry changes only what it sets: web warns on registries, has no hostAccess rule."""
    clusters = clusters_of(
        tmp_path, guardrail_docs({"trustedRegistries": {"mode": "warn"}, "hostAccess": {"mode": "off"}})
    )
    admission = Admission(clusters["gpu-dp"])
    untrusted = pod("web", containers=[container(image="quay.io/team/tool:1")])
    decision = admission(untrusted)
    assert decision.allowed
    assert decision.warnings == [
        warned(
            "trusted-registries-pods",
            "image quay.io/team/tool:1 is not from a trusted registry; use an image from nvcr.io/nvidia/, "
            "registry.acme.internal/ (platform policy trustedRegistries)",
        )
    ]
    research = admission(pod("research", containers=[container(image="quay.io/team/tool:1")]))
    assert not research.allowed
    assert admission(pod("web", hostNetwork=True)).allowed
    assert not admission(pod("research", hostNetwork=True)).allowed


def test_no_policies_no_objects(tmp_path: Path) -> None:
    docs = guardrail_docs()
    docs[0]["spec"].pop("policies")
    cluster = clusters_of(tmp_path, docs)["gpu-dp"]
    assert _objects(cluster) == []
