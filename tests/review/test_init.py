"""platformc init: a repository that compiles at once, with CI workflows and a pre-commit hook."""

from __future__ import annotations

from pathlib import Path

import git
import pytest
import yaml

from tests.conftest import CRD_SCHEMAS, TEST_REQUIREMENT
from tests.review.conftest import ROOT, cli

MARKER = "<!-- platformc-diff -->"


@pytest.fixture
def identity(monkeypatch: pytest.MonkeyPatch) -> None:
    # init makes the first commit in a repository that does not exist yet: identity from the environment.
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Platform Tester")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "tester@example.com")


def steps_text(job: dict) -> str:
    return "\n".join(
        str(step.get("run", "")) + str(step.get("uses", "")) + str(step.get("with", ""))
        for step in job["steps"]
    )


def check_workflow(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    triggers = data.get("on", data.get(True))  # YAML 1.1 reads the key `on` as true
    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    review, publish = data["jobs"]["review"], data["jobs"]["publish"]
    assert review["if"] == "github.event_name == 'pull_request'"
    checkout = review["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["fetch-depth"] == 0
    assert review["steps"][1]["uses"].startswith("actions/setup-python@")
    runs = [s.get("run", "") for s in review["steps"]]
    order = [
        # the charts first: with them compile --check (and publish) also run verify
        next(i for i, r in enumerate(runs) if r == "platformc charts pull"),
        # --format github: findings show inline on the pull request's diff
        next(i for i, r in enumerate(runs) if r == "platformc compile --check --format github"),
        next(i for i, r in enumerate(runs) if r == "platformc validate --format github"),
        next(i for i, r in enumerate(runs) if r.startswith("platformc verify --format markdown")),
        next(i for i, r in enumerate(runs) if "platformc diff" in r and "--format markdown > diff.md" in r),
    ]
    assert order == sorted(order)
    comment = review["steps"][-1]
    assert comment["uses"].startswith("actions/github-script@")
    script = comment["with"]["script"]
    assert MARKER in script and "updateComment" in script and "createComment" in script
    assert review["permissions"]["pull-requests"] == "write"
    assert "github.event_name == 'push'" in publish["if"]
    assert publish["steps"][0]["with"]["fetch-depth"] == 0
    published = [s.get("run", "") for s in publish["steps"]]
    assert published.index("platformc charts pull") < next(
        i for i, r in enumerate(published) if r.startswith("platformc publish")
    )
    assert publish["permissions"]["contents"] == "write"
    return data


def test_init_creates_a_working_repository(tmp_path: Path, identity: None) -> None:
    target = tmp_path / "acme-platform"
    result = cli(tmp_path, "init", str(target))
    assert result.exit_code == 0, result.output
    repo = git.Repo(target)
    assert repo.active_branch.name == "main" and len(list(repo.iter_commits())) == 1
    assert not repo.is_dirty(untracked_files=True)
    for folder in ("overlays/all", "overlays/environments/dev", "overlays/clusters/dev-gpu"):
        assert (target / folder / "README.md").is_file(), folder
    assert "generated/" not in (target / ".gitignore").read_text()
    assert (target / "README.md").read_text().startswith("# acme-platform\n")
    assert "name: acme-platform" in (target / "platform-spec/platform.yaml").read_text()
    # compile works at once, and the committed output is current
    check = cli(target, "compile", "--check")
    assert check.exit_code == 0, check.output
    compiled = cli(target, "compile")
    assert compiled.exit_code == 0, compiled.output
    assert not repo.is_dirty(untracked_files=True)
    validated = cli(target, "validate", "--schemas", str(CRD_SCHEMAS))
    assert validated.exit_code == 0, validated.output
    assert "0 error(s), 0 warning(s)" in validated.output
    assert cli(target, "diff", "--exit-code").exit_code == 0
    check_workflow(target / ".github/workflows/platform.yaml")
    hooks = yaml.safe_load((target / ".pre-commit-config.yaml").read_text())
    hook = hooks["repos"][0]["hooks"][0]
    assert hooks["repos"][0]["repo"] == "local" and hook["entry"] == "platformc compile --check"
    assert hook["pass_filenames"] is False
    assert (target / "requirements.txt").read_text().splitlines()[-1] == TEST_REQUIREMENT


def test_init_refuses_a_non_empty_folder(tmp_path: Path, identity: None) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "keep.txt").write_text("mine\n")
    result = cli(tmp_path, "init", str(target))
    assert result.exit_code == 1
    assert "not empty" in result.stderr
    assert [p.name for p in target.iterdir()] == ["keep.txt"]


def test_init_without_git_identity_creates_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Never guess an identity from the host name (git would on some machines).
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "user.useConfigOnly")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "true")
    result = cli(tmp_path, "init", str(tmp_path / "new"))
    assert result.exit_code == 1
    assert "committer identity" in result.stderr
    assert not (tmp_path / "new").exists()


def test_repository_workflow_runs_the_platform_flow() -> None:
    data = check_workflow(ROOT / ".github/workflows/platform.yaml")
    assert "pip install -e ." in steps_text(data["jobs"]["review"])


def test_init_refuses_an_invalid_explicit_name(tmp_path: Path, identity: None) -> None:
    target = tmp_path / "acme"
    result = cli(tmp_path, "init", str(target), "--name", "Acme_AI")
    assert result.exit_code == 1
    assert "--name 'Acme_AI' is not a DNS-1123 label" in result.stderr
    assert "e.g. 'acme-ai'" in result.stderr
    assert not target.exists()
