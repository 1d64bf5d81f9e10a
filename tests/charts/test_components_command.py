"""`platformc components`: pinned versions against what the chart cache and schema cache hold."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.compile.helpers import run_cli
from tests.conftest import EXAMPLE_OVERLAYS, EXAMPLE_SPEC


def test_components_show_a_bumped_pin_missing_from_the_cache(
    tmp_path: Path, shared_charts: Path, crd_schemas: Path
) -> None:
    spec = tmp_path / "platform-spec"
    shutil.copytree(EXAMPLE_SPEC, spec)
    platform = spec / "platform.yaml"
    platform.write_text(platform.read_text().replace("kueue: v0.19.2", "kueue: v0.19.3"))
    cache = tmp_path / "cache"
    shutil.copytree(shared_charts, cache)
    (cache / "volcano-1.15.1.tgz").unlink()
    result = run_cli(
        "components",
        "--spec",
        str(spec),
        "--overlays",
        str(EXAMPLE_OVERLAYS),
        "--charts",
        str(cache),
        "--schemas",
        str(crd_schemas),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "  chart kueue: pinned 0.19.3; cached: 0.19.2; MISSING (run `platformc charts pull`)" in lines
    assert "  chart volcano: pinned 1.15.1; cached: none; MISSING (run `platformc charts pull`)" in lines
    assert "  chart gpu-operator: pinned v26.7.0; cached: v26.7.0; present, not in charts.lock" in lines
    kueue = lines.index("kueue")
    assert lines[kueue + 2] == "  CRD schemas (5): all present"


def test_components_without_schemas_use_the_embedded_ones(tmp_path: Path, shared_charts: Path) -> None:
    """Without --schemas or a `schemas pull` cache, the CRD schemas embedded for the pinned releases
    (compiler/crdschemas) count: the GPU Operator's ClusterPolicy is present."""
    result = run_cli(
        "components",
        "--spec",
        str(EXAMPLE_SPEC),
        "--overlays",
        str(EXAMPLE_OVERLAYS),
        "--charts",
        str(shared_charts),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[lines.index("gpu-operator") + 2] == "  CRD schemas (1): all present"
