"""The serving unit: one InferenceService, HTTPRoute and set of NetworkPolicies per serving path,
the model-store access of each team, and the cluster's online-serving PriorityClass.

KServe v0.20.0 Standard mode (upstream pkg/controller/v1beta1/inferenceservice/components/predictor.go):
- the predictor is Deployment + Service `<isvc>-predictor`; each `spec.canary[]` entry is its own
  Deployment + Service `<isvc>-<canary name>-predictor` with ceil(min × percent / 100) replicas,
  its predictor merged over the stable one. Nothing in KServe splits traffic between them, so the
  HTTPRoute here does: weights 100 - p and p on the two Services;
- KServe's own Ingress is switched off (kserve.py, disableIngressCreation) so the host has one route;
- the autoscaler is KServe's HPA for CPU, and KServe's KEDA class (a ScaledObject KServe creates)
  for concurrency, request rate and Prometheus queries, which the HPA reconciler cannot express.
"""

from __future__ import annotations

from typing import Any

from compiler.cluster_model import ClusterModel, TeamOnCluster
from compiler.components.base import Component, ComponentOutput, KubeObject, obj
from compiler.components.gpu_common import node_labels, tolerations
from compiler.components.model_stores import store_objects
from compiler.components.monitoring import prometheus_url
from compiler.components.network import namespace_peer
from compiler.gpu_allocation import PodGpuRequest, pod_request
from compiler.naming import (
    CANARY_PREDICTOR_NAME,
    SERVING_PRIORITY_CLASS,
    canary_service_name,
    inference_service_name,
    model_store_account_name,
    predictor_service_name,
    serving_egress_policy_name,
    serving_policy_name,
    serving_route_name,
)
from compiler.observability.queries import scaling_signal
from compiler.spec.models import ServingPath
from compiler.spec.serving import (
    DEFAULT_CPU_UTILIZATION,
    ReplicaResources,
    format_bytes,
    format_cpu,
    matching_store,
    replica_resources,
    uses_keda,
)

API = "serving.kserve.io/v1beta1"
GATEWAY_API = "gateway.networking.k8s.io/v1"
DEPLOYMENT_MODE = "Standard"
DEPLOYMENT_MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
AUTOSCALER_CLASS_ANNOTATION = "serving.kserve.io/autoscalerClass"  # KServe constants.AutoscalerClass
ISVC_POD_LABEL = "serving.kserve.io/inferenceservice"  # KServe puts it on every predictor pod
PREDICTOR_PORT = 8080  # container port of every ClusterServingRuntime the chart ships
SERVICE_PORT = 80  # KServe v0.20 raw Service port in front of the container port
MODEL_CONTAINER = "kserve-container"
SERVING_PATH_LABEL = "platformc.dev/serving-path"
SHM_VOLUME = "dshm"  # not the runtime's optional `devshm`, so the two can never collide
# Above every batch pod (they run at priority 0: Kueue's WorkloadPriorityClasses order queues, they
# set no pod priority), below system-cluster-critical (2000000000).
SERVING_PRIORITY = 1000000
# The huggingfaceserver and storage-initializer images run as this user (kserve v0.20.0
# python/huggingface_server.Dockerfile and storage-initializer.Dockerfile: USER 1000).
SERVING_UID = 1000


def serving_priority_class() -> KubeObject:
    return obj(
        "scheduling.k8s.io/v1",
        "PriorityClass",
        SERVING_PRIORITY_CLASS,
        value=SERVING_PRIORITY,
        globalDefault=False,
        preemptionPolicy="PreemptLowerPriority",
        description="platformc online serving: scheduled before batch and training, never preempted by them",
    )


