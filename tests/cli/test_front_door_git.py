"""CLI points of issue 15 item 4 that need a Git history: diff base, colour, --cluster, publish."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import git
import pytest

from tests.conftest import EXAMPLE_OVERLAYS, REPO_ROOT
from tests.review.conftest import cli, commit_all, make_repo


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


@pytest.fixture
def repo(tmp_path: Path) -> git.Repo:
    return make_repo(tmp_path / "repo")


def branch_with_main_moving_on(repo: git.Repo, default: str) -> Path:
    """A feature branch (canary 10% → 30%) off `default`, which then moves on (a priority change)."""
    root = Path(repo.working_tree_dir or "")
    if default != "main":
        repo.git.branch("-m", "main", default)
    repo.git.checkout("-q", "-b", "feature")
    edit(root / "platform-spec/serving/chat-llm.yaml", "trafficPercent: 10", "trafficPercent: 30")
    commit_all(repo, "feature: canary 30%")
    repo.git.checkout("-q", default)
    edit(root / "platform-spec/teams/ml-platform.yaml", "priority: low", "priority: high")
    commit_all(repo, f"{default} moves on")
    repo.git.checkout("-q", "feature")
    return root


@pytest.mark.parametrize("default", ["master", "trunk"])
def test_diff_base_is_the_merge_base_with_the_default_branch(repo: git.Repo, default: str) -> None:
    """master is found by name; any other default branch through origin/HEAD, as git clone sets it."""
    root = branch_with_main_moving_on(repo, default)
    if default == "trunk":
        repo.git.checkout("-q", default)  # a clone's origin/HEAD is the origin's checked-out branch
        origin = git.Repo.clone_from(root, root.parent / "clone")
        origin.git.checkout("-q", "feature")
        root = Path(origin.working_tree_dir or "")
        repo = origin
    merge_base = repo.merge_base(
        repo.commit("feature"), repo.commit(f"origin/{default}" if default == "trunk" else default)
    )
    result = cli(root, "diff")
    assert result.exit_code == 0, result.output
    where = f"origin/{default}" if default == "trunk" else default
    assert f"platformc diff: merge base with {where} ({merge_base[0].hexsha[:12]})" in result.stdout
    assert "chat-llm: canary 10% → 30%" in result.stdout
    assert "ml-platform: priority" not in result.stdout


def test_diff_on_the_default_branch_says_it_compares_with_head(repo: git.Repo) -> None:
    root = Path(repo.working_tree_dir or "")
    result = cli(root, "diff")
    assert "platformc diff: HEAD (on the default branch main itself)" in result.stdout


def test_color_flag_and_no_color(repo: git.Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    root = Path(repo.working_tree_dir or "")
    edit(root / "platform-spec/teams/ml-platform.yaml", "priority: low", "priority: high")
    assert "\x1b[" in cli(root, "diff", "--color", "always").stdout
    assert "\x1b[" not in cli(root, "diff", "--color", "never").stdout
    assert "\x1b[" not in cli(root, "diff").stdout  # not a terminal


def run_on_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run platformc with stdout and stderr on a pseudo-terminal; what the terminal shows."""
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "compiler.cli", *args], cwd=cwd, env=env, stdout=secondary, stderr=secondary
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=300)
    os.close(primary)
    return b"".join(chunks).decode()


def test_no_color_on_a_terminal_and_progress_only_there(repo: git.Repo) -> None:
    """On a terminal diff colours unless NO_COLOR is set; compile shows per-cluster and write
    progress on a terminal and nothing of it in a pipe."""
    root = Path(repo.working_tree_dir or "")
    edit(root / "platform-spec/teams/ml-platform.yaml", "priority: low", "priority: high")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PLATFORMC_JOBS": "1"}
    env.pop("NO_COLOR", None)
    assert "\x1b[" in run_on_terminal(["diff"], root, env)
    assert "\x1b[" not in run_on_terminal(["diff"], root, {**env, "NO_COLOR": "1"})
    shown = run_on_terminal(["compile"], root, env)
    assert "platformc: [1/2] prod-us-east" in shown and "platformc: [2/2] staging-eu" in shown
    assert "platformc: writing" in shown
    piped = subprocess.run(
        [sys.executable, "-m", "compiler.cli", "compile"], cwd=root, env=env, capture_output=True, text=True
    )
    assert piped.returncode == 0
    assert "[1/2]" not in piped.stderr and "writing" not in piped.stderr


