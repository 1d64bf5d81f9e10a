"""`validate` of a whole generated tree: cold, warm (cache), after a one-team change, and reading.

    python3 -m bench.validate [--clusters 20 --teams 100 --serving-paths 200] [--runs 3]

The tree is the synthetic platform (compiler.synthetic, every team on every cluster) as compile
renders it (compiler.synth), written to a temp folder. Each figure is the median of --runs runs
of `validate_tree` (what `platformc validate` runs after reading the spec's pins) with a fresh
schema registry: schemas plus every check, tree reading included.

- cold: no cache (every file parsed, every validator compiled), forked workers per cluster;
- first: the same with an empty cache, which it fills;
- warm: nothing changed, the cache serves every cluster;
- one team: that team's ClusterQueue and ResourceQuota change on every cluster (their quota
  grows), so every cluster is validated again, parsing only the changed files.

Baselines from the same run: PyYAML's C loader (CSafeLoader) alone loading every object file
(what cold validation cannot beat without a cache), a stat of every file (what the warm path
cannot beat), and the pure-Python SafeLoader against CSafeLoader on one cluster's files.
Timings depend on other load on the machine: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from compiler.synth import synth_tree
from compiler.synthetic import synthetic_texts
from compiler.validate import Report, SchemaRegistry, validate_tree
from compiler.validate.cache import ValidationCache

ROOT = Path(__file__).resolve().parents[1]
TEAM = "team-000"


def peak_rss_mib() -> float:
    """Peak resident memory of this process and of the largest worker it forked."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, workers) / 1024


def in_child(task: Callable[[], object]) -> object:
    """task() in a forked process, so its memory is its own (and its peak not this process's)."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=lambda: queue.put(task()))
    child.start()
    result = queue.get()
    child.join()
    return result


def write_tree(tree: Path, clusters: int, teams: int, serving_paths: int) -> int:
    texts = synthetic_texts(clusters, teams, serving_paths, clusters_per_team=None)
    rendered = synth_tree(texts)
    for rel, content in rendered.items():
        path = tree / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return len(rendered)


def stat_every_file(tree: Path) -> int:
    count = 0
    for where, _dirs, files in os.walk(tree):
        for name in files:
            os.lstat(os.path.join(where, name))
            count += 1
    return count


def object_files(tree: Path) -> list[Path]:
    return sorted(
        p
        for p in tree.rglob("*.yaml")
        if p.name != "kustomization.yaml" and not any(part.startswith(".") for part in p.parts)
    )


def median_seconds(
    runs: int, action: Callable[[], object], before: Callable[[], object] | None = None
) -> float:
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def load_all(files: list[Path], loader: type) -> int:
    documents = 0
    for path in files:
        documents += sum(1 for d in yaml.load_all(path.read_bytes(), Loader=loader) if d is not None)
    return documents


def grow_quota(tree: Path, step: int) -> None:
    """One team's quota change on every cluster: its ClusterQueue's first integer nominalQuota and
    its ResourceQuota's CPU requests grow (the bytes compile would write differ only there)."""
    for path in tree.glob(f"*/components/kueue-config/clusterqueue-{TEAM}.yaml"):
        text = path.read_text()
        path.write_text(
            re.sub(
                r"nominalQuota: (\d+)\n", lambda m: f"nominalQuota: {int(m.group(1)) + step}\n", text, count=1
            )
        )
    for path in tree.glob(f"*/components/tenancy/{TEAM}/resourcequota-{TEAM}.yaml"):
        text = path.read_text()
        path.write_text(
            re.sub(r"requests\.cpu: '(\d+)'", lambda m: f"requests.cpu: '{int(m.group(1)) + step}'", text)
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument("--serving-paths", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--schemas", type=Path, default=ROOT.parent / "shared" / "schemas" / "crds")
    args = parser.parse_args(argv)
    schemas = args.schemas.resolve()

    with tempfile.TemporaryDirectory(prefix="platformc-bench-validate-") as tmp:
        work = Path(tmp)
        tree = work / "generated"
        start = time.perf_counter()
        # Built in a child process, so the peak memory below is validate's own.
        in_child(lambda: write_tree(tree, args.clusters, args.teams, args.serving_paths))
        files = object_files(tree)
        print(
            f"platform: {args.clusters} clusters x {args.teams} teams, {args.serving_paths} serving paths: "
            f"{len(files)} object files written in {time.perf_counter() - start:.1f} s"
        )
        time.sleep(2.1)  # older than the cache's stat margin, as a tree compiled earlier is

        reports: list[Report] = []

        def validate(cache: ValidationCache | None) -> None:
            reports.append(validate_tree(tree, registry=SchemaRegistry([schemas]), cache=cache))

        cold = median_seconds(args.runs, lambda: validate(None))
        objects = reports[-1].objects
        first = median_seconds(1, lambda: validate(ValidationCache(work / "cache")))
        memory = in_child(lambda: (validate(None), peak_rss_mib())[1])
        cache = ValidationCache(work / "cache")
        warm = median_seconds(args.runs, lambda: validate(cache))
        steps = iter(range(1, args.runs + 1))

        def change() -> None:
            grow_quota(tree, next(steps))
            time.sleep(2.1)

        one_team = median_seconds(args.runs, lambda: validate(cache), before=change)
        assert len({(len(r.findings), r.objects) for r in reports}) == 1, "runs disagree"

        c_load = median_seconds(1, lambda: load_all(files, yaml.CSafeLoader))
        stat_all = median_seconds(args.runs, lambda: stat_every_file(tree))
        sample = [p for p in files if p.relative_to(tree).parts[0] == "cluster-000"]
        c_sample = median_seconds(args.runs, lambda: load_all(sample, yaml.CSafeLoader))
        py_sample = median_seconds(1, lambda: load_all(sample, yaml.SafeLoader))

    def rate(seconds: float, count: int = objects) -> str:
        return f"{seconds:7.3f} s  {count / seconds:>9,.0f} objects/s"

    print(f"objects: {objects}, findings: {len(reports[-1].findings)}, medians of {args.runs} runs")
    print(f"validate, cold (no cache)         {rate(cold)}   {cold / c_load:.2f} x the C loader alone")
    print(f"validate, first (fills the cache) {rate(first)}   (one run)")
    print(f"validate, warm (nothing changed)  {rate(warm)}   target >= 100,000 objects/s")
    print(f"validate, one team changed        {rate(one_team)}   ({args.clusters} clusters checked again)")
    print(f"baseline: CSafeLoader alone       {rate(c_load)}   (every object file, one run)")
    print(f"baseline: os.walk + lstat         {rate(stat_all)}   (every file of the tree)")
    print(
        f"reading cluster-000 ({len(sample)} files): CSafeLoader {rate(c_sample, len(sample))}, "
        f"pure-Python SafeLoader {rate(py_sample, len(sample))} ({py_sample / c_sample:.1f} x slower)"
    )
    print(
        f"peak memory of a cold validate: {memory:.0f} MiB "
        "(the process or its largest worker; target <= 512 MiB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
