"""The pods KServe v0.20 creates for an InferenceService in Standard (raw Deployment) mode.

Built from the objects the cluster really gets: the ClusterServingRuntimes that the rendered
`kserve-runtime-configs` chart ships, the `inferenceservice-config` ConfigMap and the
ClusterStorageContainers that the rendered `kserve-resources` chart ships, plus any namespaced
ServingRuntime in the tree. Upstream (kserve/kserve v0.20.0):

- pkg/controller/v1beta1/inferenceservice/components/predictor.go: buildPredictorResources,
  buildPodSpec, buildObjectMeta, canaryReplicaCount, buildCanaryPredictor (a canary is the
  stable predictor with the canary's fields merged over it, mergo.WithOverride);
- pkg/controller/v1beta1/inferenceservice/utils/utils.go: GetServingRuntime (namespaced first),
  MergeServingRuntimeAndInferenceServiceSpecs, MergeRuntimeContainers (strategic merge, args
  concatenated), MergePodSpec (the runtime's nodeSelector, affinity, tolerations, volumes,
  imagePullSecrets, schedulerName under the predictor's pod fields), ReplacePlaceholders;
- pkg/controller/v1beta1/inferenceservice/reconcilers/deployment/deployment_reconciler.go:
  setDefaultPodSpec (empty pod securityContext, TCP readiness probe);
- pkg/webhook/admission/pod/storage_initializer_injector.go: InjectStorageInitializer and
  CommonStorageInitialization (IsLegacyURI: one `storage-initializer` init container from the
  `storageInitializer` config, the first matching ClusterStorageContainer merged over it, an
  emptyDir `kserve-provision-location` at /mnt/models), AddDefaultHuggingFaceEnvVars.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from compiler.verify.copying import copy_tree
from compiler.verify.strategic_merge import merge_container, merge_pod_spec

SOURCE_URI_ANNOTATION = "internal.serving.kserve.io/storage-initializer-sourceuri"
STORAGE_CONTAINER_ANNOTATION = "internal.serving.kserve.io/storage-container-name"
READONLY_ANNOTATION = "storage.kserve.io/readonly"
MODEL_MOUNT = "/mnt/models"
PROVISION_VOLUME = "kserve-provision-location"
PREDICTOR_CONTAINER = "kserve-container"
TRANSFORMER_CONTAINER = "transformer-container"
STORAGE_INITIALIZER = "storage-initializer"
# pkg/constants/constants.go ServiceAnnotationDisallowedList: never copied onto the Deployment.
ANNOTATION_DISALLOWED = (
    "autoscaling.knative.dev/min-scale",
    "autoscaling.knative.dev/max-scale",
    SOURCE_URI_ANNOTATION,
    "kubectl.kubernetes.io/last-applied-configuration",
    "modelFormat",
)
# v1beta1.PredictorExtensionSpec fields that are not corev1.Container fields.
MODEL_ONLY_FIELDS = ("modelFormat", "runtime", "runtimeVersion", "protocolVersion", "storageUri", "storage")
# v1beta1.ComponentExtensionSpec + PredictorSpec fields that are not corev1.PodSpec fields.
PREDICTOR_ONLY_FIELDS = (
    "model",
    "minReplicas",
    "maxReplicas",
    "scaleTarget",
    "scaleMetric",
    "scaleMetricType",
    "autoScaling",
    "containerConcurrency",
    "timeout",
    "canaryTrafficPercent",
    "logger",
    "batcher",
    "labels",
    "annotations",
    "deploymentStrategy",
    "storageUris",
    "storageContainerName",
    "workerSpec",
    "name",
    "confidential",
)
PREDICTOR_FRAMEWORKS = (
    "sklearn",
    "xgboost",
    "tensorflow",
    "pytorch",
    "triton",
    "onnx",
    "huggingface",
    "pmml",
    "lightgbm",
    "paddle",
)
# pkg/constants: server types whose GPU build is the same image with a "-gpu" tag suffix.
GPU_TAG_SERVER_TYPES = ("tensorflow", "torchserve", "huggingfaceserver")


class KServeModelError(ValueError):
    """The InferenceService cannot become pods (KServe would set InvalidSpec or refuse it)."""


@dataclass(frozen=True)
class KServeConfig:
    """What the KServe controller and pod webhook read from the cluster."""

    cluster_runtimes: Mapping[str, Mapping[str, Any]]  # ClusterServingRuntime name -> object
    storage_initializer: Mapping[str, Any]  # inferenceservice-config data.storageInitializer
    storage_containers: tuple[Mapping[str, Any], ...] = ()  # ClusterStorageContainer objects
    namespace_runtimes: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_objects(cls, objects: Iterable[Mapping[str, Any]]) -> KServeConfig:
        """From the rendered KServe charts plus the tree's own objects."""
        cluster_runtimes: dict[str, Mapping[str, Any]] = {}
        namespace_runtimes: dict[tuple[str, str], Mapping[str, Any]] = {}
        storage_containers: list[Mapping[str, Any]] = []
        storage_initializer: Mapping[str, Any] | None = None
        for obj in objects:
            kind, meta = obj.get("kind"), obj.get("metadata") or {}
            if kind == "ClusterServingRuntime":
                cluster_runtimes[meta.get("name", "")] = obj
            elif kind == "ServingRuntime":
                namespace_runtimes[(meta.get("namespace", ""), meta.get("name", ""))] = obj
            elif kind == "ClusterStorageContainer":
                storage_containers.append(obj)
            elif kind == "ConfigMap" and meta.get("name") == "inferenceservice-config":
                raw = (obj.get("data") or {}).get("storageInitializer")
                if raw:
                    storage_initializer = json.loads(raw)
        if storage_initializer is None:
            raise KServeModelError(
                "no inferenceservice-config ConfigMap with a storageInitializer entry among the "
                "rendered KServe objects (is the kserve-resources chart rendered?)"
            )
        return cls(
            cluster_runtimes,
            storage_initializer,
            tuple(sorted(storage_containers, key=lambda o: o["metadata"]["name"])),
            namespace_runtimes,
        )


