"""The compile commands around the pure core (compiler/core.py), one direction of flow:

load spec → typed model → semantic checks → components → overlays → GitOps packaging
→ validate → verify (when the charts are available) → emit → write.

Here: reading the spec, overlays and schemas, fanning clusters out to workers, and writing or
comparing the tree. Nothing is written unless every stage passed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from compiler.charts.cache import (
    DEFAULT_CHARTS_DIR,
    LOCK_FILE,
    ChartOutcome,
    ChartsPull,
    pinned_charts,
    pull_charts,
)
from compiler.charts.location import chart_cache
from compiler.charts.stage import charts_stage
from compiler.charts.status import ComponentStatus, component_status
from compiler.cluster_model import ClusterModel
from compiler.compile_result import CompileResult, ValidationFailed, VerifyFailed
from compiler.components import facts_of
from compiler.core import (
    PACKAGERS,
    ClusterBuild,
    CompiledCluster,
    build_cluster,
    cluster_files,
    compile_cluster,
    generated_header,
    merged_report,
    merged_tree,
    registered,
    render,
    run_components,
    select_clusters,
    validate_builds,
    with_provenance,
)
from compiler.errors import PlatformcError, SpecErrors, UsageError
from compiler.overlays import OverlayErrors, Problems, load_overlays
from compiler.parallel import map_in_order
from compiler.spec.build import PlatformModel, allowed_secrets, load_platform
from compiler.spec.loader import ParseCache, display_path, spec_parse_cache
from compiler.tree_contract import Tree
from compiler.validate import Report, SchemaRegistry
from compiler.validate.cache import ValidationCache
from compiler.write import Staged, TreeWrite, file_digest, finish_interrupted, open_write

if TYPE_CHECKING:
    from compiler.cluster_cache import ClusterCache
    from compiler.verify.run import VerifyResult

__all__ = [
    "PACKAGERS",
    "ClusterBuild",
    "CompileResult",
    "CompiledCluster",
    "ValidationFailed",
    "build_cluster",
    "cluster_files",
    "generated_header",
    "merged_report",
    "merged_tree",
    "registered",
    "render",
    "run_components",
    "select_clusters",
    "validate_builds",
    "with_provenance",
]

Progress = Callable[[str], None]


def verified(
    tree: Tree,
    clusters: Sequence[CompiledCluster],
    charts_dir: Path | None,
    spec_dir: Path,
    progress: Progress | None = None,
) -> VerifyResult | None:
    """`platformc verify` on the compiled tree before it is written, when the charts are available
    (None when not: the caller says so). Raises VerifyFailed on findings."""
    if charts_dir is None:
        return None
    from compiler.verify.run import RENDER_CACHE_DIR, verify_compiled  # heavy: only with charts

    if progress:
        progress(f"verifying {len(clusters)} cluster(s)")
    result = verify_compiled(tree, [c.info for c in clusters], charts_dir, spec_dir, RENDER_CACHE_DIR)
    if not result.ok:
        raise VerifyFailed(result)
    return result


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


def compile_model(
    model: PlatformModel,
    cluster_names: Sequence[str] = (),
    *,
    overlays_dir: Path | None = None,
    registry: SchemaRegistry | None = None,
    progress: Progress | None = None,
    jobs: int | None = None,
    charts_dir: Path | None = None,
    memo_root: Path | None = None,
) -> list[CompiledCluster]:
    """Every selected cluster through components, overlays, packaging, validation (when a registry
    is given) and rendering, clusters in parallel. With a memo_root, each cluster's object memo
    (compiler/object_memo.py) is loaded and stored there by its worker. Raises OverlayErrors /
    PlatformcError."""

    return per_cluster(
        model,
        cluster_names,
        lambda build: compile_memoised(build, registry, memo_root),
        overlays_dir,
        progress,
        jobs,
        charts_dir,
    )


def compile_memoised(
    build: ClusterBuild, registry: SchemaRegistry | None, memo_root: Path | None
) -> CompiledCluster:
    """compile_cluster with the cluster's object memo loaded from and stored in memo_root (if any)."""
    if memo_root is None:
        return compile_cluster(build, registry)
    from compiler.memo_store import load_memo, save_memo

    memo = load_memo(memo_root, build.info.name)
    compiled = compile_cluster(build, registry, memo)
    save_memo(memo_root, build.info.name, memo)
    return compiled


