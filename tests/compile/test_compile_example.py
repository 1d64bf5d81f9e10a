"""The example platform compiles, is committed current, and `--check` catches hand edits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.compile.helpers import compile_cli, snapshot
from tests.conftest import EXAMPLE_GENERATED, EXAMPLE_OVERLAYS, EXAMPLE_SPEC, REPO_ROOT


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE_SPEC, tmp_path / "platform-spec")
    if EXAMPLE_OVERLAYS.is_dir():
        shutil.copytree(EXAMPLE_OVERLAYS, tmp_path / "overlays")
    return tmp_path


def test_committed_generated_tree_is_current() -> None:
    result = compile_cli("--check", cwd=REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "generated is current" in result.stdout


def test_compile_writes_tree_and_second_run_changes_nothing(workdir: Path) -> None:
    first = compile_cli(cwd=workdir)
    assert first.returncode == 0, first.stderr
    tree = snapshot(workdir / "generated")
    assert "prod-us-east/kustomization.yaml" in tree and "staging-eu/kustomization.yaml" in tree
    mtimes = {p: (workdir / "generated" / p).stat().st_mtime_ns for p in tree}
    second = compile_cli(cwd=workdir)
    assert second.returncode == 0, second.stderr
    assert snapshot(workdir / "generated") == tree
    assert set(mtimes) == set(snapshot(workdir / "generated"))
    assert compile_cli("--check", cwd=workdir).returncode == 0


def test_check_names_every_hand_edited_added_or_deleted_file(workdir: Path) -> None:
    assert compile_cli(cwd=workdir).returncode == 0
    generated = workdir / "generated"
    edited = generated / "prod-us-east/components/tenancy/ai-research/resourcequota-ai-research.yaml"
    edited.write_text(edited.read_text().replace("requests.cpu: '256'", "requests.cpu: '512'"))
    (generated / "staging-eu/components/network/ml-platform/networkpolicy-default-deny-egress.yaml").unlink()
    (generated / "staging-eu/components/tenancy/stray.yaml").write_text("kind: ConfigMap\n")
    before = snapshot(generated)

    result = compile_cli("--check", cwd=workdir)

    assert result.returncode == 1
    assert result.stderr.splitlines()[:3] == [
        "changed: generated/prod-us-east/components/tenancy/ai-research/resourcequota-ai-research.yaml",
        "missing: generated/staging-eu/components/network/ml-platform/networkpolicy-default-deny-egress.yaml",
        "extra:   generated/staging-eu/components/tenancy/stray.yaml",
    ]
    assert "is not current" in result.stderr
    assert snapshot(generated) == before  # --check writes nothing


def test_compile_prunes_files_of_removed_clusters_and_objects(workdir: Path) -> None:
    assert compile_cli(cwd=workdir).returncode == 0
    spec = workdir / "platform-spec"
    # Drop the staging cluster everywhere it is referenced.
    (spec / "clusters/staging-eu.yaml").unlink()
    for team in (spec / "teams").glob("*.yaml"):
        text = team.read_text()
        start = text.index("    - cluster: staging-eu")
        team.write_text(text[:start])
    (spec / "serving/embeddings.yaml").unlink()
    # Its overlays go too: an overlay folder for a cluster that no longer exists is an error.
    shutil.rmtree(workdir / "overlays/clusters/staging-eu")
    shutil.rmtree(workdir / "overlays/components/volcano")
    result = compile_cli(cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (workdir / "generated").iterdir()) == ["prod-us-east"]


def test_compile_single_cluster_keeps_the_others(workdir: Path) -> None:
    assert compile_cli(cwd=workdir).returncode == 0
    before = snapshot(workdir / "generated")
    result = compile_cli("--cluster", "staging-eu", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert snapshot(workdir / "generated") == before
    unknown = compile_cli("--cluster", "nope", cwd=workdir)
    assert unknown.returncode == 2  # a wrong call, as in every command
    assert "unknown cluster(s): nope (expected one of: prod-us-east, staging-eu)" in unknown.stderr


def test_committed_tree_matches_a_fresh_compile_byte_for_byte(workdir: Path) -> None:
    assert compile_cli(cwd=workdir).returncode == 0
    assert snapshot(workdir / "generated") == snapshot(EXAMPLE_GENERATED)