@dataclass(frozen=True)
class ServingPod:
    """One Deployment's pod as the API server receives it (after KServe's pod webhook)."""

    deployment: str  # <isvc>-predictor or <isvc>-<canary>-predictor
    role: str  # predictor | canary
    replicas: int
    traffic_percent: int
    runtime: str
    pod: dict[str, Any]  # a v1 Pod object

    @property
    def namespace(self) -> str:
        return str(self.pod["metadata"]["namespace"])


def _strip(obj: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    return {k: copy_tree(v) for k, v in obj.items() if k not in fields}


def _runtime_for(
    isvc: Mapping[str, Any], model: Mapping[str, Any], config: KServeConfig
) -> tuple[str, Mapping]:
    namespace = isvc["metadata"].get("namespace", "")
    name = model.get("runtime")
    if name:
        found = config.namespace_runtimes.get((namespace, name)) or config.cluster_runtimes.get(name)
        if found is None:
            raise KServeModelError(f"No ServingRuntimes or ClusterServingRuntimes with the name: {name}")
        return name, found
    # Runtime auto-selection (predictor_model.go GetSupportingRuntimes): enabled, single-model,
    # single-node runtimes with an autoSelect entry for the format; namespaced runtimes first,
    # each group by priority then name.
    fmt = (model.get("modelFormat") or {}).get("name")
    for group in (config.namespace_runtimes.values(), config.cluster_runtimes.values()):
        candidates = []
        for rt in group:
            spec = rt.get("spec") or {}
            if spec.get("disabled") or spec.get("multiModel") or spec.get("workerSpec"):
                continue
            for sf in spec.get("supportedModelFormats") or ():
                if sf.get("name") == fmt and sf.get("autoSelect"):
                    candidates.append((-(sf.get("priority") or 0), rt["metadata"]["name"], rt))
        if candidates:
            _, name, rt = min(candidates, key=lambda c: (c[0], c[1]))
            return name, rt
    raise KServeModelError(f"no runtime found to support predictor with model type: {fmt}")


def _replace_placeholders(container: dict[str, Any], meta: Mapping[str, Any]) -> dict[str, Any]:
    """utils.ReplacePlaceholders: Go templates over the isvc ObjectMeta ({{.Name}}, {{.Annotations.x}})."""

    def value(match: re.Match[str]) -> str:
        path = match.group(1).split(".")
        if path[0] in ("Name", "Namespace"):
            return str(meta.get(path[0].lower(), ""))
        if path[0] in ("Annotations", "Labels") and len(path) == 2:
            return str((meta.get(path[0].lower()) or {}).get(path[1], ""))
        raise KServeModelError(f"placeholder {{{{.{match.group(1)}}}}} in runtime container is not supported")

    text = re.sub(r"\{\{\s*\.([A-Za-z0-9_.\-/]+)\s*\}\}", value, json.dumps(container))
    return json.loads(text)


def _gpu_image(container: dict[str, Any], runtime: Mapping[str, Any], runtime_version: str | None) -> None:
    """utils.UpdateImageTag for the GPU case (an nvidia.com/gpu limit) and runtimeVersion."""
    image = str(container.get("image", ""))
    if "@sha256:" in image or not image:
        return
    tag = re.search(r":[\w.\-_]*$", image)
    if runtime_version is not None:
        container["image"] = (image[: tag.start()] if tag else image) + ":" + runtime_version
        return
    server = ((runtime.get("metadata") or {}).get("annotations") or {}).get(
        "serving.kserve.io/server-type", ""
    )
    limits = (container.get("resources") or {}).get("limits") or {}
    if (
        tag
        and any("gpu" in k for k in limits)
        and server in GPU_TAG_SERVER_TYPES
        and not image.endswith("-gpu")
    ):
        container["image"] = image + "-gpu"


def _add_env(container: dict[str, Any], name: str, value: str) -> None:
    env = container.setdefault("env", [])
    if not any(e.get("name") == name for e in env):
        env.append({"name": name, "value": value})


def _default_pod_spec(spec: dict[str, Any]) -> None:
    """deployment_reconciler.go setDefaultPodSpec."""
    spec.setdefault("securityContext", {})
    for c in spec.get("containers") or ():
        if c.get("name") in (PREDICTOR_CONTAINER, TRANSFORMER_CONTAINER) and "readinessProbe" not in c:
            port = (c.get("ports") or [{}])[0].get("containerPort", 8080)
            c["readinessProbe"] = {"tcpSocket": {"port": port}, "timeoutSeconds": 1, "periodSeconds": 10}


def _storage_container(uri: str, named: str | None, config: KServeConfig) -> Mapping[str, Any] | None:
    """storage_initializer_injector.go GetStorageContainerSpec."""
    for sc in config.storage_containers:
        spec = sc.get("spec") or {}
        if named and sc["metadata"]["name"] != named:
            continue
        if sc.get("disabled") or spec.get("workloadType", "initContainer") != "initContainer":
            continue
        for fmt in spec.get("supportedUriFormats") or ():
            if (fmt.get("prefix") and uri.startswith(fmt["prefix"])) or (
                fmt.get("regex") and re.match(fmt["regex"], uri)
            ):
                return spec
    if named:
        raise KServeModelError(f'ClusterStorageContainer "{named}" not found or does not support {uri}')
    return None


def inject_storage_initializer(pod: dict[str, Any], config: KServeConfig) -> None:
    """The pod webhook's InjectStorageInitializer for a single storageUri (IsLegacyURI)."""
    annotations = pod["metadata"].get("annotations") or {}
    uri = annotations.get(SOURCE_URI_ANNOTATION)
    if uri is None:
        return
    spec = pod["spec"]
    if any(c.get("name") == STORAGE_INITIALIZER for c in spec.get("initContainers") or ()):
        return
    user = next((c for c in spec["containers"] if c.get("name") == PREDICTOR_CONTAINER), None)
    if user is None:
        raise KServeModelError("Invalid configuration: cannot find container")
    if uri.startswith("oci://"):
        raise KServeModelError("oci:// model URIs (modelcar sidecar) are not simulated")
    read_only = annotations.get(READONLY_ANNOTATION) != "false"
    if uri.startswith("pvc://"):
        claim, _, sub_path = uri[len("pvc://") :].partition("/")
        mount = {
            "name": "kserve-pvc-source",
            "mountPath": MODEL_MOUNT,
            "readOnly": read_only,
            "subPath": sub_path,
        }
        user.setdefault("volumeMounts", []).append(mount)
        spec.setdefault("volumes", []).append(
            {"name": "kserve-pvc-source", "persistentVolumeClaim": {"claimName": claim}}
        )
        return
    si = config.storage_initializer
    init: dict[str, Any] = {
        "name": STORAGE_INITIALIZER,
        "image": si.get("image") or "kserve/storage-initializer:latest",
        "args": [uri, MODEL_MOUNT],
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "resources": {
            "limits": {"cpu": si["cpuLimit"], "memory": si["memoryLimit"]},
            "requests": {"cpu": si["cpuRequest"], "memory": si["memoryRequest"]},
        },
        "volumeMounts": [{"name": PROVISION_VOLUME, "mountPath": MODEL_MOUNT}],
    }
    user.setdefault("volumeMounts", []).append(
        {"name": PROVISION_VOLUME, "mountPath": MODEL_MOUNT, "readOnly": read_only}
    )
    spec.setdefault("volumes", []).append({"name": PROVISION_VOLUME, "emptyDir": {}})
    storage = _storage_container(uri, annotations.get(STORAGE_CONTAINER_ANNOTATION), config)
    if storage is not None:
        init = merge_container(init, storage.get("container") or {})
    for name, value in (("HF_HUB_ENABLE_HF_TRANSFER", "1"), ("HF_XET_HIGH_PERFORMANCE", "1")):
        _add_env(init, name, value)
    _add_env(init, "HF_XET_NUM_CONCURRENT_RANGE_GETS", "8")
    spec.setdefault("initContainers", []).append(init)


def _predictor_pod(
    isvc: Mapping[str, Any], predictor: Mapping[str, Any], deployment: str, config: KServeConfig
) -> tuple[str, dict[str, Any]]:
    meta = isvc["metadata"]
    model = predictor.get("model")
    if model is None:
        frameworks = [f for f in PREDICTOR_FRAMEWORKS if f in predictor]
        if not frameworks:
            raise KServeModelError("predictor has no model: only spec.predictor.model is simulated")
        model = {**predictor[frameworks[0]], "modelFormat": {"name": frameworks[0]}}
    runtime_name, runtime = _runtime_for(isvc, model, config)
    rt_spec = runtime.get("spec") or {}
    rt_containers = rt_spec.get("containers") or []
    base = next((c for c in rt_containers if c.get("name") == PREDICTOR_CONTAINER), None)
    if base is None:
        raise KServeModelError(f"failed to find {PREDICTOR_CONTAINER} in ServingRuntime containers")
    model_container = _strip(model, MODEL_ONLY_FIELDS)
    container = merge_container(base, model_container)
    container["args"] = [*(base.get("args") or []), *(model_container.get("args") or [])]
    container.setdefault("name", PREDICTOR_CONTAINER)
    container = _replace_placeholders(container, meta)
    _gpu_image(container, runtime, model.get("runtimeVersion"))

    runtime_pod = {
        k: rt_spec[k]
        for k in ("nodeSelector", "affinity", "tolerations", "volumes", "imagePullSecrets", "schedulerName")
        if k in rt_spec
    }
    spec = merge_pod_spec(runtime_pod, _strip(predictor, PREDICTOR_ONLY_FIELDS))
    spec["containers"] = [container]
    transformer = next((c for c in rt_containers if c.get("name") == TRANSFORMER_CONTAINER), None)
    if transformer is not None:
        spec["containers"].append(_replace_placeholders(copy_tree(transformer), meta))
    spec["containers"] += [
        copy_tree(c)
        for c in rt_containers
        if c.get("name") not in (PREDICTOR_CONTAINER, TRANSFORMER_CONTAINER)
    ]
    spec["containers"] += [copy_tree(c) for c in predictor.get("containers") or ()]
    for c in spec["containers"]:
        _add_env(c, "INFERENCE_SERVICE_NAME", meta["name"])
    _default_pod_spec(spec)

    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in ANNOTATION_DISALLOWED}
    if model.get("storageUri"):
        annotations[SOURCE_URI_ANNOTATION] = model["storageUri"]
    if predictor.get("storageContainerName"):
        annotations[STORAGE_CONTAINER_ANNOTATION] = predictor["storageContainerName"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": deployment,
            "namespace": meta.get("namespace", "default"),
            "labels": {
                **(rt_spec.get("labels") or {}),
                **(meta.get("labels") or {}),
                **(predictor.get("labels") or {}),
                "serving.kserve.io/inferenceservice": meta["name"],
                "component": "predictor",
                "app": f"isvc.{deployment}",
            },
            "annotations": {
                **{
                    k: v
                    for k, v in (rt_spec.get("annotations") or {}).items()
                    if k not in ANNOTATION_DISALLOWED
                },
                **annotations,
                **{
                    k: v
                    for k, v in (predictor.get("annotations") or {}).items()
                    if k not in ANNOTATION_DISALLOWED
                },
            },
        },
        "spec": spec,
    }
    inject_storage_initializer(pod, config)
    return runtime_name, pod


