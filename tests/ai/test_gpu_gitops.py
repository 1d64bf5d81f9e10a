"""GitOps facts the engines depend on (issue 13, items 10-12)."""

from __future__ import annotations

import tarfile
from pathlib import Path

import yaml

from compiler.components import monitoring


def _chart_yaml_version(archive: Path, chart: str) -> str:
    with tarfile.open(archive) as tar:
        member = tar.extractfile(f"{chart}/Chart.yaml")
        assert member is not None
        return str(yaml.safe_load(member.read())["version"])


def test_grafana_operator_pin_is_the_published_chart_tag(shared_charts: Path):
    """grafana/grafana-operator v5.24.0 .github/workflows/release.yaml packages the chart with the
    tag's leading v stripped, so the OCI tag Flux's OCIRepository resolves is the Chart.yaml
    version (../shared/charts/SOURCES.md: 'publishes chart version 5.24.0')."""
    _, chart, version = monitoring.GRAFANA_OPERATOR
    assert version == _chart_yaml_version(shared_charts / f"{chart}-5.24.0.tgz", chart)
