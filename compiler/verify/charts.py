"""The charts a generated tree installs, rendered with real Helm as its GitOps engine would.

An Argo CD Application names its chart in `spec.source`/`spec.sources[]` (chart, targetRevision,
helm.releaseName, helm.valuesObject or helm.values) and its namespace in
`spec.destination.namespace`; a Flux HelmRelease in `spec.chart.spec` (chart, version) with
`spec.values`, `spec.releaseName` and `spec.targetNamespace`. Each is rendered from the pinned
archive in the charts folder through compiler/charts/render.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from compiler.charts.render import RenderRequest, chart_archive, render


@dataclass(frozen=True)
class ChartRelease:
    unit: str  # the Application's platformc.dev/unit, or the HelmRelease name
    chart: str
    version: str
    release: str
    namespace: str
    values: Mapping[str, Any]
    owner: str  # "Application/<name>" or "HelmRelease/<namespace>/<name>"


def _argocd_releases(app: Mapping[str, Any]) -> list[ChartRelease]:
    meta, spec = app.get("metadata") or {}, app.get("spec") or {}
    unit = (meta.get("labels") or {}).get("platformc.dev/unit") or meta.get("name", "")
    namespace = (spec.get("destination") or {}).get("namespace") or "default"
    sources = spec.get("sources") or ([spec["source"]] if spec.get("source") else [])
    out = []
    for src in sources:
        if not src.get("chart"):
            continue
        helm = src.get("helm") or {}
        values = dict(yaml.safe_load(helm["values"]) or {}) if helm.get("values") else {}
        values.update(helm.get("valuesObject") or {})
        out.append(
            ChartRelease(
                unit,
                src["chart"],
                str(src.get("targetRevision", "")),
                helm.get("releaseName") or src["chart"],
                namespace,
                values,
                f"Application/{meta.get('name')}",
            )
        )
    return out


def _flux_release(hr: Mapping[str, Any]) -> ChartRelease | None:
    meta, spec = hr.get("metadata") or {}, hr.get("spec") or {}
    chart = ((spec.get("chart") or {}).get("spec")) or {}
    if not chart.get("chart"):
        return None
    return ChartRelease(
        meta.get("name", ""),
        chart["chart"],
        str(chart.get("version", "")),
        spec.get("releaseName") or meta.get("name", ""),
        spec.get("targetNamespace") or meta.get("namespace", "default"),
        spec.get("values") or {},
        f"HelmRelease/{meta.get('namespace')}/{meta.get('name')}",
    )


def chart_releases(objects: Iterable[Mapping[str, Any]]) -> list[ChartRelease]:
    out: list[ChartRelease] = []
    for obj in objects:
        if obj.get("kind") == "Application" and str(obj.get("apiVersion", "")).startswith("argoproj.io/"):
            out += _argocd_releases(obj)
        elif obj.get("kind") == "HelmRelease":
            release = _flux_release(obj)
            if release is not None:
                out.append(release)
    return out


def render_release(release: ChartRelease, charts_dir: Path, kube_version: str) -> list[dict[str, Any]]:
    """The release's objects, each with its namespace filled in as Helm/the engine applies them."""
    archive = chart_archive(charts_dir, release.chart, release.version)
    objects = render(RenderRequest(archive, release.release, release.namespace, release.values, kube_version))
    for obj in objects:
        meta = obj.setdefault("metadata", {})
        if obj.get("kind") not in CLUSTER_SCOPED and not meta.get("namespace"):
            meta["namespace"] = release.namespace
    return objects


# Cluster-scoped kinds that charts in the pinned set render (no namespace is filled in for them).
CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "CustomResourceDefinition",
        "ClusterRole",
        "ClusterRoleBinding",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
        "PriorityClass",
        "StorageClass",
        "RuntimeClass",
        "DeviceClass",
        "APIService",
        "ClusterServingRuntime",
        "ClusterStorageContainer",
        "ClusterIssuer",
        "ClusterPolicy",
        "NodeFeatureRule",
        "ClusterQueue",
        "ResourceFlavor",
        "Cohort",
        "WorkloadPriorityClass",
        "PodSecurityPolicy",
        "CSIDriver",
        "IngressClass",
    }
)
