"""Fixtures for overlay tests: a copy of the example spec in a temp dir with overlays written per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.overlays.overlay_helpers import REPO, Workspace


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    shutil.copytree(REPO / "platform-spec", tmp_path / "platform-spec")
    (tmp_path / "overlays").mkdir()
    # Errors name files relative to the working directory, as a user running platformc sees them.
    monkeypatch.chdir(tmp_path)
    return Workspace(tmp_path)
