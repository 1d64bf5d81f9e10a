"""A tired platform engineer's workspace: a copy of the example spec and overlays in a temp dir."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from compiler.cli import main
from tests.conftest import CRD_SCHEMAS, EXAMPLE_OVERLAYS, EXAMPLE_SPEC


@dataclass
class Workspace:
    root: Path

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.root / rel
        text = path.read_text()
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1))

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(main, list(args))

    def compile(self, *args: str) -> Result:
        return self.run("compile", "--schemas", str(CRD_SCHEMAS), *args)


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    shutil.copytree(EXAMPLE_SPEC, tmp_path / "platform-spec")
    shutil.copytree(EXAMPLE_OVERLAYS, tmp_path / "overlays")
    # Errors name files relative to the working directory, as a user running platformc sees them.
    monkeypatch.chdir(tmp_path)
    return Workspace(tmp_path)


def no_traceback(result: Result) -> None:
    """A user never sees a Python traceback: every failure ends in SystemExit with a message."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
