"""KServe v0.20 in Standard (RawDeployment) mode.

Four components, because four things must happen in order and each is one sync unit:
- kserve-crds: the kserve-crd chart (provides serving.kserve.io);
- kserve: the controller (kserve-resources), after the CRDs (and after KEDA where a serving
  path scales with it);
- runtimes: the ClusterServingRuntimes (kserve-runtime-configs), after the controller, whose
  validating webhook must admit them;
- serving (components/serving.py): InferenceServices, HTTPRoutes and their NetworkPolicies,
  after the controller, whose validating webhook must answer before an InferenceService exists.
"""

from __future__ import annotations

from typing import Any

from compiler.cluster_model import ClusterModel
from compiler.components.base import Chart, Component, ComponentOutput, CrdRelease, HelmChart, VersionPin, obj
from compiler.components.model_stores import cluster_s3_defaults
from compiler.naming import KSERVE_NAMESPACE
from compiler.spec.serving import uses_keda

REPOSITORY = "oci://ghcr.io/kserve/charts"
SERVING_GROUP = frozenset({"serving.kserve.io"})
CRD_CHART = Chart(REPOSITORY, "kserve-crd", crd_groups=SERVING_GROUP)
# Its webhook certificate is a cert-manager Certificate and it creates a ClusterStorageContainer;
# its admission webhooks (failurePolicy Fail) admit every serving.kserve.io object, so whatever
# creates those syncs after it.
CONTROLLER_CHART = Chart(
    REPOSITORY,
    "kserve-resources",
    uses_crd_groups=frozenset({"cert-manager.io"}) | SERVING_GROUP,
    webhook_groups=SERVING_GROUP,
)
RUNTIMES_CHART = Chart(REPOSITORY, "kserve-runtime-configs", uses_crd_groups=SERVING_GROUP)
VLLM_RUNTIME = "kserve-vllmserver"
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
    charts = (_release(cluster, CONTROLLER_CHART, controller_values(cluster)),)
    # KServe watches ScaledObjects only if their CRD exists when it starts (inferenceservice/
    # controller.go IsCrdAvailable), so KEDA comes first where a serving path scales with it.
    keda = ("keda",) if any(uses_keda(p) for p in cluster.serving_paths) else ()
    return ComponentOutput(charts=charts, after=("kserve-crds", *keda))


def build_runtimes(cluster: ClusterModel) -> ComponentOutput:
    """The ClusterServingRuntimes, in their own unit: kserve-resources' validating webhook must
    answer before the API server accepts them, or the first sync fails."""
    return ComponentOutput(charts=(_release(cluster, RUNTIMES_CHART, runtime_values(cluster)),))


CRD_COMPONENT = Component(
    "kserve-crds",
    build_crds,
    namespaces=(KSERVE_NAMESPACE,),
    version=VERSION,
    charts=(CRD_CHART,),
    crds=(
        CrdRelease(
            "kserve/kserve",
            "1fb781055dd1567164358233e1125142ca6ef1fe",
            "https://raw.githubusercontent.com/kserve/kserve/{version}/config/crd/full/{file}",
            tuple(
                f"serving.kserve.io_{plural}.yaml"
                for plural in (
                    "clusterservingruntimes",
                    "clusterstoragecontainers",
                    "inferencegraphs",
                    "inferenceservices",
                    "servingruntimes",
                    "trainedmodels",
                )
            ),
            chart_archive="kserve-crd-v0.20.0.tgz",
            chart_path="charts/kserve-crd",
        ),
    ),
)
COMPONENT = Component("kserve", build_controller, version=VERSION, charts=(CONTROLLER_CHART,))
RUNTIMES_COMPONENT = Component(
    "runtimes",
    build_runtimes,
    version=VERSION,
    charts=(RUNTIMES_CHART,),
    emits=(("serving.kserve.io", "ClusterServingRuntime", "v1alpha1"),),
)
