"""Every pod serving creates is admitted by its namespace's Pod Security level.

The pods are the ones KServe v0.20.0 builds (compiler/verify/kserve_pods.py, after upstream
pkg/controller/v1beta1/inferenceservice/components/predictor.go, utils/utils.go
MergeRuntimeContainers/MergePodSpec and pkg/webhook/admission/pod/storage_initializer_injector.go):
the runtime container of the ClusterServingRuntime that the kserve-runtime-configs chart ships,
merged with the predictor's model container, plus the storage initializer from the
kserve-resources chart (ClusterStorageContainer `default`, values storage.containerSecurityContext),
both charts rendered with real Helm from ../shared/charts. They are evaluated rule by rule
against the Pod Security Standards (compiler/verify/pod_security.py, after
kubernetes/pod-security-admission policy/check_*.go).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from compiler.pipeline import ClusterBuild
from compiler.verify.kserve_pods import KServeConfig, ServingPod, inference_service_pods
from compiler.verify.pod_security import evaluate, namespace_level
from tests.ai.conftest import objects
from tests.serving.conftest import ValuesEdit, kserve_config, team_namespaces


def serving_pods(build: ClusterBuild, config: KServeConfig) -> list[ServingPod]:
    return [
        pod for isvc in objects(build, "InferenceService") for pod in inference_service_pods(isvc, config)
    ]


def failures(build: ClusterBuild, config: KServeConfig) -> dict[str, list[str]]:
    """Per Deployment, the Pod Security rules its pod fails at its namespace's enforce level."""
    namespaces = team_namespaces(build)
    result = {}
    for pod in serving_pods(build, config):
        level, version = namespace_level(namespaces[pod.namespace])
        found = evaluate(pod.pod["metadata"], pod.pod["spec"], level, version)
        result[f"{pod.namespace}/{pod.deployment}"] = [f.format() for f in found]
    return result


def check_platform(builds: dict[str, ClusterBuild], charts: Path) -> int:
    checked = 0
    for build in builds.values():
        config = kserve_config(build.model, charts)
        found = failures(build, config)
        assert found and all(v == [] for v in found.values()), found
        for pod in serving_pods(build, config):
            spec = pod.pod["spec"]
            names = [c["name"] for c in spec["initContainers"] + spec["containers"]]
            assert names == ["storage-initializer", "kserve-container"]  # nothing unchecked
            assert namespace_level(team_namespaces(build)[pod.namespace])[0] == "restricted"
        checked += len(found)
    return checked


def test_example_serving_pods_pass_restricted(example_builds, shared_charts: Path) -> None:
    """Predictor and canary pods of the example: the namespace enforces restricted and admits them."""
    # chat-llm + canary, reranker, summarizer, embeddings
    assert check_platform(example_builds, shared_charts) == 5


def test_synthetic_serving_pods_pass_restricted(synthetic_builds, shared_charts: Path) -> None:
    assert check_platform(synthetic_builds, shared_charts) >= 12


def _drop_storage(field: str) -> ValuesEdit:
    def edit(chart: str, values: dict[str, Any]) -> None:
        if chart == "kserve-resources":
            # null, not absent: Helm would merge the chart's own default back in
            values["kserve"]["storage"]["containerSecurityContext"][field] = None

    return edit


def _drop_runtime_context(chart: str, values: dict[str, Any]) -> None:
    """A runtime whose container sets no securityContext (as several KServe runtimes ship)."""
    if chart == "kserve-runtime-configs":
        values["kserve"]["servingruntime"]["huggingfaceserver"] = {
            "securityContext": None
        }  # Helm: null deletes


def _without(isvc: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    isvc = copy.deepcopy(isvc)
    for predictor in [isvc["spec"]["predictor"]] + [c["predictor"] for c in isvc["spec"].get("canary", [])]:
        node = predictor
        for part in path[:-1]:
            node = node[part]
        node.pop(path[-1], None)
    return isvc


# Each mutation removes one field platformc sets (from the InferenceService, or from the chart
# values it gives); the pod must then fail exactly that rule. `setup` is a chart edit applied
# before and after, to check fields that matter for runtimes that set no securityContext.
MUTATIONS: list[tuple[str, ValuesEdit | None, tuple[str, ...], ValuesEdit | None, str | None]] = [
    ("pod seccompProfile", None, ("securityContext", "seccompProfile"), None, "seccompProfile_restricted"),
    # runAsNonRoot is set on every container too, so the pod-level field alone may go.
    ("pod runAsNonRoot", _drop_runtime_context, ("securityContext", "runAsNonRoot"), None, None),
    (
        "model allowPrivilegeEscalation",
        _drop_runtime_context,
        ("model", "securityContext", "allowPrivilegeEscalation"),
        None,
        "allowPrivilegeEscalation",
    ),
    (
        "model capabilities",
        _drop_runtime_context,
        ("model", "securityContext", "capabilities"),
        None,
        "capabilities_restricted",
    ),
    (
        "storage allowPrivilegeEscalation",
        None,
        (),
        _drop_storage("allowPrivilegeEscalation"),
        "allowPrivilegeEscalation",
    ),
    ("storage capabilities", None, (), _drop_storage("capabilities"), "capabilities_restricted"),
]


def _both(first: ValuesEdit | None, second: ValuesEdit | None) -> ValuesEdit:
    def edit(chart: str, values: dict[str, Any]) -> None:
        for one in (first, second):
            if one is not None:
                one(chart, values)

    return edit


@pytest.mark.parametrize(
    ("label", "setup", "path", "chart_edit", "rule"), MUTATIONS, ids=[m[0] for m in MUTATIONS]
)
def test_dropping_one_field_fails_its_rule(
    label: str,
    setup: ValuesEdit | None,
    path: tuple[str, ...],
    chart_edit: ValuesEdit | None,
    rule: str | None,
    example_builds,
    shared_charts: Path,
) -> None:
    build = example_builds["prod-us-east"]
    namespaces = team_namespaces(build)
    isvc = next(o for o in objects(build, "InferenceService") if o["metadata"]["name"] == "chat-llm")

    def rules(isvc: dict[str, Any], edit: ValuesEdit) -> dict[str, list[str]]:
        config = kserve_config(build.model, shared_charts, edit)
        found = {}
        for pod in inference_service_pods(isvc, config):
            level, version = namespace_level(namespaces[pod.namespace])
            found[pod.deployment] = [
                f.rule for f in evaluate(pod.pod["metadata"], pod.pod["spec"], level, version)
            ]
        return found

    before = rules(isvc, _both(setup, None))
    assert before == {"chat-llm-predictor": [], "chat-llm-canary-predictor": []}
    after = rules(_without(isvc, path) if path else isvc, _both(setup, chart_edit))
    expected = [rule] if rule else []
    assert after == {"chat-llm-predictor": expected, "chat-llm-canary-predictor": expected}, label
