"""Writing a rendered tree, the shell around emit: the output folder is locked, only files whose
bytes changed are written, through a journal that makes the whole write atomic (a failure or a
kill leaves the previous tree, or the next command completes the new one); and the drift check
(`compile --check`) compares a rendered tree with what is on disk.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.errors import PlatformcError
from compiler.pathsafety import resolve_under, safe_relative
from compiler.sealed import seal, unseal
from compiler.tree_contract import CLUSTER_INFO_FILE, Tree


def file_digest(content: bytes) -> str:
    """What the manifest and the compile cache record of a file's bytes."""
    return hashlib.blake2b(content, digest_size=16).hexdigest()


# --- the tree on disk ---------------------------------------------------------------------------


def existing_clusters(out_dir: Path) -> list[str]:
    if not out_dir.is_dir():
        return []
    return sorted(p.name for p in out_dir.iterdir() if (p / CLUSTER_INFO_FILE).is_file())


@dataclass
class OnDisk:
    """What is below the considered cluster folders, read without following any link."""

    files: dict[str, os.stat_result] = field(default_factory=dict)  # regular files by relative path
    links: list[str] = field(default_factory=list)  # links and other non-files: always removed
    folders: set[str] = field(default_factory=set)  # real folders


def scan(out_dir: Path, clusters: Iterable[str]) -> OnDisk:
    """One stat per file, folders from directory entries (no stat): the cost of a no-op compile."""
    found = OnDisk()
    base = os.fspath(out_dir)
    pending: list[str] = []
    for rel in clusters:
        try:
            info = os.lstat(os.path.join(base, rel))
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(info.st_mode):
            pending.append(rel)
            found.folders.add(rel)
        elif stat.S_ISREG(info.st_mode):
            found.files[rel] = info
        else:
            found.links.append(rel)
    while pending:
        rel = pending.pop()
        with os.scandir(os.path.join(base, rel)) as entries:
            for entry in entries:
                child = f"{rel}/{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    pending.append(child)
                    found.folders.add(child)
                elif entry.is_file(follow_symlinks=False):
                    found.files[child] = entry.stat(follow_symlinks=False)
                else:
                    found.links.append(child)
    return found


def signature(info: os.stat_result) -> list[int]:
    """What identifies a file's bytes without reading them, as long as nobody forges timestamps."""
    return [info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]


class Manifest:
    """Digest of each file as last written, with the file's stat signature then. A file whose
    signature is unchanged still holds those bytes, so an unchanged file is known without reading
    it (what `git status` does with its index). Only an accelerator: a missing, stale or damaged
    manifest means reading the files."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, list[Any]] = {}
        if path is not None:
            try:
                # Sealed (compiler/sealed.py): a manifest committed to the repository, or damaged,
                # is not believed, so it can never make compile skip a file that differs.
                body = unseal(path.read_bytes())
                loaded = json.loads(body) if body is not None else None
                if isinstance(loaded, dict):
                    self.entries = loaded
            except (OSError, ValueError):
                pass

    def known(self, rel: str, info: os.stat_result) -> str | None:
        entry = self.entries.get(rel)
        if isinstance(entry, list) and len(entry) == 5 and entry[:4] == signature(info):
            return str(entry[4])
        return None

    def save(
        self,
        out_dir: Path,
        tree: Tree,
        digest: Callable[[str], str],
        clusters: set[str],
        unchanged: Mapping[str, os.stat_result],
    ) -> None:
        """Record tree as written; `unchanged` holds the stat of files that were not rewritten."""
        if self.path is None:
            return
        entries = {rel: e for rel, e in self.entries.items() if rel.split("/", 1)[0] not in clusters}
        for rel in tree:
            info = unchanged.get(rel)
            with contextlib.suppress(OSError):
                entries[rel] = [*signature(info or os.lstat(out_dir / rel)), digest(rel)]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            temporary.write_bytes(seal(json.dumps(entries, separators=(",", ":")).encode()))
            os.replace(temporary, self.path)
        except OSError:
            pass


def manifest_path(cache_dir: Path | None, out_dir: Path) -> Path | None:
    if cache_dir is None:
        return None
    where = hashlib.sha256(os.fsencode(out_dir.absolute())).hexdigest()[:32]
    return cache_dir / "trees" / f"{where}.json"


@dataclass(frozen=True)
class Changes:
    """What turns the tree on disk into the new one."""

    changed: list[str]  # files to replace
    missing: list[str]  # files to create
    extra: list[str]  # regular files to delete
    links: list[str]  # links (or other non-files) to remove
    in_the_way: list[str]  # real folders where a file goes
    unchanged: dict[str, os.stat_result]  # files that stay, with their stat
    read: int  # files read because the manifest did not know them

    def drift(self, shown: str, fingerprint: tuple[int, str] | None = None) -> Drift:
        prefix = shown + "/"
        return Drift(
            changed=tuple(prefix + p for p in self.changed),
            missing=tuple(prefix + p for p in self.missing),
            extra=tuple(prefix + p for p in sorted(self.extra + self.links)),
            fingerprint=fingerprint,
        )

    @property
    def count(self) -> int:
        return (
            len(self.changed) + len(self.missing) + len(self.extra) + len(self.links) + len(self.in_the_way)
        )


def changes(
    out_dir: Path, tree: Tree, digests: Mapping[str, str], clusters: Iterable[str], manifest: Manifest
) -> Changes:
    """The difference between the considered cluster folders on disk and `tree`, reading only
    files whose stat signature differs from the manifest's."""
    found = scan(out_dir, clusters)
    changed, missing = [], []
    unchanged: dict[str, os.stat_result] = {}
    read = 0
    for rel, content in tree.items():
        info = found.files.get(rel)
        if info is None:
            missing.append(rel)
            continue
        if info.st_size != len(content):
            changed.append(rel)
            continue
        known = manifest.known(rel, info)
        if known is None:
            read += 1
            same = _read(out_dir / rel) == content
        else:
            same = known == (digests.get(rel) or file_digest(content))
        if same:
            unchanged[rel] = info
        else:
            changed.append(rel)
    extra = sorted(rel for rel in found.files if rel not in tree)
    in_the_way = sorted(rel for rel in found.folders if rel in tree)
    return Changes(sorted(changed), sorted(missing), extra, sorted(found.links), in_the_way, unchanged, read)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