def compile_cached(
    model: PlatformModel,
    cache_root: Path | None,
    cluster_names: Sequence[str] = (),
    *,
    overlays_dir: Path | None = None,
    registry: SchemaRegistry | None = None,
    progress: Progress | None = None,
    jobs: int | None = None,
    charts_dir: Path | None = None,
    recompiled: list[str] | None = None,
) -> list[CompiledCluster]:
    """compile_model, taking each cluster whose inputs are unchanged from the cluster cache
    (compiler/cluster_cache.py) and compiling only the others (their names are added to
    `recompiled`). Without a cache_root, every cluster is compiled."""
    found = cached_clusters(
        model,
        cache_root,
        cluster_names,
        lambda compiled, fresh, _: (compiled, fresh),
        overlays_dir=overlays_dir,
        registry=registry,
        progress=progress,
        jobs=jobs,
        charts_dir=charts_dir,
    )
    if recompiled is not None:
        recompiled.extend(compiled.info.name for compiled, fresh in found if fresh)
    return [compiled for compiled, _ in found]


def cached_clusters(
    model: PlatformModel,
    cache_root: Path | None,
    cluster_names: Sequence[str],
    then: Callable[[CompiledCluster, bool, Mapping[str, str] | None], Done],
    *,
    overlays_dir: Path | None = None,
    registry: SchemaRegistry | None = None,
    progress: Progress | None = None,
    jobs: int | None = None,
    charts_dir: Path | None = None,
) -> list[Done]:
    """`then(cluster, recompiled, file digests)` for each selected cluster, in its worker: the
    cluster from the cache when its key has an entry, else compiled and stored there. Digests
    (file_digest by path, None without a cache) are the entry's, hashed once."""
    clusters = select_clusters(model, cluster_names)
    cache = validation = None
    keys: dict[str, str] = {}
    if cache_root is not None:
        cache, validation, keys = cluster_cache(
            model, clusters, cache_root, overlays_dir, registry, charts_dir
        )

    def compiled(build: ClusterBuild) -> Done:
        fresh = compile_memoised(build, registry, cache_root)
        if cache is None:
            return then(fresh, True, None)
        digests = fresh.digests
        if digests.keys() != fresh.tree.keys():
            digests = {path: file_digest(content) for path, content in fresh.tree.items()}
        cache.put(keys[fresh.info.name], fresh, validation, digests)
        return then(fresh, True, digests)

    def cached(cluster: ClusterModel) -> Done | None:
        hit = cache.get_with_digests(keys[cluster.name], validation) if cache is not None else None
        return then(hit[0], False, hit[1]) if hit is not None else None

    return per_cluster(
        model,
        cluster_names,
        compiled,
        overlays_dir,
        progress,
        jobs,
        charts_dir,
        cached=cached,
        clusters=clusters,
    )


def cluster_cache(
    model: PlatformModel,
    clusters: Sequence[ClusterModel],
    cache_root: Path,
    overlays_dir: Path | None,
    registry: SchemaRegistry | None,
    charts_dir: Path | None,
) -> tuple[ClusterCache, str | None, dict[str, str]]:
    """The cluster cache under cache_root, the validation its entries must match (None: any, when
    not validating), and each cluster's key."""
    from compiler.cache_keys import stat_digest
    from compiler.cluster_cache import ClusterCache

    cache = ClusterCache.for_compile(cache_root, overlays_dir, charts_dir)  # as diff keys it
    validation = None
    if registry is not None:
        shown = display_path(overlays_dir) if overlays_dir is not None else "-"
        validation = "\0".join([stat_digest([s.path for s in registry.sources]), shown, str(Path.cwd())])
    keys = {c.name: cache.key(c, generated_header(model, c.name)) for c in clusters}
    return cache, validation, keys