def _merge_override(base: Any, over: Any) -> Any:
    """mergo.Merge(..., WithOverride): non-empty fields of the canary replace the stable's."""
    if isinstance(base, Mapping) and isinstance(over, Mapping):
        out = dict(copy_tree(base))
        for k, v in over.items():
            out[k] = _merge_override(out.get(k), v) if k in out else copy_tree(v)
        return out
    return copy_tree(over) if over not in (None, "", [], {}) else copy_tree(base)


def inference_service_pods(isvc: Mapping[str, Any], config: KServeConfig) -> list[ServingPod]:
    """The stable predictor pod and one pod per canary, with their replica counts."""
    meta = isvc.get("metadata") or {}
    spec = isvc.get("spec") or {}
    predictor = spec.get("predictor") or {}
    name = meta["name"]
    stable_name = f"{name}-{predictor['name']}-predictor" if predictor.get("name") else f"{name}-predictor"
    min_replicas = predictor.get("minReplicas", 1)
    canaries = spec.get("canary") or []
    runtime, pod = _predictor_pod(isvc, predictor, stable_name, config)
    canary_total = 0
    out = []
    for canary in canaries:
        c_pred = canary.get("predictor") or {}
        replicas = c_pred.get("minReplicas")
        if replicas is None:
            replicas = math.ceil((min_replicas or 1) * canary.get("trafficPercent", 0) / 100)
        canary_total += replicas
        merged = _merge_override(predictor, c_pred)
        for k in ("maxReplicas", "scaleTarget", "scaleMetric", "autoScaling"):
            merged.pop(k, None)
        merged["minReplicas"] = replicas
        c_name = f"{name}-{c_pred['name']}-predictor" if c_pred.get("name") else f"{name}-predictor-canary"
        c_runtime, c_pod = _predictor_pod(isvc, merged, c_name, config)
        out.append(
            ServingPod(c_name, "canary", replicas, int(canary.get("trafficPercent", 0)), c_runtime, c_pod)
        )
    # predictor.go reconcileRawDeployment: the stable Deployment gives up the canaries' replicas,
    # keeping at least one.
    explicit = predictor.get("minReplicas")
    stable_replicas = (
        max(explicit - canary_total, 1) if canaries and explicit is not None else (min_replicas or 0)
    )
    stable_traffic = 100 - sum(int(c.get("trafficPercent", 0)) for c in canaries)
    return [ServingPod(stable_name, "predictor", stable_replicas, stable_traffic, runtime, pod), *out]
