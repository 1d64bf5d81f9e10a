"""The pure core of compile: one cluster's model → components → overlays → packaging → validated,
rendered files, all in memory. No file is read or written here (overlays arrive loaded, the
schema registry arrives built); compiler/pipeline.py holds the commands around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from compiler import components as registry
from compiler.cluster_model import ClusterModel, cluster_models
from compiler.components import facts_of
from compiler.components.base import Component, ComponentOutput
from compiler.emit import ClusterInfo, Tree, file_name, render_cluster
from compiler.errors import PlatformcError
from compiler.overlays import Overlays, Problems, Provenance, apply_overlays
from compiler.overlays.apply import object_key
from compiler.packaging import argocd, flux
from compiler.packaging.common import PlacedObject, object_folder
from compiler.packaging.units import Unit, order_units
from compiler.spec.model import PlatformModel
from compiler.spec.node_pools import contract_files
from compiler.validate import Report, SchemaRegistry, default_checks, validate_objects

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


def registered() -> tuple[Component, ...]:
    """The registry as it is now (read at call time, so a test may register a component)."""
    return registry.COMPONENTS


def run_components(
    cluster: ClusterModel, components: Sequence[Component] | None = None
) -> list[tuple[str, ComponentOutput]]:
    return [(component.name, component.build(cluster)) for component in components or registered()]


def build_cluster(
    cluster: ClusterModel, components: Sequence[Component] | None = None, overlays: Overlays | None = None
) -> ClusterBuild:
    """Raises OverlayErrors (SpecErrors) when the overlays do not apply to this cluster."""
    outputs = run_components(cluster, components)
    provenance: Provenance = {}
    if overlays is not None:
        problems = Problems()
        applied = apply_overlays(cluster, outputs, overlays, problems)
        problems.raise_if_any()
        outputs, provenance = applied.outputs, applied.provenance
    units = order_units(outputs)
    placed = PACKAGERS[cluster.engine](cluster, units)
    return ClusterBuild(cluster, tuple(units), tuple((object_folder(f, o), o) for f, o in placed), provenance)


def cluster_files(build: ClusterBuild) -> dict[str, bytes]:
    """Files of a cluster tree that are not Kubernetes objects: the node-pool contract."""
    return contract_files(build.model.cluster, build.model.flavors)


def select_clusters(model: PlatformModel, names: Sequence[str]) -> list[ClusterModel]:
    clusters = cluster_models(model)
    unknown = sorted(set(names) - {c.name for c in clusters})
    if unknown:
        raise PlatformcError(
            f"unknown cluster(s): {', '.join(unknown)} (expected one of: "
            f"{', '.join(c.name for c in clusters)})"
        )
    return [c for c in clusters if not names or c.name in names]


@dataclass(frozen=True)
class CompiledCluster:
    """One cluster compiled to files: what emit, diff and publish need, and nothing heavier."""

    info: ClusterInfo
    tree: Tree
    objects: int
    report: Report  # validation of this cluster's objects (empty when not validated)


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
        tree.update(render_cluster(build.info, build.placed, cluster_files(build)))
    return tree


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


def compile_cluster(build: ClusterBuild, registry: SchemaRegistry | None) -> CompiledCluster:
    """A built cluster validated (when a registry is given) and rendered to files."""
    report = validate_builds([build], registry) if registry is not None else Report()
    report = with_provenance(report, build)
    files = render_cluster(build.info, build.placed, cluster_files(build))
    return CompiledCluster(build.info, files, len(build.placed), report)
