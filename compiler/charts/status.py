"""`platformc components`: for each component, the chart versions it pins, what the chart cache
holds, and whether its CRD schemas and charts are present — the first thing to look at before and
after a version bump."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from compiler.charts.cache import cached_archive, read_lock, sha256_of
from compiler.packaging.units import Unit
from compiler.registry_facts import SchemaTarget
from compiler.validate import SchemaRegistry

SCHEMA_CHECK_VERSION = "1.34"  # CRD schemas do not depend on the cluster's version


@dataclass(frozen=True)
class ChartStatus:
    chart: str
    pinned: str
    cached: tuple[str, ...]  # versions of this chart in the cache
    present: bool  # the pinned version is in the cache
    locked: bool | None  # digest matches charts.lock (None: not in the lock)


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    charts: tuple[ChartStatus, ...]
    schemas: tuple[tuple[SchemaTarget, bool], ...]  # custom resource kinds it emits, schema present

    def lines(self) -> list[str]:
        out = [self.name]
        for c in self.charts:
            cached = ", ".join(c.cached) or "none"
            lock = {
                None: "not in charts.lock",
                True: "matches charts.lock",
                False: "DIFFERS from charts.lock",
            }
            state = f"present, {lock[c.locked]}" if c.present else "MISSING (run `platformc charts pull`)"
            out.append(f"  chart {c.chart}: pinned {c.pinned}; cached: {cached}; {state}")
        missing = [f"{g}/{v} {k}" for (g, k, v), ok in self.schemas if not ok]
        if self.schemas:
            schemas = "all present" if not missing else "MISSING " + ", ".join(missing)
            out.append(f"  CRD schemas ({len(self.schemas)}): {schemas}")
        return out


def cached_versions(charts_dir: Path, chart: str) -> tuple[str, ...]:
    pattern = re.compile(rf"^{re.escape(chart)}-(v?\d[^/]*)\.tgz$")
    found = (pattern.match(p.name) for p in charts_dir.glob(f"{chart}-*.tgz")) if charts_dir.is_dir() else ()
    return tuple(sorted(m.group(1) for m in found if m))


def component_status(
    units: Iterable[Unit],
    emits: Mapping[str, Sequence[SchemaTarget]],
    charts_dir: Path,
    lock_path: Path,
    registry: SchemaRegistry,
) -> list[ComponentStatus]:
    """Status per component, in the order given by `emits` (then any other component with a chart)."""
    lock = read_lock(lock_path)
    pinned: dict[str, dict[tuple[str, str], None]] = {}
    for unit in units:
        for chart in unit.charts:
            pinned.setdefault(unit.component, {})[(chart.chart, chart.version)] = None
    names = list(emits) + sorted(set(pinned) - set(emits))
    result = []
    for name in names:
        charts = []
        for chart_name, version in sorted(pinned.get(name, {})):
            archive = cached_archive(charts_dir, chart_name, version)
            entry = lock.get((chart_name, version))
            locked = None if entry is None or archive is None else entry.sha256 == sha256_of(archive)
            cached = cached_versions(charts_dir, chart_name)
            charts.append(ChartStatus(chart_name, version, cached, archive is not None, locked))
        schemas = tuple(
            (t, registry.has_schema(f"{t[0]}/{t[2]}", t[1], SCHEMA_CHECK_VERSION))
            for t in emits.get(name, ())
        )
        result.append(ComponentStatus(name, tuple(charts), schemas))
    return result