GENERATIONS_KEPT = 8  # compiled clusters kept per cluster of the platform (see ClusterCache.prune)
KEPT_AT_LEAST = 64


def prune_cluster_cache(cache_root: Path, clusters: int) -> None:
    from compiler.cluster_cache import ClusterCache

    ClusterCache(cache_root, "").prune(max(GENERATIONS_KEPT * clusters, KEPT_AT_LEAST))


@dataclass(frozen=True)
class ClusterOutcome:
    """One cluster compiled, or taken from the cluster cache, and staged: what its worker sends back.
    The files themselves come back only when the main process needs them (verify reads them)."""

    compiled: CompiledCluster
    staged: Staged
    files: int
    recompiled: bool


def compile_and_stage(
    model: PlatformModel,
    writing: TreeWrite,
    cache_root: Path | None,
    cluster_names: Sequence[str] = (),
    *,
    overlays_dir: Path | None = None,
    registry: SchemaRegistry | None = None,
    progress: Progress | None = None,
    charts_dir: Path | None = None,
    keep_trees: bool = False,
) -> list[ClusterOutcome]:
    """Each selected cluster from the cluster cache (when its key has an entry) or compiled (then
    stored there), then compared with its folder on disk and its changed files staged by
    `writing`: all in the cluster's own worker, so the clusters' writes run in parallel too."""

    def outcome(
        compiled: CompiledCluster, recompiled: bool, digests: Mapping[str, str] | None
    ) -> ClusterOutcome:
        staged = writing.stage(compiled.info.name, compiled.tree, digests)
        kept = compiled if keep_trees else replace(compiled, tree={}, digests={})
        return ClusterOutcome(kept, staged, len(compiled.tree), recompiled)

    return cached_clusters(
        model,
        cache_root,
        cluster_names,
        outcome,
        overlays_dir=overlays_dir,
        registry=registry,
        progress=progress,
        charts_dir=charts_dir,
    )


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
    cached: Callable[[ClusterModel], Done | None] | None = None,
    clusters: Sequence[ClusterModel] | None = None,
) -> list[Done]:
    """build_cluster then `finish` for each selected cluster (in forked workers when jobs allow),
    results in cluster order; `cached` may answer a cluster without building it. Overlay problems
    of every cluster are reported together. With a chart cache, every chart is rendered from it
    (compiler/charts/stage.py)."""
    charts = charts_stage(charts_dir) if charts_dir is not None else None
    overlays = load_overlays(overlays_dir, model, [c.name for c in registered()]) if overlays_dir else None
    if clusters is None:  # (the selected clusters, when the caller has them already)
        clusters = select_clusters(model, cluster_names)
    if progress:
        progress(f"compiling {len(clusters)} cluster(s)")

    def one(cluster: ClusterModel) -> Done | _ClusterFailure:
        if cached is not None and (hit := cached(cluster)) is not None:
            return hit
        try:
            build = replace(
                build_cluster(cluster, overlays=overlays, charts=charts),
                header=generated_header(model, cluster.name),
            )
        except OverlayErrors as exc:
            return _ClusterFailure(overlay_problems=exc.problems)
        except PlatformcError as exc:
            return _ClusterFailure(message=f"cluster '{cluster.name}': {exc}")
        return finish(build)

    problems = overlays.problems if overlays else Problems()
    done: list[Done] = []
    for count, (cluster, result) in enumerate(
        zip(clusters, map_in_order(one, clusters, jobs), strict=True), 1
    ):
        if progress:
            progress(f"[{count}/{len(clusters)}] {cluster.name}")
        if isinstance(result, _ClusterFailure):
            if result.message:
                raise PlatformcError(result.message)
            assert result.overlay_problems is not None
            problems.merge(result.overlay_problems)
        else:
            done.append(result)
    problems.raise_if_any()
    return done