def test_diff_cluster_shows_only_that_cluster(repo: git.Repo) -> None:
    root = Path(repo.working_tree_dir or "")
    edit(root / "platform-spec/teams/ml-platform.yaml", "priority: low", "priority: high")
    both = json.loads(cli(root, "diff", "--format", "json").stdout)
    one = json.loads(cli(root, "diff", "--format", "json", "--cluster", "staging-eu").stdout)
    clusters = lambda data: {o["cluster"] for o in data["objects"]}  # noqa: E731
    assert clusters(both) == {"prod-us-east", "staging-eu"}
    assert clusters(one) == {"staging-eu"}
    unknown = cli(root, "diff", "--cluster", "nope")
    assert unknown.exit_code == 2
    assert "unknown cluster(s): nope" in unknown.stderr


def test_publish_cluster_and_first_publish_message(repo: git.Repo) -> None:
    """The first publish has no earlier Source-Commit: its message lists the whole spec as new
    instead of "No spec change". --cluster publishes that cluster's folder only."""
    root = Path(repo.working_tree_dir or "")
    first = cli(root, "publish", "--cluster", "staging-eu")
    assert first.exit_code == 0, first.output
    message = repo.head.commit.message
    assert "No spec change" not in message
    assert "Impact (first publish: the whole spec is new):" in message
    assert "team ml-platform added" in message
    assert sorted(p.name for p in (root / "generated").iterdir()) == ["staging-eu"]
    edit(root / "platform-spec/teams/ml-platform.yaml", "priority: low", "priority: high")
    commit_all(repo, "ml-platform: high priority")
    second = cli(root, "publish")
    assert second.exit_code == 0, second.output
    assert "ml-platform: priority low → high" in repo.head.commit.message
    assert sorted(p.name for p in (root / "generated").iterdir()) == ["prod-us-east", "staging-eu"]


def test_search_upward_for_the_platform_repository(repo: git.Repo) -> None:
    root = Path(repo.working_tree_dir or "")
    sub = root / "platform-spec" / "teams"
    result = cli(sub, "compile")
    assert result.exit_code == 0, result.output
    assert f"platformc: no platform-spec/ here; using the platform repository at {root}" in result.stderr
    assert (root / "generated" / "staging-eu").is_dir()
    elsewhere = cli(root.parent, "compile")
    assert elsewhere.exit_code == 2
    assert (
        f"no platform-spec/ folder in {root.parent} or any folder above it (expected to run in a platform "
        "repository, or --spec DIR naming the spec folder)"
    ) in elsewhere.stderr


def test_overlay_folder_problems_come_with_the_spec_errors(repo: git.Repo) -> None:
    """A leftover overlay folder of a removed cluster is reported in the same run as a spec error."""
    root = Path(repo.working_tree_dir or "")
    shutil.copytree(EXAMPLE_OVERLAYS, root / "overlays")
    shutil.copytree(root / "overlays/clusters/staging-eu", root / "overlays/clusters/gone")
    edit(root / "platform-spec/teams/ai-research.yaml", "quota: 16", "quota: 16000")
    result = cli(root, "compile")
    assert result.exit_code == 1
    assert "overlays/clusters/gone:1:1: overlay folder for unknown cluster 'gone'" in result.stderr
    assert "add up to 16016, over the cluster's capacity of 32" in result.stderr
    assert "platformc: 2 error(s) in the spec or overlays" in result.stderr


def test_spec_schema_is_the_new_name_and_schema_a_hidden_alias(repo: git.Repo) -> None:
    root = Path(repo.working_tree_dir or "")
    new = cli(root, "spec-schema")
    old = cli(root, "schema")
    assert new.exit_code == old.exit_code == 0
    assert new.stdout == old.stdout and json.loads(new.stdout)["$defs"]
    listed = cli(root, "--help").stdout
    assert "spec-schema" in listed and "  schema " not in listed
