"""The charts a generated tree installs, rendered with real Helm as its GitOps engine would.

compiler/charts/releases.py reads each Argo CD Application's chart sources and each Flux
HelmRelease (release name and namespace defaults as the engines apply them, OCIRepository
sources, skipCrds) and renders them with the cluster's Kubernetes version and served API
versions; this module gives verify one release at a time, with namespaces filled in as the
engine applies the objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from compiler.charts.hydrate import cluster_scoped_kinds, with_namespace
from compiler.charts.releases import Release, releases_in_objects, render_releases

ChartRelease = Release


def chart_releases(objects: Iterable[Mapping[str, Any]]) -> list[ChartRelease]:
    """The releases the tree's Applications and HelmReleases install (unit: the Application's
    platformc.dev/unit label; for a HelmRelease given without its folder, its name)."""
    return releases_in_objects(("", dict(o)) for o in objects)


# Cluster-scoped custom resources the pinned charts render whose CRDs another chart installs (a
# single release's render does not show their scope).
OTHER_CHARTS_CLUSTER_SCOPED = frozenset(
    {
        ("serving.kserve.io", "ClusterServingRuntime"),
        ("serving.kserve.io", "ClusterStorageContainer"),
        ("cert-manager.io", "ClusterIssuer"),
        ("nvidia.com", "ClusterPolicy"),
        ("nfd.k8s-sigs.io", "NodeFeatureRule"),
        ("kueue.x-k8s.io", "ClusterQueue"),
        ("kueue.x-k8s.io", "ResourceFlavor"),
        ("kueue.x-k8s.io", "Cohort"),
        ("kueue.x-k8s.io", "WorkloadPriorityClass"),
    }
)


def render_release(release: ChartRelease, charts_dir: Path, kube_version: str) -> list[dict[str, Any]]:
    """The release's objects, each with its namespace filled in as the engine applies them."""
    (rendered,) = render_releases([release], kube_version, charts_dir)
    scoped = cluster_scoped_kinds(rendered.objects) | OTHER_CHARTS_CLUSTER_SCOPED
    return [with_namespace(o, release.namespace, scoped) for o in rendered.objects]
