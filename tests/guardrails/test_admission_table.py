"""Admission requests through the generated policies, evaluated with a real CEL engine.

Each row feeds one object to every ValidatingAdmissionPolicy and binding platformc writes for
the cluster, with the team's params ConfigMap and Namespace as generated, and asserts what
kube-apiserver would answer: admitted, refused with this message, or admitted with this
warning (message formats: k8s.io/apiserver/pkg/admission/plugin/policy/validating/dispatcher.go).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from compiler.cel import Decision

IMAGE = "nvcr.io/nvidia/pytorch:24.05-py3"


def container(name: str = "main", image: str = IMAGE, **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": image, **extra}


def meta(name: str, namespace: str, labels: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": {"owner": "alice", **(labels or {})}, **extra}


def pod(namespace: str = "research", *, labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    body = {"containers": [container()], **spec}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta("trainer", namespace, labels), "spec": body}


def deployment(
    namespace: str = "research", *, labels: dict[str, str] | None = None, **spec: Any
) -> dict[str, Any]:
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [container()], **spec}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta("web", namespace, labels),
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": template},
    }


def job(
    namespace: str = "research",
    *,
    parallelism: int = 1,
    labels: dict[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    pod_spec = {"restartPolicy": "Never", "containers": [container()], **spec}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta("train", namespace, labels),
        "spec": {"parallelism": parallelism, "template": {"spec": pod_spec}},
    }


def gpus(count: int, limits: bool = True) -> dict[str, Any]:
    field = "limits" if limits else "requests"
    return {"resources": {field: {"nvidia.com/gpu": count}}}


def isvc(
    namespace: str = "research", *, labels: dict[str, str] | None = None, **predictor: Any
) -> dict[str, Any]:
    model = {"modelFormat": {"name": "huggingface"}, "storageUri": "s3://models/llama"}
    body = {"model": model, "minReplicas": 1, "maxReplicas": 2, **predictor}
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": meta("chat", namespace, {"model-version": "v3", **(labels or {})}),
        "spec": {"predictor": body, "canary": [{"trafficPercent": 10, "predictor": copy.deepcopy(body)}]},
    }


def claim(device_class: str, namespace: str = "research", template: bool = False) -> dict[str, Any]:
    spec = {"devices": {"requests": [{"name": "gpu", "exactly": {"deviceClassName": device_class}}]}}
    kind = "ResourceClaimTemplate" if template else "ResourceClaim"
    return {
        "apiVersion": "resource.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": "my-gpu", "namespace": namespace},
        "spec": {"spec": spec} if template else spec,
    }


def denied(policy: str, message: str) -> str:
    return f"ValidatingAdmissionPolicy 'platformc-{policy}' with binding 'platformc-{policy}-deny' denied request: {message}"


def warned(policy: str, message: str) -> str:
    return f"Validation failed for ValidatingAdmissionPolicy 'platformc-{policy}' with binding 'platformc-{policy}-warn': {message}"


def _without_owner(obj: dict[str, Any]) -> dict[str, Any]:
    del obj["metadata"]["labels"]["owner"]
    return obj


def _isvc_model_resources(resources: dict[str, Any]) -> dict[str, Any]:
    obj = isvc()
    obj["spec"]["predictor"]["model"]["resources"] = resources
    del obj["spec"]["canary"]
    obj["metadata"]["labels"]["platformc.dev/rollback-model-version"] = "v2"
    return obj


def _owned_pod() -> dict[str, Any]:
    obj = _without_owner(pod())
    obj["metadata"]["ownerReferences"] = [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d8f", "uid": "1b2c", "controller": True}
    ]
    return obj


DRA_HINT = (
    "on this cluster GPUs come through DRA: name a ResourceClaimTemplate in spec.resourceClaims "
    "(h100-1, h100-2, h100-4, h100-8) and the claim in the container's resources.claims"
)
VISIBLE = "NVIDIA_VISIBLE_DEVICES"

# (id, cluster, object, denial message or None, warnings)
CASES: list[tuple[str, str, dict[str, Any], str | None, list[str]]] = [
    # gpuLimits
    (
        "pod-visible-devices-without-limits",
        "gpu-dp",
        pod(containers=[container(env=[{"name": VISIBLE, "value": "all"}])]),
        denied(
            "gpu-limits-pods",
            "container main sets NVIDIA_VISIBLE_DEVICES without a GPU limit, so it would use GPUs the quota "
            "does not count; remove the variable and set the GPU count in resources.limits (or a resource "
            "claim) (platform policy gpuLimits)",
        ),
        [],
    ),
    (
        "pod-visible-devices-with-limits",
        "gpu-dp",
        pod(containers=[container(env=[{"name": VISIBLE, "value": "all"}], **gpus(1))]),
        None,
        [],
    ),
    (
        "pod-visible-devices-void",
        "gpu-dp",
        pod(containers=[container(env=[{"name": VISIBLE, "value": "void"}])]),
        None,
        [],
    ),
    (
        "isvc-gpu-requests-without-limits",
        "gpu-dp",
        _isvc_model_resources({"requests": {"nvidia.com/gpu": "1"}}),
        denied(
            "gpu-limits-inferenceservices",
            "container kserve-container requests GPUs without a limit; set resources.limits to the GPU count "
            "it requests (platform policy gpuLimits)",
        ),
        [],
    ),
    # trustedRegistries
    (
        "deployment-untrusted-registry",
        "gpu-dp",
        deployment(containers=[container(image="python:3.11")]),
        denied(
            "trusted-registries-replicated",
            "image python:3.11 is not from a trusted registry; use an image from nvcr.io/nvidia/, "
            "registry.acme.internal/ (platform policy trustedRegistries)",
        ),
        [],
    ),
    (
        "job-lookalike-registry-host",
        "gpu-dp",
        job(containers=[container(image="registry.acme.internal.evil.example/train:1")]),
        denied(
            "trusted-registries-jobs",
            "image registry.acme.internal.evil.example/train:1 is not from a trusted registry; use an image "
            "from nvcr.io/nvidia/, registry.acme.internal/ (platform policy trustedRegistries)",
        ),
        [],
    ),
    (
        "pod-init-container-untrusted",
        "gpu-dp",
        pod(initContainers=[container("fetch", "docker.io/busybox")]),
        denied(
            "trusted-registries-pods",
            "image docker.io/busybox is not from a trusted registry; use an image from nvcr.io/nvidia/, "
            "registry.acme.internal/ (platform policy trustedRegistries)",
        ),
        [],
    ),
    (
        "deployment-trusted-registry",
        "gpu-dp",
        deployment(containers=[container(image="registry.acme.internal/web:2")]),
        None,
        [],
    ),
    # requiredLabels
    (
        "deployment-missing-owner",
        "gpu-dp",
        _without_owner(deployment()),
        denied(
            "required-labels-workloads",
            "Deployment web is missing label owner; add it under metadata.labels (platform policy requiredLabels)",
        ),
        [],
    ),
    ("pod-owned-by-replicaset", "gpu-dp", _owned_pod(), None, []),
    (
        "isvc-missing-model-version",
        "gpu-dra",
        isvc(labels={"model-version": ""}),
        denied(
            "required-labels-workloads",
            "InferenceService chat is missing label model-version; add it under metadata.labels "
            "(platform policy requiredLabels)",
        ),
        [],
    ),
    # gpuAccess
    (
        "claim-generic-device-class",
        "gpu-dra",
        claim("gpu.nvidia.com"),
        denied(
            "gpu-access-resourceclaims",
            "request gpu asks DeviceClass gpu.nvidia.com, which the team's GPU quota does not count; use "
            "DeviceClass gpu-h100 or a ResourceClaimTemplate: h100-1, h100-2, h100-4, h100-8 "
            "(platform policy gpuAccess)",
        ),
        [],
    ),
    (
        "claim-template-generic-device-class",
        "gpu-dra",
        claim("gpu.nvidia.com", template=True),
        denied(
            "gpu-access-resourceclaimtemplates",
            "request gpu asks DeviceClass gpu.nvidia.com, which the team's GPU quota does not count; use "
            "DeviceClass gpu-h100 or a ResourceClaimTemplate: h100-1, h100-2, h100-4, h100-8 "
            "(platform policy gpuAccess)",
        ),
        [],
    ),
    ("claim-platform-device-class", "gpu-dra", claim("gpu-h100"), None, []),
    (
        "pod-extended-resource-on-dra-cluster",
        "gpu-dra",
        pod(containers=[container(**gpus(1))]),
        denied(
            "gpu-access-pods",
            f"container main asks for a GPU resource the team cannot use here; {DRA_HINT} (platform policy gpuAccess)",
        ),
        [],
    ),
    # largestGpuRequest: 50 % of the team's quota of 16
    (
        "job-12-gpus-quota-16",
        "gpu-dp",
        job(parallelism=3, containers=[container(**gpus(4))]),
        None,
        [
            warned(
                "largest-gpu-request-jobs",
                "Job train asks for 12 nvidia.com/gpu at once (4 per pod x 3 pods), more than 50% of team "
                "research's quota of 16 on this cluster; split it into smaller workloads or ask the platform "
                "team for more quota (platform policy largestGpuRequest)",
            )
        ],
    ),
    ("job-8-gpus-quota-16", "gpu-dp", job(parallelism=2, containers=[container(**gpus(4))]), None, []),
    (
        "dra-job-12-gpus-through-claims",
        "gpu-dra",
        job(
            parallelism=3,
            resourceClaims=[{"name": "gpu", "resourceClaimTemplateName": "h100-4"}],
            containers=[container(resources={"claims": [{"name": "gpu"}]})],
        ),
        None,
        [
            warned(
                "largest-gpu-request-jobs",
                "Job train asks for 12 h100 at once (4 per pod x 3 pods), more than 50% of team research's "
                "quota of 16 on this cluster; split it into smaller workloads or ask the platform team for "
                "more quota (platform policy largestGpuRequest)",
            )
        ],
    ),
    # priorityClasses: web is a normal-priority team
    (
        "web-job-high-workload-priority",
        "gpu-dp",
        job("web", labels={"kueue.x-k8s.io/priority-class": "high"}),
        denied(
            "priority-classes-jobs",
            "WorkloadPriorityClass high is above the priority of team web; set label "
            "kueue.x-k8s.io/priority-class to low or normal (platform policy priorityClasses)",
        ),
        [],
    ),
    (
        "research-job-high-workload-priority",
        "gpu-dp",
        job(labels={"kueue.x-k8s.io/priority-class": "high"}),
        None,
        [],
    ),
    (
        "web-pod-priority-class",
        "gpu-dp",
        pod("web", priorityClassName="system-cluster-critical"),
        denied(
            "priority-classes-pods",
            "PriorityClass system-cluster-critical is not allowed for team web; use batch-preemptible, platformc-online-serving or none "
            "(platform policy priorityClasses)",
        ),
        [],
    ),
    ("web-pod-allowed-priority-class", "gpu-dp", pod("web", priorityClassName="batch-preemptible"), None, []),
    # hostAccess
    (
        "deployment-host-network",
        "gpu-dp",
        deployment(hostNetwork=True),
        denied(
            "host-access-replicated",
            "hostNetwork is not allowed in team namespaces; remove it and expose ports through a Service "
            "(platform policy hostAccess)",
        ),
        [],
    ),
    (
        "pod-host-path",
        "gpu-dp",
        pod(volumes=[{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}]),
        denied(
            "host-access-pods",
            "volume docker mounts a hostPath, which team namespaces may not use; use a PersistentVolumeClaim, "
            "emptyDir or ConfigMap instead (platform policy hostAccess)",
        ),
        [],
    ),
    # servingRollback (warn)
    ("isvc-with-canary", "gpu-dra", isvc(), None, []),
    (
        "isvc-without-rollback-target",
        "gpu-dra",
        {**isvc(), "spec": {"predictor": isvc()["spec"]["predictor"]}},
        None,
        [
            warned(
                "serving-rollback-inferenceservices",
                "InferenceService chat has no rollback target; serve the new model as a canary (spec.canary or "
                "spec.predictor.canaryTrafficPercent) or record the model version to roll back to in label "
                "platformc.dev/rollback-model-version (platform policy servingRollback)",
            )
        ],
    ),
    # platform namespaces are never bound
    (
        "kube-system-untrusted-host-network",
        "gpu-dp",
        pod("kube-system", hostNetwork=True, containers=[container(image="k8s.gcr.io/x")]),
        None,
        [],
    ),
]


@pytest.mark.parametrize(
    ("cluster", "obj", "denial", "warnings"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_admission(
    admission, cluster: str, obj: dict[str, Any], denial: str | None, warnings: list[str]
) -> None:
    decision: Decision = admission[cluster](obj)
    assert decision.message == denial
    assert decision.allowed is (denial is None)
    assert decision.warnings == warnings
    # Nothing else fired: one rule, one message.
    assert len(decision.violations) == (denial is not None) + len(warnings)
