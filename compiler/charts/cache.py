"""The chart cache: every chart the platform pins, pulled with Helm's own `helm pull`, locked by digest.

`.platformc-cache/charts/` holds `<chart>-<version>.tgz` as Helm names them (the layout of
../shared/charts, so either folder works as `--charts`). `charts.lock`, committed beside the spec,
records name, version, source and sha256 of each archive. A later pull checks every archive
against the lock and refuses a changed one; an archive enters the cache only after it passed
(pulled into a temporary folder, checked, then moved in), so the cache never holds an archive the
lock does not vouch for. Once everything is cached and locked, a pull needs no network.
"""

from __future__ import annotations

import hashlib
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from compiler.cache_pull import FAILED, PullOutcomes, write_atomically
from compiler.charts.location import DEFAULT_CHARTS_DIR
from compiler.charts.render import archive_candidates, find_helm, helm_env
from compiler.errors import PlatformcError
from compiler.packaging.units import Unit

LOCK_FILE = Path("charts.lock")
LOCK_HEADER = (
    "# Written by `platformc charts pull`: the sha256 of every pinned chart archive. Commit this file;\n"
    "# a pull refuses an archive whose digest differs. To bump a chart, change its pin and pull again.\n"
)

CACHED = "cached"
PULLED = "pulled"


@dataclass(frozen=True, order=True)
class PinnedChart:
    chart: str
    version: str
    repository: str  # https://… Helm repository or oci://… registry path


def pinned_charts(units: Iterable[Unit]) -> list[PinnedChart]:
    """The charts sync units install, each once."""
    return sorted({PinnedChart(c.chart, c.version, c.repository) for u in units for c in u.charts})


@dataclass(frozen=True)
class LockEntry:
    name: str
    version: str
    source: str
    sha256: str


@dataclass(frozen=True)
class ChartOutcome:
    pinned: PinnedChart
    status: str  # cached | pulled | failed
    reason: str = ""

    def format(self) -> str:
        text = f"{self.pinned.chart} {self.pinned.version} ({self.pinned.repository}): {self.status}"
        return f"{text}: {self.reason}" if self.reason else text


class ChartsPull(PullOutcomes[ChartOutcome]):
    """What `charts pull` did, one outcome per pinned chart."""


class LockError(PlatformcError):
    """charts.lock cannot be read."""


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_lock(path: Path) -> dict[tuple[str, str], LockEntry]:
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        entries = [
            LockEntry(**{k: str(e[k]) for k in ("name", "version", "source", "sha256")})
            for e in data["charts"]
        ]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise LockError(
            f"{path}: not a charts lock ({exc}); expected `charts:` with name, version, source and sha256 "
            "per chart (restore it from Git, or delete it to lock what the next pull fetches)"
        ) from exc
    return {(e.name, e.version): e for e in entries}


def write_lock(path: Path, entries: Iterable[LockEntry]) -> None:
    rows = [vars(e) for e in sorted(entries, key=lambda e: (e.name, e.version))]
    text = LOCK_HEADER + yaml.safe_dump({"charts": rows}, sort_keys=False, default_flow_style=False)
    write_atomically(path, text.encode())


def cached_archive(charts_dir: Path, chart: str, version: str) -> Path | None:
    return next(
        (charts_dir / n for n in archive_candidates(chart, version) if (charts_dir / n).is_file()), None
    )


