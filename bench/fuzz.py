"""Fuzz compile with mutated specs and overlays: hostile input must end in located errors.

    python bench/fuzz.py [--cases 10000] [--seed 16] [--timeout 20]

Each case copies nothing: it rewrites one file of a workspace holding the example spec and
overlays, compiles into a fresh --out, and restores the file. Mutations: field deletions, type
swaps, unicode, huge/negative/non-finite numbers, deep nesting, anchors and alias bombs, tags
(`!!python/object/apply`, `!!binary`, custom), BOMs, CRLF, binary bytes, truncation.

Every case must end in one of: compiled, or refused with errors that each carry file:line (and
nothing written). Counted failures: a traceback (any other exception), a hang past --timeout,
an error without file:line or spanning lines, anything written for refused input. The suite's
tests/security/test_fuzz.py runs a few hundred of the same cases through Hypothesis.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import yaml  # noqa: E402

from compiler.errors import PlatformcError, SpecErrors  # noqa: E402
from compiler.pipeline import ValidationFailed, compile_platform  # noqa: E402

# --- mutations ----------------------------------------------------------------------------------

UNICODE = ["\u202e", "\u200b", "\ufeff", "é", "😀", "\u0301", "ǅ", "\u2028", "İ", "\U0010ffff", "a\u0000b"]
NUMBERS = [10**100, -1, -(10**18), 1e308, float("inf"), float("nan"), 0, -0.0, 2**63, 1.5]
TAGS = [
    "!!python/object/apply:os.system ['id']",
    "!!python/name:os.system",
    "!!binary aGVsbG8=",
    "!custom {a: 1}",
    "!!set {a, b}",
    "!!timestamp 2001-12-14t21:59:43.10-05:00",
]
BOMB = 'a: &a ["l","l","l","l","l","l","l","l","l"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(9)
)


def _paths(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _paths(v, (*path, i))


def _set(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return data


def _delete(data: Any, path: tuple[Any, ...]) -> Any:
    if not path:
        return None
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    return data


def _nested(depth: int) -> Any:
    value: Any = "x"
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


def _data_mutation(rng: random.Random, text: str) -> str:
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return text + "\n: broken"
    docs = [d for d in docs if d is not None] or [{}]
    index = rng.randrange(len(docs))
    doc = docs[index]
    paths = list(_paths(doc))
    path = rng.choice(paths[1:] or paths)
    kind = rng.choice(["delete", "type", "unicode", "number", "nest", "key", "empty", "long"])
    if kind == "delete" and path:
        doc = _delete(doc, path)
    elif kind == "type":
        doc = _set(doc, path, rng.choice([1, "s", [1], {"a": 1}, None, True, 1.5, []]))
    elif kind == "unicode":
        doc = _set(doc, path, "".join(rng.choice(UNICODE) for _ in range(rng.randint(1, 6))))
    elif kind == "number":
        doc = _set(doc, path, rng.choice(NUMBERS))
    elif kind == "nest":
        doc = _set(doc, path, _nested(rng.choice([5, 40, 70, 300])))
    elif kind == "key" and isinstance(doc, dict):
        doc[rng.choice(["bad key!", "a\nb", "", "metadata", "x" * 300, "<<"])] = "v"
    elif kind == "empty":
        doc = _set(doc, path, rng.choice(["", [], {}]))
    else:
        doc = _set(doc, path, "9" * rng.choice([64, 300, 5000]))
    docs[index] = doc
    try:
        return yaml.safe_dump_all(docs, allow_unicode=rng.random() < 0.5, sort_keys=False, width=4096)
    except (yaml.YAMLError, RecursionError, ValueError):
        return text + "\n---\n" + BOMB


def _text_mutation(rng: random.Random, text: str) -> str:
    kind = rng.choice(["alias", "bomb", "tag", "bom", "crlf", "binary", "truncate", "control", "docs"])
    lines = text.splitlines(keepends=True)
    at = rng.randrange(len(lines) + 1)
    if kind == "alias":
        return "x-base: &base {name: aliased, bogus: 1}\n" + text.replace("spec:", "spec:\n  <<: *base", 1)
    if kind == "bomb":
        return rng.choice([BOMB, text + "\n---\n" + BOMB])
    if kind == "tag":
        line = lines[at - 1] if at else ""
        if ": " in line:
            key = line.split(": ", 1)[0]
            lines[at - 1] = f"{key}: {rng.choice(TAGS)}\n"
        else:
            lines.insert(at, f"extra: {rng.choice(TAGS)}\n")
        return "".join(lines)
    if kind == "bom":
        return "\ufeff" + text
    if kind == "crlf":
        return text.replace("\n", "\r\n")
    if kind == "binary":
        junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
        return text[: len(text) // 2] + junk.decode("latin-1") + text[len(text) // 2 :]
    if kind == "truncate":
        return text[: rng.randrange(len(text) + 1)]
    if kind == "control":
        char = chr(rng.choice([0, 1, 7, 8, 0x1B, 0x7F, 0x85, 0x2028]))
        return text[:at] + char + text[at:]
    return "---\n" * rng.choice([2, 5000, 10_001]) + text


def mutate(rng: random.Random, text: str) -> str | bytes:
    """One mutation of a YAML file's text; bytes when the mutation is not valid UTF-8."""
    mutated = _data_mutation(rng, text) if rng.random() < 0.55 else _text_mutation(rng, text)
    if rng.random() < 0.05:  # invalid UTF-8
        return mutated.encode("utf-8", "surrogatepass")[:-1] + b"\xff\xfe"
    return mutated


