"""platformc publish on real repositories: exactly generated/, the trailer, rendered branches, pushes."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from tests.conftest import SHARED_CRDS
from tests.review.conftest import cli, commit_all, configure, make_repo

# publish refuses kinds without a schema; the upstream CRD schemas cover every kind platformc writes.
PUBLISH = ("publish", "--schemas", str(SHARED_CRDS))


@pytest.fixture
def repo(tmp_path: Path) -> git.Repo:
    return make_repo(tmp_path / "repo")


def root_of(repo: git.Repo) -> Path:
    return Path(repo.working_tree_dir)


def changed_paths(repo: git.Repo, commit: str) -> set[str]:
    return set(repo.git.diff_tree("-r", "--name-only", "--no-commit-id", "--root", commit).splitlines())


def test_publish_commits_exactly_generated_with_trailer(repo: git.Repo) -> None:
    root = root_of(repo)
    source = repo.head.commit.hexsha
    (root / "notes.txt").write_text("staged, not for publish\n")
    repo.git.add("notes.txt")
    (root / "README.md").write_text("edited, unstaged\n")
    result = cli(root, *PUBLISH)
    assert result.exit_code == 0, result.output
    head = repo.head.commit
    assert head.parents[0].hexsha == source
    on_disk = {p.relative_to(root).as_posix() for p in (root / "generated").rglob("*") if p.is_file()}
    assert changed_paths(repo, head.hexsha) == on_disk
    assert head.message.rstrip().endswith(f"Source-Commit: {source}")
    assert repo.git.diff("--cached", "--name-only").splitlines() == [
        "notes.txt"
    ]  # still staged, not committed
    assert repo.git.diff("--name-only").splitlines() == ["README.md"]  # still unstaged
    assert not repo.git.status("--porcelain", "--", "generated")  # index and tree agree with the commit

    again = cli(root, *PUBLISH)
    assert again.exit_code == 0
    assert "nothing to publish" in again.stdout
    assert repo.head.commit == head


def test_publish_message_carries_the_impact(repo: git.Repo) -> None:
    root = root_of(repo)
    assert cli(root, *PUBLISH).exit_code == 0
    path = root / "platform-spec/teams/ai-research.yaml"
    path.write_text(path.read_text().replace("{flavor: h100, quota: 8,", "{flavor: h100, quota: 6,"))
    source = commit_all(repo, "less h100")
    result = cli(root, *PUBLISH, "--message", "Shrink ai-research")
    assert result.exit_code == 0, result.output
    message = repo.head.commit.message
    assert message.startswith("Shrink ai-research\n\n")
    assert "- ai-research on prod-us-east: h100 quota 8 → 6 (-2), monthly cost -$5,986.00" in message
    assert message.rstrip().endswith(f"Source-Commit: {source}")
    changed = changed_paths(repo, "HEAD")
    assert "generated/prod-us-east/components/tenancy/ai-research/resourcequota-ai-research.yaml" in changed
    assert all(p.startswith("generated/prod-us-east/") for p in changed)


def test_invalid_spec_makes_no_commit(repo: git.Repo) -> None:
    root = root_of(repo)
    path = root / "platform-spec/teams/ml-platform.yaml"
    path.write_text(path.read_text().replace("priority: low", "priority: urgent"))
    before = commit_all(repo, "invalid priority")
    result = cli(root, *PUBLISH)
    assert result.exit_code == 1
    assert "ml-platform.yaml" in result.stderr and "nothing was committed" in result.stderr
    assert repo.head.commit.hexsha == before


def test_dirty_spec_is_refused_unless_allowed(repo: git.Repo) -> None:
    root = root_of(repo)
    path = root / "platform-spec/serving/chat-llm.yaml"
    path.write_text(path.read_text().replace("trafficPercent: 10", "trafficPercent: 20"))
    before = repo.head.commit.hexsha
    refused = cli(root, *PUBLISH)
    assert refused.exit_code == 1
    assert "uncommitted changes" in refused.stderr and "platform-spec/serving/chat-llm.yaml" in refused.stderr
    assert repo.head.commit.hexsha == before and not (root / "generated").exists()
    allowed = cli(root, *PUBLISH, "--allow-dirty-spec")
    assert allowed.exit_code == 0, allowed.output
    assert repo.head.commit.hexsha != before
    assert "platform-spec/serving/chat-llm.yaml" in repo.git.diff("--name-only")  # still uncommitted


def test_rendered_branch_leaves_head_index_and_tree_alone(repo: git.Repo) -> None:
    root = root_of(repo)
    (root / "scratch.txt").write_text("untracked\n")
    head, status = repo.head.commit.hexsha, repo.git.status("--porcelain")
    result = cli(root, *PUBLISH, "--branch", "rendered")
    assert result.exit_code == 0, result.output
    assert repo.head.commit.hexsha == head and repo.active_branch.name == "main"
    assert repo.git.status("--porcelain") == status
    assert not (root / "generated").exists()  # nothing written to the working tree
    rendered = repo.commit("rendered")
    names = repo.git.ls_tree("-r", "--name-only", "rendered").splitlines()
    assert names and all(n.startswith("generated/") for n in names)
    assert {n.split("/")[1] for n in names} == {"prod-us-east", "staging-eu"}
    assert rendered.message.rstrip().endswith(f"Source-Commit: {head}")
    # Same bytes as a compile into the working tree.
    assert cli(root, "compile").exit_code == 0
    for name in names:
        assert (root / name).read_bytes() == (rendered.tree / name).data_stream.read(), name
    assert cli(root, *PUBLISH, "--branch", "rendered").stdout.startswith("nothing to publish")
    assert repo.commit("rendered") == rendered


def test_push_to_bare_remote_and_rejection(repo: git.Repo, tmp_path: Path) -> None:
    root = root_of(repo)
    bare = git.Repo.init(tmp_path / "remote.git", bare=True, initial_branch="main")
    repo.create_remote("origin", str(bare.git_dir))
    repo.git.push("-q", "origin", "main")
    pushed = cli(root, *PUBLISH, "--push")
    assert pushed.exit_code == 0, pushed.output
    assert bare.commit("main") == repo.head.commit

    other = git.Repo.clone_from(str(bare.git_dir), tmp_path / "other")
    configure(other)
    (Path(other.working_tree_dir) / "elsewhere.txt").write_text("a colleague's commit\n")
    remote_tip = commit_all(other, "colleague")
    other.git.push("-q", "origin", "main")

    path = root / "platform-spec/serving/chat-llm.yaml"
    path.write_text(path.read_text().replace("trafficPercent: 10", "trafficPercent: 20"))
    commit_all(repo, "canary 20%")
    rejected = cli(root, *PUBLISH, "--push")
    assert rejected.exit_code == 1
    assert "rejected" in rejected.stderr and "non-fast-forward" in rejected.stderr
    assert "Nothing was forced" in rejected.stderr
    assert bare.commit("main").hexsha == remote_tip  # the colleague's commit survives


def test_rendered_branch_push(repo: git.Repo, tmp_path: Path) -> None:
    root = root_of(repo)
    bare = git.Repo.init(tmp_path / "remote.git", bare=True, initial_branch="main")
    repo.create_remote("origin", str(bare.git_dir))
    result = cli(root, *PUBLISH, "--branch", "rendered", "--push")
    assert result.exit_code == 0, result.output
    assert bare.commit("rendered") == repo.commit("rendered")
