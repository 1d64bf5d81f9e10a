"""A PR author's workspace: a copy of the example spec and overlays in a temp dir, run through the CLI."""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from compiler.cli import main
from tests.conftest import EXAMPLE_OVERLAYS, EXAMPLE_SPEC


@dataclass
class Workspace:
    root: Path

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.root / rel
        text = path.read_text()
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1))

    def run(self, *args: str) -> Result:
        result = CliRunner().invoke(main, list(args))
        # A user never sees a Python traceback: every failure ends in SystemExit with a message.
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        return result

    def files(self) -> set[str]:
        return {p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()}


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copytree(EXAMPLE_SPEC, root / "platform-spec")
    shutil.copytree(EXAMPLE_OVERLAYS, root / "overlays")
    monkeypatch.chdir(root)
    return Workspace(root)
