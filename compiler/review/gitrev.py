"""Reading the spec as it was at a Git revision, without touching the working tree.

The folders are exported from the revision's tree objects (gitpython) into a temporary folder
and compiled in memory with this version of the pipeline, so a diff compares like with like:
the same compiler on two inputs, never the output committed at the revision.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import git

from compiler.errors import PlatformcError, SourceLocation, SpecError, SpecErrors

DEFAULT_BRANCHES = ("main", "master")


def open_repo(path: Path) -> git.Repo:
    try:
        return git.Repo(path if path.exists() else Path.cwd(), search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise PlatformcError(
            f"{path} is not inside a Git repository (expected a platform repository)"
        ) from None


def repo_root(repo: git.Repo) -> Path:
    assert repo.working_tree_dir is not None
    return Path(repo.working_tree_dir).resolve()


def repo_relative(repo: git.Repo, path: Path) -> str:
    """Path of a folder inside the repository, as Git names it ("" for the root)."""
    try:
        rel = path.resolve().relative_to(repo_root(repo))
    except ValueError:
        raise PlatformcError(f"{path} is outside the Git repository at {repo_root(repo)}") from None
    return rel.as_posix() if rel.parts else ""


def resolve(repo: git.Repo, rev: str) -> git.Commit:
    try:
        return repo.commit(rev)
    except (git.BadName, ValueError, git.GitCommandError):
        raise PlatformcError(
            f"unknown revision '{rev}' (expected a commit, branch or tag of {repo_root(repo)})"
        ) from None


def default_branch(repo: git.Repo) -> str | None:
    """The repository's default branch as git knows it: origin/HEAD's target, else main, else master."""
    try:
        target = repo.git.symbolic_ref("--quiet", "--short", "refs/remotes/origin/HEAD")
        if target:
            return str(target)
    except git.GitCommandError:
        pass
    for ref in DEFAULT_BRANCHES:
        try:
            repo.commit(ref)
        except (git.BadName, ValueError, git.GitCommandError):
            continue
        return ref
    return None


def default_base(repo: git.Repo) -> tuple[str, str]:
    """(revision, how it was chosen): the merge base of HEAD with the default branch; HEAD when
    HEAD is that branch, or when there is none. The second part is said to the user."""
    branch = default_branch(repo)
    if branch is None:
        return "HEAD", "HEAD (no origin/HEAD, main or master branch to take a merge base with)"
    head = repo.head.commit
    if repo.commit(branch) == head:
        return "HEAD", f"HEAD (on the default branch {branch} itself)"
    bases = repo.merge_base(repo.commit(branch), head)
    if not bases:
        return "HEAD", f"HEAD ({branch} shares no history with HEAD)"
    return bases[0].hexsha, f"merge base with {branch}"


def export_folders(commit: git.Commit, folders: Sequence[str], dest: Path) -> list[str]:
    """Write the blobs under each folder of the commit's tree into dest; the folders that existed."""
    found = []
    for folder in folders:
        try:
            tree = commit.tree / folder if folder else commit.tree
        except KeyError:
            continue
        if not isinstance(tree, git.Tree):
            continue
        found.append(folder)
        for item in tree.traverse():
            if isinstance(item, git.Blob) and item.mode != git.objects.blob.Blob.link_mode:
                target = dest / item.path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(item.data_stream.read())
    return found


@contextlib.contextmanager
def checkout_folders(repo: git.Repo, rev: str, folders: Sequence[str]) -> Iterator[tuple[Path, list[str]]]:
    """A temporary folder holding `folders` as they are at rev (and which of them exist there)."""
    commit = resolve(repo, rev)
    with tempfile.TemporaryDirectory(prefix="platformc-rev-") as tmp:
        root = Path(tmp)
        yield root, export_folders(commit, folders, root)


class RevisionSpecErrors(Exception):
    """The spec is invalid at a revision: errors point at `<rev>:<path>` rather than a temp folder."""

    def __init__(self, rev: str, errors: SpecErrors) -> None:
        super().__init__(rev, errors)
        self.rev = rev
        self.errors = errors

    def __str__(self) -> str:
        return f"the spec at {self.rev} is invalid:\n{self.errors}"


def relocate(errors: SpecErrors, tmp_root: Path, rev: str) -> SpecErrors:
    prefix = str(tmp_root) + "/"
    moved = []
    for error in errors.errors:
        file = error.location.file
        if file.startswith(prefix):
            file = f"{rev}:{file[len(prefix) :]}"
        moved.append(
            SpecError(SourceLocation(file, error.location.line, error.location.column), error.message)
        )
    return SpecErrors(moved)
