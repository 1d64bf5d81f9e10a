"""Writing a rendered tree, the shell around emit: the output folder is locked, only files whose
bytes changed are written, through a journal that makes the whole write atomic (a failure or a
kill leaves the previous tree, or the next command completes the new one); and the drift check
(`compile --check`) compares a rendered tree with what is on disk.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import marshal
import os
import shutil
import stat
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.errors import PlatformcError
from compiler.pathsafety import resolve_under, safe_relative
from compiler.sealed import seal, unseal
from compiler.tree_contract import CLUSTER_INFO_FILE, Tree, file_digest

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
    """One stat per file, folders from directory entries (no stat): the cost of a no-op compile.
    Each folder is opened once and its files are stat'ed relative to it (fstatat), so the kernel
    resolves one name per file, not the whole path from the output folder down."""
    found = OnDisk()
    try:
        top = os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return found
    try:
        pending: list[str] = []
        for rel in clusters:
            try:
                info = os.lstat(rel, dir_fd=top)
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
            # Only real folders are entered (a link is never followed: O_NOFOLLOW, and entries are
            # typed without following links).
            folder = os.open(rel, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=top)
            try:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        child = f"{rel}/{entry.name}"
                        if entry.is_dir(follow_symlinks=False):
                            pending.append(child)
                            found.folders.add(child)
                        elif entry.is_file(follow_symlinks=False):
                            found.files[child] = entry.stat(follow_symlinks=False)
                        else:
                            found.links.append(child)
            finally:
                os.close(folder)
    finally:
        os.close(top)
    return found


Signature = tuple[int, int, int, int]
ManifestEntry = tuple[int, int, int, int, str, int]  # signature, digest, Tally term


def signature(info: os.stat_result) -> Signature:
    """What identifies a file's bytes without reading them, as long as nobody forges timestamps."""
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


class Manifest:
    """Digest of each file of one cluster folder as last written, with the file's stat signature
    then. A file whose signature is unchanged still holds those bytes, so an unchanged file is
    known without reading it (what `git status` does with its index). Only an accelerator: a
    missing, stale or damaged manifest means reading the files. One per cluster folder, so the
    worker that compiles a cluster reads and compares only its own.

    marshal under a seal (compiler/sealed.py): a manifest committed to the repository, or damaged,
    is not believed, so it can never make compile skip a file that differs, and unmarshalling
    only ever sees bytes this machine wrote."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        # (ino, size, mtime, ctime, digest, the file's Tally term): the term is kept so a file that
        # stays adds to the tree's fingerprint without hashing its path and signature again.
        self.entries: dict[str, ManifestEntry] = {}
        if path is not None:
            try:
                body = unseal(path.read_bytes())
                if body is not None and body.startswith(_MANIFEST_FORMAT):
                    loaded = marshal.loads(body[len(_MANIFEST_FORMAT) :])
                    if isinstance(loaded, dict):
                        self.entries = loaded
            except (OSError, ValueError, EOFError, TypeError):
                pass

    def known(self, rel: str, info: os.stat_result) -> ManifestEntry | None:
        """The entry of rel when the file still has the signature it records."""
        entry = self.entries.get(rel)
        if (
            type(entry) is tuple
            and len(entry) == 6
            and entry[:4] == (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
            and type(entry[4]) is str
            and type(entry[5]) is int
        ):
            return entry
        return None

    def save(self, entries: Mapping[str, ManifestEntry]) -> None:
        """Record the folder as written (best effort: a manifest not saved only costs reads)."""
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            temporary.write_bytes(seal(_MANIFEST_FORMAT + marshal.dumps(dict(entries))))
            os.replace(temporary, self.path)
        except (OSError, ValueError):
            pass


_MANIFEST_FORMAT = f"platformc-manifest 3 {sys.version} {marshal.version}\n".encode()


def manifest_path(cache_dir: Path | None, out_dir: Path, cluster: str) -> Path | None:
    if cache_dir is None:
        return None
    where = hashlib.sha256(os.fsencode(out_dir.absolute())).hexdigest()[:32]
    return cache_dir / "trees" / where / hashlib.sha256(os.fsencode(cluster)).hexdigest()[:32]


@dataclass(frozen=True)
class Changes:
    """What turns the tree on disk into the new one."""

    changed: list[str]  # files to replace
    missing: list[str]  # files to create
    extra: list[str]  # regular files to delete
    links: list[str]  # links (or other non-files) to remove
    in_the_way: list[str]  # real folders where a file goes
    unchanged: dict[str, ManifestEntry]  # files that stay: their manifest entries as they are now
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

    @staticmethod
    def merged(parts: Iterable[Changes]) -> Changes:
        """The clusters' changes as one; `unchanged` stays with each cluster (Staged.kept)."""
        found = list(parts)
        return Changes(
            sorted(p for c in found for p in c.changed),
            sorted(p for c in found for p in c.missing),
            sorted(p for c in found for p in c.extra),
            sorted(p for c in found for p in c.links),
            sorted(p for c in found for p in c.in_the_way),
            {},
            sum(c.read for c in found),
        )


