"""Fixtures for the serving tests: the example and a synthetic platform built in memory, and the
KServe configuration a cluster gets, from its kserve charts rendered with real Helm."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compiler.charts.render import RenderRequest, chart_archive, render
from compiler.cluster_model import ClusterModel
from compiler.components import COMPONENTS
from compiler.pipeline import ClusterBuild
from compiler.synthetic import write_synthetic_spec
from compiler.verify.kserve_pods import KServeConfig
from tests.ai.conftest import build_all, example_builds, objects, write_spec  # noqa: F401  (fixtures)

# The charts KServe's controller and pod webhook read their configuration from, whichever
# component installs them.
KSERVE_CHARTS = ("kserve-resources", "kserve-runtime-configs")
ValuesEdit = Callable[[str, dict[str, Any]], None]  # (chart name, values) -> None, edits in place


def kserve_config(model: ClusterModel, charts_dir: Path, edit: ValuesEdit | None = None) -> KServeConfig:
    """What KServe's controller and pod webhook read on this cluster: the kserve-resources and
    kserve-runtime-configs charts rendered with the values the components give them."""
    rendered: list[dict[str, Any]] = []
    charts = [
        c for component in COMPONENTS for c in component.build(model).charts if c.chart in KSERVE_CHARTS
    ]
    assert sorted(c.chart for c in charts) == sorted(KSERVE_CHARTS)
    for chart in charts:
        values = copy.deepcopy(dict(chart.values))
        if edit is not None:
            edit(chart.chart, values)
        request = RenderRequest(
            archive=chart_archive(charts_dir, chart.chart, chart.version),
            release=chart.release,
            namespace=chart.namespace,
            values=values,
            kube_version=model.kubernetes_version,
        )
        rendered += render(request)
    return KServeConfig.from_objects(rendered)


@pytest.fixture(scope="session")
def synthetic_builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ClusterBuild]:
    """Four clusters (dra and device-plugin, Argo CD and Flux) and every autoscaling signal."""
    spec = tmp_path_factory.mktemp("synthetic") / "spec"
    write_synthetic_spec(spec, clusters=4, teams=6, serving_paths=12)
    return build_all(spec)


def team_namespaces(build: ClusterBuild) -> dict[str, dict[str, Any]]:
    return {
        o["metadata"]["name"]: o
        for o in objects(build, "Namespace")
        if "platformc.dev/team" in o["metadata"].get("labels", {})
    }
