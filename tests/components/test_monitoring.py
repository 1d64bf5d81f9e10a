"""monitoring: kube-prometheus-stack, alert rules, dashboards and scrape targets from the spec."""

from __future__ import annotations

from compiler.components import monitoring
from tests.components.objects import names, of_kind
from tests.components.synth import cluster


def test_stack_chart_and_per_team_rules() -> None:
    output = monitoring.build(cluster())
    assert [(c.chart, c.version, c.namespace) for c in output.charts] == [
        ("kube-prometheus-stack", "88.0.0", "monitoring")
    ]
    assert names(output, "PrometheusRule", "monitoring") == ["platformc-cluster", "platformc-team-research"]


def test_serving_paths_are_scraped() -> None:
    assert names(monitoring.build(cluster()), "PodMonitor") == []
    assert names(monitoring.build(cluster(serving_count=1)), "PodMonitor") == [
        "ingress-gateway",
        "kserve-predictors",
    ]


def test_dashboards_follow_the_platform_setting() -> None:
    as_configmaps = monitoring.build(cluster())
    assert of_kind(as_configmaps, "GrafanaDashboard") == []
    assert all(
        c["metadata"]["labels"]["grafana_dashboard"] == "1" for c in of_kind(as_configmaps, "ConfigMap")
    )
    operator = monitoring.build(cluster(dashboards="grafana-operator"))
    assert [c.chart for c in operator.charts] == ["kube-prometheus-stack", "grafana-operator"]
    assert len(of_kind(operator, "GrafanaDashboard")) == len(of_kind(as_configmaps, "ConfigMap"))
