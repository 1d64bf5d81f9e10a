"""Render what a component installs with real Helm from ../shared/charts, as the GitOps engine would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compiler.charts.render import RenderRequest, chart_archive, render
from compiler.components.base import HelmChart
from compiler.pipeline import ClusterBuild


def component_chart(build: ClusterBuild, chart: str) -> HelmChart:
    """The HelmChart the cluster's units install under that chart name."""
    found = [c for u in build.units for c in u.charts if c.chart == chart]
    assert len(found) == 1, f"{chart}: {len(found)} releases on {build.model.name}"
    return found[0]


def render_chart(charts_dir: Path, build: ClusterBuild, chart: str) -> list[dict[str, Any]]:
    """The objects the engine applies for that release: its values, its cluster's Kubernetes
    version, and the chart's crds/ unless the release skips them."""
    return render_helm_chart(charts_dir, component_chart(build, chart), build.model.kubernetes_version)


def render_helm_chart(
    charts_dir: Path, spec: HelmChart, kube_version: str, include_crds: bool | None = None
) -> list[dict[str, Any]]:
    request = RenderRequest(
        chart_archive(charts_dir, spec.chart, spec.version),
        spec.release,
        spec.namespace,
        spec.values,
        kube_version,
        api_versions=("monitoring.coreos.com/v1", "cert-manager.io/v1"),
        include_crds=not getattr(spec, "skip_crds", False) if include_crds is None else include_crds,
    )
    return render(request)


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o.get("kind") == kind]
