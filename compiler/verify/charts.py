"""The charts a generated tree installs, rendered with real Helm as its GitOps engine would
(compiler/charts/releases.py reads the Applications / HelmReleases and renders with the cluster's
served API versions), with each namespaced object placed in its release namespace as Helm does."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from compiler.charts.releases import (
    Release,
    builtin_api_versions,
    crd_api_versions,
    releases_in_objects,
    render_releases,
)
from compiler.charts.render import RenderRequest, chart_archive, render


def _cluster_scoped_custom_kinds(objects: Iterable[dict[str, Any]]) -> set[str]:
    """Custom kinds whose CRD says `scope: Cluster`."""
    return {
        o["spec"]["names"]["kind"]
        for o in objects
        if o.get("kind") == "CustomResourceDefinition" and (o.get("spec") or {}).get("scope") == "Cluster"
    }


def render_tree_charts(
    placed: Iterable[tuple[str, dict[str, Any]]],
    kubernetes_version: str,
    charts_dir: Path,
    cache_dir: Path | None = None,
) -> list[tuple[Release, list[dict[str, Any]]]]:
    """Each release of the tree with its rendered objects, namespaces filled in. A release whose
    Application sets `helm.skipCrds` (or HelmRelease `install.crds: Skip`) is rendered without
    its crds/ folder, as Argo CD and Flux install it. With `cache_dir`, renders are kept on disk keyed
    by the releases, the chart archives' contents and the Kubernetes version, so a second run of
    verify on an unchanged tree runs no Helm."""
    placed = list(placed)
    skipped = skip_crds(placed)
    releases = releases_in_objects(placed)
    key = json.dumps(
        [[r.comparable() for r in releases], sorted(skipped), kubernetes_version, str(charts_dir)],
        default=str,
    )
    if key not in _MEMO:
        _MEMO[key] = _cached(cache_dir, key, releases, charts_dir) or _render(
            releases, skipped, kubernetes_version, charts_dir
        )
    if cache_dir is not None:
        _store(cache_dir, key, releases, charts_dir, _MEMO[key])
    return _MEMO[key]


def _cache_file(cache_dir: Path, key: str, releases: list[Release], charts_dir: Path) -> Path:
    digest = hashlib.sha256(key.encode())
    for r in releases:
        digest.update(chart_archive(charts_dir, r.chart, r.version).read_bytes())
    return cache_dir / f"{digest.hexdigest()}.json"


def _cached(
    cache_dir: Path | None, key: str, releases: list[Release], charts_dir: Path
) -> list[tuple[Release, list[dict[str, Any]]]] | None:
    if cache_dir is None:
        return None
    path = _cache_file(cache_dir, key, releases, charts_dir)
    try:
        stored = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if len(stored) != len(releases):
        return None
    return [(r, objects) for r, objects in zip(releases, stored, strict=True)]


def _store(
    cache_dir: Path, key: str, releases: list[Release], charts_dir: Path, rendered: list[tuple[Release, Any]]
) -> None:
    path = _cache_file(cache_dir, key, releases, charts_dir)
    if path.exists():
        return
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps([objects for _, objects in rendered], sort_keys=True), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # a cache that cannot be written only costs the next run a render


# Renders of one process, shared: verify reads chart objects and never changes them.
_MEMO: dict[str, list[tuple[Release, list[dict[str, Any]]]]] = {}


def _render(
    releases: list[Release], skipped: set[tuple[str, str]], kubernetes_version: str, charts_dir: Path
) -> list[tuple[Release, list[dict[str, Any]]]]:
    rendered = render_releases(releases, kubernetes_version, charts_dir)
    all_objects = [o for r in rendered for o in r.objects]
    served = builtin_api_versions(kubernetes_version) | crd_api_versions(all_objects)
    rendered_objects = {}
    for r in rendered:
        objects = list(r.objects)
        if (r.release.unit, r.release.chart) in skipped:
            rel = r.release
            request = RenderRequest(
                chart_archive(charts_dir, rel.chart, rel.version),
                rel.release,
                rel.namespace,
                rel.values,
                kubernetes_version,
                tuple(sorted(served)),
                include_crds=False,
            )
            objects = render(request)
        rendered_objects[id(r)] = objects
    all_objects = [o for objs in rendered_objects.values() for o in objs]
    cluster_scoped = _cluster_scoped_custom_kinds(all_objects) | CLUSTER_SCOPED_BUILTIN
    out = []
    for r in rendered:
        objects = [_slim(o) for o in rendered_objects[id(r)]]
        for obj in objects:
            meta = obj.setdefault("metadata", {})
            if obj.get("kind") not in cluster_scoped and not meta.get("namespace"):
                obj["metadata"] = {**meta, "namespace": r.release.namespace}
        out.append((r.release, objects))
    return out


def _slim(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy without CRD schemas (megabytes each; verify reads a CRD's names, scope and versions)."""
    if obj.get("kind") != "CustomResourceDefinition":
        return dict(obj)
    spec = dict(obj.get("spec") or {})
    spec["versions"] = [{k: v for k, v in ver.items() if k != "schema"} for ver in spec.get("versions") or ()]
    return {**obj, "spec": spec}


# Built-in cluster-scoped kinds (k8s.io/api: no namespace in their ObjectMeta scope).
CLUSTER_SCOPED_BUILTIN = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
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
        "ResourceSlice",
        "APIService",
        "CSIDriver",
        "CSINode",
        "IngressClass",
        "VolumeAttachment",
        "CertificateSigningRequest",
        "FlowSchema",
        "PriorityLevelConfiguration",
    }
)


def skip_crds(placed: Iterable[tuple[str, dict[str, Any]]]) -> set[tuple[str, str]]:
    """(unit, chart) of releases installed without their crds/ folder."""
    out = set()
    for folder, o in placed:
        spec = o.get("spec") or {}
        if o.get("kind") == "Application":
            unit = ((o.get("metadata") or {}).get("labels") or {}).get("platformc.dev/unit") or o["metadata"][
                "name"
            ]
            for src in spec.get("sources") or [spec.get("source") or {}]:
                if src.get("chart") and (src.get("helm") or {}).get("skipCrds"):
                    out.add((unit, src["chart"]))
        elif o.get("kind") == "HelmRelease" and (spec.get("install") or {}).get("crds") == "Skip":
            chart = ((spec.get("chart") or {}).get("spec") or {}).get("chart")
            unit = folder.split("/")[1] if folder.count("/") >= 1 else folder
            out.add((unit, chart))
    return out
