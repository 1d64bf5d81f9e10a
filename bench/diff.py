"""Seconds for `platformc diff` of a big platform where one team's quota changes on every cluster.

    python3 -m bench.diff --clusters 20 --teams 100

Builds a real Git repository in a temp folder: commit the spec, change one team's quota, then
time the review (compile at the base revision from Git objects + compile of the working tree +
per-object comparison + impact) and each output format.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from compiler.review.render import render_json, render_markdown, render_text
from compiler.review.run import review
from compiler.synthetic import write_synthetic_spec


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--teams", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="platformc-bench-diff-") as tmp:
        root = Path(tmp)
        write_synthetic_spec(root / "platform-spec", args.clusters, args.teams, 0, clusters_per_team=None)
        git(root, "init", "-q", "-b", "main")
        git(root, "config", "user.name", "bench")
        git(root, "config", "user.email", "bench@example.com")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "spec")
        write_synthetic_spec(
            root / "platform-spec",
            args.clusters,
            args.teams,
            0,
            clusters_per_team=None,
            quota_bonus={"team-000": 4},
        )
        start = time.perf_counter()
        result = review(root / "platform-spec", root / "overlays", "HEAD")
        reviewed = time.perf_counter() - start
        timings = {}
        for name, fn in (
            ("text", lambda: render_text(result)),
            ("markdown", lambda: render_markdown(result)),
            ("json", lambda: render_json(result)),
        ):
            t0 = time.perf_counter()
            size = len(fn().encode())
            timings[name] = (time.perf_counter() - t0, size)
    print(f"platform: {args.clusters} clusters x {args.teams} teams")
    print(
        f"changed objects: {len(result.objects.objects)} on {len(result.objects.clusters)} clusters; "
        f"impact lines: {len(result.impact.items)}"
    )
    print(f"diff (compile base from Git + working tree, compare, impact): {reviewed:.2f} s")
    for name, (seconds, size) in timings.items():
        print(f"render {name}: {seconds * 1000:.1f} ms, {size:,} bytes")


if __name__ == "__main__":
    main()
