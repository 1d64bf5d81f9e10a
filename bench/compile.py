"""Compile a synthetic platform and print objects, seconds, objects/s and peak memory.

    python3 -m bench.compile --clusters 20 --teams 100 --serving-paths 200

Every team is on every cluster unless --clusters-per-team is given. The spec is written to a
temp folder; the compile goes through the same function as `platformc compile` (spec load,
checks, components, overlays, packaging, validation against --schemas, emit). It runs twice
into the same folder: cold (every file written) and warm (unchanged files hard-linked), the
case of a CI run after a small spec change. Stages: spec (read and check), clusters
(components, overlays, packaging, validation, rendering; one worker per core), write.

Writing tens of thousands of new files depends on the disk: on this workplace's VM it ranged
from 2 s to over 20 s for the same tree, slowest right after large deletions. The write stage
is printed on its own so the compiler's share is visible.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from compiler.pipeline import compile_platform
from compiler.synthetic import write_synthetic_spec

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mib() -> float:
    """Peak resident memory of this process and of the largest worker it forked."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, workers) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument("--serving-paths", type=int, default=200)
    parser.add_argument("--clusters-per-team", type=int, default=None, help="default: every cluster")
    parser.add_argument("--schemas", type=Path, default=ROOT.parent / "shared" / "schemas" / "crds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="platformc-bench-compile-") as tmp:
        work = Path(tmp)
        write_synthetic_spec(
            work / "spec",
            args.clusters,
            args.teams,
            args.serving_paths,
            clusters_per_team=args.clusters_per_team,
        )
        print(f"platform: {args.clusters} clusters x {args.teams} teams, {args.serving_paths} serving paths")
        for run in ("cold", "warm"):
            start = time.perf_counter()
            result = compile_platform(work / "spec", work / "generated", schema_dirs=[args.schemas])
            seconds = time.perf_counter() - start
            stages = ", ".join(f"{name} {value:.2f} s" for name, value in result.seconds.items())
            print(
                f"{run}: {result.objects} objects, {result.files} files, {seconds:.2f} s "
                f"({stages}), {result.objects / seconds:,.0f} objects/s, peak memory {peak_rss_mib():.0f} MiB"
            )
            warnings = len(result.validation.warnings)
            if warnings:
                print(f"  ({warnings} validation warnings, e.g. {result.validation.warnings[0].format()})")


if __name__ == "__main__":
    main()
