"""Every values key platformc or a custom component sets must be one the chart reads.

A key path is live when the chart's values.yaml has it, when a template reads it
(`.Values.a.b` or `index .Values "a" "b"`), when it sits under a map values.yaml leaves
open (`podAnnotations: {}`, `tolerations: null`), when Chart.yaml names it as a dependency
condition, or when it belongs to a sub-chart (first key = the sub-chart's name or alias) and
is live there; `global` is always live. The merged values must also pass the chart's
values.schema.json, as Helm checks them. A dead key is an error naming the component, the key
path and the nearest keys the chart does have: it is what a typo or a chart bump that renamed
a value looks like, and Helm itself ignores both silently.
"""

from __future__ import annotations

import difflib
import io
import json
import re
import tarfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from compiler.charts.render import chart_archive
from compiler.components.base import ComponentOutput

KeyPath = tuple[str, ...]


@dataclass
class ChartSource:
    """The parts of a chart (or sub-chart) that say which values it reads."""

    name: str
    defaults: dict[str, Any] = field(default_factory=dict)
    templates: str = ""
    schema: dict[str, Any] | None = None
    conditions: set[KeyPath] = field(default_factory=set)
    subcharts: dict[str, ChartSource] = field(default_factory=dict)  # by name and alias


def _files(tar: tarfile.TarFile) -> dict[str, bytes]:
    out = {}
    for member in tar.getmembers():
        if member.isfile():
            handle = tar.extractfile(member)
            if handle is not None:
                out[member.name] = handle.read()
    return out


def _build(root: str, files: Mapping[str, bytes]) -> ChartSource:
    def text(name: str) -> str:
        return files.get(f"{root}/{name}", b"").decode("utf-8", "replace")

    meta = yaml.safe_load(text("Chart.yaml")) or {}
    source = ChartSource(str(meta.get("name", root.rsplit("/", 1)[-1])))
    source.defaults = yaml.safe_load(text("values.yaml")) or {}
    schema = text("values.schema.json")
    source.schema = json.loads(schema) if schema else None
    # templates/, and files/ that templates render with `tpl (.Files.Get …)` (kserve-resources does).
    source.templates = "\n".join(
        data.decode("utf-8", "replace")
        for name, data in sorted(files.items())
        if name.startswith((f"{root}/templates/", f"{root}/files/"))
    )
    dependencies = meta.get("dependencies") or []
    for dep in dependencies:
        for condition in str(dep.get("condition") or "").split(","):
            if condition.strip():
                source.conditions.add(tuple(condition.strip().split(".")))
    found: dict[str, ChartSource] = {}
    for name in sorted(files):
        rest = name[len(root) + 1 :] if name.startswith(root + "/") else None
        if rest is None or not rest.startswith("charts/"):
            continue
        parts = rest.split("/")
        if len(parts) == 2 and parts[1].endswith(".tgz"):
            with tarfile.open(fileobj=io.BytesIO(files[name]), mode="r:gz") as sub:
                subfiles = _files(sub)
            top = next(iter(subfiles)).split("/")[0]
            child = _build(top, subfiles)
            found[child.name] = child
        elif len(parts) >= 3 and parts[2] == "Chart.yaml":
            child = _build(f"{root}/charts/{parts[1]}", files)
            found[child.name] = child
    for child in found.values():
        source.subcharts[child.name] = child
    for dep in dependencies:
        alias, name = dep.get("alias"), dep.get("name")
        if alias and name in found:
            source.subcharts[str(alias)] = found[name]
    return source


@cache
def chart_source(archive: Path) -> ChartSource:
    with tarfile.open(archive, "r:gz") as tar:
        files = _files(tar)
    root = next(n for n in sorted(files) if n.count("/") == 1 and n.endswith("/Chart.yaml")).split("/")[0]
    return _build(root, files)


def leaf_paths(values: Mapping[str, Any], prefix: KeyPath = ()) -> Iterator[KeyPath]:
    for key, value in values.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and value:
            yield from leaf_paths(value, path)
        else:
            yield path