def pod_security_context() -> dict[str, Any]:
    """Pod Security Standards `restricted` at pod level; the storage initializer inherits it."""
    return {
        "runAsNonRoot": True,
        "runAsUser": SERVING_UID,
        "runAsGroup": SERVING_UID,
        "fsGroup": SERVING_UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security_context() -> dict[str, Any]:
    """Merged over the runtime's container (KServe MergeRuntimeContainers); seccomp is pod-level."""
    return {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }


def _store_account(cluster: ClusterModel, path: ServingPath, storage_uri: str) -> str | None:
    store = matching_store(cluster.platform.spec.modelStores, storage_uri, path.spec.team)
    return model_store_account_name(store.name) if store else None


def _model(path: ServingPath, storage_uri: str, per: ReplicaResources, gpu: PodGpuRequest) -> dict[str, Any]:
    spec = path.spec
    amounts = {"cpu": format_cpu(per.cpu), "memory": format_bytes(per.pod_memory)}
    resources: dict[str, Any] = {"requests": dict(amounts), "limits": dict(amounts)}
    # device-plugin clusters: the GPU resource (request = limit, as extended resources must be);
    # dra clusters: the claim, and no device-plugin resource.
    gpu_limits = gpu.container_resources.get("limits", {})
    resources["limits"].update(gpu_limits)
    resources["requests"].update(gpu_limits)
    if "claims" in gpu.container_resources:
        resources["claims"] = gpu.container_resources["claims"]
    model: dict[str, Any] = {"modelFormat": {"name": spec.model.format}, "storageUri": storage_uri}
    if spec.model.runtime:
        model["runtime"] = spec.model.runtime
    model["resources"] = resources
    model["securityContext"] = container_security_context()
    model["volumeMounts"] = [{"name": SHM_VOLUME, "mountPath": "/dev/shm"}]
    return model


def _predictor(
    cluster: ClusterModel, path: ServingPath, storage_uri: str, per: ReplicaResources
) -> dict[str, Any]:
    """`per`: replica_resources of the path (the stable and canary predictors share it)."""
    spec = path.spec
    flavor = spec.gpu.flavor
    predictor: dict[str, Any] = {
        "priorityClassName": SERVING_PRIORITY_CLASS,
        "securityContext": pod_security_context(),
        "nodeSelector": node_labels(cluster, flavor),
    }
    account = _store_account(cluster, path, storage_uri)
    if account:
        predictor["serviceAccountName"] = account
    tols = tolerations(cluster, flavor)
    if tols:
        predictor["tolerations"] = tols
    gpu = pod_request(cluster.allocation, flavor, cluster.gpu_resource(flavor), spec.gpu.count)
    predictor.update(gpu.pod_fields)
    shm = {"medium": "Memory", "sizeLimit": format_bytes(per.shared_memory)}
    predictor["volumes"] = [{"name": SHM_VOLUME, "emptyDir": shm}]
    predictor["model"] = _model(path, storage_uri, per, gpu)
    return predictor


def _target(value: float) -> str:
    return f"{value:g}"


def autoscaling(cluster: ClusterModel, path: ServingPath, namespace: str) -> dict[str, Any]:
    """predictor.autoScaling in KServe v0.20's v1beta1 AutoScalingSpec."""
    scaling = path.spec.autoscaling
    if scaling is None or scaling.metric == "cpu":
        utilization = int(scaling.target) if scaling else DEFAULT_CPU_UTILIZATION
        target = {"type": "Utilization", "averageUtilization": utilization}
        return {"metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": target}}]}
    metric = {
        "backend": "prometheus",
        "serverAddress": prometheus_url(cluster),
        "query": scaling_signal(path, namespace),
    }
    # KServe copies target.value into the trigger's threshold; KEDA's default metric type
    # AverageValue divides the query's value by it, so it is the per-replica target.
    external = {"metric": metric, "target": {"type": "Value", "value": _target(scaling.target)}}
    return {"metrics": [{"type": "External", "external": external}]}


def inference_service(cluster: ClusterModel, team: TeamOnCluster, path: ServingPath) -> KubeObject:
    spec = path.spec
    per = replica_resources(path, cluster.flavors[spec.gpu.flavor])
    predictor = _predictor(cluster, path, spec.model.storageUri, per)
    predictor["minReplicas"] = spec.replicas.min
    predictor["maxReplicas"] = spec.replicas.max
    predictor["autoScaling"] = autoscaling(cluster, path, team.namespace)
    body: dict[str, Any] = {"predictor": predictor}
    if spec.canary is not None:
        # Canary replicas are fixed by KServe (no min/max/autoscaling on the canary predictor).
        canary = {**_predictor(cluster, path, spec.canary.storageUri, per), "name": CANARY_PREDICTOR_NAME}
        # The canary's model is a full container in the CRD (name required); KServe names it so.
        canary["model"] = {"name": MODEL_CONTAINER, **canary["model"]}
        body["canary"] = [{"trafficPercent": spec.canary.trafficPercent, "predictor": canary}]
    labels = {**path.spec.labels, **team.labels, SERVING_PATH_LABEL: path.metadata.name}
    annotations = {
        DEPLOYMENT_MODE_ANNOTATION: DEPLOYMENT_MODE,
        AUTOSCALER_CLASS_ANNOTATION: "keda" if uses_keda(path) else "hpa",
    }
    return obj(
        API,
        "InferenceService",
        inference_service_name(path.metadata.name),
        team.namespace,
        labels=labels,
        annotations=annotations,
        spec=body,
    )