# --- running one case ----------------------------------------------------------------------------


@dataclass
class Outcome:
    status: str  # compiled | refused | traceback | hang | unlocated | written
    detail: str = ""
    seconds: float = 0.0


class _Hang(BaseException):
    """Raised by the alarm; BaseException so no `except Exception` in the code under test eats it."""


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    def expired(signum: int, frame: Any) -> None:
        raise _Hang()

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _unlocated(errors: list[str], workspace: Path) -> list[str]:
    """Errors that do not start with file:line (or span several lines). An error about a folder as
    a whole ("no Platform document in the spec") names the folder: there is no line to give."""
    bad = []
    for error in errors:
        head = error.split(": ", 1)[0]
        parts = head.rsplit(":", 2)
        located = len(parts) == 3 and parts[1].isdigit() and int(parts[1]) > 0
        located = located or (workspace / head).is_dir()
        if not located or "\n" in error:
            bad.append(error)
    return bad


def run_case(workspace: Path, target: str, content: str | bytes, timeout: float) -> Outcome:
    """Compile the workspace with `target` replaced by `content`; the file is restored after."""
    path = workspace / target
    original = path.read_bytes()
    out = workspace / "generated"
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    try:
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
        with contextlib.chdir(workspace), _deadline(timeout):
            try:
                compile_platform(Path("platform-spec"), Path("generated"), overlays_dir=Path("overlays"))
                return Outcome("compiled", seconds=time.perf_counter() - started)
            except SpecErrors as exc:
                errors = [str(e) for e in exc.errors]
            except ValidationFailed as exc:
                # Findings name the generated file and, for overlay-made objects, the overlay lines.
                errors = [f.format() for f in exc.report.errors if not f.file]
            except PlatformcError as exc:
                errors = [str(exc)]
        elapsed = time.perf_counter() - started
        leftovers = [p.name for p in workspace.iterdir() if p.name == "generated" or ".staging-" in p.name]
        if leftovers:
            return Outcome("written", ", ".join(leftovers), elapsed)
        bad = _unlocated(errors, workspace)
        if bad:
            return Outcome("unlocated", bad[0][:300], elapsed)
        return Outcome("refused", seconds=elapsed)
    except _Hang:
        return Outcome("hang", f"past {timeout} s", time.perf_counter() - started)
    except Exception:
        return Outcome("traceback", traceback.format_exc(limit=-3), time.perf_counter() - started)
    finally:
        path.write_bytes(original)


