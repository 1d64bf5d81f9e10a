"""`platformc publish`: compile, validate, verify (when the charts are available) and commit generated/ —
and nothing else — with gitpython.

Two targets:
- the working branch (default): generated/ is written in the working tree as `compile` does, and a
  commit is made from HEAD's tree with only generated/ replaced, through a temporary index
  (GIT_INDEX_FILE), so the user's staged and unstaged changes stay exactly as they were.
- a rendered branch (`--branch NAME`): a commit whose tree holds only `<out>/<cluster>/…` (the same
  layout as on the working branch, so Argo CD / Flux keep `path: generated` and only change the
  revision they follow). Blobs are written straight into the object database: the working tree,
  the index and HEAD are never touched.

Every commit carries a `Source-Commit: <sha>` trailer naming the spec commit it was compiled from.
Pushes never force.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import git
from gitdb.base import IStream

from compiler import pipeline
from compiler.errors import PlatformcError, UsageError
from compiler.review.gitrev import RevisionSpecErrors, open_repo, repo_relative, repo_root
from compiler.review.impact import Impact, compute_impact, money
from compiler.review.objects import compile_spec
from compiler.review.run import model_at
from compiler.secrets_scan import redact
from compiler.tree_contract import Tree
from compiler.validate import Report
from compiler.write import write_tree

TRAILER = "Source-Commit"
_TRAILER_RE = re.compile(rf"^{TRAILER}: ([0-9a-f]{{40}})\s*$", re.MULTILINE)
ZERO_SHA = "0" * 40
MAX_BODY_LINES = 40

Progress = Callable[[str], None]


class PublishError(PlatformcError):
    """Publishing refused or failed; nothing was committed unless the message says so."""


@dataclass
class PublishResult:
    ref: str  # refs/heads/<branch>, or HEAD when detached
    source: str  # sha of HEAD the output was compiled from
    commit: str | None = None  # None: nothing changed
    message: str = ""
    pushed: bool = False
    notes: list[str] = field(default_factory=list)


def _git_env(index_file: Path) -> dict[str, str]:
    return {**os.environ, "GIT_INDEX_FILE": str(index_file)}


@contextmanager
def _temporary_index(repo: git.Repo) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="platformc-index-") as tmp:
        yield Path(tmp) / "index"


def _ref_commit(repo: git.Repo, ref: str) -> git.Commit | None:
    try:
        return repo.commit(ref)
    except (git.BadName, ValueError):
        return None


def last_published_source(repo: git.Repo, ref: str) -> str | None:
    """Source-Commit of the newest publish commit on ref, when the repository still has it.
    All of history is searched (git log --grep), however many commits came since."""
    if _ref_commit(repo, ref) is None:
        return None
    messages = repo.git.log(ref, "-E", f"--grep=^{TRAILER}: [0-9a-f]{{40}}", "--format=%B%x00")
    for message in messages.split("\0"):
        found = _TRAILER_RE.search(message)
        if found and _ref_commit(repo, found[1]) is not None:
            return found[1]
    return None


def _dirty_spec(repo: git.Repo, paths: Sequence[str]) -> list[str]:
    status = repo.git.status("--porcelain", "--untracked-files=all", "--", *[p or "." for p in paths])
    return [line for line in status.splitlines() if line.strip()]


def _tree_from_disk(repo: git.Repo, out_rel: str) -> str:
    """HEAD's tree with out_rel replaced by what is on disk, via a temporary index."""
    with _temporary_index(repo) as index:
        env = _git_env(index)
        repo.git.read_tree("HEAD", env=env)
        repo.git.rm("-r", "-q", "--cached", "--ignore-unmatch", "--", out_rel, env=env)
        repo.git.add("-A", "-f", "--", out_rel, env=env)
        return str(repo.git.write_tree(env=env))


def _tree_from_memory(repo: git.Repo, out_rel: str, tree: Tree) -> str:
    """A tree holding only out_rel/<files of tree>, written straight into the object database."""
    lines = []
    for path in sorted(tree):
        data = tree[path]
        sha = repo.odb.store(IStream(git.Blob.type, len(data), io.BytesIO(data))).hexsha.decode()
        lines.append(f"100644 blob {sha}\t{out_rel}/{path}\n")
    with _temporary_index(repo) as index, tempfile.TemporaryFile() as listing:
        listing.write("".join(lines).encode())
        listing.seek(0)
        env = _git_env(index)
        repo.git.update_index("--add", "--index-info", istream=listing, env=env)
        return str(repo.git.write_tree(env=env))


