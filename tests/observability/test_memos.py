"""What a forked worker keeps between the clusters it compiles (dashboard panel shapes, a team's
dashboard rows, row layouts, embedded config files) changes nothing a cluster gets: a cluster
compiles to the same objects alone, first, or after the others."""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml
from grafana_foundation_sdk.models.dashboard import GridPos

from compiler.cluster_model import ClusterModel, cluster_models
from compiler.components import base
from compiler.core import build_cluster
from compiler.observability import dashboards
from compiler.observability.dashboards import PanelSpec, Query
from compiler.synth import load
from compiler.synthetic import synthetic_texts

MEMOS = (
    dashboards._panel_shape,
    dashboards._row_json,
    dashboards._row_layout,
    dashboards._team_rows,
    base._config_yaml,
)


def _forget() -> None:
    for memo in MEMOS:
        memo.cache_clear()


def _clusters() -> list[ClusterModel]:
    """Three clusters with every team on each; team-000's budget differs per cluster, so its
    budget row must not be shared."""
    texts = synthetic_texts(3, 4, 6, clusters_per_team=None)
    docs: list[dict[str, Any]] = [d for text in texts.values() for d in yaml.safe_load_all(text) if d]
    for doc in docs:
        if doc["kind"] == "Team" and doc["metadata"]["name"] == "team-000":
            doc["spec"]["budget"] = {"clusters": {"cluster-000": 1000, "cluster-001": 2500}}
    return cluster_models(load(docs))


def test_a_cluster_compiles_the_same_alone_first_or_after_the_others() -> None:
    clusters = _clusters()
    _forget()
    forward = {c.name: build_cluster(c).placed for c in clusters}
    backward = {c.name: build_cluster(c).placed for c in reversed(clusters)}
    assert backward == forward
    for cluster in clusters:
        _forget()
        assert build_cluster(cluster).placed == forward[cluster.name], cluster.name
    budgets = {
        name: [
            panel["fieldConfig"]["defaults"]["thresholds"]["steps"][-1]["value"]
            for _, o in placed
            if o["metadata"]["name"] == dashboards.dashboard_uid(name, "team-000")
            for panel in yaml.safe_load(o["data"][f"{o['metadata']['name']}.json"])["panels"]
            if panel.get("title") == "GPU spend vs monthly budget (USD)"
        ]
        for name, placed in forward.items()
    }
    assert budgets == {"cluster-000": [1000], "cluster-001": [2500], "cluster-002": []}


@pytest.mark.parametrize(
    "spec",
    [
        PanelSpec("GPU utilisation", (Query('m{namespace="a"}', "{{exported_namespace}}"),), "percent"),
        PanelSpec(
            "Error ratio (5xx)",
            (Query('a{x=~"5.."} / b', "5m"), Query("c", "1h")),
            "percentunit",
            threshold=0.01,
            description="dashed line = SLO maxErrorRatio",
            width=8,
        ),
        PanelSpec("GPU cost (USD/h)", (Query("sum(x) or vector(0)", "USD/h"),), "currencyUSD", kind="stat"),
    ],
)
def test_a_panel_made_from_its_shape_is_the_panel_the_sdk_builds(spec: PanelSpec) -> None:
    """grafana-foundation-sdk (builders/timeseries.py, stat.py, prometheus.py) sets a panel's id,
    gridPos and each Dataquery's expr as given, so the shape built once with blank queries and
    completed per panel is the panel the SDK builds whole."""
    whole = dashboards._plain(dashboards._panel(spec, 7, GridPos(h=8, w=spec.width, x=12, y=3)).build())
    assert dashboards._panel_json(spec, 7, (8, spec.width, 12, 3)) == whole


@pytest.mark.parametrize(
    "document",
    [
        {"version": "v1", "flags": {"migStrategy": "mixed"}, "list": [1, 2.5, True, None, "x"]},
        {"nan": math.nan},  # JSON has no NaN: dumped as it is
        {1: "int key"},  # nor integer keys
    ],
)
def test_config_yaml_is_what_safe_dump_writes(document: dict[Any, Any]) -> None:
    expected = yaml.safe_dump(document, sort_keys=True, default_flow_style=False)
    assert base.config_yaml(document) == expected
    assert base.config_yaml(document) == expected  # from the memo, where there is one
