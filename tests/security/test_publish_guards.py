"""Issue 16, Found 5, 6 and 11: publish commits only what was checked, never a secret, and its
message stays right (detached HEAD, long histories)."""

from __future__ import annotations

from pathlib import Path

from compiler.secrets_scan import fingerprint
from tests.conftest import SHARED_CRDS
from tests.review.conftest import cli, commit_all, make_repo

PUBLISH = ("publish", "--schemas", str(SHARED_CRDS))
TOKEN = "xoxb-123456789012-1234567890123-abcdefghijABCDEFGHIJklmn"


WIDGET = """apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: default}
spec: {size: 3}
"""


def test_publish_refuses_kinds_without_a_schema(tmp_path: Path) -> None:
    """Found 6: publish committed custom resources nobody checked. A kind neither embedded nor
    given with --schemas (here a custom component's Widget) now stops it."""
    repo = make_repo(tmp_path / "repo")
    root = Path(repo.working_tree_dir)
    component = root / "overlays/components/widgets"
    component.mkdir(parents=True)
    (component / "component.yaml").write_text(
        "chart: {repository: https://charts.example.com, chart: widgets, version: 1.0.0, namespace: default,"
        " crdGroups: [example.com]}\n"
    )
    (component / "widget.yaml").write_text(WIDGET)
    commit_all(repo, "a custom resource")
    head = repo.head.commit
    refused = cli(root, "publish")
    assert refused.exit_code == 1
    assert "no schema for" in refused.output and "Widget" in refused.output
    assert "nothing was committed" in refused.output and "--allow-unvalidated" in refused.output
    assert repo.head.commit == head
    allowed = cli(root, "publish", "--allow-unvalidated")
    assert allowed.exit_code == 0, allowed.output
    message = repo.head.commit.message
    assert "Not schema-validated (published with --allow-unvalidated): " in message
    assert "Widget" in message


def test_publish_push_on_a_detached_head_refuses_before_committing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    root = Path(repo.working_tree_dir)
    repo.git.checkout("-q", "--detach")
    head = repo.head.commit
    result = cli(root, *PUBLISH, "--push")
    assert result.exit_code == 1
    assert "cannot push a detached HEAD" in result.output
    assert repo.head.commit == head  # nothing committed first


def test_long_history_since_the_last_publish_still_reports_the_change(tmp_path: Path) -> None:
    """Found 11: past 200 commits the last publish was not found and the message said 'No spec change'."""
    repo = make_repo(tmp_path / "repo")
    root = Path(repo.working_tree_dir)
    assert cli(root, *PUBLISH).exit_code == 0
    path = root / "platform-spec/teams/ai-research.yaml"
    path.write_text(path.read_text().replace("{flavor: h100, quota: 8,", "{flavor: h100, quota: 6,"))
    commit_all(repo, "less h100")
    for i in range(205):
        repo.git.commit("-q", "--allow-empty", "-m", f"unrelated {i}")
    result = cli(root, *PUBLISH)
    assert result.exit_code == 0, result.output
    message = repo.head.commit.message
    assert "No spec change" not in message
    assert "ai-research" in message and "h100" in message


def test_first_publish_says_so(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    assert cli(Path(repo.working_tree_dir), *PUBLISH).exit_code == 0
    assert "(first publish: the whole spec is new)" in repo.head.commit.message


def test_no_token_in_diff_markdown_or_publish_message(tmp_path: Path) -> None:
    """Found 5: a password in the spec appeared in the PR comment and in the publish commit message.
    Here the spec holds a token that was allowed by fingerprint at base and is then removed: the
    diff and the message talk about the change, never the value."""
    repo = make_repo(tmp_path / "repo")
    root = Path(repo.working_tree_dir)
    uri = f"s3://models/llama-3.1-8b?token={TOKEN}"
    serving = root / "platform-spec/serving/chat-llm.yaml"
    serving.write_text(serving.read_text().replace('s3://models/llama-3.1-8b"', f'{uri}"'))
    platform = root / "platform-spec/platform.yaml"
    allow = f"  secretScan:\n    allow:\n      - {{fingerprint: {fingerprint(TOKEN)}, reason: test}}\n"
    platform.write_text(platform.read_text().replace("  gitops:", allow + "  gitops:"))
    commit_all(repo, "a token, allowed by mistake")
    assert cli(root, *PUBLISH).exit_code == 0
    serving.write_text(serving.read_text().replace(uri, "s3://models/llama-3.1-8b"))
    commit_all(repo, "token removed")

    diff = cli(root, "diff", "--base", "HEAD~1", "--format", "markdown")
    assert "storageUri" in diff.output or "storage" in diff.output.lower(), diff.output
    assert TOKEN not in diff.output
    assert cli(root, *PUBLISH).exit_code == 0
    log = repo.git.log("--format=%B")
    assert TOKEN not in log
