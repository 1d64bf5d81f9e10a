"""Real Git repositories in temp folders; git identity set per repository, never from global config."""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
import tarfile
from pathlib import Path

import git
import pytest
from click.testing import CliRunner, Result

from compiler.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SPEC = ROOT / "platform-spec"


@pytest.fixture(autouse=True)
def no_global_git_config(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    empty = tmp_path_factory.mktemp("gitconfig") / "config"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_DIR",
    ):
        monkeypatch.delenv(var, raising=False)


def configure(repo: git.Repo) -> None:
    with repo.config_writer() as config:
        config.set_value("user", "name", "Platform Tester")
        config.set_value("user", "email", "tester@example.com")


def make_repo(path: Path, spec: Path | None = EXAMPLE_SPEC) -> git.Repo:
    path.mkdir(parents=True, exist_ok=True)
    if spec is not None:
        shutil.copytree(spec, path / "platform-spec")
    (path / "README.md").write_text("platform\n")
    repo = git.Repo.init(path, initial_branch="main")
    configure(repo)
    commit_all(repo, "initial spec")
    return repo


def commit_all(repo: git.Repo, message: str) -> str:
    repo.git.add("-A")
    repo.git.commit("-q", "--allow-empty", "-m", message)
    return repo.head.commit.hexsha


def cli(cwd: Path, *args: str) -> Result:
    with contextlib.chdir(cwd):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)


def compiled_files_at(repo: git.Repo, rev: str, dest: Path) -> dict[str, bytes]:
    """Oracle for the diff tests: `git archive` the spec at rev, compile it to disk, read every file."""
    from compiler.pipeline import compile_platform

    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, "platform-spec"],
        cwd=repo.working_tree_dir,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    compile_platform(dest / "platform-spec", dest / "generated")
    out = dest / "generated"
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
