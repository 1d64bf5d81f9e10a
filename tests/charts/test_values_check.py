"""Every values key a component sets must be read by its chart: a misspelt or renamed key is an
error naming the component, the key path and the nearest keys the chart has."""

from __future__ import annotations

import shutil
from pathlib import Path

from compiler.charts.render import chart_archive
from compiler.charts.values_check import check_values
from compiler.pipeline import ClusterBuild
from tests.compile.helpers import compile_cli
from tests.conftest import EXAMPLE_OVERLAYS, EXAMPLE_SPEC


def test_every_key_platformc_sets_today_is_live(
    example_builds: dict[str, ClusterBuild], shared_charts: Path
) -> None:
    for build in example_builds.values():
        for unit in build.units:
            for chart in unit.charts:
                archive = chart_archive(shared_charts, chart.chart, chart.version)
                assert check_values(unit.component, archive, chart.chart, chart.version, chart.values) == []


def test_a_misspelt_gpu_operator_key_is_caught(shared_charts: Path) -> None:
    """gpu-operator v26.7.0 values.yaml has migManager.config.name; `confg` is read nowhere."""
    archive = chart_archive(shared_charts, "gpu-operator", "v26.7.0")
    values = {"migManager": {"enabled": True, "confg": {"name": "platformc-mig-parted-config"}}}
    (problem,) = check_values("gpu-operator", archive, "gpu-operator", "v26.7.0", values)
    assert problem.startswith(
        "component 'gpu-operator' sets values key migManager.confg.name that chart gpu-operator v26.7.0 "
        "neither declares in values.yaml nor reads in a template (nearest existing keys: migManager.config"
    )


def test_sub_chart_keys_and_open_maps_are_live(shared_charts: Path) -> None:
    """kube-prometheus-stack 88.0.0 vendors grafana (charts/grafana/values.yaml has sidecar.dashboards.*)
    and leaves `commonLabels: {}` open; a key under grafana that the sub-chart lacks is dead."""
    archive = chart_archive(shared_charts, "kube-prometheus-stack", "88.0.0")
    live = {"grafana": {"sidecar": {"dashboards": {"label": "x"}}}, "commonLabels": {"team": "a"}}
    assert check_values("monitoring", archive, "kube-prometheus-stack", "88.0.0", live) == []
    dead = {"grafana": {"sidecar": {"dashbords": {"label": "x"}}}}
    (problem,) = check_values("monitoring", archive, "kube-prometheus-stack", "88.0.0", dead)
    assert "grafana.sidecar.dashbords.label" in problem


def test_values_schema_is_enforced(shared_charts: Path) -> None:
    """cert-manager v1.19.1 values.schema.json: crds.enabled is a boolean."""
    archive = chart_archive(shared_charts, "cert-manager", "v1.19.1")
    problems = check_values("cert-manager", archive, "cert-manager", "v1.19.1", {"crds": {"enabled": "yes"}})
    assert len(problems) == 1
    assert problems[0].startswith("component 'cert-manager', chart cert-manager v1.19.1: crds.enabled: ")
    assert "values.schema.json" in problems[0]


def test_compile_refuses_a_custom_component_with_a_dead_key(tmp_path: Path, shared_charts: Path) -> None:
    """volcano 1.15.1 values.yaml has basic.image_tag_version; the example's custom component
    misspells it, and compile with the chart cache stops, writing nothing."""
    overlays = tmp_path / "overlays"
    shutil.copytree(EXAMPLE_OVERLAYS, overlays)
    config = overlays / "components" / "volcano" / "component.yaml"
    namespace = "  namespace: volcano-system\n"
    config.write_text(
        config.read_text().replace(
            namespace, namespace + "  values:\n    basic:\n      image_tag_versoin: v1.15.1\n"
        )
    )
    result = compile_cli(
        "--spec",
        str(EXAMPLE_SPEC),
        "--overlays",
        str(overlays),
        "--out",
        str(tmp_path / "out"),
        "--charts",
        str(shared_charts),
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "component 'volcano' sets values key basic.image_tag_versoin" in result.stderr
    assert "nearest existing keys: basic.image_tag_version" in result.stderr
    assert "nothing was written" in result.stderr
    assert not (tmp_path / "out").exists()


def test_keys_under_a_map_a_template_passes_whole_are_live(shared_charts: Path) -> None:
    """kserve-resources v0.20.0 files/common/storagecontainer-patch.yaml (rendered with tpl) writes
    `with .Values.kserve.storage.containerSecurityContext` whole, so any key under it is read."""
    archive = chart_archive(shared_charts, "kserve-resources", "v0.20.0")
    values = {
        "kserve": {"storage": {"containerSecurityContext": {"seccompProfile": {"type": "RuntimeDefault"}}}}
    }
    assert check_values("kserve", archive, "kserve-resources", "v0.20.0", values) == []
    misspelt = {"kserve": {"storag": {"containerSecurityContext": {"runAsNonRoot": True}}}}
    assert len(check_values("kserve", archive, "kserve-resources", "v0.20.0", misspelt)) == 1
