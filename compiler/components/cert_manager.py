"""cert-manager: the KServe controller chart asks it for its webhook's serving certificate
(the kserve-resources templates create a cert-manager Issuer and Certificate), so KServe
cannot install on a cluster without it. Installed wherever KServe is, which is every cluster."""

from __future__ import annotations

from compiler.cluster_model import ClusterModel
from compiler.components.base import Chart, Component, ComponentOutput, CrdRelease, VersionPin, obj

NAMESPACE = "cert-manager"
CHART = Chart(
    "https://charts.jetstack.io",
    "cert-manager",
    crd_groups=frozenset({"cert-manager.io", "acme.cert-manager.io"}),
)


def build(cluster: ClusterModel) -> ComponentOutput:
    namespace = obj(
        "v1",
        "Namespace",
        NAMESPACE,
        labels={
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
        },
    )
    chart = CHART.release(
        COMPONENT.version_of(cluster),  # Jetstack publishes chart versions with the leading v
        NAMESPACE,
        # The chart keeps its CRDs on uninstall by default (crds.keep), so certificates survive.
        {"crds": {"enabled": True}},
    )
    return ComponentOutput(charts=(chart,), objects=(namespace,))


COMPONENT = Component(
    "cert-manager",
    build,
    namespaces=(NAMESPACE,),
    version=VersionPin("certManager", "v1.19.1"),
    charts=(CHART,),
    crds=(
        CrdRelease(
            "cert-manager/cert-manager",
            "a22e21ea",
            "https://raw.githubusercontent.com/cert-manager/cert-manager/{version}/deploy/crds/{file}",
            tuple(
                f"{group}_{plural}.yaml"
                for group, plural in (
                    ("acme.cert-manager.io", "challenges"),
                    ("acme.cert-manager.io", "orders"),
                    ("cert-manager.io", "certificaterequests"),
                    ("cert-manager.io", "certificates"),
                    ("cert-manager.io", "clusterissuers"),
                    ("cert-manager.io", "issuers"),
                )
            ),
            chart_archive="cert-manager-v1.19.1.tgz",
            chart_path="deploy/charts/cert-manager",
            helm_set=("crds.enabled=true",),
        ),
    ),
)
