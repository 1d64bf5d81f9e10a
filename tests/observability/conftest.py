"""Fixtures for the observability tests: the committed generated/ tree, read as a user would."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "generated"
SCHEMAS = ROOT.parent / "shared" / "schemas" / "crds"
PROMTOOL = "/usr/bin/promtool"


def load_objects(tree: Path) -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for path in sorted(tree.rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found.append((path, doc))
    return found


def dashboard_models(obj: dict[str, Any]) -> list[dict[str, Any]]:
    if obj["kind"] == "ConfigMap" and obj["metadata"].get("labels", {}).get("grafana_dashboard") == "1":
        return [json.loads(text) for text in obj["data"].values()]
    if obj["kind"] == "GrafanaDashboard":
        return [json.loads(obj["spec"]["json"])]
    return []


def dashboard_exprs(model: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for panel in model["panels"]:
        for target in panel.get("targets", []):
            yield f"panel '{panel['title']}'", target["expr"]


def rule_exprs(obj: dict[str, Any]) -> Iterator[tuple[str, str]]:
    if obj["kind"] != "PrometheusRule":
        return
    for group in obj["spec"]["groups"]:
        for rule in group["rules"]:
            yield f"rule {rule.get('alert') or rule.get('record')} in {group['name']}", rule["expr"]


def all_exprs(objects: list[tuple[Path, dict[str, Any]]]) -> list[tuple[str, str, str]]:
    """(file, where, expr) for every dashboard target and rule in the tree."""
    result = []
    for path, obj in objects:
        for model in dashboard_models(obj):
            result += [(str(path.relative_to(ROOT)), where, expr) for where, expr in dashboard_exprs(model)]
        result += [(str(path.relative_to(ROOT)), where, expr) for where, expr in rule_exprs(obj)]
    return result


def label_matchers(expr: str) -> set[tuple[str, str]]:
    """(label, value) pairs an expression selects on; regex alternations are split into their values."""
    found: set[tuple[str, str]] = set()

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.MatrixSelector):
            node = node.vector_selector
        if isinstance(node, promql_parser.VectorSelector):
            for m in node.matchers.matchers:
                if str(m.op) == "MatchOp.Equal":
                    found.add((m.name, m.value))
                elif str(m.op) == "MatchOp.Re":
                    found.update((m.name, v.replace("\\.", ".")) for v in m.value.split("|"))

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


@pytest.fixture(scope="session")
def generated_objects() -> list[tuple[Path, dict[str, Any]]]:
    objects = load_objects(GENERATED)
    assert objects, f"no objects under {GENERATED}"
    return objects


@pytest.fixture(scope="session")
def promtool() -> str:
    # A missing promtool fails: rule checks are part of the contract, not optional extras.
    tool = shutil.which("promtool") or PROMTOOL
    assert Path(tool).is_file(), "promtool not found (install Debian's prometheus package; .ci/run does)"
    return tool