def _changed_clusters(
    repo: git.Repo, parent: git.Commit | None, tree_sha: str, out_rel: str
) -> tuple[int, list[str]]:
    if parent is None:
        names = repo.git.ls_tree("-r", "--name-only", tree_sha, "--", out_rel).splitlines()
    else:
        names = repo.git.diff_tree("-r", "--name-only", parent.hexsha, tree_sha, "--", out_rel).splitlines()
    prefix = f"{out_rel}/" if out_rel else ""
    clusters = sorted({n[len(prefix) :].split("/", 1)[0] for n in names if n.startswith(prefix)})
    return len(names), clusters


def commit_message(
    subject: str | None,
    files: int,
    clusters: list[str],
    impact: Impact | None,
    base: str | None,
    source: str,
    unvalidated: Sequence[str] = (),
) -> str:
    """`base` is the Source-Commit of the previous publish; None on the first publish."""
    shown = ", ".join(clusters[:5]) + (f" and {len(clusters) - 5} more" if len(clusters) > 5 else "")
    first = subject or f"platformc publish: {files} file(s) on {shown or 'no cluster'}"
    since = f"since {base[:12]}" if base else "(first publish: the whole spec is new)"
    body: list[str] = []
    if unvalidated:
        body.append(f"Not schema-validated (published with --allow-unvalidated): {', '.join(unvalidated)}.\n")
    if impact is None:
        body.append(
            f"Impact: the spec at {(base or source)[:12]} could not be compiled; run `platformc diff`."
        )
    elif not impact.items:
        body.append(f"No spec change {since} (the compiler output changed).")
    else:
        body.append(f"Impact {since}:")
        lines = list(impact.lines())
        body.extend(f"- {line}" for line in lines[:MAX_BODY_LINES])
        if len(lines) > MAX_BODY_LINES:
            body.append(f"- … and {len(lines) - MAX_BODY_LINES} more")
        total = impact.total_cost
        if round(total.delta, 2):
            body.append(
                f"Monthly GPU cost: {money(total.before)} → {money(total.after)} "
                f"({money(total.delta, signed=True)})"
            )
    # Commit messages are pushed and shown in PR timelines: no secret, even from an older spec.
    return redact(f"{first}\n\n" + "\n".join(body) + f"\n\n{TRAILER}: {source}\n")


def unvalidated_kinds(report: Report) -> list[str]:
    """apiVersion kind of every object no schema checked (compile tolerates them as warnings)."""
    return sorted({f"{f.kind}" for f in report.warnings if f.check == "missing-schema"})


def _commit(repo: git.Repo, tree_sha: str, parent: git.Commit | None, message: str) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as handle:
        handle.write(message)
        handle.flush()
        args = [tree_sha, *(["-p", parent.hexsha] if parent else []), "-F", handle.name]
        return str(repo.git.commit_tree(*args)).strip()


def push(repo: git.Repo, remote: str, ref: str) -> None:
    """Push ref to the same ref on remote; never forces."""
    branch = ref.removeprefix("refs/heads/")
    try:
        repo.git.push("--porcelain", remote, f"{ref}:{ref}")
    except git.GitCommandError as exc:
        text = f"{exc.stdout}\n{exc.stderr}"
        if (
            "[rejected]" in text
            or "non-fast-forward" in text
            or "fetch first" in text
            or "(stale info)" in text
        ):
            raise PublishError(
                f"push to {remote} rejected: {remote}/{branch} has commits that local {branch} does not have "
                f"(non-fast-forward). Nothing was forced; the publish commit stays local. Fetch, rebase or "
                f"merge, and publish again"
            ) from None
        raise PublishError(f"push to {remote} failed: {str(exc.stderr).strip() or exc}") from None


