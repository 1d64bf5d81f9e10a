"""Where the CRDs behind every embedded schema come from: the registered components' descriptors
(`Component.crds`, compiler/components) plus the GitOps engines, whose CRDs the cluster already
has and which ship no chart here.

`python3 -m compiler.crdschemas.generate` builds the embedded bundle from these sources;
`schemas pull` uses `url_template` + `crd_files` to fetch another release of a component whose
pin the spec overrides. `url_template` takes `{version}` (the pin, as the spec writes it) and
`{file}`. It points at raw.githubusercontent.com at the release tag: that host serves the
tagged file directly, where GitHub release downloads redirect to another host (which pull refuses).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from compiler.components.base import Component

RAW = "https://raw.githubusercontent.com"


@dataclass(frozen=True)
class CrdSource:
    """One release's CRDs, resolved from a descriptor (or an engine entry below)."""

    name: str  # the spec's components.<name> key, or the chart / engine
    project: str  # upstream GitHub repository
    version: str  # release tag of the embedded schemas
    commit: str  # commit of that tag ("" when the collector did not record it)
    url_template: str  # {version}, {file}
    crd_files: tuple[str, ...]  # files under the template's folder that hold the CRDs
    chart_archive: str = ""  # chart file in ../shared/charts holding the same CRDs
    chart_path: str = ""  # the chart's folder in the upstream repository
    helm_set: tuple[str, ...] = ()  # `--set` values that make the chart render its CRDs
    groups: frozenset[str] = frozenset()  # keep only these API groups (empty: all)
    spec_pin: str = ""  # Platform spec.components key that overrides `version`


def _raw(project: str, folder: str) -> str:
    return f"{RAW}/{project}/{{version}}/{folder}/{{file}}"


# What the cluster has before platformc's trees sync: the GitOps engines and Gateway API (the
# Gateway that serving routes attach to is the cluster's own; see validate/ordering.py).
ENGINES: tuple[CrdSource, ...] = (
    CrdSource(
        "gateway-api",
        "kubernetes-sigs/gateway-api",
        "v1.6.1",
        "8bb74df00e56ec8f944d48c25e6c1c9c2f6848e3",
        _raw("kubernetes-sigs/gateway-api", "config/crd/standard"),
        tuple(
            f"gateway.networking.k8s.io_{plural}.yaml"
            for plural in ("gatewayclasses", "gateways", "httproutes")
        ),
    ),
    CrdSource(
        "argocd",
        "argoproj/argo-cd",
        "v3.5.1",
        "109ca7ca71139e514114499d294a492e7910a965",
        _raw("argoproj/argo-cd", "manifests/crds"),
        ("application-crd.yaml", "applicationset-crd.yaml", "appproject-crd.yaml"),
    ),
    CrdSource(
        "flux-source-controller",
        "fluxcd/source-controller",
        "v1.9.4",
        "",
        _raw("fluxcd/source-controller", "config/crd/bases"),
        tuple(
            f"source.toolkit.fluxcd.io_{plural}.yaml"
            for plural in ("buckets", "gitrepositories", "helmcharts", "helmrepositories", "ocirepositories")
        ),
    ),
    CrdSource(
        "flux-kustomize-controller",
        "fluxcd/kustomize-controller",
        "v1.9.4",
        "1324b615da01038e2859cbcde604bd5434f21933",
        _raw("fluxcd/kustomize-controller", "config/crd/bases"),
        ("kustomize.toolkit.fluxcd.io_kustomizations.yaml",),
    ),
    CrdSource(
        "flux-helm-controller",
        "fluxcd/helm-controller",
        "v1.6.3",
        "372c34e2b4a455d24ef6cbb8321c82c4533dbbd8",
        _raw("fluxcd/helm-controller", "config/crd/bases"),
        ("helm.toolkit.fluxcd.io_helmreleases.yaml",),
    ),
)


def component_sources(components: Sequence[Component]) -> tuple[CrdSource, ...]:
    sources = []
    for component in components:
        pin = component.version
        for release in component.crds:
            follows_pin = pin is not None and not release.version
            name = release.name or (pin.field if pin else component.name)
            version = release.version or (pin.default if pin else "")
            sources.append(
                CrdSource(
                    name,
                    release.project,
                    version,
                    release.commit,
                    release.url_template,
                    release.crd_files,
                    release.chart_archive,
                    release.chart_path,
                    release.helm_set,
                    release.groups,
                    pin.field if follows_pin and pin else "",
                )
            )
    return tuple(sources)


def all_sources(components: Sequence[Component] | None = None) -> tuple[CrdSource, ...]:
    """The registered components' CRD releases, then the GitOps engines'."""
    if components is None:
        from compiler.components import COMPONENTS

        components = COMPONENTS
    return (*component_sources(components), *ENGINES)


def by_spec_pin(components: Sequence[Component] | None = None) -> dict[str, CrdSource]:
    return {source.spec_pin: source for source in all_sources(components) if source.spec_pin}
