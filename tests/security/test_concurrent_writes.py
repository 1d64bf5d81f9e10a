"""Issue 16, Found 12: concurrent compiles into one --out never lose files.

The old lock was a flock on `.generated.lock` that each writer unlinked after unlocking. Writer A
locks; B opens the same file and waits; A unlinks it and B gets the lock on the unlinked file;
C, arriving now, creates a fresh lock file and gets it at once. B and C then write together, and
C's leftover cleanup deletes B's staging folder. The arrivals below are timed for exactly that."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from compiler.pipeline import compile_model, merged_tree
from compiler.spec.build import load_platform
from compiler.validate.tree import validate_tree
from compiler.write import write_tree
from tests.conftest import EXAMPLE_OVERLAYS, EXAMPLE_SPEC

ROUNDS = 20
ARRIVALS = (0.0, 0.4, 1.3)  # in units of one write's duration: B waits on A, C comes after A ends


def _write(out: str, tree: dict[str, bytes], clusters: list[str], delay: float) -> None:
    time.sleep(delay)
    write_tree(Path(out), tree, clusters, prune_others=True)


def test_concurrent_writers_always_leave_one_complete_tree(tmp_path: Path) -> None:
    compiled = compile_model(load_platform(EXAMPLE_SPEC), overlays_dir=EXAMPLE_OVERLAYS, jobs=1)
    tree = merged_tree(compiled)
    clusters = [c.info.name for c in compiled]
    out = tmp_path / "generated"
    started = time.perf_counter()
    write_tree(out, tree, clusters, prune_others=True)
    one_write = time.perf_counter() - started
    context = multiprocessing.get_context("fork")
    for round_ in range(ROUNDS):
        writers = [
            context.Process(target=_write, args=(str(out), tree, clusters, at * one_write)) for at in ARRIVALS
        ]
        for w in writers:
            w.start()
        for w in writers:
            w.join(60)
        assert [w.exitcode for w in writers] == [0] * len(writers), f"round {round_}: a writer failed"
        on_disk = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
        assert on_disk == tree, f"round {round_}: {len(on_disk)} of {len(tree)} files"
        assert [p.name for p in tmp_path.iterdir()] == ["generated"], f"round {round_}: leftovers"
    report = validate_tree(out, allow_missing_schemas=True)
    assert report.ok, report.summary()