def publish(
    spec_dir: Path,
    overlays_dir: Path,
    out_dir: Path,
    *,
    message: str | None = None,
    branch: str | None = None,
    push_to: str | None = None,
    allow_dirty_spec: bool = False,
    schema_dirs: Sequence[Path] = (),
    allow_unvalidated: bool = False,
    progress: Progress | None = None,
    charts_dir: Path | None = None,
    clusters: Sequence[str] = (),
) -> PublishResult:
    """Compile, validate and commit generated/. Raises SpecErrors / PublishError; see the module doc."""
    repo = open_repo(spec_dir)
    if not repo.head.is_valid():
        raise PublishError(
            f"the repository at {repo_root(repo)} has no commits yet (expected the spec committed)"
        )
    spec_rel, overlays_rel, out_rel = (repo_relative(repo, p) for p in (spec_dir, overlays_dir, out_dir))
    if not out_rel:
        raise PublishError("the output folder cannot be the repository root")
    if not allow_dirty_spec:
        dirty = _dirty_spec(repo, [spec_rel, overlays_rel])
        if dirty:
            listed = "\n".join(f"  {line}" for line in dirty)
            raise PublishError(
                f"the spec has uncommitted changes (expected {spec_rel}/ and {overlays_rel}/ committed, so "
                f"the published output names the commit it came from):\n{listed}\n"
                "commit them first, or pass --allow-dirty-spec"
            )
    if branch is not None:
        if not repo.head.is_detached and repo.head.ref.name == branch:
            raise PublishError(
                f"--branch {branch} is the checked-out branch (expected a separate rendered branch)"
            )
        ref = f"refs/heads/{branch}"
        try:
            repo.git.check_ref_format(ref)
        except git.GitCommandError:
            raise PublishError(f"invalid branch name '{branch}'") from None
    else:
        ref = "HEAD" if repo.head.is_detached else repo.head.ref.path
    if push_to is not None and ref == "HEAD":  # refused before committing, not after
        raise PublishError("cannot push a detached HEAD (expected a checked-out branch, or --branch NAME)")
    source = repo.head.commit.hexsha
    result = PublishResult(ref=ref, source=source)

    if progress:
        progress("compiling")
    # The same validation compile runs, so publish commits nothing compile would refuse.
    if clusters and branch is not None:
        raise UsageError("--cluster publishes into the checked-out branch only (expected no --branch)")
    # Component pins choose the schemas as in compile: an unknown pin is refused at its line.
    pinned = pipeline.checked_pins(pipeline.with_overlay_problems(spec_dir, overlays_dir))
    compiled = compile_spec(
        spec_dir,
        overlays_dir,
        pipeline.schema_registry(schema_dirs, pinned, overlays_dir),
        clusters,
        charts_dir=charts_dir,
    )
    report = pipeline.merged_report(compiled.clusters)
    problems = [f.format() for f in report.errors]
    if problems:
        raise PublishError("validation failed; nothing was committed:\n" + "\n".join(problems))
    unvalidated = unvalidated_kinds(report)
    if unvalidated and not allow_unvalidated:
        raise PublishError(
            f"no schema for {', '.join(unvalidated)}, so those objects were not validated; nothing was "
            "committed (expected schemas for every kind: run `platformc schemas pull` or pass --schemas; "
            "or pass --allow-unvalidated, which the commit message records)"
        )
    # The behaviour check compile runs too, when the charts are available; said when they are not.
    charts = pipeline.chart_cache(charts_dir)
    try:
        pipeline.verified(compiled.tree, compiled.clusters, charts, spec_dir, progress)
    except pipeline.VerifyFailed as exc:
        found = [f"{f.format()}; fix: {f.record()['fix']}" for f in exc.result.findings]
        raise PublishError(f"{exc}; nothing was committed:\n" + "\n".join(found)) from None

    # The first publish has nothing to compare with: everything in the spec is new, which is
    # what its message says (comparing HEAD with itself would claim "no spec change").
    base = last_published_source(repo, ref)
    try:
        before = model_at(spec_dir, overlays_dir, base) if base else None
        impact: Impact | None = compute_impact(before, compiled.model)
    except (RevisionSpecErrors, PlatformcError):
        impact = None

    parent = _ref_commit(repo, ref)
    if branch is None:
        names = [c.info.name for c in compiled.clusters]
        write_tree(out_dir, compiled.tree, names, prune_others=not clusters)
        tree_sha = _tree_from_disk(repo, out_rel)
    else:
        tree_sha = _tree_from_memory(repo, out_rel, compiled.tree)
    if parent is not None and parent.tree.hexsha == tree_sha:
        result.notes.append(
            f"nothing to publish: {out_rel}/ is unchanged on {ref.removeprefix('refs/heads/')}"
        )
    else:
        files, clusters = _changed_clusters(repo, parent, tree_sha, out_rel)
        result.message = commit_message(message, files, clusters, impact, base, source, unvalidated)
        new = _commit(repo, tree_sha, parent, result.message)
        repo.git.update_ref("-m", "platformc publish", ref, new, parent.hexsha if parent else ZERO_SHA)
        result.commit = new
        if branch is None:
            # The real index still holds the previous generated/; align those entries (and only those).
            repo.git.reset("-q", "HEAD", "--", out_rel)
    if charts is None:  # after what was published, so the first line still says that
        result.notes.append(
            "charts not rendered (no chart cache): the platform's behaviour was not verified; run "
            "`platformc charts pull` or pass --charts DIR"
        )
    if push_to is not None:
        push(repo, push_to, ref)
        result.pushed = True
    return result
