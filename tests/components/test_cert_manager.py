"""cert-manager: the Jetstack chart with its CRDs, which KServe's webhook certificate needs."""

from __future__ import annotations

from compiler.components import cert_manager
from tests.components.objects import named
from tests.components.synth import cluster


def test_chart_installs_its_crds_in_a_restricted_namespace() -> None:
    output = cert_manager.build(cluster())
    (chart,) = output.charts
    assert (chart.chart, chart.version, chart.namespace) == ("cert-manager", "v1.19.1", "cert-manager")
    assert chart.values == {"crds": {"enabled": True}}
    assert chart.crd_groups == frozenset({"cert-manager.io", "acme.cert-manager.io"})
    labels = named(output, "Namespace", "cert-manager")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
