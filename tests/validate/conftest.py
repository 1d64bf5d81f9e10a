"""Fixtures for the validation engine tests.

The CRD schemas are the ones platformc embeds, unpacked as a catalog folder (tests/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.validate import SchemaRegistry
from tests.conftest import CRD_SCHEMAS as CRDS_DIR


@pytest.fixture(scope="session")
def crds_dir() -> Path:
    assert (CRDS_DIR / "kueue.x-k8s.io" / "clusterqueue_v1beta2.json").is_file(), (
        f"embedded CRD schemas not unpacked at {CRDS_DIR}"
    )
    return CRDS_DIR


@pytest.fixture(scope="session")
def registry(crds_dir: Path) -> SchemaRegistry:
    """One registry for the session: compiled validators are cached, as in real use."""
    return SchemaRegistry([crds_dir])


@pytest.fixture(scope="session")
def example_tree(tmp_path_factory: pytest.TempPathFactory, crds_dir: Path) -> Path:
    """platform-spec/ compiled (with the stand-in AI stack) once per session; tests copy it."""
    from compiler.pipeline import compile_platform
    from tests.validate.ai_fixture import SPEC_DIR, WITH_AI, use_components

    out = tmp_path_factory.mktemp("example") / "generated"
    with pytest.MonkeyPatch.context() as mp:
        use_components(mp, WITH_AI)
        compile_platform(SPEC_DIR, out, schema_dirs=[crds_dir])
    return out