def archive_identity(archive: Path) -> tuple[str, str]:
    """(name, version) from the Chart.yaml at the top of a chart archive."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = next(
                m for m in tar.getmembers() if m.name.count("/") == 1 and m.name.endswith("/Chart.yaml")
            )
            handle = tar.extractfile(member)
            chart = yaml.safe_load(handle.read()) if handle else None
    except (OSError, tarfile.TarError, StopIteration, yaml.YAMLError) as exc:
        raise PlatformcError(
            f"{archive.name} is not a Helm chart archive ({exc or 'no Chart.yaml'})"
        ) from exc
    if not isinstance(chart, dict):
        raise PlatformcError(f"{archive.name} is not a Helm chart archive (Chart.yaml is not a mapping)")
    return str(chart.get("name")), str(chart.get("version"))


def _same_version(a: str, b: str) -> bool:
    return a.removeprefix("v") == b.removeprefix("v")


def helm_pull(pinned: PinnedChart, destination: Path, timeout: float = 300) -> Path:
    """`helm pull` of one pinned chart into an empty folder; the archive it wrote."""
    helm = find_helm()
    if pinned.repository.startswith("oci://"):
        args = [helm, "pull", f"{pinned.repository.rstrip('/')}/{pinned.chart}", "--version", pinned.version]
    else:
        args = [helm, "pull", pinned.chart, "--repo", pinned.repository, "--version", pinned.version]
    args += ["--destination", str(destination)]
    with tempfile.TemporaryDirectory(prefix="platformc-helm-") as home:
        proc = subprocess.run(
            args, capture_output=True, text=True, env=helm_env(home), timeout=timeout, check=False
        )
    if proc.returncode != 0:
        raise PlatformcError(f"helm pull failed: {proc.stderr.strip() or proc.stdout.strip()}")
    archives = sorted(destination.glob("*.tgz"))
    if len(archives) != 1:
        raise PlatformcError(f"helm pull wrote {len(archives)} archives (expected one)")
    return archives[0]


def _pull_one(
    pinned: PinnedChart, charts_dir: Path, lock: dict[tuple[str, str], LockEntry]
) -> tuple[ChartOutcome, LockEntry | None]:
    locked = lock.get((pinned.chart, pinned.version))
    cached = cached_archive(charts_dir, pinned.chart, pinned.version)
    if cached is not None:
        digest = sha256_of(cached)
        if locked is None or locked.sha256 == digest:
            name, version = archive_identity(cached)
            if name != pinned.chart or not _same_version(version, pinned.version):
                return ChartOutcome(pinned, FAILED, f"{cached} holds chart {name} {version}"), locked
            source = locked.source if locked else pinned.repository
            return ChartOutcome(pinned, CACHED), LockEntry(pinned.chart, pinned.version, source, digest)
        cached.unlink()  # not the locked archive (changed on disk): never render it; a fresh pull must match
        cached = None
    with tempfile.TemporaryDirectory(prefix="platformc-pull-") as tmp:
        try:
            archive = helm_pull(pinned, Path(tmp))
            name, version = archive_identity(archive)
        except (PlatformcError, subprocess.TimeoutExpired) as exc:
            return ChartOutcome(pinned, FAILED, str(exc)), locked
        if name != pinned.chart or not _same_version(version, pinned.version):
            return ChartOutcome(pinned, FAILED, f"the repository served chart {name} {version}"), locked
        digest = sha256_of(archive)
        if locked is not None and locked.sha256 != digest:
            return (
                ChartOutcome(
                    pinned,
                    FAILED,
                    f"archive changed: sha256 {digest} but charts.lock records {locked.sha256} "
                    "(refused; nothing was written — if the publisher re-released this version on "
                    "purpose, remove its entry from charts.lock and pull again)",
                ),
                locked,
            )
        charts_dir.mkdir(parents=True, exist_ok=True)
        write_atomically(charts_dir / archive.name, archive.read_bytes())
    entry = LockEntry(pinned.chart, pinned.version, locked.source if locked else pinned.repository, digest)
    return ChartOutcome(pinned, PULLED), entry


def pull_charts(
    pinned: Sequence[PinnedChart],
    charts_dir: Path = DEFAULT_CHARTS_DIR,
    lock_path: Path = LOCK_FILE,
    progress: Callable[[int, int, ChartOutcome], None] | None = None,
) -> ChartsPull:
    """Make charts_dir hold every pinned chart, each matching charts.lock; then rewrite the lock
    (entries of charts no longer pinned are dropped, failed ones keep their old entry)."""
    lock = read_lock(lock_path)
    result = ChartsPull()
    entries: list[LockEntry] = []
    unique = sorted(set(pinned))
    for done, chart in enumerate(unique, start=1):
        outcome, entry = _pull_one(chart, charts_dir, lock)
        result.outcomes.append(outcome)
        if entry is not None:
            entries.append(entry)
        if progress is not None:
            progress(done, len(unique), outcome)

    def order(e: LockEntry) -> tuple[str, str]:
        return (e.name, e.version)

    if sorted(entries, key=order) != sorted(lock.values(), key=order) or not lock_path.is_file():
        write_lock(lock_path, entries)
    return result
