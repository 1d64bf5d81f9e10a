"""The chart renderer runs real Helm on the pinned upstream archives."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.charts.render import ChartMissing, RenderRequest, chart_archive, kinds, render


def test_kueue_chart_renders_its_crds_and_manager(shared_charts: Path) -> None:
    """kubernetes-sigs/kueue v0.19.2 charts/kueue: the chart ships the kueue.x-k8s.io CRDs
    and the controller-manager Deployment."""
    archive = chart_archive(shared_charts, "kueue", "v0.19.2")
    objects = render(RenderRequest(archive, "kueue", "kueue-system", {}, "1.34"))
    crds = {o["metadata"]["name"] for o in objects if o["kind"] == "CustomResourceDefinition"}
    assert "clusterqueues.kueue.x-k8s.io" in crds
    assert ("apps/v1", "Deployment") in kinds(objects)


def test_missing_chart_names_the_pull_command(tmp_path: Path) -> None:
    with pytest.raises(ChartMissing, match="platformc charts pull"):
        chart_archive(tmp_path, "kueue", "0.19.2")
