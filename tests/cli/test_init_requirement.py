"""`platformc init` writes a requirements.txt that pip can install: platformc is not on PyPI, so the
line names the git repository and commit platformc came from (PEP 610 direct_url.json, or the
origin and HEAD of the checkout it was installed from)."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest

from compiler import init_repo
from compiler.errors import PlatformcError
from tests.review.conftest import cli


@pytest.fixture
def identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Platform Tester")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "tester@example.com")


class FakeDist:
    def __init__(self, direct_url: dict) -> None:
        self.text = json.dumps(direct_url)

    def read_text(self, name: str) -> str | None:
        return self.text if name == "direct_url.json" else None


def installed_from(monkeypatch: pytest.MonkeyPatch, direct_url: dict) -> None:
    monkeypatch.setattr(init_repo.metadata, "distribution", lambda name: FakeDist(direct_url))


def test_installed_from_git_pins_that_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """pip records `vcs_info` for `pip install git+URL@rev` (PEP 610)."""
    installed_from(
        monkeypatch,
        {"url": "https://github.com/acme/platformc.git", "vcs_info": {"vcs": "git", "commit_id": "a" * 40}},
    )
    assert (
        init_repo.platformc_requirement()
        == f"platformc @ git+https://github.com/acme/platformc.git@{'a' * 40}"
    )


def checkout(tmp_path: Path, remote: str | None) -> git.Repo:
    repo = git.Repo.init(tmp_path / "platformc", initial_branch="main")
    (tmp_path / "platformc" / "README.md").write_text("x\n")
    repo.git.add("-A")
    repo.git.commit("-qm", "x", "--no-gpg-sign")
    if remote:
        repo.create_remote("origin", remote)
    return repo


@pytest.mark.parametrize(
    ("remote", "pip_url"),
    [
        ("https://github.com/acme/platformc.git", "git+https://github.com/acme/platformc.git"),
        ("git@github.com:acme/platformc.git", "git+ssh://git@github.com/acme/platformc.git"),
    ],
)
def test_installed_from_a_checkout_pins_its_origin_and_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, identity: None, remote: str, pip_url: str
) -> None:
    repo = checkout(tmp_path, remote)
    installed_from(monkeypatch, {"url": f"file://{repo.working_tree_dir}", "dir_info": {"editable": True}})
    assert init_repo.platformc_requirement() == f"platformc @ {pip_url}@{repo.head.commit.hexsha}"


def test_unknown_source_is_refused_and_nothing_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, identity: None
) -> None:
    repo = checkout(tmp_path, None)
    installed_from(monkeypatch, {"url": f"file://{repo.working_tree_dir}", "dir_info": {}})
    with pytest.raises(PlatformcError, match="cannot tell where pip can install this platformc from"):
        init_repo.platformc_requirement()
    monkeypatch.delenv("PLATFORMC_REQUIREMENT")
    result = cli(tmp_path, "init", str(tmp_path / "new"))
    assert result.exit_code == 1
    assert "pass --platformc-requirement" in result.stderr
    assert not (tmp_path / "new").exists()


def test_explicit_requirement_is_written(tmp_path: Path, identity: None) -> None:
    line = "platformc @ git+https://git.example.com/tools/platformc.git@" + "b" * 40
    result = cli(tmp_path, "init", str(tmp_path / "p"), "--platformc-requirement", line)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p" / "requirements.txt").read_text().splitlines()[-1] == line
    bad = cli(tmp_path, "init", str(tmp_path / "q"), "--platformc-requirement", "requests==2")
    assert bad.exit_code == 1 and "is not a requirement for platformc" in bad.stderr
    assert not (tmp_path / "q").exists()
