"""The pods KServe v0.20 creates for the example InferenceService, from the rendered charts.

Upstream (kserve/kserve v0.20.0): pkg/controller/v1beta1/inferenceservice/components/predictor.go
(buildPodSpec, canaryReplicaCount, buildCanaryPredictor), pkg/controller/v1beta1/inferenceservice/
utils/utils.go (MergeRuntimeContainers, MergePodSpec), pkg/webhook/admission/pod/
storage_initializer_injector.go (CommonStorageInitialization), pkg/utils/storage.go
(CreateInitContainerWithConfig). Runtime, config and ClusterStorageContainer come from the
kserve-runtime-configs and kserve-resources charts in ../shared/charts rendered with real Helm.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from compiler.verify.kserve_pods import KServeConfig, KServeModelError, inference_service_pods
from compiler.verify.pod_security import evaluate
from tests.verify.conftest import example_chart_objects, example_objects


@pytest.fixture(scope="module")
def kserve(shared_charts: Path) -> KServeConfig:
    # kserve-resources is in the `kserve` unit, the ClusterServingRuntimes of
    # kserve-runtime-configs in their own `runtimes` unit (compiler/components/kserve.py).
    return KServeConfig.from_objects(
        example_chart_objects("prod-us-east", "kserve") + example_chart_objects("prod-us-east", "runtimes")
    )


def example_isvc() -> dict[str, Any]:
    return next(
        o
        for o in example_objects()
        if o["kind"] == "InferenceService" and o["metadata"]["name"] == "chat-llm"
    )


def test_predictor_pod_merges_the_rendered_runtime_with_the_model(kserve: KServeConfig) -> None:
    isvc = example_isvc()
    predictor = isvc["spec"]["predictor"]
    model = predictor["model"]
    runtime = kserve.cluster_runtimes[model["runtime"]]["spec"]["containers"][0]
    pods = inference_service_pods(isvc, kserve)
    assert [(p.deployment, p.role) for p in pods] == [
        ("chat-llm-predictor", "predictor"),
        ("chat-llm-canary-predictor", "canary"),
    ]
    spec = pods[0].pod["spec"]
    main = spec["containers"][0]
    # From the rendered ClusterServingRuntime (kserve-runtime-configs chart):
    assert main["name"] == "kserve-container"
    assert main["image"].startswith(runtime["image"])
    assert main["args"][0] == "--model_name=chat-llm"  # {{.Name}} replaced, model args appended
    assert main["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    # The runtime's 1 CPU / 2Gi, replaced by the serving path's resources (memory includes /dev/shm):
    assert main["resources"]["requests"] == {"cpu": "8", "memory": "80Gi"}
    # ...with the model container's DRA claim merged in, and the predictor's pod fields kept:
    assert main["resources"]["claims"] == [{"name": "gpu"}]
    assert spec["resourceClaims"] == [{"name": "gpu", "resourceClaimTemplateName": "h100-1"}]
    # Whole H100s on a cluster with MIG: the node-pool contract labels them mig.config=all-disabled
    # (compiler/spec/node_pools.py), so the pod never lands on a MIG-partitioned H100.
    assert spec["nodeSelector"] == {
        "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3",
        "nvidia.com/mig.config": "all-disabled",
    }
    assert {"name": "devshm", "emptyDir": {"medium": "Memory"}} in spec["volumes"]
    # Storage initializer from inferenceservice-config, merged with ClusterStorageContainer "default":
    (init,) = spec["initContainers"]
    assert init["name"] == "storage-initializer"
    assert init["image"] == "kserve/storage-initializer:v0.20.0"
    assert init["args"] == [model["storageUri"], "/mnt/models"]
    assert init["securityContext"]["runAsNonRoot"] is True
    mount = {"name": "kserve-provision-location", "mountPath": "/mnt/models", "readOnly": True}
    assert mount in main["volumeMounts"]
    assert pods[0].pod["metadata"]["labels"]["serving.kserve.io/inferenceservice"] == "chat-llm"


def test_canary_is_the_stable_predictor_with_its_own_storage_uri(kserve: KServeConfig) -> None:
    """predictor.go canaryReplicaCount: ceil(stable minReplicas × trafficPercent / 100)."""
    stable, canary = inference_service_pods(example_isvc(), kserve)
    isvc = example_isvc()
    assert (
        canary.pod["spec"]["initContainers"][0]["args"][0]
        == isvc["spec"]["canary"][0]["predictor"]["model"]["storageUri"]
    )
    assert canary.replicas == 1 and canary.traffic_percent == 10
    assert stable.replicas == 1 and stable.traffic_percent == 90
    assert canary.pod["spec"]["nodeSelector"] == stable.pod["spec"]["nodeSelector"]


def hardened(isvc: dict[str, Any]) -> dict[str, Any]:
    """The pod-level securityContext alone carries seccomp (container-level ones removed)."""
    isvc = copy.deepcopy(isvc)
    predictors = [isvc["spec"]["predictor"], *(c["predictor"] for c in isvc["spec"].get("canary") or ())]
    for predictor in predictors:
        for container in [predictor.get("model") or {}, *(predictor.get("containers") or ())]:
            (container.get("securityContext") or {}).pop("seccompProfile", None)
        predictor.pop("securityContext", None)
    isvc["spec"]["predictor"]["securityContext"] = {
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    return isvc


def test_pod_level_seccomp_makes_every_container_restricted(kserve: KServeConfig) -> None:
    """pod-security-standards: seccompProfile_restricted is met at pod level for all containers,
    including the injected storage-initializer; dropping it fails exactly that rule."""
    isvc = hardened(example_isvc())
    for pod in inference_service_pods(isvc, kserve):
        assert evaluate(pod.pod["metadata"], pod.pod["spec"], "restricted") == []
    # The canary predictor carries its own pod securityContext too (components/serving.py).
    for predictor in [isvc["spec"]["predictor"]] + [c["predictor"] for c in isvc["spec"]["canary"]]:
        (predictor.get("securityContext") or {}).pop("seccompProfile", None)
    for pod in inference_service_pods(isvc, kserve):
        failures = evaluate(pod.pod["metadata"], pod.pod["spec"], "restricted")
        assert [f.rule for f in failures] == ["seccompProfile_restricted"]
        # The storage initializer keeps its own seccompProfile (kserve-resources storage values).
        assert failures[0].detail.startswith('pod or containers "kserve-container" must set')


def test_unknown_runtime_is_kserves_own_error(kserve: KServeConfig) -> None:
    isvc = example_isvc()
    isvc["spec"]["predictor"]["model"]["runtime"] = "kserve-nosuchserver"
    with pytest.raises(
        KServeModelError,
        match="No ServingRuntimes or ClusterServingRuntimes with the name: kserve-nosuchserver",
    ):
        inference_service_pods(isvc, kserve)


def test_runtime_auto_selected_by_model_format(kserve: KServeConfig) -> None:
    isvc = example_isvc()
    del isvc["spec"]["predictor"]["model"]["runtime"]
    assert inference_service_pods(isvc, kserve)[0].runtime == "kserve-huggingfaceserver"
