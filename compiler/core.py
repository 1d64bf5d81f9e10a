"""The pure core of compile: one cluster's model → components → overlays → packaging → validated,
rendered files, all in memory. No file is read or written here (overlays arrive loaded, the
schema registry arrives built); compiler/pipeline.py holds the commands around it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from compiler import components as registry
from compiler.cluster_model import ClusterModel
from compiler.cluster_model import generated_header as generated_header
from compiler.cluster_model import select_clusters as select_clusters
from compiler.components import facts_of
from compiler.components.base import Component, ComponentOutput
from compiler.emit import ClusterInfo, Tree, file_name, render_cluster
from compiler.errors import PlatformcError, SourceLocation
from compiler.object_memo import ObjectMemo
from compiler.overlays import Overlays, Problems, Provenance, apply_overlays
from compiler.overlays.apply import object_key
from compiler.overlays.errors import CLUSTERS
from compiler.packaging import argocd, flux
from compiler.packaging.common import PlacedObject, object_folder
from compiler.packaging.units import Unit, order_units
from compiler.secrets_scan import scan, show_path
from compiler.spec.build import allowed_secrets
from compiler.spec.loader import display_path
from compiler.spec.node_pools import contract_files
from compiler.validate import Report, SchemaRegistry, default_checks, validate_objects
from compiler.validate.findings import ERROR, Finding

if TYPE_CHECKING:
    from compiler.charts.stage import ChartsStage
    from compiler.validate.tree import LoadedObject

PACKAGERS = {"argocd": argocd.package, "flux": flux.package}


@dataclass(frozen=True)
class ClusterBuild:
    """Everything compile knows about one cluster before it is written."""

    model: ClusterModel
    units: tuple[Unit, ...]
    placed: tuple[PlacedObject, ...]
    # Overlay file:line of every object an overlay added or patched or a custom component rendered.
    provenance: Provenance = field(default_factory=dict)
    header: str = ""  # the comment line every generated YAML file starts with (generated_header)

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
    cluster: ClusterModel,
    components: Sequence[Component] | None = None,
    overlays: Overlays | None = None,
    charts: ChartsStage | None = None,
) -> ClusterBuild:
    """Raises OverlayErrors (SpecErrors) when the overlays do not apply to this cluster.

    `charts` (compiler/charts/stage.py, given by the pipeline: it renders charts, which is I/O) sees
    the outputs after the overlays and returns them checked against, and completed by, the charts."""
    outputs = run_components(cluster, components)
    provenance: Provenance = {}
    if overlays is not None:
        problems = Problems()
        applied = apply_overlays(cluster, outputs, overlays, problems)
        problems.raise_if_any()
        outputs, provenance = applied.outputs, applied.provenance
    if charts is not None:
        outputs = charts(cluster, outputs)
    elif cluster.platform.spec.gitops.render == "hydrated":
        raise PlatformcError(
            "gitops.render: hydrated writes the charts' rendered objects, so it needs the pinned charts: "
            "run `platformc charts pull` or pass --charts DIR"
        )
    try:
        units = order_units(outputs)
    except PlatformcError as exc:
        if overlays is not None:
            _raise_at_components(exc, overlays, cluster)
        raise
    placed = PACKAGERS[cluster.engine](cluster, units)
    return ClusterBuild(cluster, tuple(units), tuple((object_folder(f, o), o) for f, o in placed), provenance)


def _raise_at_components(exc: PlatformcError, overlays: Overlays, cluster: ClusterModel) -> None:
    """An ordering cycle that custom components take part in is their component.yaml's doing
    (`after`, chart crdGroups): report it there, at a line, rather than as a bare message."""
    problems = Problems()
    for component in overlays.components:
        if not re.search(rf"(^|[ ,\[']){re.escape(component.name)}(-config)?( →|[',\]])", str(exc)):
            continue
        doc = component.config_doc
        if doc is not None:
            where = (
                doc.location(("after",)) if isinstance(doc.data, dict) and "after" in doc.data else doc.start
            )
        else:
            where = SourceLocation(display_path(component.folder), 1, 1)
        problems.add(
            where,
            f"{exc} on cluster(s) {CLUSTERS} (expected 'after' and chart crdGroups of custom components "
            "that keep the sync order acyclic)",
            cluster.name,
        )
    problems.raise_if_any()


def cluster_files(build: ClusterBuild) -> dict[str, bytes]:
    """Files of a cluster tree that are not Kubernetes objects: the node-pool contract."""
    return contract_files(build.model.cluster, build.model.flavors)


@dataclass(frozen=True)
class CompiledCluster:
    """One cluster compiled to files: what emit, diff and publish need, and nothing heavier."""

    info: ClusterInfo
    tree: Tree
    objects: int
    report: Report  # validation of this cluster's objects (empty when not validated)
    digests: Mapping[str, str] = field(default_factory=dict)  # file_digest by path, when known


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
        tree.update(render_cluster(build.info, build.placed, cluster_files(build), build.header))
    return tree


def validate_builds(
    builds: Sequence[ClusterBuild], registry: SchemaRegistry, memo: ObjectMemo | None = None
) -> Report:
    """Validate every object where it will be written. Compile tolerates missing CRD schemas
    (warnings); `platformc validate` is the strict gate. A memo spares schema-validating and
    CEL-checking objects checked before (against the same schemas and Kubernetes version)."""
    # Packaging stamps each chart's CRD groups on its Application / HelmRelease, so the ordering
    # check sees here exactly what `platformc validate` sees on disk.
    checks = default_checks(facts_of(registered()).chart_crd_groups)
    return validate_objects(_placed_objects(builds), registry, allow_missing=True, checks=checks, memo=memo)


def _placed_objects(builds: Sequence[ClusterBuild]) -> Iterator[LoadedObject]:
    for build in builds:
        name, version = build.model.name, build.model.kubernetes_version
        for folder, obj in build.placed:
            yield name, version, f"{name}/{folder}/{file_name(obj)}", obj  # _object_file, inline: per object


def secret_findings(build: ClusterBuild, memo: ObjectMemo | None = None) -> list[Finding]:
    """The last secret scan, on every object as it will be written (sources were scanned at their
    lines already; this catches what only appears once objects are combined). A memo spares
    scanning objects scanned before (with the same allowed fingerprints)."""
    allowed = allowed_secrets(build.model.platform)
    purpose = ("secrets\0" + "\0".join(sorted(allowed))).encode()
    findings = []
    for folder, obj in build.placed:
        key = memo.key(purpose, obj) if memo is not None else None
        found = memo.get(key) if memo is not None else None
        if not isinstance(found, list):
            found = [(show_path(f.path), f.message(show_path(f.path))) for f in scan(obj, allowed)]
            if memo is not None:
                memo.put(key, found)
        meta = obj.get("metadata") or {}
        for field_path, message in found:
            findings.append(
                Finding(
                    ERROR,
                    "secret",
                    _object_file(build, folder, obj),
                    obj.get("kind", ""),
                    meta.get("namespace"),
                    meta.get("name", ""),
                    "$." + field_path,
                    message,
                )
            )
    return findings


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


def compile_cluster(
    build: ClusterBuild, registry: SchemaRegistry | None, memo: ObjectMemo | None = None
) -> CompiledCluster:
    """A built cluster validated (when a registry is given) and rendered to files; a memo
    (compiler/object_memo.py) spares validating, rendering and scanning objects seen before."""
    report = validate_builds([build], registry, memo) if registry is not None else Report()
    report.add(secret_findings(build, memo))
    report = with_provenance(report, build)
    digests: dict[str, str] = {}
    files = render_cluster(build.info, build.placed, cluster_files(build), build.header, memo, digests)
    return CompiledCluster(build.info, files, len(build.placed), report, digests)
