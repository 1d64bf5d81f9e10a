"""Fixtures for verify tests: the example tree's objects and its charts rendered with real Helm."""

from __future__ import annotations

import functools
from typing import Any

from compiler.validate.tree import iter_tree
from compiler.verify.charts import chart_releases, render_release
from tests.conftest import EXAMPLE_GENERATED, SHARED_CHARTS


@functools.cache
def _tree_objects(cluster: str) -> tuple[str, tuple[dict[str, Any], ...]]:
    problems: list[Any] = []
    loaded = list(iter_tree(EXAMPLE_GENERATED, problems, clusters=[cluster]))
    assert not problems, problems
    return loaded[0][1], tuple(obj for _, _, _, obj in loaded)


def example_objects(cluster: str = "prod-us-east") -> list[dict[str, Any]]:
    import copy

    return copy.deepcopy(list(_tree_objects(cluster)[1]))


def example_chart_objects(cluster: str, unit: str) -> list[dict[str, Any]]:
    """Every object the unit's charts render, with the values the example tree gives them."""
    version, objects = _tree_objects(cluster)
    out: list[dict[str, Any]] = []
    for release in chart_releases(objects):
        if release.unit == unit:
            out += render_release(release, SHARED_CHARTS, version)
    assert out, f"no chart objects for unit {unit} on {cluster}"
    return out
