"""Compile figures of the fleet-scale targets, with the C-emitter baseline measured in the same run.

    python3 -m bench.compile [--clusters 20 --teams 100 --serving-paths 200 --runs 3]

Every team is on every cluster unless --clusters-per-team is given. The spec is written to a temp
folder and every compile is the real command, `python3 -m compiler.cli compile`, in a fresh
process (Python start-up and imports included: what a user or CI waits for; platformc's bytecode
compiled first, as an installed platformc has it), with the compile cache in the temp folder. Per
run, in order:

- the C-emitter baseline: PyYAML's CSafeDumper writing the same objects, one file each, into an
  empty folder (objects are built once beforehand; only dumping and writing is timed);
- cold: empty cache, empty output folder (right after the baseline: their ratio is per run, both
  start after a flush of dirty pages, so one's writeback is not charged to the other);
- no-op: the same spec again (nothing changed: the compile record answers, nothing is written);
- check: `compile --check` with nothing changed;
- one team: one team's quota changes on every cluster (every cluster's key changes), then compile.

Every timed step starts after a flush of dirty pages (os.sync), so no step pays for the writeback
of the one before (a cold compile leaves ~200 MB of tree and caches to write).

Once: the clusters stage (components → validation → render, no cache, no write) with 1 and with 2
workers. Peak memory (the target) is the largest resident set of any compile command or worker;
the bench process's own peak (it holds the C emitter's objects and, for the clusters stage, every
cluster's tree) is printed apart.
Prints medians over --runs and the machine's load average (on a shared machine, read ratios).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def installed_bytecode() -> None:
    """Compile platformc's modules to bytecode first, as `pip install` does: an installed platformc
    never compiles its source at start-up (this machine sets PYTHONDONTWRITEBYTECODE, so without
    this every measured process would, about 0.15 s each)."""
    import compileall

    compileall.compile_dir(ROOT / "compiler", quiet=1)


def peak_rss_mib() -> float:
    """Peak resident memory of this process and of the largest process it started."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max(own, commands_peak_mib() * 1024) / 1024


def commands_peak_mib() -> float:
    """Peak resident memory of the largest process this one started and waited for (a platformc
    command, or one of the workers it forked)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def cli(work: Path, *args: str, jobs: int | None = None) -> float:
    """Seconds of one `platformc compile` in a fresh process, in work (cache in work). It starts
    after a flush of dirty pages: a cold compile leaves ~200 MB to write back (tree and caches),
    which would otherwise be charged to whichever step runs next."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PLATFORMC_NO_CACHE": "0"}
    if jobs:
        env["PLATFORMC_JOBS"] = str(jobs)
    command = [sys.executable, "-m", "compiler.cli", "compile", "--spec", "spec", "--out", "generated", *args]
    os.sync()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"compile failed: {done.stderr}{done.stdout}")
    return seconds


PlacedObject = tuple[str, str, dict]  # (cluster, folder, object)


def c_emitter_objects(spec: Path) -> list[PlacedObject]:
    """Every object of the platform where compile places it, built once (the baseline times only
    dumping and writing)."""
    from compiler.components import facts_of
    from compiler.core import build_cluster, registered, select_clusters
    from compiler.spec.build import load_platform

    model = load_platform(spec, facts_of(registered()))
    return [
        (cluster.name, folder, obj)
        for cluster in select_clusters(model, ())
        for folder, obj in build_cluster(cluster).placed
    ]


def c_emitter_seconds(objects: list[PlacedObject], out: Path) -> float:
    """Seconds for PyYAML's C emitter (CSafeDumper) to write the objects, one file each, into the
    empty folder `out`, removed afterwards. Dirty pages of earlier steps are flushed first (not
    timed), as before every timed compile: the kernel's writeback would otherwise charge one
    step for another's writes."""
    import yaml

    from compiler.emit import canonical, file_name

    os.sync()
    start = time.perf_counter()
    made: set[Path] = set()
    for cluster, folder, obj in objects:
        target = out / cluster / folder
        if target not in made:
            target.mkdir(parents=True, exist_ok=True)
            made.add(target)
        text = yaml.dump(canonical(obj), Dumper=yaml.CSafeDumper, sort_keys=False)
        (target / file_name(obj)).write_text(text)
    seconds = time.perf_counter() - start
    shutil.rmtree(out)
    return seconds


