"""KServe v0.20 in Standard (RawDeployment) mode, and one InferenceService per serving path.

Three components, because three things must happen in order and each is one sync unit:
- kserve-crds: the kserve-crd chart (provides serving.kserve.io);
- kserve: the controller (kserve-resources) and the ClusterServingRuntimes
  (kserve-runtime-configs), after the CRDs;
- serving: InferenceServices and their NetworkPolicies, after the controller, whose
  validating webhook must answer before an InferenceService can be created.

Canary: v0.20 serves `spec.canary` (a named list) in Standard mode only; the split follows
replica counts (canary replicas = ceil(min * percent / 100)), not exact request weights.
Scale to zero is rejected by the spec checks: Standard mode's HPA keeps at least one replica.
"""

from __future__ import annotations

from typing import Any

from compiler.cluster_model import ClusterModel, TeamOnCluster
from compiler.components.base import Component, ComponentOutput, HelmChart, KubeObject, obj
from compiler.components.gpu_common import node_labels, tolerations
from compiler.components.network import namespace_peer
from compiler.naming import (
    DRA_CLAIM_REQUEST,
    KSERVE_NAMESPACE,
    claim_template_name,
    inference_service_name,
    serving_egress_policy_name,
    serving_policy_name,
)
from compiler.spec.models import ServingPath

API = "serving.kserve.io/v1beta1"
REPOSITORY = "oci://ghcr.io/kserve/charts"
CRD_GROUPS = frozenset({"serving.kserve.io"})
DEPLOYMENT_MODE = "Standard"
DEPLOYMENT_MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
ISVC_POD_LABEL = "serving.kserve.io/inferenceservice"  # KServe puts it on every predictor pod
PREDICTOR_PORT = 8080  # container port of every ClusterServingRuntime the chart ships
CANARY_NAME = "canary"
MODEL_CONTAINER = "kserve-container"
SERVING_PATH_LABEL = "platformc.dev/serving-path"
# Host <path>.<team>.<domain>: the InferenceService name is the path, its namespace the team.
DOMAIN_TEMPLATE = "{{ .Name }}.{{ .Namespace }}.{{ .IngressDomain }}"


def _chart(
    cluster: ClusterModel,
    chart: str,
    values: dict[str, Any],
    crd_groups: frozenset[str] = frozenset(),
    uses_crd_groups: frozenset[str] = frozenset(),
) -> HelmChart:
    return HelmChart(
        repository=REPOSITORY,
        chart=chart,
        version=cluster.versions.kserve,  # KServe publishes its OCI charts with the leading v
        release=chart,
        namespace=KSERVE_NAMESPACE,
        values=values,
        crd_groups=crd_groups,
        uses_crd_groups=uses_crd_groups,
    )


def build_crds(cluster: ClusterModel) -> ComponentOutput:
    namespace = obj(
        "v1",
        "Namespace",
        KSERVE_NAMESPACE,
        labels={
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/warn": "restricted",
        },
    )
    return ComponentOutput(charts=(_chart(cluster, "kserve-crd", {}, CRD_GROUPS),), objects=(namespace,))


def controller_values(cluster: ClusterModel) -> dict[str, Any]:
    controller: dict[str, Any] = {"deploymentMode": DEPLOYMENT_MODE}
    ingress = cluster.cluster.spec.ingress
    if ingress is not None:
        controller["gateway"] = {"domain": ingress.domain, "domainTemplate": DOMAIN_TEMPLATE}
    return {"kserve": {"controller": controller}}


def build_controller(cluster: ClusterModel) -> ComponentOutput:
    charts = (
        # Its webhook certificate is a cert-manager Certificate.
        _chart(
            cluster,
            "kserve-resources",
            controller_values(cluster),
            uses_crd_groups=frozenset({"cert-manager.io", "serving.kserve.io"}),
        ),
        _chart(
            cluster,
            "kserve-runtime-configs",
            {"kserve": {"servingruntime": {"enabled": True}}},
            uses_crd_groups=CRD_GROUPS,  # its ClusterServingRuntimes
        ),
    )
    return ComponentOutput(charts=charts, after=("kserve-crds",))


def _predictor(cluster: ClusterModel, path: ServingPath, storage_uri: str) -> dict[str, Any]:
    spec = path.spec
    flavor = spec.gpu.flavor
    model: dict[str, Any] = {"modelFormat": {"name": spec.model.format}, "storageUri": storage_uri}
    if spec.model.runtime:
        model["runtime"] = spec.model.runtime
    predictor: dict[str, Any] = {"nodeSelector": node_labels(cluster, flavor)}
    tols = tolerations(cluster, flavor)
    if tols:
        predictor["tolerations"] = tols
    if cluster.dra:
        # The device comes from a claim, so the pod must not also ask the (absent) device plugin.
        template = claim_template_name(flavor, spec.gpu.count)
        predictor["resourceClaims"] = [{"name": DRA_CLAIM_REQUEST, "resourceClaimTemplateName": template}]
        model["resources"] = {"claims": [{"name": DRA_CLAIM_REQUEST}]}
    else:
        model["resources"] = {"limits": {cluster.gpu_resource(flavor): str(spec.gpu.count)}}
    predictor["model"] = model
    return predictor


def inference_service(cluster: ClusterModel, team: TeamOnCluster, path: ServingPath) -> KubeObject:
    spec = path.spec
    predictor = _predictor(cluster, path, spec.model.storageUri)
    predictor["minReplicas"] = spec.replicas.min
    predictor["maxReplicas"] = spec.replicas.max
    body: dict[str, Any] = {"predictor": predictor}
    if spec.canary is not None:
        # Canary replicas are fixed by KServe (no min/max on the canary predictor).
        canary = {**_predictor(cluster, path, spec.canary.storageUri), "name": CANARY_NAME}
        # The canary's model is a full container in the CRD (name required); KServe names it so.
        canary["model"] = {"name": MODEL_CONTAINER, **canary["model"]}
        body["canary"] = [{"trafficPercent": spec.canary.trafficPercent, "predictor": canary}]
    labels = {**team.labels, SERVING_PATH_LABEL: path.metadata.name}
    return obj(
        API,
        "InferenceService",
        inference_service_name(path.metadata.name),
        team.namespace,
        labels=labels,
        annotations={DEPLOYMENT_MODE_ANNOTATION: DEPLOYMENT_MODE},
        spec=body,
    )


def network_policies(cluster: ClusterModel, team: TeamOnCluster, path: ServingPath) -> list[KubeObject]:
    """Ingress to the predictor pods from the gateway and the allowFrom teams, plus the matching
    egress allow in each caller namespace (every team namespace denies egress by default)."""
    name = path.metadata.name
    pods = {"matchLabels": {ISVC_POD_LABEL: inference_service_name(name)}}
    port = [{"protocol": "TCP", "port": PREDICTOR_PORT}]
    present = {t.name: t for t in cluster.teams}
    callers = sorted(c for c in set(path.spec.allowFrom) if c in present and c != team.name)
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
                labels=present[caller].labels,
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
    for path in cluster.serving_paths:
        team = cluster.team(path.spec.team)
        if team is None:  # the spec checks reject this; stay total anyway
            continue
        objects.append(inference_service(cluster, team, path))
        objects += network_policies(cluster, team, path)
    # After dra too: predictors on dra clusters reference the team's claim templates.
    after = ("kserve", "dra") if cluster.dra else ("kserve",)
    return ComponentOutput(objects=tuple(objects), after=after)


CRD_COMPONENT = Component("kserve-crds", build_crds)
COMPONENT = Component("kserve", build_controller)
SERVING_COMPONENT = Component("serving", build_serving)
