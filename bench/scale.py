"""Growth curve: a cold compile (no cache, empty output) of 5, 20, 50, 100 and 200 clusters.

    python3 -m bench.scale [--sizes 5 20 50 100 200] [--teams-per-cluster 5] [--paths-per-cluster 10]

Teams and serving paths scale with the clusters (each team on --clusters-per-team clusters), so
objects grow in proportion to clusters. Each size compiles in a fresh process, so its peak
memory (largest of the process and its workers) is its own. Prints objects, wall seconds, CPU
seconds (user: the compiler's own work; system: mostly the kernel creating files, of the process
and its workers), µs per object and MiB, and the ratios to the smallest size: linear growth keeps
µs per object flat. User CPU is what the compiler's work decides; system CPU and wall time also
follow the disk's cost of creating a file.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.compile import installed_bytecode

ROOT = Path(__file__).resolve().parents[1]


def one_size(clusters: int, teams: int, paths: int, per_team: int, schemas: Path) -> dict[str, float]:
    from bench.compile import peak_rss_mib
    from compiler.pipeline import compile_platform
    from compiler.synthetic import write_synthetic_spec

    with tempfile.TemporaryDirectory(prefix="platformc-bench-scale-") as tmp:
        work = Path(tmp)
        write_synthetic_spec(work / "spec", clusters, teams, paths, clusters_per_team=per_team)
        start, cpu_start = time.perf_counter(), _cpu_seconds()
        result = compile_platform(work / "spec", work / "generated", schema_dirs=[schemas])
        seconds, cpu = time.perf_counter() - start, _cpu_seconds()
    return {
        "objects": result.objects,
        "files": result.files,
        "seconds": seconds,
        "user": cpu[0] - cpu_start[0],
        "system": cpu[1] - cpu_start[1],
        "mib": peak_rss_mib(),
    }


def _cpu_seconds() -> tuple[float, float]:
    """(user, system) CPU seconds of this process and of the workers it has waited for."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + workers.ru_utime, own.ru_stime + workers.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 20, 50, 100, 200])
    parser.add_argument("--teams-per-cluster", type=int, default=5)
    parser.add_argument("--paths-per-cluster", type=int, default=10)
    parser.add_argument("--clusters-per-team", type=int, default=3)
    parser.add_argument("--schemas", type=Path, default=ROOT.parent / "shared" / "schemas" / "crds")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a single size, in this process
    args = parser.parse_args()
    installed_bytecode()
    shape = (args.teams_per_cluster, args.paths_per_cluster, args.clusters_per_team)
    if args.one:
        teams, paths, per_team = args.one * shape[0], args.one * shape[1], shape[2]
        print(json.dumps(one_size(args.one, teams, paths, per_team, args.schemas.resolve())))
        return
    columns = "clusters  teams  paths  objects   files  seconds  us/object  user s  user us/object  system s"
    print(f"{columns}  peak MiB")
    rows = []
    for size in args.sizes:
        command = [sys.executable, "-m", "bench.scale", "--one", str(size), "--schemas", str(args.schemas)]
        command += ["--teams-per-cluster", str(shape[0]), "--paths-per-cluster", str(shape[1])]
        command += ["--clusters-per-team", str(shape[2])]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(row)
        per_object = row["seconds"] / row["objects"] * 1e6
        user_per_object = row["user"] / row["objects"] * 1e6
        print(
            f"{size:8d}  {size * shape[0]:5d}  {size * shape[1]:5d}  {row['objects']:7.0f}  "
            f"{row['files']:6.0f}  {row['seconds']:7.2f}  {per_object:9.1f}  {row['user']:6.1f}  "
            f"{user_per_object:14.1f}  {row['system']:8.1f}  {row['mib']:8.0f}"
        )
    first, last = rows[0], rows[-1]
    growth = last["objects"] / first["objects"]
    print(
        f"from {args.sizes[0]} to {args.sizes[-1]} clusters: objects x{growth:.1f}, user CPU "
        f"x{last['user'] / first['user']:.1f}, wall time x{last['seconds'] / first['seconds']:.1f}, system "
        f"CPU x{last['system'] / first['system']:.1f}, memory x{last['mib'] / first['mib']:.1f} (no worse "
        "than linear: ratios <= the objects ratio; system CPU and wall time also follow the kernel's cost "
        "of creating a file, which on this machine's disk grows with the files written and swings 3x)"
    )


if __name__ == "__main__":
    main()