def c_emitter_baseline(spec: Path, out: Path, runs: int) -> tuple[float, int]:
    """Median seconds of c_emitter_seconds over `runs`, and the number of objects."""
    objects = c_emitter_objects(spec)
    return statistics.median(c_emitter_seconds(objects, out) for _ in range(runs)), len(objects)


def workers(spec: Path, schemas: Path, jobs: int) -> float:
    """Seconds of the clusters stage (components → validation → render) with `jobs` workers."""
    from compiler.components import facts_of
    from compiler.core import registered
    from compiler.pipeline import compile_model, schema_registry
    from compiler.spec.build import load_platform

    model = load_platform(spec, facts_of(registered()))
    registry = schema_registry([schemas], model)
    return timed(lambda: compile_model(model, registry=registry, jobs=jobs))


def main() -> None:
    from compiler.synthetic import write_synthetic_spec

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument("--serving-paths", type=int, default=200)
    parser.add_argument("--clusters-per-team", type=int, default=None, help="default: every cluster")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-workers", action="store_true", help="skip the 1 vs 2 workers figure")
    parser.add_argument("--schemas", type=Path, default=ROOT.parent / "shared" / "schemas" / "crds")
    args = parser.parse_args()
    installed_bytecode()
    schemas = str(args.schemas.resolve())
    shape = (args.clusters, args.teams, args.serving_paths)
    per_team = {"clusters_per_team": args.clusters_per_team}
    print(f"platform: {args.clusters} clusters x {args.teams} teams, {args.serving_paths} serving paths")
    figures: dict[str, list[float]] = {"cold": [], "no-op": [], "check": [], "one team": [], "C emitter": []}
    with tempfile.TemporaryDirectory(prefix="platformc-bench-compile-") as tmp:
        objects = c_emitter_objects(write_synthetic_spec(Path(tmp) / "objects-spec", *shape, **per_team))
        for run in range(args.runs):
            work = Path(tmp) / f"run{run}"
            write_synthetic_spec(work / "spec", *shape, **per_team)
            # The baseline and the cold compile side by side in each run, both after a flush.
            figures["C emitter"].append(c_emitter_seconds(objects, Path(tmp) / "baseline"))
            figures["cold"].append(cli(work, "--schemas", schemas))
            figures["no-op"].append(cli(work, "--schemas", schemas))
            figures["check"].append(cli(work, "--check", "--schemas", schemas))
            write_synthetic_spec(work / "spec", *shape, quota_bonus={"team-000": 4}, **per_team)
            figures["one team"].append(cli(work, "--schemas", schemas))
            print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in figures.items()))
            shutil.rmtree(work)  # the next run's flush need not write this one's tree
        spec = Path(tmp) / "objects-spec"
        commands_peak = commands_peak_mib()  # before the in-process stage forks this process
        one = two = 0.0
        if not args.skip_workers:
            one, two = workers(spec, Path(schemas), 1), workers(spec, Path(schemas), 2)
    median = {k: statistics.median(v) for k, v in figures.items()}
    ratio = statistics.median(c / b for c, b in zip(figures["cold"], figures["C emitter"], strict=True))
    print(f"objects: {len(objects)}")
    print(f"C emitter (CSafeDumper), one file per object: {median['C emitter']:.2f} s")
    cold = median["cold"]
    times = f"{ratio:.2f} x the C emitter (median of the runs' ratios)"
    print(f"cold compile:                  {cold:6.2f} s = {times}, target <= 1.2 x")
    print(f"no-op compile:                 {median['no-op']:6.2f} s (target <= 1.0 s)")
    print(f"compile --check, no change:    {median['check']:6.2f} s (target <= 1.0 s)")
    print(f"compile after one team change: {median['one team']:6.2f} s (target <= 1.5 s)")
    if not args.skip_workers:
        print(f"clusters stage: 1 worker {one:.2f} s, 2 workers {two:.2f} s: speedup {one / two:.2f} x")
    print(f"peak memory of a compile command or its workers: {commands_peak:.0f} MiB (target <= 512 MiB)")
    # This process holds the C emitter's objects and, for the clusters stage, every cluster's tree.
    print(f"peak memory of this bench process: {peak_rss_mib():.0f} MiB (not a platformc command)")
    load = os.getloadavg()[0]
    print(f"(medians of {args.runs} runs; load average {load:.1f} on {os.cpu_count()} cores at the end)")


if __name__ == "__main__":
    main()
