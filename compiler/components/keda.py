"""KEDA v2.20.2: the autoscaler behind serving paths that scale on concurrency, request rate or a
Prometheus query (KServe v0.20's `serving.kserve.io/autoscalerClass: keda` makes KServe create a
keda.sh/v1alpha1 ScaledObject per predictor). Installed only on clusters with such a serving path,
before the KServe controller (kserve.py says why) and so before the serving unit.
"""

from __future__ import annotations

from compiler.cluster_model import ClusterModel
from compiler.components.base import Component, ComponentOutput, HelmChart, obj
from compiler.spec.serving import uses_keda

REPOSITORY = "https://kedacore.github.io/charts"
CHART = "keda"
VERSION = "2.20.2"
NAMESPACE = "keda"
CRD_GROUPS = frozenset({"keda.sh", "eventing.keda.sh"})  # the chart's CRDs are templates (crds.install)


def needed(cluster: ClusterModel) -> bool:
    return any(uses_keda(path) for path in cluster.serving_paths)


def build(cluster: ClusterModel) -> ComponentOutput:
    if not needed(cluster):
        return ComponentOutput()
    namespace = obj(
        "v1",
        "Namespace",
        NAMESPACE,
        labels={
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
        },
    )
    chart = HelmChart(
        repository=REPOSITORY,
        chart=CHART,
        version=VERSION,
        release=CHART,
        namespace=NAMESPACE,
        values={"crds": {"install": True}},
        crd_groups=CRD_GROUPS,
    )
    return ComponentOutput(charts=(chart,), objects=(namespace,))


COMPONENT = Component("keda", build)