def http_route(cluster: ClusterModel, team: TeamOnCluster, path: ServingPath) -> KubeObject | None:
    """Host <path>.<team>.<domain> on the cluster's Gateway, split by weight between the stable
    and canary predictor Services (Gateway API HTTPRoute v1, backendRefs[].weight)."""
    ingress = cluster.cluster.spec.ingress
    if ingress is None:  # the spec checks refuse a serving path there
        return None
    isvc = inference_service_name(path.metadata.name)
    stable = {"name": predictor_service_name(isvc), "port": SERVICE_PORT}
    canary = path.spec.canary
    if canary is None:
        backends = [stable]
    else:
        backends = [
            {**stable, "weight": 100 - canary.trafficPercent},
            {"name": canary_service_name(isvc), "port": SERVICE_PORT, "weight": canary.trafficPercent},
        ]
    parent = {
        "group": "gateway.networking.k8s.io",
        "kind": "Gateway",
        "namespace": ingress.gatewayNamespace,
        "name": ingress.gateway,
    }
    rule = {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}], "backendRefs": backends}
    return obj(
        GATEWAY_API,
        "HTTPRoute",
        serving_route_name(path.metadata.name),
        team.namespace,
        labels={**team.labels, SERVING_PATH_LABEL: path.metadata.name},
        spec={
            "parentRefs": [parent],
            "hostnames": [f"{path.metadata.name}.{team.namespace}.{ingress.domain}"],
            "rules": [rule],
        },
    )


def network_policies(cluster: ClusterModel, team: TeamOnCluster, path: ServingPath) -> list[KubeObject]:
    """Ingress to the stable and canary predictor pods from the gateway and the allowFrom teams,
    plus the matching egress allow in each caller namespace (every team namespace denies egress)."""
    name = path.metadata.name
    # Stable and canary pods both carry the InferenceService label, so one selector admits both.
    pods = {"matchLabels": {ISVC_POD_LABEL: inference_service_name(name)}}
    port = [{"protocol": "TCP", "port": PREDICTOR_PORT}]
    callers = {  # allowFrom teams present here, by name, sorted
        caller: present
        for caller in sorted(set(path.spec.allowFrom) - {team.name})
        if (present := cluster.team(caller)) is not None
    }
    gateway = cluster.cluster.spec.ingress.gatewayNamespace if cluster.cluster.spec.ingress else None
    peers = ([namespace_peer(gateway)] if gateway else []) + [namespace_peer(c) for c in callers]
    result = []
    if peers:
        result.append(
            obj(
                "networking.k8s.io/v1",
                "NetworkPolicy",
                serving_policy_name(name),
                team.namespace,
                labels=team.labels,
                spec={
                    "podSelector": pods,
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": peers, "ports": port}],
                },
            )
        )
    for caller in callers:
        target = {**namespace_peer(team.namespace), "podSelector": pods}
        result.append(
            obj(
                "networking.k8s.io/v1",
                "NetworkPolicy",
                serving_egress_policy_name(team.name, name),
                caller,
                labels=callers[caller].labels,
                spec={
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [{"to": [target], "ports": port}],
                },
            )
        )
    return result


def build_serving(cluster: ClusterModel) -> ComponentOutput:
    objects: list[KubeObject] = []
    if cluster.serving_paths:
        objects.append(serving_priority_class())
    for path in cluster.serving_paths:
        team = cluster.team(path.spec.team)
        if team is None:  # the spec checks reject this; stay total anyway
            continue
        objects.append(inference_service(cluster, team, path))
        route = http_route(cluster, team, path)
        if route is not None:
            objects.append(route)
        objects += network_policies(cluster, team, path)
    objects += store_objects(cluster)
    # After dra too: predictors on dra clusters reference the team's claim templates.
    after = ("kserve", "dra") if cluster.dra else ("kserve",)
    return ComponentOutput(objects=tuple(objects), after=after)


SERVING_COMPONENT = Component(
    "serving",
    build_serving,
    emits=(
        ("serving.kserve.io", "InferenceService", "v1beta1"),
        ("gateway.networking.k8s.io", "HTTPRoute", "v1"),
    ),
)