def changes(
    out_dir: Path, tree: Mapping[str, bytes], digests: Mapping[str, str], cluster: str, manifest: Manifest
) -> Changes:
    """The difference between one cluster folder on disk and `tree` (its files), reading only files
    whose stat signature differs from the manifest's."""
    found = scan(out_dir, [cluster])
    changed, missing = [], []
    unchanged: dict[str, ManifestEntry] = {}
    read = 0
    on_disk, known = found.files.get, manifest.known
    for rel, content in tree.items():
        info = on_disk(rel)
        if info is None:
            missing.append(rel)
            continue
        if info.st_size != len(content):
            changed.append(rel)
            continue
        digest = digests.get(rel) or file_digest(content)
        entry = known(rel, info)
        if entry is None:
            read += 1
            if _read(out_dir / rel) == content:
                unchanged[rel] = (*signature(info), digest, _tally_term(rel, signature(info)))
            else:
                changed.append(rel)
        elif entry[4] == digest:
            unchanged[rel] = entry
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


def split_clusters(tree: Tree, clusters: Iterable[str]) -> list[tuple[str, Tree]]:
    """tree as (cluster, that cluster's files), for every cluster named."""
    parts: dict[str, Tree] = {name: {} for name in clusters}
    for rel, content in tree.items():
        parts.setdefault(rel.split("/", 1)[0], {})[rel] = content
    return list(parts.items())


def fingerprint(out_dir: Path, clusters: Iterable[str]) -> tuple[int, str] | None:
    """(files, digest of every file's path and stat signature) below the cluster folders, or None
    when one holds a link or something else that is neither file nor folder, or a cluster's
    folder is not a folder. The cost of a no-op compile: one stat per file (see scan)."""
    found = scan(out_dir, clusters)
    if found.links or any("/" not in rel for rel in found.files):
        return None
    return Tally.of({rel: signature(info) for rel, info in found.files.items()}).fingerprint


@dataclass(frozen=True)
class Tally:
    """Files and the sum of a digest of each file's path and stat signature: a fingerprint of a set
    of files that adds up across clusters and workers in any order (no sorting, no shipping every
    signature to the main process). Compared only with a sealed record this machine wrote."""

    files: int = 0
    total: int = 0

    @staticmethod
    def of(stats: Mapping[str, Signature]) -> Tally:
        return Tally(len(stats), sum(_tally_term(rel, sig) for rel, sig in stats.items()) % _TALLY_MODULUS)

    @staticmethod
    def of_entries(entries: Mapping[str, ManifestEntry]) -> Tally:
        """Tally.of the files of these manifest entries, from the terms they keep."""
        return Tally(len(entries), sum(entry[5] for entry in entries.values()) % _TALLY_MODULUS)

    @staticmethod
    def combined(parts: Iterable[Tally]) -> Tally:
        found = list(parts)
        return Tally(sum(p.files for p in found), sum(p.total for p in found) % _TALLY_MODULUS)

    @property
    def fingerprint(self) -> tuple[int, str]:
        return self.files, f"{self.total:064x}"


_TALLY_MODULUS = 1 << 256


def _tally_term(rel: str, sig: Signature) -> int:
    ino, size, mtime, ctime = sig
    line = f"{rel}\0{ino}\0{size}\0{mtime}\0{ctime}".encode("utf-8", "surrogateescape")
    return int.from_bytes(hashlib.blake2b(line, digest_size=32).digest(), "big")


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


