"""compile (and through it CI and publish) runs verify on the compiled tree before writing it,
when the charts are available, and says so when they are not."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.compile.helpers import compile_cli
from tests.conftest import EXAMPLE_OVERLAYS, EXAMPLE_SPEC, SHARED_CRDS
from tests.review.conftest import cli, commit_all, make_repo

# A hand-written RoleBinding giving a team group `edit` (which writes NetworkPolicies in the
# bootstrap roles): valid YAML, schema-valid, and a team that can undo its own isolation.
DEVS_EDIT = (
    "apiVersion: rbac.authorization.k8s.io/v1\n"
    "kind: RoleBinding\n"
    "metadata: {name: devs-edit, namespace: app-frontend}\n"
    "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}\n"
    "subjects:\n"
    "  - {apiGroup: rbac.authorization.k8s.io, kind: Group, name: app-frontend-devs}\n"
)


def compile_example(tmp_path: Path, overlays: Path, *extra: str) -> tuple[int, str, str, Path]:
    out = tmp_path / "out"
    result = compile_cli(
        "--spec", str(EXAMPLE_SPEC), "--overlays", str(overlays), "--out", str(out), *extra, cwd=tmp_path
    )
    return result.returncode, result.stdout, result.stderr, out


def test_compile_verifies_the_example_with_the_charts(tmp_path: Path, shared_charts: Path) -> None:
    code, stdout, stderr, out = compile_example(tmp_path, EXAMPLE_OVERLAYS, "--charts", str(shared_charts))
    assert code == 0, stderr
    assert "verify: no findings on 2 cluster(s)" in stdout
    assert (out / "staging-eu" / "node-pools.json").is_file()


def test_a_defect_in_an_overlay_fails_compile_and_nothing_is_written(
    tmp_path: Path, shared_charts: Path
) -> None:
    """DEVS_EDIT passes validation; verify refuses it, naming rule and object."""
    overlays = tmp_path / "overlays"
    shutil.copytree(EXAMPLE_OVERLAYS, overlays)
    (overlays / "clusters" / "staging-eu" / "devs-edit.yaml").write_text(DEVS_EDIT)
    code, _, stderr, out = compile_example(
        tmp_path, overlays, "--charts", str(shared_charts), "--cluster", "staging-eu"
    )
    assert code == 1
    assert "staging-eu: RoleBinding/app-frontend/devs-edit: [rbac.team-writes-isolation]" in stderr
    assert "verify found 1 problem(s)" in stderr and "nothing was written" in stderr
    assert not out.exists()


def test_without_a_chart_cache_compile_says_verify_did_not_run(tmp_path: Path) -> None:
    code, stdout, stderr, _ = compile_example(tmp_path, EXAMPLE_OVERLAYS, "--cluster", "staging-eu")
    assert code == 0, stderr
    assert "charts not rendered (no chart cache)" in stdout
    assert "behaviour (verify) are unchecked" in stdout


def test_publish_refuses_a_tree_verify_rejects(tmp_path: Path, shared_charts: Path) -> None:
    """publish runs the same verify as compile: the edit binding from above makes no commit."""
    repo = make_repo(tmp_path / "repo")
    root = Path(str(repo.working_tree_dir))
    cluster_overlays = root / "overlays" / "clusters" / "staging-eu"
    cluster_overlays.mkdir(parents=True)
    (cluster_overlays / "devs-edit.yaml").write_text(DEVS_EDIT)
    head = commit_all(repo, "overlay")
    result = cli(root, "publish", "--schemas", str(SHARED_CRDS), "--charts", str(shared_charts))
    assert result.exit_code == 1
    assert "[rbac.team-writes-isolation]" in result.output and "nothing was committed" in result.output
    assert repo.head.commit.hexsha == head


def test_publish_without_a_chart_cache_says_it_did_not_verify(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    root = Path(str(repo.working_tree_dir))
    result = cli(root, "publish", "--schemas", str(SHARED_CRDS), "--cluster", "staging-eu")
    assert result.exit_code == 0, result.output
    assert "the platform's behaviour was not verified" in result.output
