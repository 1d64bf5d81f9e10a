"""Kueue metrics reach Prometheus (issue 13, item 6), asserted on the kueue 0.19.2 chart
rendered with real Helm from ../shared/charts."""

from __future__ import annotations

from pathlib import Path

import yaml

from compiler.charts.render import RenderRequest, chart_archive, render
from tests.ai.charts import of_kind, render_chart


def _manager_config(objects: list[dict]) -> dict:
    config_map = next(
        o for o in of_kind(objects, "ConfigMap") if o["metadata"]["name"].endswith("manager-config")
    )
    return yaml.safe_load(config_map["data"]["controller_manager_config.yaml"])


def test_kueue_chart_renders_its_service_monitor_and_queue_resource_metrics(
    shared_charts: Path, example_builds
):
    """kubernetes-sigs/kueue v0.19.2 charts/kueue/templates/prometheus/monitor.yaml renders the
    ServiceMonitor only with enablePrometheus (values.yaml default false), and
    pkg/metrics/metrics.go reports kueue_cluster_queue_resource_usage and
    kueue_cluster_queue_nominal_quota only with metrics.enableClusterQueueResources."""
    for build in example_builds.values():
        objects = render_chart(shared_charts, build, "kueue")
        monitors = of_kind(objects, "ServiceMonitor")
        assert len(monitors) == 1, build.model.name
        assert monitors[0]["spec"]["endpoints"][0]["port"] == "https"
        assert _manager_config(objects)["metrics"]["enableClusterQueueResources"] is True
        units = {u.name: u for u in build.units}
        # The chart now creates a ServiceMonitor: its unit syncs after the Prometheus Operator CRDs.
        assert "monitoring" in units["kueue"].depends_on


def test_kueue_keeps_the_charts_controller_concurrency(shared_charts: Path, example_builds):
    """kubernetes-sigs/kueue v0.19.2 charts/kueue/values.yaml: managerConfig's default sets
    controller.groupKindConcurrency (Workload 10, Job/Pod/LocalQueue/ClusterQueue 5,
    ResourceFlavor 1); a replacement config without it leaves every controller at 1."""
    archive = chart_archive(shared_charts, "kueue", "0.19.2")
    default = _manager_config(render(RenderRequest(archive, "kueue", "kueue-system", {}, "1.34")))
    expected = default["controller"]["groupKindConcurrency"]
    assert expected["Workload.kueue.x-k8s.io"] == 10
    for build in example_builds.values():
        ours = _manager_config(render_chart(shared_charts, build, "kueue"))
        assert ours["controller"]["groupKindConcurrency"] == expected, build.model.name
