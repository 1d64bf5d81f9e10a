from __future__ import annotations

from pathlib import Path

import pytest

from compiler.pipeline import ClusterBuild, build_platform

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def example_builds() -> dict[str, ClusterBuild]:
    """The example platform (platform-spec/) built in memory."""
    return {b.model.name: b for b in build_platform(REPO_ROOT / "platform-spec")}
