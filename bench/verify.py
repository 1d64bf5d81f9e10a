"""Benchmark of `platformc verify` on the synthetic platform (compiler/synthetic.py).

    python3 -m bench.verify [--clusters 20] [--teams 100] [--serving-paths 200] [--charts ../shared/charts]

Compiles the synthetic spec (not timed), then verifies the whole tree twice: cold (every chart
rendered with real Helm) and warm (the renders read back from the render cache the cold run
wrote, as a second `platformc verify` of an unchanged tree does; reading the tree and the whole
simulation run again). Clusters run in forked workers (PLATFORMC_JOBS, default one per core).
Prints seconds, findings and peak RSS (the largest of this process and its workers).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.compile import peak_rss_mib
from compiler.pipeline import compile_platform
from compiler.synthetic import write_synthetic_spec
from compiler.verify.run import verify_tree

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument("--serving-paths", type=int, default=200)
    parser.add_argument("--charts", type=Path, default=ROOT.parent / "shared" / "charts")
    parser.add_argument("--schemas", type=Path, default=ROOT.parent / "shared" / "schemas" / "crds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="platformc-bench-verify-") as tmp:
        work = Path(tmp)
        write_synthetic_spec(work / "spec", args.clusters, args.teams, args.serving_paths)
        compiled = compile_platform(work / "spec", work / "generated", schema_dirs=[args.schemas])
        print(
            f"platform: {args.clusters} clusters x {args.teams} teams, {args.serving_paths} serving paths, "
            f"{compiled.objects} objects"
        )
        for run in ("cold", "warm"):
            start = time.perf_counter()
            result = verify_tree(
                work / "generated", args.charts, spec_dir=work / "spec", render_cache=work / "renders"
            )
            seconds = time.perf_counter() - start
            workloads = sum(len(c.rows) for c in result.clusters)
            flows = sum(c.flows for c in result.clusters)
            rules = Counter(f.rule for f in result.findings)
            print(
                f"{run}: {seconds:.2f} s, {len(result.clusters)} clusters, {workloads} workloads, "
                f"{flows} flows, "
                f"{len(result.findings)} findings, peak memory {peak_rss_mib():.0f} MiB"
            )
            print(
                "  findings by rule: " + (", ".join(f"{r} {n}" for r, n in sorted(rules.items())) or "none")
            )


if __name__ == "__main__":
    main()
