"""Clusters compile independently, so they compile in parallel: one forked worker per core.

Each worker runs components → overlays → packaging → validation → render for its clusters
and sends back only bytes and findings (cheap to pickle), never the object graphs.
Fork shares the loaded spec, overlays and compiled schema validators with the workers
without pickling them. Results come back in cluster order, so output stays deterministic.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# Set in the parent just before forking; workers receive only an index, never pickled inputs.
_TASK: Callable[[Any], Any] | None = None
_ITEMS: Sequence[Any] = ()


def _run(index: int) -> Any:
    assert _TASK is not None
    return _TASK(_ITEMS[index])


def default_jobs() -> int:
    configured = os.environ.get("PLATFORMC_JOBS")
    if configured:
        return max(1, int(configured))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def map_in_order(
    task: Callable[[Item], Result], items: Sequence[Item], jobs: int | None = None
) -> list[Result]:
    """task(item) for every item, in item order; forked workers where that pays off."""
    global _TASK, _ITEMS
    workers = min(jobs or default_jobs(), len(items))
    if workers <= 1 or not sys.platform.startswith("linux"):
        return [task(item) for item in items]
    _TASK, _ITEMS = task, items
    # Frozen objects are left out of the workers' garbage collections, which would otherwise touch
    # (and so copy) every page of the parent's objects in each worker.
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            return pool.map(_run, range(len(items)), chunksize=1)
    finally:
        _TASK, _ITEMS = None, ()
        gc.unfreeze()


def in_background(task: Callable[[], Result]) -> Callable[[], Result | None]:
    """Start task() in a forked process; the returned function waits for its result, which is None
    when the task failed (the caller runs it again itself to raise its error) or could not fork."""
    if not sys.platform.startswith("linux"):
        return lambda: None
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def child() -> None:
        try:
            result = task()
        except BaseException:
            result = None
        try:
            sender.send(result)
        except Exception:  # an unpicklable result: the parent computes it again
            sender.send(None)

    process = context.Process(target=child, daemon=True)
    process.start()
    sender.close()

    def wait() -> Result | None:
        try:
            value: Result | None = receiver.recv()
        except EOFError:  # the child died before sending
            value = None
        finally:
            receiver.close()
            process.join()
        return value

    return wait
