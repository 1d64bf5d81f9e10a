"""The CLI a platform engineer expects (issue 15, item 4): formats, exit codes, summaries."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import git
import pytest
from click.testing import CliRunner, Result

from compiler.cli import main
from tests.conftest import EXAMPLE_GENERATED, EXAMPLE_OVERLAYS, EXAMPLE_SPEC


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(EXAMPLE_SPEC, tmp_path / "platform-spec")
    shutil.copytree(EXAMPLE_OVERLAYS, tmp_path / "overlays")
    monkeypatch.chdir(tmp_path)
    for var in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.setenv(var, "Test")
    for var in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(var, "test@example.com")
    return tmp_path


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


PRIORITY_LINE = next(
    i
    for i, line in enumerate((EXAMPLE_SPEC / "teams/ai-research.yaml").read_text().splitlines(), 1)
    if "priority: high" in line
)


def break_quota(repo: Path) -> None:
    team = repo / "platform-spec/teams/ai-research.yaml"
    team.write_text(team.read_text().replace("quota: 16", "quota: 16000", 1))


def break_spec_twice(repo: Path) -> None:
    team = repo / "platform-spec/teams/ai-research.yaml"
    team.write_text(team.read_text().replace("priority: high", "priority: urgent", 1))
    platform = repo / "platform-spec/platform.yaml"
    platform.write_text(platform.read_text().replace("dashboards: configmap", "dashboards: grafana"))


def test_github_annotations_for_a_bad_spec(repo: Path) -> None:
    """One `::error file=…,line=…,col=…::` line per spec error, in the file:line order of the text
    output (GitHub docs, "Workflow commands": error; `:` and `,` escaped in properties)."""
    break_spec_twice(repo)
    text = run("compile")
    github = run("compile", "--format", "github")
    assert text.exit_code == github.exit_code == 1
    expected = []
    for line in text.stderr.splitlines()[:-1]:
        file, row, col, message = line.split(":", 3)
        expected.append(f"::error file={file},line={row},col={col},title=platformc::{message.strip()}")
    assert github.stdout.splitlines() == expected
    assert len(expected) == 2
    assert github.stderr.endswith("platformc: 2 error(s) in the spec or overlays; nothing was written\n")
    assert not (repo / "generated").exists()


def test_json_for_a_bad_spec(repo: Path) -> None:
    break_spec_twice(repo)
    result = run("compile", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [(e["file"], e["line"]) for e in report["errors"]] == [
        ("platform-spec/platform.yaml", 18),
        ("platform-spec/teams/ai-research.yaml", PRIORITY_LINE),
    ]


def test_github_annotations_for_a_validation_failure(repo: Path) -> None:
    """A tree that fails validation: one annotation per finding, at the generated file."""
    shutil.copytree(EXAMPLE_GENERATED, repo / "generated")
    [queue] = sorted((repo / "generated").rglob("clusterqueue-ai-research.yaml"))[:1]
    queue.write_text(queue.read_text().replace("spec:\n", "spec:\n  cohortt: x\n", 1))
    text = run("validate")
    github = run("validate", "--format", "github")
    assert text.exit_code == github.exit_code == 1
    rel = queue.relative_to(repo / "generated").as_posix()
    assert github.stdout.splitlines() == [
        f"::error file=generated/{rel},line=1,col=1,title=platformc::ClusterQueue ai-research: "
        '$.spec.cohortt: unknown field "cohortt" (did you mean "cohortName"?) [schema]'
    ]
    assert f'{rel}: ClusterQueue ai-research: $.spec.cohortt: unknown field "cohortt"' in text.stderr


def test_compile_json_reports_the_validation(repo: Path) -> None:
    result = run("compile", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout[: result.stdout.rindex("}") + 1])
    assert report["ok"] is True and report["findings"] == []


@pytest.mark.parametrize(
    "args",
    [
        ["compile", "--schemas", "no-such-folder"],
        ["validate", "--schemas", "no-such-folder"],
        ["publish", "--schemas", "no-such-folder"],
    ],
)
def test_same_failure_same_exit_code(repo: Path, args: list[str]) -> None:
    """A missing schema folder is a wrong call: exit 2 in every command."""
    shutil.copytree(EXAMPLE_GENERATED, repo / "generated")
    git.Repo.init(repo).git.add(A=True)
    git.Repo(repo).git.commit("-qm", "init", "--no-gpg-sign")
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "schema folder not found: schema folder or CRD file no-such-folder does not exist" in result.stderr


def test_final_line_counts_files(repo: Path) -> None:
    first = run("compile")
    assert first.exit_code == 0
    total = int(first.stdout.split(" objects in ")[1].split(" files")[0])
    assert first.stdout.rstrip().endswith(f"{total} added, 0 changed, 0 removed, 0 unchanged files")
    again = run("compile")
    assert again.stdout.rstrip().endswith(f"0 added, 0 changed, 0 removed, {total} unchanged files")
    stray = repo / "generated/prod-us-east/stray.yaml"
    stray.write_text("kind: ConfigMap\n")
    platform = repo / "platform-spec/platform.yaml"
    platform.write_text(platform.read_text().replace("idleGpuMinutes", "idleGpuMinutes", 1))
    third = run("compile")
    assert third.stdout.rstrip().endswith(f"0 added, 0 changed, 1 removed, {total} unchanged files")


def test_github_annotations_for_a_stale_tree(repo: Path) -> None:
    """`compile --check --format github` (the PR workflow step) marks each stale generated file."""
    shutil.copytree(EXAMPLE_GENERATED, repo / "generated")
    stale = repo / "generated/prod-us-east/kustomization.yaml"
    stale.write_text(stale.read_text() + "# edited by hand\n")
    result = run("compile", "--check", "--format", "github")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::error file=generated/prod-us-east/kustomization.yaml,line=1,col=1,title=platformc::"
        "generated/prod-us-east/kustomization.yaml differs from what the spec compiles to; "
        "run `platformc compile` and commit generated/"
    ]
