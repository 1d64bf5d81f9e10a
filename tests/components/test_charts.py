"""A descriptor's chart facts hold for the real chart: rendered with real Helm from
../shared/charts (SOURCES.md) with the values the component generates, every CRD group the
descriptor declares is installed by the chart, and every custom resource the chart's templates
create is of a group it installs, declares it uses, or that a component it syncs after installs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.charts.render import ChartMissing, RenderRequest, chart_archive, render
from compiler.components import COMPONENTS
from compiler.components.base import Component, HelmChart
from compiler.validate.core import builtin_groups
from tests.components.synth import cluster


def _releases() -> dict[str, tuple[Component, HelmChart, str]]:
    """chart name → (component, release as built, Kubernetes version), over a dra and a
    device-plugin cluster with the Grafana operator, KEDA and image signatures, so every chart
    of the registry appears."""
    found: dict[str, tuple[Component, HelmChart, str]] = {}
    keda = {
        "autoscaling": {"metric": "concurrency", "target": 4},
        "replicas": {"min": 1, "max": 2},
    }  # only where used
    signatures = {  # policy-controller, only where asked
        "imageSignatures": {
            "mode": "enforce",
            "images": ["registry.example.com/**"],
            "keyless": [{"issuer": "https://issuer.example.com", "subject": "ci@example.com"}],
        }
    }
    for model in (
        cluster(
            allocation="dra",
            dashboards="grafana-operator",
            serving_count=1,
            serving=keda,
            policies=signatures,
        ),
        cluster(),
    ):
        for component in COMPONENTS:
            for chart in component.build(model).charts:
                found.setdefault(chart.chart, (component, chart, model.kubernetes_version))
    return found


RELEASES = _releases()

# Charts with no archive in the offline chart set (../shared/charts/SOURCES.md), so no test can
# render them yet: named here, with the reason, so the gap is visible and the list can only shrink.
NOT_IN_OFFLINE_CHARTS = {
    "policy-controller": "sigstore/helm-charts policy-controller 0.10.6 is not in ../shared/charts",
}


def test_every_chart_of_the_registry_is_covered() -> None:
    assert sorted(RELEASES) == sorted({c.chart for component in COMPONENTS for c in component.charts})


def test_charts_missing_offline_are_still_missing(shared_charts: Path) -> None:
    """Once an archive arrives in ../shared/charts, its chart must leave the exception list."""
    for name in NOT_IN_OFFLINE_CHARTS:
        _, chart, _ = RELEASES[name]
        with pytest.raises(ChartMissing):
            chart_archive(shared_charts, chart.chart, chart.version)


@pytest.mark.parametrize("name", sorted(set(RELEASES) - set(NOT_IN_OFFLINE_CHARTS)))
def test_chart_installs_and_uses_what_its_descriptor_says(name: str, shared_charts: Path) -> None:
    component, chart, kubernetes_version = RELEASES[name]
    request = RenderRequest(
        chart_archive(shared_charts, chart.chart, chart.version),
        chart.release,
        chart.namespace,
        dict(chart.values),
        kubernetes_version,
    )
    objects = render(request)
    installed = {o["spec"]["group"] for o in objects if o.get("kind") == "CustomResourceDefinition"}
    assert chart.crd_groups <= installed, f"{name} does not install {sorted(chart.crd_groups - installed)}"
    created = {
        o["apiVersion"].rpartition("/")[0] for o in objects if o.get("kind") != "CustomResourceDefinition"
    }
    custom = created - set(builtin_groups(kubernetes_version)) - installed
    after = {c for c in COMPONENTS if c.name in component.build(cluster(allocation="dra")).after}
    provided_before = {g for c in after for ch in c.charts for g in ch.crd_groups}
    assert custom <= chart.uses_crd_groups | provided_before, (
        f"{name} creates custom resources of {sorted(custom - chart.uses_crd_groups - provided_before)} "
        "that nothing orders it after"
    )