# --- the journal (see TreeWrite) ---------------------------------------------------------------


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
    # [name in staging, path]; a path alone is a journal of a version that staged the tree's layout.
    put = [(item, item) if isinstance(item, str) else (item[0], item[1]) for item in operations["put"]]
    puts = {rel for _, rel in put}
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
    for name, rel in put:
        folder = rel.rpartition("/")[0]
        if folder not in made:
            (out_dir / folder).mkdir(parents=True, exist_ok=True)
            made.add(folder)
        try:
            os.replace(staging / name, out_dir / rel)
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
    digests (file_digest by path, when known) and the manifests under cache_dir only spare reads.
    Compile does the same in steps (open_write), staging each cluster in its own worker.
    """
    with open_write(out_dir, clusters, prune_others, cache_dir=cache_dir) as writing:
        return writing.commit(
            [writing.stage(name, files, digests) for name, files in split_clusters(tree, clusters)]
        )


@dataclass(frozen=True)
class Staged:
    """One cluster folder compared with its new files (and, when writing, its new and changed files
    staged): what the worker that compiled the cluster sends back, kept small. The worker also
    records the folder's manifest itself."""

    cluster: str
    changes: Changes  # with `unchanged` left in the worker (`kept` sums it up)
    kept: Tally  # files that stay as they are (or every file written into a new tree)
    staged: dict[str, str] = field(default_factory=dict)  # path → its new bytes' name in staging


@contextlib.contextmanager
def open_write(
    out_dir: Path,
    clusters: Iterable[str],
    prune_others: bool,
    *,
    cache_dir: Path | None = None,
    check: bool = False,
) -> Iterator[TreeWrite]:
    """A TreeWrite under the output folder's lock; leaving without commit writes nothing (staging
    is removed). OSErrors become a PlatformcError naming the file."""
    check_out_dir(out_dir)
    # A symbolic link to a folder is written through: staging and journal sit beside the real folder.
    real = out_dir.resolve()
    with contextlib.ExitStack() as stack:
        with _write_errors(out_dir):
            if not check:
                real.parent.mkdir(parents=True, exist_ok=True)
            if real.parent.is_dir():
                stack.enter_context(_locked(real))
            if not check or real.is_dir():
                recover(real)
            writing = TreeWrite(out_dir, real, set(clusters), prune_others, cache_dir, check)
            if not check:
                writing.staging.mkdir()
                stack.callback(shutil.rmtree, writing.staging, ignore_errors=True)
        yield writing


@contextlib.contextmanager
def _write_errors(out_dir: Path) -> Iterator[None]:
    """Permissions, a full disk, a read-only mount: a message naming the file, not a traceback.
    Staging is removed; the old tree stands unless the failure came after the journal was committed."""
    try:
        yield
    except OSError as exc:
        where = exc.filename or out_dir
        raise PlatformcError(f"cannot write {where}: {exc.strerror or exc}") from exc


