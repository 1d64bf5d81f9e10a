"""Fixtures for chart tests: the example platform built once, its charts rendered with real Helm."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.charts.releases import rendered_build
from compiler.components.base import KubeObject
from compiler.pipeline import ClusterBuild, build_platform
from tests.conftest import EXAMPLE_OVERLAYS, EXAMPLE_SPEC

Rendered = dict[str, list[KubeObject]]  # unit → objects its charts render to


@pytest.fixture(scope="session")
def example_builds() -> dict[str, ClusterBuild]:
    builds = build_platform(EXAMPLE_SPEC, overlays_dir=EXAMPLE_OVERLAYS)
    return {b.model.name: b for b in builds}


@pytest.fixture(scope="session")
def example_rendered(example_builds: dict[str, ClusterBuild], shared_charts: Path) -> dict[str, Rendered]:
    """Cluster → unit → rendered objects of the example platform (prod-us-east: Argo CD, DRA, 1.34;
    staging-eu: Flux, device plugin, 1.33)."""
    return {name: rendered_build(build, shared_charts) for name, build in example_builds.items()}


def of_kind(objects: list[KubeObject], kind: str, name: str | None = None) -> list[KubeObject]:
    return [o for o in objects if o.get("kind") == kind and (name is None or o["metadata"]["name"] == name)]