def schema_registry(
    schema_dirs: Sequence[Path],
    model: PlatformModel | None = None,
    overlays_dir: Path | None = None,
    pins: Mapping[str, str] | None = None,
) -> SchemaRegistry:
    """CRD schemas: the given folders, then the `schemas pull` cache and custom components'
    declared CRDs, then the embedded schemas of the pinned releases (`pins`: the model's
    overridden pins, when known without the model)."""
    from compiler.crdschemas.select import CACHE_ROOT, custom_crd_dirs, schema_sources

    dirs, fallbacks = schema_sources(schema_dirs, model, custom_crd_dirs(overlays_dir), CACHE_ROOT, pins)
    try:
        return SchemaRegistry(dirs, fallbacks)
    except FileNotFoundError as exc:
        raise UsageError(f"schema folder not found: {exc.filename or exc}") from exc


def with_overlay_problems(
    spec_dir: Path, overlays_dir: Path | None, parse_cache: ParseCache | None = None
) -> PlatformModel:
    """The checked model; when cross-document checks fail, the overlay folders' own problems
    (a folder of a removed cluster, a bad component.yaml) are reported with them, not after."""
    try:
        return load_platform(spec_dir, facts_of(registered()), parse_cache)
    except SpecErrors as exc:
        model = exc.partial_model
        if not isinstance(model, PlatformModel) or overlays_dir is None:
            raise
        try:
            found = load_overlays(overlays_dir, model, [c.name for c in registered()]).problems.errors()
        except PlatformcError:
            raise exc from None
        raise SpecErrors([*exc.errors, *found]) from None


def checked_pins(model: PlatformModel) -> PlatformModel:
    """The model, once every component pin has schemas (embedded or pulled); else SpecErrors."""
    from compiler.crdschemas.select import check_pins

    errors = list(check_pins(model))
    if errors:
        raise SpecErrors(errors)
    return model


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
    model = load_platform(spec_dir, facts_of(registered()))
    return component_status(
        (u for b in builds for u in b.units),
        emits,
        charts_dir or DEFAULT_CHARTS_DIR,
        lock_path,
        schema_registry(schema_dirs, model, overlays_dir),
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
    cache_root: Path | None = None,
) -> CompileResult:
    """Compile the spec into out_dir (or, with check, only compare). With a cache_root
    (compiler/cache_keys.py), parsed spec documents and compiled clusters are reused when their
    inputs are unchanged, and the manifest of the tree as last written spares reading unchanged
    files (compiler/write.py); the output is byte-identical either way.

    Raises SpecErrors, ValidationFailed or PlatformcError; in every case nothing is written.
    """
    started = time.perf_counter()
    check_folders_apart(spec_dir, out_dir, overlays_dir)
    parse_cache = spec_parse_cache(cache_root, spec_dir)
    model = checked_pins(with_overlay_problems(spec_dir, overlays_dir, parse_cache))
    registry = schema_registry(schema_dirs, model, overlays_dir)
    charts = chart_cache(charts_dir)
    loaded = time.perf_counter()
    full = not cluster_names
    names = [c.name for c in select_clusters(model, cluster_names)]
    with open_write(out_dir, names, prune_others=full, cache_dir=cache_root, check=check) as writing:
        outcomes = compile_and_stage(
            model,
            writing,
            cache_root,
            cluster_names,
            overlays_dir=overlays_dir,
            registry=registry,
            progress=progress,
            charts_dir=charts,
            keep_trees=charts is not None,
        )
        if parse_cache is not None:
            parse_cache.save()  # after a successful compile only
        compiled = time.perf_counter()
        clusters = [o.compiled for o in outcomes]
        report = merged_report(clusters)
        if not report.ok:
            raise ValidationFailed(report)
        verification = verified(merged_tree(clusters), clusters, charts, spec_dir, progress)
        checked = time.perf_counter()
        files = sum(o.files for o in outcomes)
        if progress and not check:
            progress(f"writing {files} files to {out_dir}")
        drift = writing.commit(o.staged for o in outcomes)
    if cache_root is not None and not check:
        prune_cluster_cache(cache_root, len(names))
    result = CompileResult(
        clusters=names,
        objects=sum(c.objects for c in clusters),
        files=files,
        validation=report,
        charts_dir=charts,
        recompiled=[o.compiled.info.name for o in outcomes if o.recompiled],
        verification=verification,
    )
    result.seconds = {"spec": loaded - started, "clusters": compiled - loaded}
    if verification is not None:
        result.seconds["verify"] = checked - compiled
    if check:
        result.drift = drift
    else:
        result.written = drift
    result.seconds["write"] = time.perf_counter() - checked
    return result


