"""Dashboards and alerts show each serving path's scaling signal: the query KEDA (or the CPU HPA)
scales on, divided by the per-replica target, against replicas running and replicas.max."""

from __future__ import annotations

import json
from typing import Any

from compiler.pipeline import ClusterBuild
from tests.ai.conftest import objects


def panels(build: ClusterBuild, dashboard: str) -> list[dict[str, Any]]:
    config = next(o for o in objects(build, "ConfigMap") if o["metadata"]["name"] == dashboard)
    (text,) = config["data"].values()
    found = []
    for panel in json.loads(text)["panels"]:
        found += [panel, *panel.get("panels", [])]
    return found


def scaling_panels(build: ClusterBuild, dashboard: str) -> list[dict[str, Any]]:
    return [
        p for p in panels(build, dashboard) if p.get("title") == "Autoscaling: replicas wanted vs running"
    ]


def rule(build: ClusterBuild, team: str, alert: str, path: str) -> dict[str, Any]:
    prometheus_rule = next(
        o for o in objects(build, "PrometheusRule") if o["metadata"]["name"] == f"platformc-team-{team}"
    )
    rules = [r for g in prometheus_rule["spec"]["groups"] for r in g["rules"]]
    return next(r for r in rules if r.get("alert") == alert and r["labels"].get("serving_path") == path)


def path_panel(build: ClusterBuild, dashboard: str, path: str) -> dict[str, Any]:
    """The scaling panel of one serving path (a team dashboard has one per path)."""
    (panel,) = (
        p
        for p in scaling_panels(build, dashboard)
        if f'deployment="{path}-predictor"' in p["targets"][-1]["expr"]
    )
    return panel


def test_keda_signal_on_the_team_dashboard_and_alert(example_builds: dict[str, ClusterBuild]) -> None:
    build = example_builds["prod-us-east"]
    # ai-research serves chat-llm (KEDA) and reranker (CPU HPA): one scaling panel each.
    assert len(scaling_panels(build, "platformc-prod-us-east-ai-research")) == 2
    panel = path_panel(build, "platformc-prod-us-east-ai-research", "chat-llm")
    wanted, running = (t["expr"] for t in panel["targets"])
    assert "vllm:num_requests_running" in wanted and wanted.endswith(" / 16")
    assert 'pod=~"chat-llm-predictor-.*"' in wanted  # its own pods only, not the reranker's
    assert 'deployment="chat-llm-predictor"' in running
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps[-1]["value"] == 4  # replicas.max of platform-spec/serving/chat-llm.yaml
    alert = rule(build, "ai-research", "ServingWantsMoreThanMaxReplicas", "chat-llm")
    assert alert["expr"] == f"{wanted} > 4" and alert["for"] == "15m"
    # Scale to zero on request rate: the gateway's counter, which exists with no replica.
    (panel,) = scaling_panels(build, "platformc-prod-us-east-ml-platform")
    assert 'destination_service_name="summarizer-predictor"' in panel["targets"][0]["expr"]


def test_cpu_signal_is_cores_over_cores_per_replica_at_target(
    example_builds: dict[str, ClusterBuild],
) -> None:
    build = example_builds["staging-eu"]
    (panel,) = scaling_panels(build, "platformc-staging-eu-app-frontend")
    wanted = panel["targets"][0]["expr"]
    # embeddings: l40s (48Gi) → 4 CPUs per replica, target 70 %
    assert "container_cpu_usage_seconds_total" in wanted and wanted.endswith("/ (4 * 0.7)")
    assert rule(build, "app-frontend", "ServingWantsMoreThanMaxReplicas", "embeddings")["expr"].endswith(
        "> 2"
    )
