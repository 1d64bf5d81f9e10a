"""Seconds for `platformc diff` of the fleet-scale platform where one team's quota changes on every
cluster, with the C-emitter baseline measured in the same run.

    python3 -m bench.diff [--clusters 20 --teams 100 --serving-paths 200 --runs 3]

Builds a real Git repository in a temp folder and commits the spec, then compiles it (as CI did
for main: the cache holds the base's clusters). One team's quota changes; then, each as the real
command in a fresh process (`python3 -m compiler.cli diff --base HEAD --format json`):

- diff, head compiled: after `compile` of the change (what CI runs first), both sides' clusters
  come from the cache (the base's spec is read from Git objects, its per-cluster keys hit);
- diff, head new: the change never compiled, so the head's clusters are compiled, the base's hit;
- diff, no cache: both sides compiled (PLATFORMC_NO_CACHE=1), for comparison.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.compile import c_emitter_baseline, installed_bytecode, peak_rss_mib

ROOT = Path(__file__).resolve().parents[1]


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def run(cwd: Path, *args: str, cache: bool = True) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PLATFORMC_NO_CACHE": "0" if cache else "1"}
    os.sync()  # the compile before leaves its tree and caches to write back: not charged to this step
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "compiler.cli", *args], cwd=cwd, env=env, capture_output=True, check=False
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{args[0]} failed: {done.stderr.decode()}")
    return seconds


def one_run(root: Path, args: argparse.Namespace, schemas: str) -> dict[str, float]:
    from compiler.synthetic import write_synthetic_spec

    for leftover in ("platform-spec", "generated", ".git", ".platformc-cache"):
        shutil.rmtree(root / leftover, ignore_errors=True)
    shape = (args.clusters, args.teams, args.serving_paths)
    spec = root / "platform-spec"
    write_synthetic_spec(spec, *shape, clusters_per_team=None)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "bench")
    git(root, "config", "user.email", "bench@example.com")
    git(root, "add", "platform-spec")
    git(root, "commit", "-q", "-m", "spec")
    run(root, "compile", "--schemas", schemas)  # CI compiled main before
    write_synthetic_spec(spec, *shape, clusters_per_team=None, quota_bonus={"team-000": 4})
    diff = ("diff", "--base", "HEAD", "--format", "json")
    figures = {"diff, head new": run(root, *diff)}
    shutil.rmtree(root / ".platformc-cache")
    run(root, "compile", "--schemas", schemas)  # the change, as CI compiles it before diff
    git(root, "stash", "-q")
    run(root, "compile", "--schemas", schemas)  # ... and main before that
    git(root, "stash", "pop", "-q")
    figures["diff, head compiled"] = run(root, *diff)
    if not args.skip_uncached:
        figures["diff, no cache"] = run(root, *diff, cache=False)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument("--serving-paths", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-uncached", action="store_true", help="skip the diff without cache")
    parser.add_argument("--schemas", type=Path, default=ROOT.parent / "shared" / "schemas" / "crds")
    args = parser.parse_args()
    installed_bytecode()
    schemas = str(args.schemas.resolve())
    print(f"platform: {args.clusters} clusters x {args.teams} teams, {args.serving_paths} serving paths")
    runs = []
    with tempfile.TemporaryDirectory(prefix="platformc-bench-diff-") as tmp:
        for number in range(args.runs):
            figures = one_run(Path(tmp), args, schemas)
            runs.append(figures)
            print(f"run {number + 1}: " + ", ".join(f"{k} {v:.2f} s" for k, v in figures.items()))
        baseline, objects = c_emitter_baseline(Path(tmp) / "platform-spec", Path(tmp) / "baseline", args.runs)
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"objects: {objects}; C emitter (CSafeDumper), one file per object: {baseline:.2f} s")
    both = median["diff, head compiled"]
    print(f"diff, both sides from the cache (head compiled first): {both:.2f} s (target <= 1.5 s)")
    print(f"diff, base from the cache, head compiled by diff:      {median['diff, head new']:.2f} s")
    if "diff, no cache" in median:
        print(f"diff without cache:                                    {median['diff, no cache']:.2f} s")
    print(f"peak memory: {peak_rss_mib():.0f} MiB (target <= 512 MiB)")
    load = os.getloadavg()[0]
    print(f"(medians of {args.runs} runs; load average {load:.1f} on {os.cpu_count()} cores at the end)")


if __name__ == "__main__":
    main()
