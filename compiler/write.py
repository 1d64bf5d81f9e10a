"""Writing a rendered tree, the shell around emit: the output folder is locked, the new tree is
built beside the old one and exchanged with it in one rename (renameat2 RENAME_EXCHANGE), so a
failure or a kill leaves the previous tree intact; and the drift check (`compile --check`)
compares a rendered tree with what is on disk.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from compiler.errors import PlatformcError
from compiler.pathsafety import resolve_under, safe_relative
from compiler.tree_contract import CLUSTER_INFO_FILE, Tree

# --- reading and comparing an existing tree ---------------------------------------------------


def read_cluster_files(out_dir: Path, clusters: Iterable[str]) -> Tree:
    existing: Tree = {}
    for cluster in clusters:
        root = out_dir / cluster
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            if path.is_file():
                existing[path.relative_to(out_dir).as_posix()] = path.read_bytes()
    return existing


def existing_clusters(out_dir: Path) -> list[str]:
    if not out_dir.is_dir():
        return []
    return sorted(p.name for p in out_dir.iterdir() if (p / CLUSTER_INFO_FILE).is_file())


@dataclass(frozen=True)
class Drift:
    changed: tuple[str, ...]
    missing: tuple[str, ...]  # compile would create these
    extra: tuple[str, ...]  # compile would delete these

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


def compare(out_dir: Path, tree: Tree, clusters: Iterable[str], prune_others: bool) -> Drift:
    """How the tree on disk differs from what compile would write."""
    check_out_dir(out_dir)
    compiled = set(clusters)
    on_disk_clusters = set(existing_clusters(out_dir))
    considered = compiled | (on_disk_clusters if prune_others else set())
    existing = read_cluster_files(out_dir, sorted(considered))
    prefix = out_dir.name + "/"
    return Drift(
        changed=tuple(
            prefix + p for p in sorted(p for p in tree if p in existing and existing[p] != tree[p])
        ),
        missing=tuple(prefix + p for p in sorted(p for p in tree if p not in existing)),
        extra=tuple(prefix + p for p in sorted(p for p in existing if p not in tree)),
    )


# --- atomic replace ---------------------------------------------------------------------------

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2). False where the system cannot."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result != 0:
        errno = ctypes.get_errno()
        if errno in (22, 38, 95):  # EINVAL / ENOSYS / EOPNOTSUPP: filesystem or kernel cannot
            return False
        raise OSError(errno, os.strerror(errno), str(a))
    return True


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


def write_tree(out_dir: Path, tree: Tree, clusters: Iterable[str], prune_others: bool) -> None:
    """Replace the cluster folders of `clusters` in out_dir with `tree`, atomically as a whole.

    Cluster folders not compiled now are kept, unless prune_others (a full compile), in which
    case folders of clusters that left the spec are removed. Other files in out_dir are kept.
    """
    check_out_dir(out_dir)
    for rel in tree:
        safe_relative(rel)
    try:
        # A symbolic link to a folder is written through: the swap happens beside the real folder.
        _write_tree(out_dir.resolve(), tree, set(clusters), prune_others)
    except OSError as exc:
        # Permissions, a full disk, a read-only mount: a message, not a traceback. Staging is removed;
        # the old tree stands unless the failure came after the one-step swap.
        where = exc.filename or out_dir
        raise PlatformcError(f"cannot write {where}: {exc.strerror or exc}") from exc


def _write_tree(out_dir: Path, tree: Tree, compiled: set[str], prune_others: bool) -> None:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with _locked(out_dir):
        _clean_leftovers(out_dir)
        staging = out_dir.parent / f".{out_dir.name}.staging-{os.getpid()}"
        staging.mkdir()
        try:
            _fill_staging(staging, out_dir, tree, compiled, prune_others)
            if not out_dir.exists():
                staging.rename(out_dir)
                return
            if _exchange(staging, out_dir):
                shutil.rmtree(staging)
                return
            old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
            out_dir.rename(old)
            staging.rename(out_dir)
            shutil.rmtree(old)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def _fill_staging(staging: Path, out_dir: Path, tree: Tree, compiled: set[str], prune_others: bool) -> None:
    if out_dir.is_dir():
        managed = set(existing_clusters(out_dir))
        for entry in sorted(out_dir.iterdir()):
            if entry.name in compiled or (prune_others and entry.name in managed):
                continue
            target = staging / entry.name
            if entry.is_dir() and not entry.is_symlink():
                # Hard links: unchanged clusters cost no copying, and files are never modified in place.
                shutil.copytree(entry, target, copy_function=os.link, symlinks=True)
            else:
                shutil.copy2(entry, target, follow_symlinks=False)
    made: set[Path] = set()
    for rel, content in tree.items():
        path = staging / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            resolve_under(staging, rel)  # no link in the staging folder leads elsewhere
            made.add(path.parent)
        # An unchanged file is hard-linked from the old tree: on some disks creating a file with
        # data costs ~25x a link, and most compiles change a handful of files out of thousands.
        old = out_dir / rel
        try:
            if old.read_bytes() == content:
                os.link(old, path)
                continue
        except OSError:
            pass  # missing (new file) or unreadable: write it
        path.write_bytes(content)
