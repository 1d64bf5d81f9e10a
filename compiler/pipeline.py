"""The compile pipeline, one direction of flow:

load spec → typed model → semantic checks → components → overlays → GitOps packaging
→ validate → emit.

Everything up to emit happens in memory; nothing is written unless every stage passed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from compiler import components as registry
from compiler.charts.cache import (
    DEFAULT_CHARTS_DIR,
    LOCK_FILE,
    ChartOutcome,
    ChartsPull,
    pinned_charts,
    pull_charts,
)
from compiler.charts.facts import learn_from_charts
from compiler.charts.hydrate import hydrate, refuse_render_time_values, render_time_values
from compiler.charts.status import ComponentStatus, component_status
from compiler.charts.values_check import check_component_values
from compiler.cluster_model import ClusterModel, cluster_models
from compiler.components import facts_of
from compiler.components.base import Component, ComponentOutput
from compiler.emit import ClusterInfo, Drift, Tree, compare, file_name, render_cluster, write_tree
from compiler.errors import PlatformcError
from compiler.overlays import OverlayErrors, Overlays, Problems, Provenance, apply_overlays, load_overlays
from compiler.overlays.apply import object_key
from compiler.packaging import argocd, flux
from compiler.packaging.common import PlacedObject, object_folder
from compiler.packaging.units import Unit, order_units
from compiler.parallel import map_in_order
from compiler.spec.build import PlatformModel, load_platform
from compiler.validate import Report, SchemaRegistry, default_checks, validate_objects

DEFAULT_SCHEMA_CACHE = Path(".platformc-cache/schemas")  # where `platformc schemas pull` writes

Progress = Callable[[str], None]

PACKAGERS = {"argocd": argocd.package, "flux": flux.package}


@dataclass(frozen=True)
class ClusterBuild:
    """Everything compile knows about one cluster before it is written."""

    model: ClusterModel
    units: tuple[Unit, ...]
    placed: tuple[PlacedObject, ...]
    # Overlay file:line of every object an overlay added or patched or a custom component rendered.
    provenance: Provenance = field(default_factory=dict)

    @property
    def info(self) -> ClusterInfo:
        return ClusterInfo(self.model.name, self.model.kubernetes_version, self.model.engine)


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
    charts_dir: Path | None = None  # the chart cache rendered from; None: charts were not rendered


def registered() -> tuple[Component, ...]:
    """The registry as it is now (read at call time, so a test may register a component)."""
    return registry.COMPONENTS


def run_components(
    cluster: ClusterModel, components: Sequence[Component] | None = None
) -> list[tuple[str, ComponentOutput]]:
    return [(component.name, component.build(cluster)) for component in components or registered()]


def build_cluster(
    cluster: ClusterModel,
    components: Sequence[Component] | None = None,
    overlays: Overlays | None = None,
    charts_dir: Path | None = None,
) -> ClusterBuild:
    """Raises OverlayErrors (SpecErrors) when the overlays do not apply to this cluster.

    With a chart cache, every chart is rendered first: its values are checked against the chart and
    what it installs (CRDs, the custom resources it creates) replaces what the components declared."""
    outputs = run_components(cluster, components)
    provenance: Provenance = {}
    if overlays is not None:
        problems = Problems()
        applied = apply_overlays(cluster, outputs, overlays, problems)
        problems.raise_if_any()
        outputs, provenance = applied.outputs, applied.provenance
    hydrated = cluster.platform.spec.gitops.render == "hydrated"
    if charts_dir is not None:
        dead = check_component_values(outputs, charts_dir)
        if dead:
            raise PlatformcError("values the charts do not read:\n  " + "\n  ".join(dead))
        learned = learn_from_charts(cluster.engine, cluster.kubernetes_version, outputs, charts_dir)
        outputs = learned.outputs
        if hydrated:
            refuse_render_time_values(render_time_values(learned, cluster.kubernetes_version, charts_dir))
            outputs = hydrate(outputs, learned)
    elif hydrated:
        raise PlatformcError(
            "gitops.render: hydrated writes the charts' rendered objects, so it needs the pinned charts: "
            "run `platformc charts pull` or pass --charts DIR"
        )
    units = order_units(outputs)
    placed = PACKAGERS[cluster.engine](cluster, units)
    return ClusterBuild(cluster, tuple(units), tuple((object_folder(f, o), o) for f, o in placed), provenance)


def select_clusters(model: PlatformModel, names: Sequence[str]) -> list[ClusterModel]:
    clusters = cluster_models(model)
    unknown = sorted(set(names) - {c.name for c in clusters})
    if unknown:
        raise PlatformcError(
            f"unknown cluster(s): {', '.join(unknown)} (expected one of: "
            f"{', '.join(c.name for c in clusters)})"
        )
    return [c for c in clusters if not names or c.name in names]


def build_platform(
    spec_dir: Path,
    cluster_names: Sequence[str] = (),
    progress: Progress | None = None,
    overlays_dir: Path | None = None,
    charts_dir: Path | None = None,
) -> list[ClusterBuild]:
    return build_model(
        load_platform(spec_dir, facts_of(registered())), cluster_names, progress, overlays_dir, charts_dir
    )


def build_model(
    model: PlatformModel,
    cluster_names: Sequence[str] = (),
    progress: Progress | None = None,
    overlays_dir: Path | None = None,
    charts_dir: Path | None = None,
) -> list[ClusterBuild]:
    """The built objects of the selected clusters (for inspection and tests; in this process)."""
    return per_cluster(
        model, cluster_names, lambda build: build, overlays_dir, progress, jobs=1, charts_dir=charts_dir
    )


@dataclass(frozen=True)
class CompiledCluster:
    """One cluster compiled to files: what emit, diff and publish need, and nothing heavier."""

    info: ClusterInfo
    tree: Tree
    objects: int
    report: Report  # validation of this cluster's objects (empty when not validated)


def compile_model(
    model: PlatformModel,
    cluster_names: Sequence[str] = (),
    *,
    overlays_dir: Path | None = None,
    registry: SchemaRegistry | None = None,
    progress: Progress | None = None,
    jobs: int | None = None,
    charts_dir: Path | None = None,
) -> list[CompiledCluster]:
    """Every selected cluster through components, overlays, packaging, validation (when a registry
    is given) and rendering, clusters in parallel. Raises OverlayErrors / PlatformcError."""

    def finish(build: ClusterBuild) -> CompiledCluster:
        report = validate_builds([build], registry) if registry is not None else Report()
        report = with_provenance(report, build)
        return CompiledCluster(
            build.info, render_cluster(build.info, build.placed), len(build.placed), report
        )

    return per_cluster(model, cluster_names, finish, overlays_dir, progress, jobs, charts_dir)


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
    charts_dir: Path | None = None,
) -> list[Done]:
    """build_cluster then `finish` for each selected cluster (in forked workers when jobs allow),
    results in cluster order. Overlay problems of every cluster are reported together."""
    overlays = load_overlays(overlays_dir, model, [c.name for c in registered()]) if overlays_dir else None
    clusters = select_clusters(model, cluster_names)
    if progress:
        progress(f"compiling {len(clusters)} cluster(s)")

    def one(cluster: ClusterModel) -> Done | _ClusterFailure:
        try:
            build = build_cluster(cluster, overlays=overlays, charts_dir=charts_dir)
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


def merged_report(clusters: Sequence[CompiledCluster]) -> Report:
    report = Report()
    for cluster in clusters:
        report.add(cluster.report.findings)
        report.objects += cluster.report.objects
        report.clusters += cluster.report.clusters
    return report


def merged_tree(clusters: Sequence[CompiledCluster]) -> Tree:
    return {path: content for cluster in clusters for path, content in cluster.tree.items()}


def render(builds: Sequence[ClusterBuild]) -> Tree:
    tree: Tree = {}
    for build in builds:
        tree.update(render_cluster(build.info, build.placed))
    return tree


def chart_cache(charts_dir: Path | None) -> Path | None:
    """The chart cache to render from: the one given (which must exist), else `charts pull`'s default
    when it exists, else None (charts are then not rendered, and compile says so)."""
    if charts_dir is not None:
        if not charts_dir.is_dir():
            raise PlatformcError(
                f"chart cache {charts_dir} is not a folder "
                f"(run `platformc charts pull --charts {charts_dir}`)"
            )
        return charts_dir
    return DEFAULT_CHARTS_DIR if DEFAULT_CHARTS_DIR.is_dir() else None


def schema_registry(schema_dirs: Sequence[Path]) -> SchemaRegistry:
    """CRD schemas from the given folders, or from the `schemas pull` cache when none are given."""
    dirs = list(schema_dirs) or ([DEFAULT_SCHEMA_CACHE] if DEFAULT_SCHEMA_CACHE.is_dir() else [])
    try:
        return SchemaRegistry(dirs)
    except FileNotFoundError as exc:
        raise PlatformcError(f"schema folder not found: {exc.filename or exc}") from exc


def validate_builds(builds: Sequence[ClusterBuild], registry: SchemaRegistry) -> Report:
    """Validate every object where it will be written. Compile tolerates missing CRD schemas
    (warnings); `platformc validate` is the strict gate."""
    objects = (
        (b.model.name, b.model.kubernetes_version, _object_file(b, folder, o), o)
        for b in builds
        for folder, o in b.placed
    )
    # Packaging stamps each chart's CRD groups on its Application / HelmRelease, so the ordering
    # check sees here exactly what `platformc validate` sees on disk.
    checks = default_checks(facts_of(registered()).chart_crd_groups)
    return validate_objects(objects, registry, allow_missing=True, checks=checks)


def _object_file(build: ClusterBuild, folder: str, obj: dict[str, Any]) -> str:
    return f"{build.model.name}/{folder}/{file_name(obj)}"


def with_provenance(report: Report, build: ClusterBuild) -> Report:
    """The report with each finding about an overlay-made or overlay-patched object naming the
    overlay lines it came from: the generated file a finding names is not what the user edits."""
    if not build.provenance or not report.findings:
        return report
    sources: dict[str, str] = {}
    for folder, obj in build.placed:
        where = build.provenance.get(object_key(obj))
        if where:
            sources[_object_file(build, folder, obj)] = ", ".join(str(w) for w in where)
    findings = [
        replace(f, message=f"{f.message} (from {sources[f.file]})") if f.file in sources else f
        for f in report.findings
    ]
    return Report(findings, report.objects, list(report.clusters))


def pull_platform_charts(
    spec_dir: Path,
    overlays_dir: Path | None,
    charts_dir: Path = DEFAULT_CHARTS_DIR,
    lock_path: Path = LOCK_FILE,
    progress: Callable[[int, int, ChartOutcome], None] | None = None,
) -> ChartsPull:
    """`platformc charts pull`: every chart any cluster installs into charts_dir, checked against the lock."""
    builds = build_platform(spec_dir, overlays_dir=overlays_dir)
    return pull_charts(pinned_charts(u for b in builds for u in b.units), charts_dir, lock_path, progress)


def components_status(
    spec_dir: Path,
    overlays_dir: Path | None,
    charts_dir: Path | None,
    lock_path: Path,
    schema_dirs: Sequence[Path],
) -> list[ComponentStatus]:
    """`platformc components`: what every component pins and whether its charts and schemas are here."""
    builds = build_platform(spec_dir, overlays_dir=overlays_dir)
    emits = {c.name: c.emits for c in registered()}
    return component_status(
        (u for b in builds for u in b.units),
        emits,
        charts_dir or DEFAULT_CHARTS_DIR,
        lock_path,
        schema_registry(schema_dirs),
    )


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
    charts_dir: Path | None = None,
) -> CompileResult:
    """Compile the spec into out_dir (or, with check, only compare).

    Raises SpecErrors, ValidationFailed or PlatformcError; in every case nothing is written.
    """
    started = time.perf_counter()
    check_folders_apart(spec_dir, out_dir, overlays_dir)
    registry = schema_registry(schema_dirs)
    charts = chart_cache(charts_dir)
    model = load_platform(spec_dir, facts_of(registered()))
    loaded = time.perf_counter()
    clusters = compile_model(
        model,
        cluster_names,
        overlays_dir=overlays_dir,
        registry=registry,
        progress=progress,
        charts_dir=charts,
    )
    compiled = time.perf_counter()
    report = merged_report(clusters)
    if not report.ok:
        raise ValidationFailed(report)
    tree = merged_tree(clusters)
    names = [c.info.name for c in clusters]
    result = CompileResult(
        clusters=names,
        objects=sum(c.objects for c in clusters),
        files=len(tree),
        validation=report,
        charts_dir=charts,
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