@dataclass
class TreeWrite:
    """One write (or, with check, one comparison) of the cluster folders of out_dir in steps, so that
    each cluster's part runs in the process that compiled it:

    - `stage(cluster, files)` (in the main process or any worker forked inside open_write):
      compares the cluster folder with its new files through the cluster's manifest and writes new
      and changed files into the staging folder beside out_dir;
    - `commit(staged)` (main process, once): adds the removal of clusters that left (prune_others),
      writes the journal and applies it, records the manifests; returns the Drift.

    An incremental write costs O(changed files) and is atomic through the journal:
      1. every new or changed file is written to the staging folder;
      2. the journal (the operations below) is written under a temporary name and renamed into
         place: that rename is the commit point;
      3. the operations are applied (renames out of staging, deletions), then the journal removed.
    A kill before 2 leaves the previous tree untouched (staging is removed by the next run); a kill
    after 2 is rolled forward by the next run, which replays the journal. Every operation can be
    replayed: a rename whose staged file is gone was done, and removals check what is there. A
    first write stages the whole tree and renames the staging folder into place in one step.
    """

    out_dir: Path
    real: Path
    clusters: set[str]
    prune_others: bool
    cache_dir: Path | None
    check: bool
    staging: Path = field(init=False)
    new_tree: bool = field(init=False)

    def __post_init__(self) -> None:
        self.staging = self.real.parent / f".{self.real.name}.staging-{os.getpid()}"
        self.new_tree = not self.check and not self.real.exists()

    def _manifest(self, cluster: str) -> Manifest:
        return Manifest(manifest_path(self.cache_dir, self.real, cluster))

    def stage(self, cluster: str, files: Tree, digests: Mapping[str, str] | None = None) -> Staged:
        given = digests or {}
        with _write_errors(self.out_dir):
            manifest = self._manifest(cluster)
            if self.new_tree:
                written = _stage(self.staging, files, list(files))
                # The staging folder's rename keeps these signatures; if compile stops before it,
                # no file will ever match them, so the manifest can be recorded now.
                entries = {
                    rel: (*sig, given.get(rel) or file_digest(files[rel]), _tally_term(rel, sig))
                    for rel, sig in written.items()
                }
                manifest.save(entries)
                everything_new = Changes([], sorted(files), [], [], [], {}, 0)
                return Staged(cluster, everything_new, Tally.of_entries(entries))
            found = changes(self.real, files, given, cluster, manifest)
            staged: dict[str, str] = {}
            if not self.check:
                # Flat names (no folders to make and remove again): `<cluster>.<n>`, unique per worker.
                for number, rel in enumerate(found.changed + found.missing):
                    safe_relative(rel)
                    staged[rel] = f"{cluster}.{number}"
                    write_file(os.path.join(self.staging, staged[rel]), files[rel])
            if found.read:
                # What was learnt by reading: the files that stay, as they are now. Entries of files
                # about to be written stay as they were: their signatures change when they are renamed
                # into place, so the next compile reads those few and records them then.
                manifest.save(found.unchanged)
            kept = Tally.of_entries(found.unchanged)
            return Staged(cluster, dataclasses.replace(found, unchanged={}), kept, staged)

    def commit(self, staged: Iterable[Staged]) -> Drift:
        with _write_errors(self.out_dir):
            return self._commit(list(staged))

    def _commit(self, parts: list[Staged]) -> Drift:
        if self.prune_others and self.real.is_dir():
            done = {part.cluster for part in parts} | self.clusters
            parts += [self.stage(name, {}) for name in existing_clusters(self.real) if name not in done]
        found = Changes.merged(part.changes for part in parts)
        tally = Tally.combined(part.kept for part in parts)
        shown = self.out_dir.name
        if self.check:
            return found.drift(shown, None if found.count else tally.fingerprint)
        if self.new_tree:
            self.staging.rename(self.real)
        elif found.count:
            staged = {rel: name for part in parts for rel, name in part.staged.items()}
            _write_journaled(self.staging, self.real, found, staged)
            put = {rel: signature(os.lstat(self.real / rel)) for rel in (*found.changed, *found.missing)}
            tally = Tally.combined([tally, Tally.of(put)])
        return found.drift(shown, tally.fingerprint)


def write_file(path: str, content: bytes) -> Signature:
    """Create path with content; its stat signature as written (fewer calls than pathlib's)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view) :]
        return signature(os.fstat(fd))
    finally:
        os.close(fd)


def _stage(staging: Path, tree: Tree, paths: Iterable[str]) -> dict[str, Signature]:
    made: set[str] = set()
    base = os.fspath(staging)
    written: dict[str, Signature] = {}
    for rel in paths:
        safe_relative(rel)
        folder = rel.rpartition("/")[0]
        if folder not in made:
            os.makedirs(os.path.join(base, folder), exist_ok=True)
            resolve_under(staging, rel)  # no link in the staging folder leads elsewhere
            made.add(folder)
        written[rel] = write_file(os.path.join(base, rel), tree[rel])
    return written


def _write_journaled(staging: Path, out_dir: Path, found: Changes, staged: Mapping[str, str]) -> None:
    put = [[staged[rel], rel] for rel in found.changed + found.missing]
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
        pending.write_text(json.dumps(operations))
        os.replace(pending, journal)  # the commit point
    except BaseException:
        pending.unlink(missing_ok=True)
        raise
    _apply(out_dir, operations)
    journal.unlink()
    shutil.rmtree(staging)
