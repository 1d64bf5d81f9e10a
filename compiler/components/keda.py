"""KEDA v2.20.2: the autoscaler behind serving paths that scale on concurrency, request rate or a
Prometheus query (KServe v0.20's `serving.kserve.io/autoscalerClass: keda` makes KServe create a
keda.sh/v1alpha1 ScaledObject per predictor). Installed only on clusters with such a serving path,
before the KServe controller (kserve.py says why) and so before the serving unit.
"""

from __future__ import annotations

from compiler.cluster_model import ClusterModel
from compiler.components.base import Chart, Component, ComponentOutput, CrdRelease, VersionPin, obj
from compiler.spec.serving import uses_keda

NAMESPACE = "keda"
# The chart's CRDs are templates (crds.install), so the chart provides these groups.
CHART = Chart(
    "https://kedacore.github.io/charts", "keda", crd_groups=frozenset({"keda.sh", "eventing.keda.sh"})
)
VERSION = VersionPin("keda", "2.20.2")


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
    chart = CHART.release(COMPONENT.version_of(cluster), NAMESPACE, {"crds": {"install": True}})
    return ComponentOutput(charts=(chart,), objects=(namespace,))


# No `emits`: the ScaledObjects are KServe's (keda_reconciler.go), not in the tree.
COMPONENT = Component(
    "keda",
    build,
    namespaces=(NAMESPACE,),
    version=VERSION,
    charts=(CHART,),
    # The chart's CRD templates (kedacore/charts) are what the cluster gets; they add bounds that
    # kedacore/keda's config/crd/bases lacks, so pulls of another pin read the chart's folder too.
    crds=(
        CrdRelease(
            "kedacore/charts",
            "cbb9bb8c",
            "https://raw.githubusercontent.com/kedacore/charts/v{version}/keda/templates/crds/{file}",
            tuple(
                f"crd-{plural}.yaml"
                for plural in (
                    "cloudeventsources",
                    "clustercloudeventsources",
                    "clustertriggerauthentications",
                    "scaledjobs",
                    "scaledobjects",
                    "triggerauthentications",
                )
            ),
            chart_archive="keda-2.20.2.tgz",
            chart_path="keda",
            helm_set=("crds.install=true",),
        ),
    ),
)
