"""Fixtures for verify tests: the example tree's objects and its charts rendered with real Helm."""

from __future__ import annotations

import copy
import functools
from typing import Any

from compiler.validate.tree import iter_tree
from compiler.verify.charts import render_tree_charts
from tests.conftest import EXAMPLE_GENERATED, SHARED_CHARTS


@functools.cache
def _tree(cluster: str) -> tuple[str, tuple[tuple[str, dict[str, Any]], ...]]:
    problems: list[Any] = []
    loaded = list(iter_tree(EXAMPLE_GENERATED, problems, clusters=[cluster]))
    assert not problems, problems
    return loaded[0][1], tuple((rel, obj) for _, _, rel, obj in loaded)


def example_objects(cluster: str = "prod-us-east") -> list[dict[str, Any]]:
    return copy.deepcopy([obj for _, obj in _tree(cluster)[1]])


def example_chart_objects(cluster: str, unit: str) -> list[dict[str, Any]]:
    """Every object the unit's charts render, with the values the example tree gives them."""
    version, pairs = _tree(cluster)
    placed = [(rel.split("/", 1)[-1].rsplit("/", 1)[0], obj) for rel, obj in pairs]
    out = [
        o
        for release, objs in render_tree_charts(placed, version, SHARED_CHARTS)
        if release.unit == unit
        for o in objs
    ]
    assert out, f"no chart objects for unit {unit} on {cluster}"
    return out
