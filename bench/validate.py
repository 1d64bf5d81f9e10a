"""Benchmark of the validation engine on a synthetic, realistic object set.

    python3 -m bench.validate [--objects 20000] [--schemas ../shared/schemas/crds]

The objects are what platformc generates: a synthetic platform (compiler.synthetic) of four
clusters (Argo CD and Flux, Kubernetes 1.33 and 1.34, dra and device-plugin) with as many teams
as it takes to reach --objects, built in memory by the real components and packaging
(compiler.synth). Validates them and prints objects, seconds, objects/s and peak RSS. Cold
numbers include loading schemas and compiling validators; warm numbers reuse the registry, as a
long compile run would.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from compiler.emit import file_name
from compiler.pipeline import ClusterBuild, render
from compiler.synth import synth
from compiler.synthetic import synthetic_texts
from compiler.validate import DEFAULT_CHECKS, ObjectSet, SchemaRegistry, validate_objects, validate_tree
from compiler.validate.tree import LoadedObject

REPO_ROOT = Path(__file__).resolve().parents[1]
CLUSTERS = 4
PER_CLUSTER = 54  # objects every cluster gets (operators, Kueue flavors, dashboards, …)
PER_TEAM = 19.5  # objects a team adds on its cluster, with a serving path for every second team


def build(count: int) -> list[ClusterBuild]:
    """A platform with about `count` objects: whole teams, one cluster each."""
    teams = max(1, round((count - CLUSTERS * PER_CLUSTER) / PER_TEAM))
    return list(synth(synthetic_texts(CLUSTERS, teams, teams // 2, clusters_per_team=1)).values())


def object_set(builds: list[ClusterBuild]) -> list[LoadedObject]:
    """(cluster, version, file, object) for every object, where compile would write it."""
    return [
        (b.model.name, b.model.kubernetes_version, f"{b.model.name}/{folder}/{file_name(o)}", o)
        for b in builds
        for folder, o in b.placed
    ]


def write_tree(root: Path, builds: list[ClusterBuild]) -> None:
    """Write the set as compile renders it (one object per file, kustomizations, cluster info)."""
    for rel, content in render(builds).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def peak_rss_mib() -> float:
    # ru_maxrss is KiB on Linux (bytes on macOS; this tool targets Linux CI).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--objects", type=int, default=20_000)
    parser.add_argument("--schemas", type=Path, default=REPO_ROOT / ".." / "shared" / "schemas" / "crds")
    parser.add_argument("--tree", action="store_true", help="also write the set to disk and validate_tree it")
    args = parser.parse_args(argv)

    rss_start = peak_rss_mib()
    t0 = time.perf_counter()
    builds = build(args.objects)
    objects = object_set(builds)
    build_s = time.perf_counter() - t0
    kinds: dict[str, int] = {}
    for _, _, _, obj in objects:
        kinds[obj["kind"]] = kinds.get(obj["kind"], 0) + 1

    registry = SchemaRegistry([args.schemas.resolve()])
    t0 = time.perf_counter()
    cold = validate_objects(objects, registry)
    cold_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    warm = validate_objects(objects, registry)
    warm_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    for _cluster, version, file, obj in objects:
        registry.validate(obj, version, file)
    schema_s = time.perf_counter() - t0

    whole = ObjectSet()
    for cluster, version, file, obj in objects:
        whole.add(cluster, version, file, obj)
    t0 = time.perf_counter()
    check_findings = [f for check in DEFAULT_CHECKS for f in check(whole)]
    checks_s = time.perf_counter() - t0

    n = len(objects)
    print(f"objects:            {n}  ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})")
    print(f"build set:          {build_s:.3f} s  (spec checks, components, packaging)")
    print(f"validate (cold):    {cold_s:.3f} s  {n / cold_s:,.0f} objects/s  (incl. schema load + compile)")
    print(f"validate (warm):    {warm_s:.3f} s  {n / warm_s:,.0f} objects/s  (schemas + whole-set checks)")
    print(f"schema only (warm): {schema_s:.3f} s  {n / schema_s:,.0f} objects/s")
    print(
        f"whole-set checks:   {checks_s:.3f} s  {n / checks_s:,.0f} objects/s  "
        f"({len(DEFAULT_CHECKS)} checks: references, ordering, baseline; {len(check_findings)} findings)"
    )
    print(f"findings:           {len(cold.findings)} (cold), {len(warm.findings)} (warm)")
    print(f"peak RSS:           {peak_rss_mib():.0f} MiB (at start {rss_start:.0f} MiB)")
    if args.tree:
        with tempfile.TemporaryDirectory(prefix="platformc-bench-") as tmp:
            write_tree(Path(tmp), builds)
            t0 = time.perf_counter()
            tree = validate_tree(Path(tmp), [args.schemas.resolve()])
            tree_s = time.perf_counter() - t0
        print(f"validate_tree:      {tree_s:.3f} s  {tree.objects / tree_s:,.0f} objects/s  (read YAML)")
        print(f"peak RSS:           {peak_rss_mib():.0f} MiB (after tree)")
    for finding in cold.sorted()[:5]:
        print("  " + finding.format())
    return 0 if cold.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
