"""Render every chart of a synthetic platform with real Helm and print releases, distinct renders,
seconds and peak memory.

    python3 -m bench.charts --clusters 20 --teams 40

Each cluster's charts are rendered the way compile and verify render them
(compiler/charts/releases.py: two passes, the second with the CRDs of the first served), each
distinct request (archive, release, namespace, values, Kubernetes version, API versions) once:
renders are cached by digest, so clusters that share values share renders. Helm runs in this
process's children, one at a time.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from compiler.charts import render as render_module
from compiler.charts.releases import releases_of_units, render_releases
from compiler.pipeline import build_platform
from compiler.synthetic import write_synthetic_spec

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--teams", type=int, default=40)
    parser.add_argument("--serving-paths", type=int, default=40)
    parser.add_argument("--charts", type=Path, default=ROOT.parent / "shared" / "charts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="platformc-bench-charts-") as tmp:
        spec = write_synthetic_spec(Path(tmp) / "spec", args.clusters, args.teams, args.serving_paths)
        builds = build_platform(spec)
    started = time.perf_counter()
    releases = objects = 0
    for build in builds:
        found = releases_of_units(build.model.engine, build.units)
        rendered = render_releases(found, build.model.kubernetes_version, args.charts)
        releases += len(found)
        objects += sum(len(r.objects) for r in rendered)
    seconds = time.perf_counter() - started
    distinct = len(render_module._CACHE)
    peak = (
        max(resource.getrusage(r).ru_maxrss for r in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024
    )
    print(f"platform: {len(builds)} clusters, {releases} chart releases, {objects} rendered objects")
    print(f"helm template runs: {distinct} distinct requests (2 passes per release, cached by digest)")
    print(f"rendering: {seconds:.1f} s ({seconds / len(builds):.2f} s per cluster), peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
