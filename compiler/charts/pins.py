"""Which charts a platform pins: those its compiled clusters install (built-in and custom components)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from compiler.charts.cache import (
    DEFAULT_CHARTS_DIR,
    LOCK_FILE,
    ChartOutcome,
    ChartsPull,
    PinnedChart,
    pull_charts,
)
from compiler.packaging.units import Unit


def pinned_charts(units: Iterable[Unit]) -> list[PinnedChart]:
    return sorted({PinnedChart(c.chart, c.version, c.repository) for u in units for c in u.charts})


def pull_platform_charts(
    spec_dir: Path,
    overlays_dir: Path | None,
    charts_dir: Path = DEFAULT_CHARTS_DIR,
    lock_path: Path = LOCK_FILE,
    progress: Callable[[int, int, ChartOutcome], None] | None = None,
) -> ChartsPull:
    """`platformc charts pull`: every chart of every cluster into charts_dir, checked against the lock."""
    from compiler.pipeline import build_platform

    builds = build_platform(spec_dir, overlays_dir=overlays_dir)
    return pull_charts(pinned_charts(u for b in builds for u in b.units), charts_dir, lock_path, progress)
