"""One review: compile the spec at a base revision and in the working tree, compare both ways."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from compiler.cache_keys import cache_root
from compiler.errors import PlatformcError, SpecErrors
from compiler.pipeline import spec_parse_cache
from compiler.review.gitrev import (
    RevisionSpecErrors,
    checkout_folders,
    default_base,
    open_repo,
    relocate,
    repo_relative,
    resolve,
)
from compiler.review.impact import Impact, compute_impact
from compiler.review.objects import Compiled, TreeDiff, compile_spec, diff_trees
from compiler.spec.build import PlatformModel, load_platform


@dataclass(frozen=True)
class Review:
    base: str  # the revision as the user named it (or the default chosen)
    base_sha: str
    spec_at_base: bool  # False: the spec folder did not exist at base, everything is new
    impact: Impact
    objects: TreeDiff

    @property
    def changed(self) -> bool:
        return bool(self.objects.objects or self.objects.support_files or self.impact.items)


def compile_at(
    spec_dir: Path,
    overlays_dir: Path,
    rev: str,
    *,
    model_only: bool = False,
    charts_dir: Path | None = None,
    cache_root: Path | None = None,
) -> Compiled | None:
    """The spec as it is at rev, compiled by this platformc; None when the spec folder is absent there."""
    repo = open_repo(spec_dir)
    spec_rel, overlays_rel = repo_relative(repo, spec_dir), repo_relative(repo, overlays_dir)
    with checkout_folders(repo, rev, [spec_rel, overlays_rel]) as (root, found):
        if spec_rel not in found:
            return None
        try:
            if model_only:
                return Compiled(load_platform(root / spec_rel), {})
            # The base's spec documents keep one parse cache (the checkout folder is new each time).
            parse_cache = spec_parse_cache(cache_root, spec_dir, "base")
            return compile_spec(
                root / spec_rel,
                root / overlays_rel,
                charts_dir=charts_dir,
                cache_root=cache_root,
                parse_cache=parse_cache,
            )
        except SpecErrors as exc:
            raise RevisionSpecErrors(rev, relocate(exc, root, rev)) from None
        except PlatformcError as exc:
            raise PlatformcError(f"at {rev}: {exc}") from None


def model_at(spec_dir: Path, overlays_dir: Path, rev: str) -> PlatformModel | None:
    compiled = compile_at(spec_dir, overlays_dir, rev, model_only=True)
    return compiled.model if compiled else None


def review(
    spec_dir: Path,
    overlays_dir: Path,
    base: str | None = None,
    *,
    with_diffs: bool = True,
    clusters: Sequence[str] = (),
    charts_dir: Path | None = None,
) -> Review:
    """Compare the spec at base (default: merge base with the default branch) with the working tree."""
    repo = open_repo(spec_dir)
    rev, label = (base, base) if base else default_base(repo)
    sha = resolve(repo, rev).hexsha
    root = cache_root()
    now = compile_spec(
        spec_dir,
        overlays_dir,
        cluster_names=clusters,
        charts_dir=charts_dir,
        cache_root=root,
        parse_cache=spec_parse_cache(root, spec_dir),
    )
    before = compile_at(spec_dir, overlays_dir, rev, charts_dir=charts_dir, cache_root=root)
    impact = compute_impact(before.model if before else None, now.model, now.tree.keys())
    before_tree = before.tree if before else {}
    if clusters:  # objects of the named clusters only; the spec-level impact stays whole
        before_tree = {p: t for p, t in before_tree.items() if p.split("/", 1)[0] in clusters}
    objects = diff_trees(before_tree, now.tree, with_diffs=with_diffs)
    return Review(label, sha, before is not None, impact, objects)
