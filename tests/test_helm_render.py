"""The chart renderer runs real Helm on the pinned upstream archives."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from compiler.charts.render import (
    ChartMissing,
    HelmMissing,
    RenderRequest,
    chart_archive,
    kinds,
    parse_manifests,
    render,
)
from tests.compile.helpers import run_cli
from tests.conftest import REPO_ROOT, tool


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


class _Yaml11(yaml.SafeLoader):
    """PyYAML, with YAML 1.1's `=` value type read as the string Kubernetes sees."""


_Yaml11.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


@pytest.mark.parametrize("archive", ["kube-prometheus-stack-88.0.0.tgz", "gpu-operator-v26.7.0.tgz"])
def test_manifest_parser_reads_what_pyyaml_reads(shared_charts: Path, archive: str) -> None:
    """parse_manifests (ryaml) gives the same objects as PyYAML on the charts with the largest CRDs
    (kube-prometheus-stack's CRDs hold a bare `=` in an enum)."""
    text = subprocess.run(
        [
            tool("helm"),
            "template",
            "x",
            str(shared_charts / archive),
            "--include-crds",
            "--kube-version",
            "1.34",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    expected = [d for d in yaml.load_all(text, Loader=_Yaml11) if isinstance(d, dict)]
    assert parse_manifests(text) == expected
    assert len(expected) > 30


def test_missing_helm_names_what_to_install(shared_charts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("PLATFORMC_HELM", raising=False)
    request = RenderRequest(
        chart_archive(shared_charts, "kueue", "0.19.2"), "kueue", "kueue-system", {"x": 1}, "1.34"
    )
    with pytest.raises(HelmMissing, match=r"install Helm v3.14\+ or v4 and put `helm` on PATH"):
        render(request)


def test_compile_with_a_chart_cache_lacking_a_chart_names_the_pull(tmp_path: Path) -> None:
    empty = tmp_path / "charts"
    empty.mkdir()
    result = run_cli("compile", "--out", str(tmp_path / "out"), "--charts", str(empty), cwd=REPO_ROOT)
    assert result.returncode == 1
    assert (
        "is not in" in result.stderr and "run `platformc charts pull` or pass --charts DIR" in result.stderr
    )
    assert not (tmp_path / "out").exists()