def _spec_facts(
    spec_dir: Path | None, cache: ValidationCache | None
) -> tuple[dict[str, str], frozenset[str]]:
    """What `validate` needs from the spec: its pins that differ from the embedded releases, and
    the secret-scan allowlist (spec.secretScan.allow); nothing without a spec folder. Kept in the
    validation cache by the spec folder's content: reading and checking a large spec takes seconds."""
    from compiler.crdschemas.select import overridden_pins
    from compiler.validate.secrets import allowlist_in

    if spec_dir is None or not spec_dir.is_dir():
        return {}, frozenset()
    name = None
    if cache is not None and (key := cache.folder_key(spec_dir)) is not None:
        name = "spec-facts-" + key
        stored = cache.read(name)
        if isinstance(stored, dict) and isinstance(stored.get("pins"), dict):
            return stored["pins"], frozenset(stored.get("allow") or ())
    try:
        model = load_platform(spec_dir, facts_of(registered()))
    except (SpecErrors, PlatformcError):
        model = None  # the tree is what is validated here; compile reports the spec
    pins = overridden_pins(model)
    # A spec that does not load still has its allowlist, read from the Platform document.
    allowed = allowed_secrets(model.platform) if model is not None else allowlist_in(spec_dir)
    if cache is not None and name is not None:
        cache.write(name, {"pins": pins, "allow": sorted(allowed)})
    return pins, allowed


def validate_existing_tree(
    out_dir: Path,
    schema_dirs: Sequence[Path],
    allow_missing: bool,
    clusters: Sequence[str] = (),
    skip_checks: Sequence[str] = (),
    spec_dir: Path | None = None,
    overlays_dir: Path | None = None,
) -> Report:
    """`platformc validate`: the same checks compile runs, on a tree as it is on disk.

    When the spec is readable, its component pins choose the schemas (as in compile);
    a tree checked without its spec uses the embedded releases."""
    from compiler.validate import validate_tree
    from compiler.validate.cache import cache_disabled

    if not out_dir.is_dir():
        problem = "is a file" if out_dir.exists() else "does not exist"
        raise UsageError(f"{out_dir} {problem} (expected a generated tree; run `platformc compile`)")
    finish_interrupted(out_dir)  # a compile killed after its commit point is completed first
    cache = None if cache_disabled() else ValidationCache()
    pins, allowed = _spec_facts(spec_dir, cache)
    registry = schema_registry(schema_dirs, None, overlays_dir, pins)
    report = validate_tree(
        out_dir,
        allow_missing_schemas=allow_missing,
        clusters=list(clusters) or None,
        registry=registry,
        cache=cache,
        secrets_allowed=allowed,  # the scan compile runs on what it writes, here on what is committed
    )
    if skip_checks:
        report.findings = [f for f in report.findings if f.check not in skip_checks]
    return report
