"""The Helm releases of one cluster, read exactly as the GitOps engine reads them, and their render.

Argo CD renders a chart source of an Application with `helm template` using
`spec.source(s)[].helm.releaseName` (default: the Application's name), `valuesObject`,
`destination.namespace` for every chart of the Application, and the target cluster's
Kubernetes version and served API versions (argo-cd reposerver/repository/repository.go,
`helmTemplate`). Flux's helm-controller installs a HelmRelease with `spec.releaseName`
(default `[<targetNamespace>-]<name>`), `spec.targetNamespace` (default: the HelmRelease's
namespace), `spec.values` and the live cluster's capabilities (helm-controller
internal/action/install.go). Both include the chart's CRDs here (Argo CD unless `skipCrds`,
Flux with `install.crds: CreateReplace`).

The served API versions are those of the cluster once synced: the Kubernetes version's
built-in group/versions and group/version/kinds plus every CRD any release of the cluster
installs. Charts branch on them (`.Capabilities.APIVersions.Has "resource.k8s.io/v1"` in
dra-driver-nvidia-gpu), so they are found by a first render and the second render is the one
returned.

`releases_of_units` derives the releases from the compiled model's sync units (packaging's own
rules); `releases_in_objects` reads them back from the Applications / HelmReleases of a
generated tree. A test holds the two equal.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from compiler.charts.render import RenderRequest, chart_archive, render
from compiler.cluster_model import ClusterModel
from compiler.components.base import HelmChart, KubeObject
from compiler.errors import PlatformcError
from compiler.packaging.units import Unit
from compiler.tree_contract import CLUSTER_INFO_FILE, COMPONENTS_DIR, KUSTOMIZATION_FILE, UNIT_LABEL
from compiler.validate.core import core_schemas


class BuiltCluster(Protocol):
    """What rendered_build reads of a pipeline.ClusterBuild."""

    @property
    def model(self) -> ClusterModel: ...

    @property
    def units(self) -> tuple[Unit, ...]: ...


ARGO_API = "argoproj.io/v1alpha1"
HELM_API_GROUP = "helm.toolkit.fluxcd.io"
SOURCE_API_GROUP = "source.toolkit.fluxcd.io"


@dataclass(frozen=True)
class Release:
    """One chart installed on one cluster, with what the engine passes to Helm."""

    unit: str
    repository: str  # https://… Helm repository or oci://… registry path
    chart: str
    version: str
    release: str
    namespace: str
    values: Mapping[str, Any] = field(default_factory=dict)
    skip_crds: bool = False  # Argo CD helm.skipCrds / Flux install.crds: Skip

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.unit, self.chart, self.release)

    def comparable(self) -> tuple[Any, ...]:
        return (
            *self.key,
            self.repository,
            self.version,
            self.namespace,
            json.dumps(self.values, sort_keys=True),
            self.skip_crds,
        )


@dataclass(frozen=True)
class RenderedRelease:
    release: Release
    objects: tuple[KubeObject, ...]


def release_of(engine: str, unit: Unit, chart: HelmChart) -> Release:
    """The release packaging writes for one chart of a unit (compiler/packaging/argocd.py, flux.py)."""
    # Argo CD: one destination namespace per Application, used for every chart source in it.
    namespace = unit.namespace if engine == "argocd" and unit.namespace else chart.namespace
    skip_crds = bool(getattr(chart, "skip_crds", False))  # HelmChart.skip_crds where charts have it
    return Release(
        unit.name,
        chart.repository,
        chart.chart,
        chart.version,
        chart.release,
        namespace,
        dict(chart.values),
        skip_crds,
    )


def releases_of_units(engine: str, units: Iterable[Unit]) -> list[Release]:
    """The releases packaging writes for these units."""
    return [release_of(engine, unit, chart) for unit in units for chart in unit.charts]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _argo_repository(repo_url: str) -> str:
    # Argo CD spells OCI Helm registries without a scheme.
    return repo_url if "://" in repo_url else f"oci://{repo_url}"


def _argo_values(helm: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if isinstance(helm.get("values"), str):
        loaded = yaml.safe_load(helm["values"])
        values.update(_dict(loaded))
    values.update(_dict(helm.get("valuesObject")))  # valuesObject wins over values in Argo CD
    return values


def _argo_releases(app: KubeObject) -> list[Release]:
    metadata, spec = _dict(app.get("metadata")), _dict(app.get("spec"))
    name = str(metadata.get("name", ""))
    unit = str(_dict(metadata.get("labels")).get(UNIT_LABEL) or name)
    namespace = str(_dict(spec.get("destination")).get("namespace") or "default")
    listed = spec.get("sources")
    sources: list[Any] = listed if isinstance(listed, list) else [spec.get("source")]
    result = []
    for source in (_dict(s) for s in sources):
        if not source.get("chart"):
            continue
        helm = _dict(source.get("helm"))
        result.append(
            Release(
                unit,
                _argo_repository(str(source.get("repoURL", ""))),
                str(source["chart"]),
                str(source.get("targetRevision", "")),
                str(helm.get("releaseName") or name),
                namespace,
                _argo_values(helm),
                helm.get("skipCrds") is True,
            )
        )
    return result


def _flux_release(folder: str, release: KubeObject, sources: Mapping[tuple[str, str], KubeObject]) -> Release:
    metadata, spec = _dict(release.get("metadata")), _dict(release.get("spec"))
    name, own_namespace = str(metadata.get("name", "")), str(metadata.get("namespace") or "default")
    target = spec.get("targetNamespace")
    namespace = str(target or own_namespace)
    release_name = str(spec.get("releaseName") or (f"{target}-{name}" if target else name))
    chart_spec = _dict(_dict(spec.get("chart")).get("spec"))
    if chart_spec:
        ref = _dict(chart_spec.get("sourceRef"))
        repo = sources.get((str(ref.get("kind")), str(ref.get("name"))), {})
        repository = str(_dict(repo.get("spec")).get("url", ""))
        chart, version = str(chart_spec.get("chart", "")), str(chart_spec.get("version", ""))
    else:
        ref = _dict(spec.get("chartRef"))
        repo = sources.get((str(ref.get("kind")), str(ref.get("name"))), {})
        url = str(_dict(repo.get("spec")).get("url", "")).rstrip("/")
        repository, _, chart = url.rpartition("/")
        version = str(_dict(_dict(repo.get("spec")).get("ref")).get("tag", ""))
    # The unit is the Kustomization folder components/<unit>/… holding it; without one, its own name.
    parts = folder.split("/")
    unit = parts[1] if len(parts) > 1 and parts[0] == COMPONENTS_DIR else name
    skip_crds = _dict(spec.get("install")).get("crds") == "Skip"
    return Release(
        unit, repository, chart, version, release_name, namespace, _dict(spec.get("values")), skip_crds
    )


def releases_in_objects(placed: Iterable[tuple[str, KubeObject]]) -> list[Release]:
    """The releases the Applications / HelmReleases among (folder, object) pairs install."""
    placed = list(placed)
    sources = {
        (str(o.get("kind")), str(_dict(o.get("metadata")).get("name"))): o
        for _, o in placed
        if str(o.get("apiVersion", "")).startswith(SOURCE_API_GROUP + "/")
    }
    result = []
    for folder, o in placed:
        if o.get("apiVersion") == ARGO_API and o.get("kind") == "Application":
            result += _argo_releases(o)
        elif str(o.get("apiVersion", "")).startswith(HELM_API_GROUP + "/") and o.get("kind") == "HelmRelease":
            result.append(_flux_release(folder, o, sources))
    return result


# Kinds the OpenAPI definitions list under every group/version; they say nothing about what is served.
_META_KINDS = frozenset({"DeleteOptions", "WatchEvent"})


def builtin_api_versions(kubernetes_version: str) -> frozenset[str]:
    """group/version and group/version/Kind the API server of that version serves by default:
    its resource kinds (not lists), alpha versions left out because they are off unless enabled."""
    served: set[str] = set()
    for group, version, kind in core_schemas(kubernetes_version).gvks():
        if kind in _META_KINDS or kind.endswith("List") or "alpha" in version:
            continue
        gv = f"{group}/{version}" if group else version
        served |= {gv, f"{gv}/{kind}"}
    return frozenset(served)


def crd_api_versions(objects: Iterable[KubeObject]) -> frozenset[str]:
    served: set[str] = set()
    for o in objects:
        if o.get("kind") != "CustomResourceDefinition":
            continue
        spec = _dict(o.get("spec"))
        group, kind = spec.get("group"), _dict(spec.get("names")).get("kind")
        for version in spec.get("versions") or ():
            if isinstance(version, dict) and version.get("served", True) and version.get("name"):
                served |= {f"{group}/{version['name']}", f"{group}/{version['name']}/{kind}"}
    return frozenset(served)


def _request(release: Release, charts_dir: Path, kube: str, apis: frozenset[str]) -> RenderRequest:
    archive = chart_archive(charts_dir, release.chart, release.version)
    return RenderRequest(
        archive,
        release.release,
        release.namespace,
        release.values,
        kube,
        tuple(sorted(apis)),
        include_crds=not release.skip_crds,
    )


def render_releases(
    releases: Sequence[Release], kubernetes_version: str, charts_dir: Path, fresh: bool = False
) -> list[RenderedRelease]:
    """Each release rendered with the cluster's served API versions once everything is synced
    (`fresh`: run Helm again for the final render instead of using the process cache)."""
    builtin = builtin_api_versions(kubernetes_version)
    first = [render(_request(r, charts_dir, kubernetes_version, builtin)) for r in releases]
    served = builtin | crd_api_versions(o for objects in first for o in objects)
    return [
        RenderedRelease(r, tuple(render(_request(r, charts_dir, kubernetes_version, served), fresh=fresh)))
        for r in releases
    ]


def rendered_units(
    engine: str, kubernetes_version: str, units: Iterable[Unit], charts_dir: Path
) -> dict[str, list[KubeObject]]:
    """Unit name → the objects its charts render to on this cluster (units without charts omitted)."""
    result: dict[str, list[KubeObject]] = {}
    for rendered in render_releases(releases_of_units(engine, units), kubernetes_version, charts_dir):
        result.setdefault(rendered.release.unit, []).extend(rendered.objects)
    return result


def rendered_build(build: BuiltCluster, charts_dir: Path) -> dict[str, list[KubeObject]]:
    """For verify: unit → rendered chart objects of one compiled cluster (pipeline.ClusterBuild)."""
    model = build.model
    return rendered_units(model.engine, model.kubernetes_version, build.units, charts_dir)


def rendered_placed(
    placed: Iterable[tuple[str, KubeObject]], kubernetes_version: str, charts_dir: Path
) -> dict[str, list[KubeObject]]:
    """The same from (folder, object) pairs of a tree: what its Applications / HelmReleases install."""
    result: dict[str, list[KubeObject]] = {}
    for rendered in render_releases(releases_in_objects(placed), kubernetes_version, charts_dir):
        result.setdefault(rendered.release.unit, []).extend(rendered.objects)
    return result


def tree_objects(cluster_dir: Path) -> tuple[str, list[tuple[str, KubeObject]]]:
    """Kubernetes version (platformc-cluster.json) and (folder, object) pairs of a generated cluster tree."""
    try:
        info = json.loads((cluster_dir / CLUSTER_INFO_FILE).read_text(encoding="utf-8"))
        version = str(info["kubernetesVersion"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PlatformcError(
            f"{cluster_dir / CLUSTER_INFO_FILE}: cannot read the cluster's Kubernetes version ({exc}); "
            "expected a tree written by `platformc compile`"
        ) from exc
    placed = []
    for path in sorted(cluster_dir.rglob("*.yaml")):
        if path.name == KUSTOMIZATION_FILE:
            continue
        folder = path.parent.relative_to(cluster_dir).as_posix()
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(doc, dict):
                placed.append((folder, doc))
    return version, placed


def rendered_tree(cluster_dir: Path, charts_dir: Path) -> dict[str, list[KubeObject]]:
    """For verify: unit → rendered chart objects of a generated cluster folder (generated/<cluster>)."""
    version, placed = tree_objects(cluster_dir)
    return rendered_placed(placed, version, charts_dir)