@dataclass(frozen=True)
class Drift:
    changed: tuple[str, ...]
    missing: tuple[str, ...]  # compile would create these
    extra: tuple[str, ...]  # compile would delete these
    # (files, stat digest) of the cluster folders once written or found clean (see fingerprint)
    fingerprint: tuple[int, str] | None = field(default=None, compare=False)

    @property
    def clean(self) -> bool:
        return not (self.changed or self.missing or self.extra)

    def lines(self) -> Iterator[str]:
        yield from (f"changed: {p}" for p in self.changed)
        yield from (f"missing: {p}" for p in self.missing)
        yield from (f"extra:   {p}" for p in self.extra)


def check_out_dir(out_dir: Path) -> None:
    """The output path must be a folder or not exist yet, below folders only.

    Checked before anything is written: the atomic swap below would otherwise exchange a
    user's file with the new tree."""
    for path in (out_dir, *out_dir.parents):
        if path.exists() and not path.is_dir():
            what = (
                f"output folder {path} is a file"
                if path == out_dir
                else f"{path} is a file, so the output folder {out_dir} cannot be made inside it"
            )
            raise PlatformcError(f"{what} (expected a folder, or a path that does not exist yet)")


def compare(
    out_dir: Path,
    tree: Tree,
    clusters: Iterable[str],
    prune_others: bool,
    *,
    digests: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
) -> Drift:
    """How the tree on disk differs from what compile would write."""
    check_out_dir(out_dir)
    real = out_dir.resolve()
    if real.is_dir():
        with _locked(real):
            recover(real)
    considered = _considered(real, clusters, prune_others)
    manifest = Manifest(manifest_path(cache_dir, real))
    known = digests or {}
    found = changes(real, tree, known, considered, manifest)
    if found.read and not found.count:  # the next check (or compile) need not read them again
        manifest.save(
            real, tree, lambda rel: known.get(rel) or file_digest(tree[rel]), set(considered), found.unchanged
        )
    return found.drift(out_dir.name, None if found.count else fingerprint_of(found.unchanged))


def fingerprint(out_dir: Path, clusters: Iterable[str]) -> tuple[int, str] | None:
    """(files, digest of every file's path and stat signature) below the cluster folders, or None
    when one holds a link or something else that is neither file nor folder. The cost of a no-op
    compile: one stat per file, folders from directory entries, no pathlib."""
    stats: dict[str, os.stat_result] = {}
    base = os.fspath(out_dir)
    pending = [rel for rel in clusters if os.path.lexists(os.path.join(base, rel))]
    while pending:
        rel = pending.pop()
        try:
            entries = os.scandir(os.path.join(base, rel))
        except NotADirectoryError:
            return None  # a cluster folder that is a file or a link
        with entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(f"{rel}/{entry.name}")
                elif entry.is_file(follow_symlinks=False):
                    stats[f"{rel}/{entry.name}"] = entry.stat(follow_symlinks=False)
                else:
                    return None
    return fingerprint_of(stats)


