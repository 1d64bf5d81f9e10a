"""The compile commands around the pure core (compiler/core.py), one direction of flow:

load spec → typed model → semantic checks → components → overlays → GitOps packaging
→ validate → emit → write.

Here: reading the spec, overlays and schemas, fanning clusters out to workers, and writing or
comparing the tree. Nothing is written unless every stage passed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from compiler.cluster_model import ClusterModel
from compiler.components import facts_of
from compiler.core import (
    PACKAGERS,
    ClusterBuild,
    CompiledCluster,
    build_cluster,
    cluster_files,
    compile_cluster,
    merged_report,
    merged_tree,
    registered,
    render,
    run_components,
    select_clusters,
    validate_builds,
    with_provenance,
)
from compiler.errors import PlatformcError
from compiler.overlays import OverlayErrors, Problems, load_overlays
from compiler.parallel import map_in_order
from compiler.spec.build import PlatformModel, load_platform
from compiler.validate import Report, SchemaRegistry
from compiler.write import Drift, compare, write_tree

__all__ = [
    "PACKAGERS",
    "ClusterBuild",
    "CompiledCluster",
    "build_cluster",
    "cluster_files",
    "merged_report",
    "merged_tree",
    "registered",
    "render",
    "run_components",
    "select_clusters",
    "validate_builds",
    "with_provenance",
]

DEFAULT_SCHEMA_CACHE = Path(".platformc-cache/schemas")  # where `platformc schemas pull` writes

Progress = Callable[[str], None]


class ValidationFailed(PlatformcError):
    """Generated objects failed validation; nothing was written."""

    def __init__(self, report: Report):
        self.report = report
        super().__init__(f"validation failed: {report.summary()}")


@dataclass
class CompileResult:
    clusters: list[str]
    objects: int = 0
    files: int = 0
    drift: Drift | None = None
    validation: Report = field(default_factory=Report)
    seconds: dict[str, float] = field(default_factory=dict)  # per stage: spec, clusters, write


def build_platform(
    spec_dir: Path,
    cluster_names: Sequence[str] = (),
    progress: Progress | None = None,
    overlays_dir: Path | None = None,
) -> list[ClusterBuild]:
    return build_model(load_platform(spec_dir, facts_of(registered())), cluster_names, progress, overlays_dir)


def build_model(
    model: PlatformModel,
    cluster_names: Sequence[str] = (),
    progress: Progress | None = None,
    overlays_dir: Path | None = None,
) -> list[ClusterBuild]:
    """The built objects of the selected clusters (for inspection and tests; in this process)."""
    return per_cluster(model, cluster_names, lambda build: build, overlays_dir, progress, jobs=1)


def compile_model(
    model: PlatformModel,
    cluster_names: Sequence[str] = (),
    *,
    overlays_dir: Path | None = None,
    registry: SchemaRegistry | None = None,
    progress: Progress | None = None,
    jobs: int | None = None,
) -> list[CompiledCluster]:
    """Every selected cluster through components, overlays, packaging, validation (when a registry
    is given) and rendering, clusters in parallel. Raises OverlayErrors / PlatformcError."""

    def finish(build: ClusterBuild) -> CompiledCluster:
        return compile_cluster(build, registry)

    return per_cluster(model, cluster_names, finish, overlays_dir, progress, jobs)


Done = TypeVar("Done")


@dataclass(frozen=True)
class _ClusterFailure:
    """A per-cluster error carried back from a worker (exceptions with extra state do not pickle)."""

    overlay_problems: Problems | None = None
    message: str | None = None


def per_cluster(
    model: PlatformModel,
    cluster_names: Sequence[str],
    finish: Callable[[ClusterBuild], Done],
    overlays_dir: Path | None = None,
    progress: Progress | None = None,
    jobs: int | None = None,
) -> list[Done]:
    """build_cluster then `finish` for each selected cluster (in forked workers when jobs allow),
    results in cluster order. Overlay problems of every cluster are reported together."""
    overlays = load_overlays(overlays_dir, model, [c.name for c in registered()]) if overlays_dir else None
    clusters = select_clusters(model, cluster_names)
    if progress:
        progress(f"compiling {len(clusters)} cluster(s)")

    def one(cluster: ClusterModel) -> Done | _ClusterFailure:
        try:
            build = build_cluster(cluster, overlays=overlays)
        except OverlayErrors as exc:
            return _ClusterFailure(overlay_problems=exc.problems)
        except PlatformcError as exc:
            return _ClusterFailure(message=f"cluster '{cluster.name}': {exc}")
        return finish(build)

    problems = overlays.problems if overlays else Problems()
    done: list[Done] = []
    for result in map_in_order(one, clusters, jobs):
        if isinstance(result, _ClusterFailure):
            if result.message:
                raise PlatformcError(result.message)
            assert result.overlay_problems is not None
            problems.merge(result.overlay_problems)
        else:
            done.append(result)
    problems.raise_if_any()
    return done


def schema_registry(schema_dirs: Sequence[Path]) -> SchemaRegistry:
    """CRD schemas from the given folders, or from the `schemas pull` cache when none are given."""
    dirs = list(schema_dirs) or ([DEFAULT_SCHEMA_CACHE] if DEFAULT_SCHEMA_CACHE.is_dir() else [])
    try:
        return SchemaRegistry(dirs)
    except FileNotFoundError as exc:
        raise PlatformcError(f"schema folder not found: {exc.filename or exc}") from exc


def check_folders_apart(spec_dir: Path, out_dir: Path, overlays_dir: Path | None) -> None:
    """The output folder must not hold, or sit in, the inputs: a compile would write trees into
    the spec (read back as spec next time) or replace the spec with generated output."""
    out = out_dir.resolve()
    for name, folder in (("--spec", spec_dir), ("--overlays", overlays_dir)):
        if folder is None:
            continue
        source = folder.resolve()
        if out == source or source.is_relative_to(out) or out.is_relative_to(source):
            raise PlatformcError(
                f"--out {out_dir} and {name} {folder} overlap (expected the output folder apart from the "
                "inputs, e.g. --out generated)"
            )


def compile_platform(
    spec_dir: Path,
    out_dir: Path,
    *,
    cluster_names: Sequence[str] = (),
    check: bool = False,
    schema_dirs: Sequence[Path] = (),
    progress: Progress | None = None,
    overlays_dir: Path | None = None,
) -> CompileResult:
    """Compile the spec into out_dir (or, with check, only compare).

    Raises SpecErrors, ValidationFailed or PlatformcError; in every case nothing is written.
    """
    started = time.perf_counter()
    check_folders_apart(spec_dir, out_dir, overlays_dir)
    registry = schema_registry(schema_dirs)
    model = load_platform(spec_dir, facts_of(registered()))
    loaded = time.perf_counter()
    clusters = compile_model(
        model, cluster_names, overlays_dir=overlays_dir, registry=registry, progress=progress
    )
    compiled = time.perf_counter()
    report = merged_report(clusters)
    if not report.ok:
        raise ValidationFailed(report)
    tree = merged_tree(clusters)
    names = [c.info.name for c in clusters]
    result = CompileResult(
        clusters=names, objects=sum(c.objects for c in clusters), files=len(tree), validation=report
    )
    result.seconds = {"spec": loaded - started, "clusters": compiled - loaded}
    full = not cluster_names
    if check:
        result.drift = compare(out_dir, tree, names, prune_others=full)
    else:
        if progress:
            progress(f"writing {len(tree)} files to {out_dir}")
        write_tree(out_dir, tree, names, prune_others=full)
    result.seconds["write"] = time.perf_counter() - compiled
    return result


def validate_existing_tree(
    out_dir: Path,
    schema_dirs: Sequence[Path],
    allow_missing: bool,
    clusters: Sequence[str] = (),
    skip_checks: Sequence[str] = (),
) -> Report:
    """`platformc validate`: the same checks compile runs, on a tree as it is on disk."""
    from compiler.validate import validate_tree

    if not out_dir.is_dir():
        problem = "is a file" if out_dir.exists() else "does not exist"
        raise PlatformcError(f"{out_dir} {problem} (expected a generated tree; run `platformc compile`)")
    registry = schema_registry(schema_dirs)
    report = validate_tree(
        out_dir, allow_missing_schemas=allow_missing, clusters=list(clusters) or None, registry=registry
    )
    if skip_checks:
        report.findings = [f for f in report.findings if f.check not in skip_checks]
    return report
