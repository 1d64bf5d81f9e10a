"""The charts a generated tree installs, rendered with real Helm as its GitOps engine would
(compiler/charts/releases.py reads the Applications / HelmReleases, honours `helm.skipCrds` /
`install.crds: Skip`, and renders with the cluster's served API versions), with each namespaced
object placed in its release namespace as the engine applies it (compiler/charts/hydrate.py)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from compiler.charts.hydrate import cluster_scoped_kinds, with_namespace
from compiler.charts.releases import Release, releases_in_objects, render_releases
from compiler.charts.render import chart_archive


def render_tree_charts(
    placed: Iterable[tuple[str, dict[str, Any]]],
    kubernetes_version: str,
    charts_dir: Path,
    cache_dir: Path | None = None,
) -> list[tuple[Release, list[dict[str, Any]]]]:
    """Each release of the tree with its rendered objects, namespaces filled in. With `cache_dir`,
    renders are kept on disk keyed by the releases, the chart archives' contents and the Kubernetes
    version, so a second run of verify on an unchanged tree runs no Helm."""
    releases = releases_in_objects(placed)
    key = json.dumps(
        [[r.comparable() for r in releases], kubernetes_version, str(charts_dir)],
        default=str,
    )
    if key not in _MEMO:
        _MEMO[key] = _cached(cache_dir, key, releases, charts_dir) or _render(
            releases, kubernetes_version, charts_dir
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
    releases: list[Release], kubernetes_version: str, charts_dir: Path
) -> list[tuple[Release, list[dict[str, Any]]]]:
    rendered = render_releases(releases, kubernetes_version, charts_dir)
    cluster_scoped = cluster_scoped_kinds(o for r in rendered for o in r.objects)
    return [
        (r.release, [_slim(with_namespace(o, r.release.namespace, cluster_scoped)) for o in r.objects])
        for r in rendered
    ]


def _slim(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy without CRD schemas (megabytes each; verify reads a CRD's names, scope and versions)."""
    if obj.get("kind") != "CustomResourceDefinition":
        return dict(obj)
    spec = dict(obj.get("spec") or {})
    spec["versions"] = [{k: v for k, v in ver.items() if k != "schema"} for ver in spec.get("versions") or ()]
    return {**obj, "spec": spec}
