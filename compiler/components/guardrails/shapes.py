"""Where the pod spec sits in each kind a guardrail checks.

Kubernetes type-checks a policy's expressions once per matched kind
(k8s.io/apiserver/pkg/admission/plugin/policy/validating/typechecking.go), so kinds whose
pod spec sits at a different path get their own policy: one expression, one path.
"""

from __future__ import annotations

from dataclasses import dataclass

APPS = "apps/v1"
BATCH = "batch/v1"
KSERVE = "serving.kserve.io/v1beta1"
RESOURCE = "resource.k8s.io/v1"


@dataclass(frozen=True)
class Shape:
    name: str
    kinds: tuple[tuple[str, str], ...]  # (apiVersion, kind)
    spec: str  # CEL path of the pod spec
    containers: str  # CEL list of the containers (init containers too)
    pods: str | None = None  # CEL int: pods the workload runs at once (None: not counted)

    @property
    def kind_names(self) -> str:
        return ", ".join(kind for _, kind in self.kinds)


def _pod_shape(name: str, kinds: tuple[tuple[str, str], ...], spec: str, pods: str | None) -> Shape:
    containers = f"{spec}.containers + (has({spec}.initContainers) ? {spec}.initContainers : [])"
    return Shape(name, kinds, spec, containers, pods)


PODS = _pod_shape("pods", (("v1", "Pod"),), "object.spec", "1")
REPLICATED = _pod_shape(
    "replicated",
    ((APPS, "Deployment"), (APPS, "StatefulSet"), (APPS, "ReplicaSet")),
    "object.spec.template.spec",
    "has(object.spec.replicas) ? object.spec.replicas : 1",
)
DAEMONSETS = _pod_shape("daemonsets", ((APPS, "DaemonSet"),), "object.spec.template.spec", None)
JOBS = _pod_shape(
    "jobs",
    ((BATCH, "Job"),),
    "object.spec.template.spec",
    # Pods running at once: parallelism (default 1), never more than completions.
    "has(object.spec.completions) && object.spec.completions < "
    "(has(object.spec.parallelism) ? object.spec.parallelism : 1) ? object.spec.completions : "
    "(has(object.spec.parallelism) ? object.spec.parallelism : 1)",
)
CRONJOBS = _pod_shape(
    "cronjobs",
    ((BATCH, "CronJob"),),
    "object.spec.jobTemplate.spec.template.spec",
    "has(object.spec.jobTemplate.spec.parallelism) ? object.spec.jobTemplate.spec.parallelism : 1",
)
# KServe's predictor is a pod spec plus `model`, a container the runtime fills in. The model
# joins the container list as dyn: its schema type differs from a Container's.
_PREDICTOR = "object.spec.predictor"
INFERENCE_SERVICES = Shape(
    "inferenceservices",
    ((KSERVE, "InferenceService"),),
    _PREDICTOR,
    f"(has({_PREDICTOR}.containers) ? {_PREDICTOR}.containers : []) + "
    f"(has({_PREDICTOR}.model) ? [dyn({_PREDICTOR}.model)] : [])",
    # What the autoscaler may scale the predictor to.
    f"has({_PREDICTOR}.maxReplicas) ? {_PREDICTOR}.maxReplicas : "
    f"(has({_PREDICTOR}.minReplicas) ? {_PREDICTOR}.minReplicas : 1)",
)

POD_SHAPES: tuple[Shape, ...] = (PODS, REPLICATED, DAEMONSETS, JOBS, CRONJOBS, INFERENCE_SERVICES)
COUNTED_SHAPES: tuple[Shape, ...] = tuple(s for s in POD_SHAPES if s.pods is not None)

CLAIMS = Shape("resourceclaims", ((RESOURCE, "ResourceClaim"),), "object.spec", "")
CLAIM_TEMPLATES = Shape(
    "resourceclaimtemplates", ((RESOURCE, "ResourceClaimTemplate"),), "object.spec.spec", ""
)

# Every kind a workload label rule applies to.
WORKLOAD_KINDS: tuple[tuple[str, str], ...] = tuple(k for s in POD_SHAPES for k in s.kinds)
