"""KServe v0.20 in Standard (RawDeployment) mode.

Three components, because three things must happen in order and each is one sync unit:
- kserve-crds: the kserve-crd chart (provides serving.kserve.io);
- kserve: the controller (kserve-resources) and the ClusterServingRuntimes
  (kserve-runtime-configs), after the CRDs (and after KEDA where a serving path scales with it);
- serving (components/serving.py): InferenceServices, HTTPRoutes and their NetworkPolicies,
  after the controller, whose validating webhook must answer before an InferenceService exists.
"""

from __future__ import annotations

from typing import Any

from compiler.cluster_model import ClusterModel
from compiler.components.base import Chart, Component, ComponentOutput, HelmChart, VersionPin, obj
from compiler.components.model_stores import cluster_s3_defaults
from compiler.naming import KSERVE_NAMESPACE
from compiler.spec.serving import uses_keda

REPOSITORY = "oci://ghcr.io/kserve/charts"
CRD_CHART = Chart(REPOSITORY, "kserve-crd", crd_groups=frozenset({"serving.kserve.io"}))
# Its webhook certificate is a cert-manager Certificate.
# Its webhook certificate is a cert-manager Certificate; it also creates a ClusterStorageContainer.
CONTROLLER_CHART = Chart(
    REPOSITORY, "kserve-resources", uses_crd_groups=frozenset({"cert-manager.io", "serving.kserve.io"})
)
# Its ClusterServingRuntimes.
VLLM_RUNTIME = "kserve-vllmserver"
RUNTIMES_CHART = Chart(REPOSITORY, "kserve-runtime-configs", uses_crd_groups=frozenset({"serving.kserve.io"}))
VERSION = VersionPin("kserve", "v0.20.0")  # one pin for the three KServe charts
DEPLOYMENT_MODE = "Standard"
# Host <path>.<team>.<domain>: the InferenceService name is the path, its namespace the team.
DOMAIN_TEMPLATE = "{{ .Name }}.{{ .Namespace }}.{{ .IngressDomain }}"
# The storage initializer (ClusterStorageContainer `default`, from storage.containerSecurityContext):
# the chart's default lacks seccompProfile, which Pod Security `restricted` requires.
STORAGE_SECURITY_CONTEXT = {
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _release(cluster: ClusterModel, chart: Chart, values: dict[str, Any]) -> HelmChart:
    # KServe publishes its OCI charts with the leading v.
    return chart.release(COMPONENT.version_of(cluster), KSERVE_NAMESPACE, values)


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
    return ComponentOutput(charts=(_release(cluster, CRD_CHART, {}),), objects=(namespace,))


def controller_values(cluster: ClusterModel) -> dict[str, Any]:
    controller: dict[str, Any] = {"deploymentMode": DEPLOYMENT_MODE}
    ingress = cluster.cluster.spec.ingress
    if ingress is not None:
        # The serving unit's HTTPRoute is the one route per host (kube_ingress_reconciler.go
        # creates no Ingress with disableIngressCreation).
        controller["gateway"] = {
            "domain": ingress.domain,
            "domainTemplate": DOMAIN_TEMPLATE,
            "disableIngressCreation": True,
        }
    storage: dict[str, Any] = {"containerSecurityContext": STORAGE_SECURITY_CONTEXT}
    s3 = cluster_s3_defaults(cluster)
    if s3 is not None:
        storage["s3"] = s3
    return {"kserve": {"controller": controller, "storage": storage}}


def runtime_values(cluster: ClusterModel) -> dict[str, Any]:
    """kserve-runtime-configs values. A hydrated tree is validated object by object, and the chart's
    vLLM runtime runs vllm/vllm-openai:latest (values.yaml `vllmserver.tag: latest`), a moving tag
    the baseline refuses: there it is disabled (`spec.disabled`, never pulled) unless a serving path
    of the cluster names it."""
    servingruntime: dict[str, Any] = {"enabled": True}
    wanted = {p.spec.model.runtime for p in cluster.serving_paths}
    if cluster.platform.spec.gitops.render == "hydrated" and VLLM_RUNTIME not in wanted:
        servingruntime["vllmserver"] = {"disabled": True}
    return {"kserve": {"servingruntime": servingruntime}}


def build_controller(cluster: ClusterModel) -> ComponentOutput:
    charts = (
        _release(cluster, CONTROLLER_CHART, controller_values(cluster)),
        _release(cluster, RUNTIMES_CHART, runtime_values(cluster)),
    )
    # KServe watches ScaledObjects only if their CRD exists when it starts (inferenceservice/
    # controller.go IsCrdAvailable), so KEDA comes first where a serving path scales with it.
    keda = ("keda",) if any(uses_keda(p) for p in cluster.serving_paths) else ()
    return ComponentOutput(charts=charts, after=("kserve-crds", *keda))


CRD_COMPONENT = Component(
    "kserve-crds", build_crds, namespaces=(KSERVE_NAMESPACE,), version=VERSION, charts=(CRD_CHART,)
)
COMPONENT = Component(
    "kserve",
    build_controller,
    version=VERSION,
    charts=(CONTROLLER_CHART, RUNTIMES_CHART),
    emits=(("serving.kserve.io", "ClusterServingRuntime", "v1alpha1"),),
)