def fingerprint_of(stats: Mapping[str, os.stat_result]) -> tuple[int, str]:
    lines = sorted(
        f"{rel}\0{i.st_ino}\0{i.st_size}\0{i.st_mtime_ns}\0{i.st_ctime_ns}" for rel, i in stats.items()
    )
    return len(lines), hashlib.sha256("\n".join(lines).encode("utf-8", "surrogateescape")).hexdigest()


def journal_pending(out_dir: Path) -> bool:
    """Whether a write was committed but not completed (the next writer or reader completes it)."""
    return _journal(out_dir).exists()


def _considered(out_dir: Path, clusters: Iterable[str], prune_others: bool) -> list[str]:
    compiled = set(clusters)
    return sorted(compiled | (set(existing_clusters(out_dir)) if prune_others else set()))


@contextlib.contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    """An exclusive flock on the output folder's parent folder, which no writer ever replaces or
    removes (a lock file that each writer unlinked let a newcomer lock a fresh file while a waiter
    held the unlinked one: two writers at once). Writers of any output folder there take turns."""
    fd = os.open(out_dir.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


# --- the journal --------------------------------------------------------------------------------
#
# An incremental write costs O(changed files) and is atomic through a journal:
#   1. every new or changed file is written to a staging folder beside the output folder;
#   2. the journal (the operations below) is written under a temporary name and renamed into
#      place: that rename is the commit point;
#   3. the operations are applied (renames out of staging, deletions), then the journal removed.
# A kill before 2 leaves the previous tree untouched (staging is removed by the next run); a kill
# after 2 is rolled forward by the next run, which replays the journal. Every operation can be
# replayed: a rename whose staged file is gone was done, and removals check what is there.
# Every command that reads or writes the output folder recovers first, under the lock.


def finish_interrupted(out_dir: Path) -> None:
    """For readers of a tree: complete a committed write that a kill interrupted (a no-op
    without a journal, so a checked-out tree is only read)."""
    real = out_dir.resolve()
    if _journal(real).exists():
        with _locked(real):
            recover(real)


def _journal(out_dir: Path) -> Path:
    return out_dir.parent / f".{out_dir.name}.journal"


def recover(out_dir: Path) -> None:
    """Finish a committed write a kill interrupted, or drop an uncommitted one (call under the lock)."""
    journal = _journal(out_dir)
    try:
        raw = journal.read_bytes()
    except FileNotFoundError:
        raw = None
    if raw is not None:
        try:
            operations = json.loads(raw)
        except ValueError:
            operations = None  # cannot happen (written whole, then renamed): never half-apply
        if isinstance(operations, dict):
            _apply(out_dir, operations)
        journal.unlink()
    _clean_leftovers(out_dir)


def _apply(out_dir: Path, operations: dict[str, Any]) -> None:
    staging = out_dir.parent / operations["staging"]
    puts = set(operations["put"])
    for rel in operations["unlink"]:
        try:
            mode = os.lstat(out_dir / rel).st_mode
        except FileNotFoundError:
            continue
        # On a replay, a real folder here was made for new files and a file at a put path is new.
        if not stat.S_ISDIR(mode) and not (rel in puts and stat.S_ISREG(mode)):
            os.unlink(out_dir / rel)
    for rel in operations["rmtree"]:
        if stat.S_ISDIR(_lstat_mode(out_dir / rel)):
            shutil.rmtree(out_dir / rel)
    made: set[str] = set()
    for rel in operations["put"]:
        folder = rel.rpartition("/")[0]
        if folder not in made:
            (out_dir / folder).mkdir(parents=True, exist_ok=True)
            made.add(folder)
        try:
            os.replace(staging / rel, out_dir / rel)
        except FileNotFoundError:
            if not (out_dir / rel).is_file():
                raise
    for folder in sorted({rel.rpartition("/")[0] for rel in operations["unlink"]}, key=len, reverse=True):
        _remove_empty(out_dir, folder)


def _lstat_mode(path: Path) -> int:
    try:
        return os.lstat(path).st_mode
    except FileNotFoundError:
        return 0


def _remove_empty(out_dir: Path, folder: str) -> None:
    """Remove folder and its parents up to out_dir while they are empty."""
    while folder:
        try:
            os.rmdir(out_dir / folder)
        except OSError:
            return
        folder = folder.rpartition("/")[0]


def _clean_leftovers(out_dir: Path) -> None:
    """Remove staging folders of compiles that were killed; restore a tree a kill left aside."""
    parent = out_dir.parent
    for leftover in parent.glob(f".{out_dir.name}.old-*"):
        if not out_dir.exists():
            leftover.rename(out_dir)  # a non-atomic swap was cut between its two renames
        else:
            shutil.rmtree(leftover, ignore_errors=True)
    for leftover in parent.glob(f".{out_dir.name}.staging-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in parent.glob(f".{out_dir.name}.journal-*"):
        leftover.unlink(missing_ok=True)


def write_tree(
    out_dir: Path,
    tree: Tree,
    clusters: Iterable[str],
    prune_others: bool,
    *,
    digests: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
) -> Drift:
    """Make the cluster folders of `clusters` in out_dir hold exactly `tree`, atomically as a
    whole; returns what was written or removed (clean: nothing was touched).

    Cluster folders not compiled now are kept, unless prune_others (a full compile), in which
    case folders of clusters that left the spec are removed. Other files in out_dir are kept.
    digests (file_digest by path, when known) and the manifest under cache_dir only spare reads.
    """
    check_out_dir(out_dir)
    try:
        # A symbolic link to a folder is written through: staging and journal sit beside the real folder.
        real = out_dir.resolve()
        found = _write_tree(real, tree, set(clusters), prune_others, digests or {}, cache_dir)
        # Stats as left by this write (unchanged files as compared, written ones now): what the
        # compile record keeps (compiler/compile_record.py).
        stats = dict(found.unchanged)
        for rel in (*found.changed, *found.missing):
            stats[rel] = os.lstat(real / rel)
    except OSError as exc:
        # Permissions, a full disk, a read-only mount: a message, not a traceback. Staging is removed;
        # the old tree stands unless the failure came after the journal was committed.
        where = exc.filename or out_dir
        raise PlatformcError(f"cannot write {where}: {exc.strerror or exc}") from exc
    return found.drift(out_dir.name, fingerprint_of(stats))


def _write_tree(
    out_dir: Path,
    tree: Tree,
    compiled: set[str],
    prune_others: bool,
    digests: Mapping[str, str],
    cache_dir: Path | None,
) -> Changes:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(manifest_path(cache_dir, out_dir))

    def digest(rel: str) -> str:
        return digests.get(rel) or file_digest(tree[rel])

    with _locked(out_dir):
        recover(out_dir)
        staging = out_dir.parent / f".{out_dir.name}.staging-{os.getpid()}"
        if not out_dir.exists():
            _write_new(staging, out_dir, tree)
            manifest.save(out_dir, tree, digest, compiled, {})
            return Changes([], sorted(tree), [], [], [], {}, 0)
        considered = _considered(out_dir, compiled, prune_others)
        found = changes(out_dir, tree, digests, considered, manifest)
        if found.count:
            _write_journaled(staging, out_dir, tree, found)
        if found.count or found.read:
            manifest.save(out_dir, tree, digest, set(considered), found.unchanged)
        return found


def _write_new(staging: Path, out_dir: Path, tree: Tree) -> None:
    """A first write: the whole tree in staging, renamed into place in one step."""
    try:
        _stage(staging, tree, list(tree))
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _stage(staging: Path, tree: Tree, paths: Iterable[str]) -> None:
    staging.mkdir()
    made: set[str] = set()
    for rel in paths:
        safe_relative(rel)
        folder = rel.rpartition("/")[0]
        if folder not in made:
            (staging / folder).mkdir(parents=True, exist_ok=True)
            resolve_under(staging, rel)  # no link in the staging folder leads elsewhere
            made.add(folder)
        (staging / rel).write_bytes(tree[rel])


def _write_journaled(staging: Path, out_dir: Path, tree: Tree, found: Changes) -> None:
    put = found.changed + found.missing
    # Links (anywhere below the cluster folders) are removed before files are put, so a rename
    # never follows one out of the output folder.
    operations = {
        "staging": staging.name,
        "unlink": found.extra + found.links,
        "rmtree": found.in_the_way,
        "put": put,
    }
    journal = _journal(out_dir)
    pending = journal.with_name(f"{journal.name}-{os.getpid()}")
    try:
        _stage(staging, tree, put)
        pending.write_text(json.dumps(operations))
        os.replace(pending, journal)  # the commit point
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        pending.unlink(missing_ok=True)
        raise
    _apply(out_dir, operations)
    journal.unlink()
    shutil.rmtree(staging)
