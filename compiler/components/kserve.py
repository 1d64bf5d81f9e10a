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
from compiler.components.base import Component, ComponentOutput, HelmChart, obj
from compiler.naming import KSERVE_NAMESPACE
from compiler.spec.serving import uses_keda

REPOSITORY = "oci://ghcr.io/kserve/charts"
CRD_GROUPS = frozenset({"serving.kserve.io"})
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
        # The serving unit's HTTPRoute is the one route per host (kube_ingress_reconciler.go
        # creates no Ingress with disableIngressCreation).
        controller["gateway"] = {
            "domain": ingress.domain,
            "domainTemplate": DOMAIN_TEMPLATE,
            "disableIngressCreation": True,
        }
    storage = {"containerSecurityContext": STORAGE_SECURITY_CONTEXT}
    return {"kserve": {"controller": controller, "storage": storage}}


def build_controller(cluster: ClusterModel) -> ComponentOutput:
    charts = (
        # Its webhook certificate is a cert-manager Certificate.
        _chart(
            cluster,
            "kserve-resources",
            controller_values(cluster),
            uses_crd_groups=frozenset({"cert-manager.io"}),
        ),
        _chart(cluster, "kserve-runtime-configs", {"kserve": {"servingruntime": {"enabled": True}}}),
    )
    # KServe watches ScaledObjects only if their CRD exists when it starts (inferenceservice/
    # controller.go IsCrdAvailable), so KEDA comes first where a serving path scales with it.
    keda = ("keda",) if any(uses_keda(p) for p in cluster.serving_paths) else ()
    return ComponentOutput(charts=charts, after=("kserve-crds", *keda))


CRD_COMPONENT = Component("kserve-crds", build_crds)
COMPONENT = Component("kserve", build_controller)
