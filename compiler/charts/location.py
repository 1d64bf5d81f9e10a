"""Where the chart cache is, as compile and diff choose it. A leaf (no chart handling imported),
so that keying the compile cache (compiler/cluster_cache.py) imports no stage."""

from __future__ import annotations

from pathlib import Path

from compiler.errors import PlatformcError

DEFAULT_CHARTS_DIR = Path(".platformc-cache/charts")


def chart_cache(charts_dir: Path | None) -> Path | None:
    """The chart cache to render from: the one given (which must exist), else `charts pull`'s default
    when it exists, else None (charts are then not rendered, and compile says so)."""
    if charts_dir is not None:
        if not charts_dir.is_dir():
            raise PlatformcError(
                f"chart cache {charts_dir} is not a folder "
                f"(run `platformc charts pull --charts {charts_dir}`)"
            )
        return charts_dir
    return DEFAULT_CHARTS_DIR if DEFAULT_CHARTS_DIR.is_dir() else None
