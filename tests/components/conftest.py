from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from compiler.pipeline import ClusterBuild, build_platform

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def writes_nothing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Component tests compile in memory: run each in an empty folder and fail if a file appears."""
    empty = tmp_path_factory.mktemp("cwd")
    before = Path.cwd()
    os.chdir(empty)
    try:
        yield
    finally:
        os.chdir(before)
    assert list(empty.iterdir()) == [], "a component test wrote files"


@pytest.fixture(scope="session")
def example_builds() -> dict[str, ClusterBuild]:
    """The example platform (platform-spec/) built in memory."""
    return {b.model.name: b for b in build_platform(REPO_ROOT / "platform-spec")}
