"""Benchmark of `platformc verify` on the synthetic platform (compiler/synthetic.py).

    python3 -m bench.verify [--clusters 20] [--teams 100] [--serving-paths 200] [--charts ../shared/charts]
                            [--jobs N] [--cold-speedup]

Compiles the synthetic spec (not timed), then verifies the whole tree, each run in a new process as
`platformc verify` runs: cold (no render cache: every distinct chart render runs Helm), warm (the
renders read back from the render cache the cold run wrote, as a second `platformc verify` of an
unchanged tree does; the spec, the tree and the whole simulation are read and run again), and warm
again with one worker, for the speedup from 1 to `--jobs` workers (default PLATFORMC_JOBS, else one
per core); `--cold-speedup` also times a cold run with one worker. Prints per run the seconds of
verify_tree, the CPU seconds of the run's processes (workers and Helm included), findings and peak
RSS (the largest process of the run).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.compile import installed_bytecode
from compiler.parallel import default_jobs
from compiler.pipeline import compile_platform
from compiler.synthetic import write_synthetic_spec
from compiler.verify.run import verify_tree

ROOT = Path(__file__).resolve().parents[1]


def run_once(work: Path, charts: Path, jobs: int) -> None:
    """One verify of the compiled platform in `work`, in this (new) process; prints a JSON line."""
    start = time.perf_counter()
    result = verify_tree(
        work / "generated", charts, spec_dir=work / "spec", render_cache=work / "renders", jobs=jobs
    )
    seconds = time.perf_counter() - start
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    record = {
        "seconds": seconds,
        "cpu": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
        "peak_mib": max(own.ru_maxrss, children.ru_maxrss) / 1024,
        "clusters": len(result.clusters),
        "workloads": sum(len(c.rows) for c in result.clusters),
        "flows": sum(c.flows for c in result.clusters),
        "rules": Counter(f.rule for f in result.findings),
    }
    print(json.dumps(record))


def _measure(work: Path, charts: Path, jobs: int, label: str) -> float:
    command = [sys.executable, "-m", "bench.verify", "--run-once", str(work), "--charts", str(charts)]
    out = subprocess.run(
        [*command, "--jobs", str(jobs)], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    r = json.loads(out.strip().splitlines()[-1])
    print(
        f"{label}: {r['seconds']:.2f} s (CPU {r['cpu']:.1f} s), {r['clusters']} clusters, "
        f"{r['workloads']} workloads, {r['flows']} flows, {sum(r['rules'].values())} findings, "
        f"peak memory {r['peak_mib']:.0f} MiB"
    )
    print("  findings by rule: " + (", ".join(f"{k} {n}" for k, n in sorted(r["rules"].items())) or "none"))
    return float(r["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument("--serving-paths", type=int, default=200)
    parser.add_argument("--charts", type=Path, default=ROOT.parent / "shared" / "charts")
    parser.add_argument("--schemas", type=Path, default=ROOT.parent / "shared" / "schemas" / "crds")
    parser.add_argument("--jobs", type=int, default=None, help="workers (default: PLATFORMC_JOBS or cores)")
    parser.add_argument("--cold-speedup", action="store_true", help="also time a cold run with one worker")
    parser.add_argument("--run-once", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    installed_bytecode()
    jobs = args.jobs or default_jobs()
    if args.run_once:
        run_once(args.run_once, args.charts.resolve(), jobs)
        return
    charts = args.charts.resolve()
    with tempfile.TemporaryDirectory(prefix="platformc-bench-verify-") as tmp:
        work = Path(tmp)
        write_synthetic_spec(work / "spec", args.clusters, args.teams, args.serving_paths)
        compiled = compile_platform(work / "spec", work / "generated", schema_dirs=[args.schemas])
        print(
            f"platform: {args.clusters} clusters x {args.teams} teams, {args.serving_paths} serving paths, "
            f"{compiled.objects} objects; {jobs} workers; load average {os.getloadavg()[0]:.1f}"
        )
        if args.cold_speedup:
            cold_one = _measure(work, charts, 1, "cold, 1 worker")
            shutil.rmtree(work / "renders")
        cold = _measure(work, charts, jobs, f"cold, {jobs} workers")
        warm = _measure(work, charts, jobs, f"warm, {jobs} workers")
        warm_one = _measure(work, charts, 1, "warm, 1 worker")
        speedups = f"warm {warm_one / warm:.2f}x" + (
            f", cold {cold_one / cold:.2f}x" if args.cold_speedup else ""
        )
        print(f"speedup from 1 to {jobs} workers: {speedups}; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
