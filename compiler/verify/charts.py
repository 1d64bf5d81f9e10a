"""The charts a generated tree installs, rendered with real Helm as its GitOps engine would
(compiler/charts/releases.py reads the Applications / HelmReleases, honours `helm.skipCrds` /
`install.crds: Skip`, and renders with the cluster's served API versions), with each namespaced
object placed in its release namespace as the engine applies it (compiler/charts/hydrate.py).

All clusters of a tree render together: each distinct `helm template` runs once, `jobs` at a time,
and only a slim copy of its objects is kept."""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Generator, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import orjson

from compiler.charts.hydrate import cluster_scoped_kinds, with_namespace
from compiler.charts.releases import Release, builtin_api_versions, crd_api_versions, releases_in_objects
from compiler.charts.releases import _request as render_request  # the request render_releases makes
from compiler.charts.render import RenderRequest, chart_archive, render

Rendered = list[tuple[Release, list[dict[str, Any]]]]
# One cluster's renders, pass by pass: yields a pass's requests, receives their objects.
Stages = Generator[list[RenderRequest], list[list[dict[str, Any]]], Rendered]


def render_tree_charts(
    placed: Iterable[tuple[str, dict[str, Any]]],
    kubernetes_version: str,
    charts_dir: Path,
    cache_dir: Path | None = None,
) -> Rendered:
    """Each release of the tree with its rendered objects, namespaces filled in (`render_clusters`
    of one cluster)."""
    return render_clusters([(list(placed), kubernetes_version)], charts_dir, cache_dir)[0]


def render_clusters(
    trees: Sequence[tuple[list[tuple[str, dict[str, Any]]], str]],
    charts_dir: Path,
    cache_dir: Path | None = None,
    jobs: int = 1,
) -> list[Rendered]:
    """For each cluster's (placed objects, Kubernetes version), its releases with their rendered
    objects, namespaces filled in. With `cache_dir`, a cluster's renders are kept on disk keyed by
    its releases, the chart archives' contents and the Kubernetes version, so a second verify of an
    unchanged cluster runs no Helm."""
    keys: list[tuple[str, str, list[Release]]] = []
    staged: dict[str, Stages] = {}
    for placed, kubernetes_version in trees:
        releases = releases_in_objects(placed)
        key = json.dumps([[r.comparable() for r in releases], kubernetes_version], default=str)
        memo_key = f"{key}{charts_dir}"
        keys.append((memo_key, key, releases))
        if memo_key in _MEMO or memo_key in staged:
            continue
        cached = _cached(cache_dir, key, releases, charts_dir)
        if cached is not None:
            _MEMO[memo_key] = cached
        else:
            staged[memo_key] = _staged_render(releases, kubernetes_version, charts_dir)
    _MEMO.update(_run_stages(staged, jobs))
    if cache_dir is not None:
        for memo_key, key, releases in keys:
            _store(cache_dir, key, releases, charts_dir, _MEMO[memo_key])
    return [_MEMO[memo_key] for memo_key, _, _ in keys]


def _staged_render(releases: list[Release], kubernetes_version: str, charts_dir: Path) -> Stages:
    """`render_releases` of one cluster, a pass at a time: a first render with the built-in API
    versions finds the CRDs the cluster will serve; the second, with those, is the one kept."""
    builtin = builtin_api_versions(kubernetes_version)
    first = yield [render_request(r, charts_dir, kubernetes_version, builtin) for r in releases]
    served = builtin | crd_api_versions(o for objects in first for o in objects)
    second = yield [render_request(r, charts_dir, kubernetes_version, served) for r in releases]
    cluster_scoped = cluster_scoped_kinds(o for objects in second for o in objects)
    return [
        (r, [_slim(with_namespace(o, r.namespace, cluster_scoped)) for o in objects])
        for r, objects in zip(releases, second, strict=True)
    ]


def _run_stages(staged: Mapping[str, Stages], jobs: int) -> dict[str, Rendered]:
    """Drive every cluster's staged render: each distinct request runs once (`jobs` Helm processes
    at a time, largest chart first; threads only wait on them), and a cluster moves to its next
    pass as soon as its own requests are done."""
    done: dict[str, Rendered] = {}
    runs: dict[str, Future[list[dict[str, Any]]]] = {}
    waiting: dict[str, list[Future[list[dict[str, Any]]]]] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:

        def ask(memo_key: str, requests: list[RenderRequest]) -> None:
            for request in sorted(requests, key=lambda r: -r.archive.stat().st_size):
                if _identity(request) not in runs:
                    runs[_identity(request)] = pool.submit(_render_slim, request)
            waiting[memo_key] = [runs[_identity(r)] for r in requests]

        for memo_key, stages in staged.items():
            ask(memo_key, next(stages))
        while waiting:
            pending = {f for futures in waiting.values() for f in futures if not f.done()}
            if pending:
                wait(pending, return_when=FIRST_COMPLETED)
            for memo_key, futures in list(waiting.items()):
                if not all(f.done() for f in futures):
                    continue
                del waiting[memo_key]
                try:
                    ask(memo_key, staged[memo_key].send([f.result() for f in futures]))
                except StopIteration as finished:
                    done[memo_key] = finished.value
    return done


def _identity(request: RenderRequest) -> str:
    """What makes two requests one `helm template` run (the same archive path: the same chart)."""
    return json.dumps(
        [
            str(request.archive),
            request.release,
            request.namespace,
            request.values,
            request.kube_version,
            request.api_versions,
            request.include_crds,
        ],
        sort_keys=True,
        default=str,
    )


def _render_slim(request: RenderRequest) -> list[dict[str, Any]]:
    return [_slim(o) for o in render(request, keep=False)]


@functools.cache
def _archive_digest(path: Path, mtime_ns: int, size: int) -> bytes:
    return hashlib.sha256(path.read_bytes()).digest()


def _cache_file(cache_dir: Path, key: str, releases: list[Release], charts_dir: Path) -> Path:
    digest = hashlib.sha256(key.encode())
    for r in releases:
        archive = chart_archive(charts_dir, r.chart, r.version)
        stat = archive.stat()
        digest.update(_archive_digest(archive, stat.st_mtime_ns, stat.st_size))
    return cache_dir / f"{digest.hexdigest()}.json"


def _cached(cache_dir: Path | None, key: str, releases: list[Release], charts_dir: Path) -> Rendered | None:
    if cache_dir is None:
        return None
    path = _cache_file(cache_dir, key, releases, charts_dir)
    try:
        stored = orjson.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(stored, list) or len(stored) != len(releases):
        return None
    return [(r, objects) for r, objects in zip(releases, stored, strict=True)]


def _store(cache_dir: Path, key: str, releases: list[Release], charts_dir: Path, rendered: Rendered) -> None:
    path = _cache_file(cache_dir, key, releases, charts_dir)
    if path.exists():
        return
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(orjson.dumps([objects for _, objects in rendered], option=orjson.OPT_SORT_KEYS))
        tmp.replace(path)
    except OSError:
        pass  # a cache that cannot be written only costs the next run a render


# Renders of one process, shared: verify reads chart objects and never changes them.
_MEMO: dict[str, Rendered] = {}


def _slim(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy without CRD schemas (megabytes each; verify reads a CRD's names, scope and versions)."""
    if obj.get("kind") != "CustomResourceDefinition":
        return dict(obj)
    spec = dict(obj.get("spec") or {})
    spec["versions"] = [{k: v for k, v in ver.items() if k != "schema"} for ver in spec.get("versions") or ()]
    return {**obj, "spec": spec}