def _reads(templates: str, path: KeyPath) -> bool:
    """A template reads the key itself, or hands a map above it to the manifest whole (`toYaml`,
    `with`, `range`: every key under it lands in the output)."""
    dotted = re.escape(".Values." + ".".join(path)) + r"(?![A-Za-z0-9_])"
    indexed = r"index\s+\$?\.Values\s+" + r"\s+".join(f'"{re.escape(k)}"' for k in path) + r"(?![^\s)])"
    if re.search(dotted, templates) is not None or re.search(indexed, templates) is not None:
        return True
    for depth in range(2, len(path)):
        whole = re.escape(".Values." + ".".join(path[:depth])) + r"(?![A-Za-z0-9_.])"
        if re.search(rf"(?:toYaml|toJson|toPrettyJson|with|range)\s+\(?\$?{whole}", templates):
            return True
        if re.search(rf"\$?{whole}\s*\|\s*(?:toYaml|toJson|toPrettyJson)", templates):
            return True
    return False


def _in_defaults(defaults: Any, path: KeyPath) -> bool:
    """In values.yaml, or under a map (or null) values.yaml leaves open for the user to fill."""
    node = defaults
    for key in path:
        if not isinstance(node, Mapping):
            return node is None
        if key not in node:
            return not node  # an empty map declared open, e.g. `podAnnotations: {}`
        node = node[key]
    return True


def is_live(chart: ChartSource, path: KeyPath) -> bool:
    if not path or path[0] == "global":
        return True
    if _in_defaults(chart.defaults, path) or _reads(chart.templates, path):
        return True
    if any(path[: len(c)] == c for c in chart.conditions):
        return True
    sub = chart.subcharts.get(path[0])
    return sub is not None and is_live(sub, path[1:])


def nearest_keys(chart: ChartSource, path: KeyPath) -> list[str]:
    """Existing key paths of values.yaml closest to a dead one: siblings at the deepest level that
    exists, the most similar first."""
    node: Any = chart.defaults
    depth = 0
    for key in path:
        if isinstance(node, Mapping) and key in node:
            node, depth = node[key], depth + 1
        else:
            break
    if depth == len(path) or not isinstance(node, Mapping):
        return []
    siblings = [str(k) for k in node]
    if depth == 0:
        siblings += list(chart.subcharts)
    close = difflib.get_close_matches(path[depth], siblings, n=3, cutoff=0.5)
    rest = sorted(s for s in siblings if s not in close)
    prefix = ".".join(path[:depth])
    return [f"{prefix}.{k}" if prefix else k for k in [*close, *rest][:6]]


def _merge(defaults: Any, values: Any) -> Any:
    if isinstance(defaults, Mapping) and isinstance(values, Mapping):
        merged = dict(defaults)
        for key, value in values.items():
            merged[key] = _merge(defaults.get(key), value) if key in defaults else value
        return merged
    return values


def schema_problems(chart: ChartSource, values: Mapping[str, Any]) -> list[str]:
    if chart.schema is None:
        return []
    validator = jsonschema_rs.validator_for(chart.schema)
    merged = _merge(chart.defaults, values)
    problems = []
    for error in validator.iter_errors(merged):
        where = ".".join(str(p) for p in error.instance_path) or "(top level)"
        problems.append(f"{where}: {error.message} (values.schema.json)")
    return sorted(problems)


def check_values(
    component: str, archive: Path, chart: str, version: str, values: Mapping[str, Any]
) -> list[str]:
    """Problems with the values a component sets for a chart; empty when every key is live."""
    source = chart_source(archive)
    problems = []
    for path in leaf_paths(values):
        if not is_live(source, path):
            near = nearest_keys(source, path)
            hint = f"nearest existing keys: {', '.join(near)}" if near else "no such key at any level"
            problems.append(
                f"component '{component}' sets values key {'.'.join(path)} that chart {chart} {version} "
                f"neither declares in values.yaml nor reads in a template ({hint})"
            )
    problems += [
        f"component '{component}', chart {chart} {version}: {p}" for p in schema_problems(source, values)
    ]
    return problems


def check_component_values(outputs: Sequence[tuple[str, ComponentOutput]], charts_dir: Path) -> list[str]:
    """Dead keys and schema violations in the values of every chart of a cluster's components."""
    problems = []
    for name, output in outputs:
        for chart in output.charts:
            archive = chart_archive(charts_dir, chart.chart, chart.version)
            problems += check_values(name, archive, chart.chart, chart.version, chart.values)
    return problems