def targets(workspace: Path) -> list[str]:
    """Every spec and overlay YAML file of the workspace (relative paths)."""
    found = [
        p.relative_to(workspace).as_posix()
        for folder in ("platform-spec", "overlays")
        for p in (workspace / folder).rglob("*")
        if p.is_file() and p.suffix in (".yaml", ".yml", ".j2")
    ]
    return sorted(found)


def scratch_dir() -> str | None:
    """Memory-backed where there is one: a compiled case writes ~300 files, slow on a busy disk."""
    return "/dev/shm" if Path("/dev/shm").is_dir() else None


def make_workspace(into: Path) -> Path:
    shutil.copytree(REPO_ROOT / "platform-spec", into / "platform-spec")
    shutil.copytree(REPO_ROOT / "overlays", into / "overlays")
    return into


@dataclass
class Summary:
    cases: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    slowest: float = 0.0
    seconds: float = 0.0

    def add(self, target: str, outcome: Outcome) -> None:
        self.cases += 1
        self.counts[outcome.status] += 1
        self.slowest = max(self.slowest, outcome.seconds)
        if outcome.status not in ("compiled", "refused") and outcome.status not in self.examples:
            self.examples[outcome.status] = f"{target}: {outcome.detail}"

    @property
    def failures(self) -> int:
        return sum(n for s, n in self.counts.items() if s not in ("compiled", "refused"))


def fuzz(cases: int, seed: int, timeout: float, progress: Callable[[str], None] | None = None) -> Summary:
    """`cases` cases from one seed, in this process."""
    rng = random.Random(seed)
    summary = Summary()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="platformc-fuzz-", dir=scratch_dir()) as tmp:
        workspace = make_workspace(Path(tmp))
        files = targets(workspace)
        texts = {f: (workspace / f).read_text(encoding="utf-8") for f in files}
        for i in range(cases):
            target = rng.choice(files)
            outcome = run_case(workspace, target, mutate(rng, texts[target]), timeout)
            summary.add(target, outcome)
            if progress and (i + 1) % 500 == 0:
                progress(f"{i + 1} cases: {dict(summary.counts)}")
    summary.seconds = time.perf_counter() - started
    return summary


def _worker(args: tuple[int, int, float]) -> Summary:
    cases, seed, timeout = args
    return fuzz(cases, seed, timeout)


def fuzz_parallel(cases: int, seed: int, timeout: float, jobs: int) -> Summary:
    """Cases split over `jobs` forked processes, each with its own workspace and derived seed."""
    if jobs <= 1:
        return fuzz(cases, seed, timeout, lambda m: print(m, file=sys.stderr, flush=True))
    shares = [cases // jobs + (1 if i < cases % jobs else 0) for i in range(jobs)]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        parts = pool.map(_worker, [(n, seed * 1000 + i, timeout) for i, n in enumerate(shares)])
    total = Summary()
    for part in parts:
        total.cases += part.cases
        total.counts.update(part.counts)
        total.slowest = max(total.slowest, part.slowest)
        for status, example in part.examples.items():
            total.examples.setdefault(status, example)
    total.seconds = time.perf_counter() - started
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds one case may take")
    parser.add_argument("--jobs", type=int, default=1, help="processes (each its own workspace)")
    args = parser.parse_args()
    os.environ.setdefault("PLATFORMC_JOBS", "1")  # one process: the deadline alarm reaches it
    summary = fuzz_parallel(args.cases, args.seed, args.timeout, args.jobs)
    print(f"cases: {summary.cases} in {summary.seconds:.0f} s (slowest case {summary.slowest:.1f} s)")
    for status in ("compiled", "refused", "traceback", "hang", "unlocated", "written"):
        print(f"  {status:10} {summary.counts.get(status, 0)}")
    for status, example in summary.examples.items():
        print(f"first {status}: {example}")
    return 1 if summary.failures else 0


if __name__ == "__main__":
    sys.exit(main())
