"""cert-manager: the KServe controller chart asks it for its webhook's serving certificate
(the kserve-resources templates create a cert-manager Issuer and Certificate), so KServe
cannot install on a cluster without it. Installed wherever KServe is, which is every cluster."""

from __future__ import annotations

from compiler.cluster_model import ClusterModel
from compiler.components.base import Component, ComponentOutput, HelmChart, obj

REPOSITORY = "https://charts.jetstack.io"
NAMESPACE = "cert-manager"
CRD_GROUPS = frozenset({"cert-manager.io", "acme.cert-manager.io"})


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
    chart = HelmChart(
        repository=REPOSITORY,
        chart="cert-manager",
        version=cluster.versions.certManager,  # Jetstack publishes chart versions with the leading v
        release="cert-manager",
        namespace=NAMESPACE,
        # The chart keeps its CRDs on uninstall by default (crds.keep), so certificates survive.
        values={"crds": {"enabled": True}},
        crd_groups=CRD_GROUPS,
    )
    return ComponentOutput(charts=(chart,), objects=(namespace,))


COMPONENT = Component("cert-manager", build)
