"""Generated monitoring objects are valid: PrometheusRule/PodMonitor/GrafanaDashboard against the
upstream CRD schemas, dashboard ConfigMaps against the Kubernetes schema, dashboard JSON in the
Grafana 11.6 model; and a grafana-operator platform gets GrafanaDashboards ordered after the chart."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import kubernetes_validate
import pytest

from compiler.pipeline import build_platform
from tests.conftest import schema_errors

from .conftest import ROOT, dashboard_models

GRAFANA_SCHEMA_VERSION = 41  # what grafana-foundation-sdk's 11.6 build emits


def objects_of(objects, kind):
    return [(path, obj) for path, obj in objects if obj["kind"] == kind]


@pytest.mark.parametrize("kind", ["PrometheusRule", "PodMonitor"])
def test_monitoring_objects_match_crd_schema(generated_objects, kind):
    found = objects_of(generated_objects, kind)
    assert found
    errors = [f"{path}: {e}" for path, obj in found for e in schema_errors(obj)]
    assert not errors, "\n".join(errors)


def test_schema_helper_reports_errors():
    bad = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "x"},
        "spec": {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up", "fro": "5m"}]}]},
    }
    assert schema_errors(bad)


def test_dashboard_configmaps(generated_objects):
    configmaps = [(p, o) for p, o in objects_of(generated_objects, "ConfigMap") if dashboard_models(o)]
    # one GPU-platform dashboard per cluster and one per team and cluster
    assert len(configmaps) == 2 * (1 + 3)
    for path, cm in configmaps:
        kubernetes_validate.validate(cm, "1.34", strict=True)
        assert cm["metadata"]["namespace"] == "monitoring"
        for model in dashboard_models(cm):
            assert model["schemaVersion"] == GRAFANA_SCHEMA_VERSION, path
            assert model["uid"] and len(model["uid"]) <= 40
            ids = [p["id"] for p in model["panels"]]
            assert len(ids) == len(set(ids)), f"{path}: duplicate panel ids"
            for panel in model["panels"]:
                assert panel["type"] in {"row", "timeseries", "stat"}
                for target in panel.get("targets", []):
                    assert target["datasource"] == {"type": "prometheus", "uid": "prometheus"}
                    assert target["refId"]


def test_dashboard_json_is_canonical(generated_objects):
    for _, cm in objects_of(generated_objects, "ConfigMap"):
        for text in cm.get("data", {}).values():
            if text.lstrip().startswith("{"):
                assert text == json.dumps(json.loads(text), sort_keys=True, indent=2) + "\n"


@pytest.fixture(scope="module")
def operator_builds(tmp_path_factory):
    spec = tmp_path_factory.mktemp("spec") / "platform-spec"
    shutil.copytree(ROOT / "platform-spec", spec)
    platform = spec / "platform.yaml"
    text = platform.read_text()
    assert "dashboards: configmap" in text
    platform.write_text(text.replace("dashboards: configmap", "dashboards: grafana-operator"))
    return build_platform(Path(spec))


def test_grafana_operator_platform_gets_valid_grafana_dashboards(operator_builds):
    for build in operator_builds:
        placed = [o for _, o in build.placed]
        boards = [o for o in placed if o["kind"] == "GrafanaDashboard"]
        assert len(boards) == 1 + len(build.model.teams)
        assert not [o for o in placed if o["kind"] == "ConfigMap" and dashboard_models(o)]
        instances = [o for o in placed if o["kind"] == "Grafana"]
        assert len(instances) == 1
        for board in boards:
            assert not schema_errors(board), schema_errors(board)
            selector = board["spec"]["instanceSelector"]["matchLabels"]
            assert selector.items() <= instances[0]["metadata"]["labels"].items()
            assert json.loads(board["spec"]["json"])["schemaVersion"] == GRAFANA_SCHEMA_VERSION


def test_grafana_operator_chart_comes_before_its_dashboards(operator_builds):
    for build in operator_builds:
        units = {u.name: u for u in build.units}
        chart_unit = next(u for u in build.units if any(c.chart == "grafana-operator" for c in u.charts))
        board_unit = next(u for u in build.units if any(o["kind"] == "GrafanaDashboard" for o in u.objects))
        assert chart_unit.name in board_unit.depends_on
        assert units[board_unit.name].wave > units[chart_unit.name].wave
        assert next(c for c in chart_unit.charts if c.chart == "grafana-operator").version == "5.24.0"


def test_rules_and_monitors_sync_after_the_prometheus_chart(generated_objects):
    apps = {o["metadata"]["name"]: o for _, o in objects_of(generated_objects, "Application")}
    chart = apps["prod-us-east-monitoring"]
    config = apps["prod-us-east-monitoring-config"]
    assert chart["spec"]["sources"][0]["chart"] == "kube-prometheus-stack"
    wave = "argocd.argoproj.io/sync-wave"
    assert int(config["metadata"]["annotations"][wave]) > int(chart["metadata"]["annotations"][wave])


def test_alert_thresholds_come_from_the_spec(tmp_path):
    spec = tmp_path / "platform-spec"
    shutil.copytree(ROOT / "platform-spec", spec)
    platform = spec / "platform.yaml"
    platform.write_text(
        platform.read_text().replace(
            "dashboards: configmap",
            "dashboards: configmap\n  alerts: {idleGpuMinutes: 90, queuePendingMinutes: 10}",
        )
    )
    rules = [
        rule
        for build in build_platform(spec)
        for _, o in build.placed
        if o["kind"] == "PrometheusRule"
        for group in o["spec"]["groups"]
        for rule in group["rules"]
    ]
    assert {r["for"] for r in rules if r.get("alert") == "GPUAllocatedButIdle"} == {"90m"}
    backlog = [r for r in rules if r.get("alert") == "KueueWorkloadsPendingTooLong"]
    assert backlog and all(r["for"] == "10m" and "[10m]" in r["expr"] for r in backlog)
