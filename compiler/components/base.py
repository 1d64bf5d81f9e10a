"""What a component is: a declared unit. Its descriptor (`Component`) holds every fact the rest
of platformc needs about it, and its `build` is a pure function from one cluster's model to
what it installs there.

The description is engine-neutral (Helm charts + plain objects); packaging/ turns it into
Argo CD Applications or Flux Kustomizations/HelmReleases.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import yaml

from compiler.cluster_model import ClusterModel
from compiler.kube import KubeObject, obj
from compiler.registry_facts import SchemaTarget
from compiler.tree_contract import config_unit

__all__ = [
    "Chart",
    "Component",
    "ComponentOutput",
    "HelmChart",
    "KubeObject",
    "SchemaTarget",
    "VersionPin",
    "config_yaml",
    "obj",
    "pod_security_namespace",
]

POD_SECURITY = "pod-security.kubernetes.io"


def pod_security_namespace(name: str, enforce: str, *, audit: str = "", warn: str = "") -> KubeObject:
    """A Namespace labelled for Pod Security Admission: `enforce` rejects pods above the level,
    `audit` and `warn` only report (kubernetes.io/docs/concepts/security/pod-security-admission)."""
    levels = {"enforce": enforce, "audit": audit, "warn": warn}
    labels = {f"{POD_SECURITY}/{mode}": level for mode, level in levels.items() if level}
    return obj("v1", "Namespace", name, labels=labels)


def config_yaml(document: dict[str, Any]) -> str:
    """A config file that a chart value or ConfigMap key carries as text (Kueue's manager config,
    mig-parted's and the device plugin's): yaml.safe_dump with sorted keys, block style."""
    try:
        key = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # what JSON cannot hold (non-string keys, big ints): dumped as it is
        return _safe_dump(document)
    if orjson.loads(key) != document:  # NaN (JSON null), tuples: dumped as they are
        return _safe_dump(document)
    return _config_yaml(key)


# PyYAML's pure-Python emitter takes about a millisecond a document, and a platform's clusters
# embed the same few documents: memoised by content (orjson's sorted-key bytes, which load back
# to equal str/int/float/bool/None/list/dict data). A pure function of its bytes.
@functools.lru_cache(maxsize=256)
def _config_yaml(key: bytes) -> str:
    return _safe_dump(orjson.loads(key))


def _safe_dump(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=True, default_flow_style=False)


@dataclass(frozen=True)
class HelmChart:
    """A Helm release to install. `repository` is an https:// Helm repository or an oci:// registry path."""

    repository: str
    chart: str
    version: str
    release: str
    namespace: str
    values: Mapping[str, Any] = field(default_factory=dict)
    crd_groups: frozenset[str] = frozenset()  # API groups whose CRDs the chart installs
    # API groups of custom resources the chart's own templates create (e.g. a ServiceMonitor):
    # its unit must sync after the unit whose chart installs those CRDs.
    uses_crd_groups: frozenset[str] = frozenset()
    # API groups whose objects the chart's admission webhooks (failurePolicy Fail) must admit:
    # whatever creates such objects, another chart included, syncs after this chart's unit.
    webhook_groups: frozenset[str] = frozenset()
    # Leave the chart's crds/ folder out (Argo CD helm.skipCrds, Flux crds: Skip), because
    # another unit installs the same CRDs and two self-healing owners would fight over them.
    skip_crds: bool = False
    # Names of the CRDs the chart installs: known only from its render (compiler/charts/facts.py).
    crds: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Chart:
    """A chart a component may install, as known before any cluster is built."""

    repository: str
    chart: str
    crd_groups: frozenset[str] = frozenset()  # API groups whose CRDs the chart installs
    uses_crd_groups: frozenset[str] = frozenset()  # groups of custom resources its templates create
    webhook_groups: frozenset[str] = frozenset()  # groups its admission webhooks admit (HelmChart)
    skip_crds: bool = False  # its crds/ are left out: another unit installs them (HelmChart)

    def release(
        self, version: str, namespace: str, values: Mapping[str, Any] | None = None, release: str = ""
    ) -> HelmChart:
        """This chart installed at `version` into `namespace` (release name: the chart's by default)."""
        return HelmChart(
            self.repository,
            self.chart,
            version,
            release or self.chart,
            namespace,
            dict(values or {}),
            self.crd_groups,
            self.uses_crd_groups,
            self.webhook_groups,
            self.skip_crds,
        )


@dataclass(frozen=True)
class VersionPin:
    """`Platform.spec.components.<field>` pins the component's version; `default` when unset."""

    field: str
    default: str


@dataclass(frozen=True)
class CrdRelease:
    """Where the CRDs a component installs come from, at a release.

    The embedded schemas are generated from `chart_archive` (the chart at the pinned version,
    rendered with `helm template --include-crds` and `helm_set`); `schemas pull` fetches
    `crd_files` from `url_template` (`{version}`, `{file}`; raw files at the release tag) when
    the spec pins another version. `version` defaults to the component's pin default, and a
    release of a pinned component follows the spec's pin."""

    project: str  # upstream GitHub repository
    commit: str  # commit of the embedded release's tag ("" when not recorded)
    url_template: str
    crd_files: tuple[str, ...]
    chart_archive: str = ""  # file name of the chart archive at the embedded version
    chart_path: str = ""  # the chart's folder in the upstream repository
    helm_set: tuple[str, ...] = ()  # `--set` values that make the chart render its CRDs
    groups: frozenset[str] = frozenset()  # keep only these API groups (empty: all)
    name: str = ""  # default: the component's version pin field
    version: str = ""  # default: the component's pinned default version


@dataclass(frozen=True)
class ComponentOutput:
    charts: tuple[HelmChart, ...] = ()
    objects: tuple[KubeObject, ...] = ()
    # Components this one must sync after, beyond what CRD and namespace use already imply.
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Component:
    """A component's descriptor. Registering it in compiler/components/__init__.py is all it takes
    for compile, ordering, `schemas pull`, the reserved-namespace and the name-length checks to
    know it."""

    name: str  # its sync unit; `<name>-config` is its second unit for custom resources of its charts
    build: Callable[[ClusterModel], ComponentOutput]
    namespaces: tuple[str, ...] = ()  # namespaces it owns: no team may be named like them
    version: VersionPin | None = None
    charts: tuple[Chart, ...] = ()  # every chart it may install
    emits: tuple[SchemaTarget, ...] = ()  # custom resource kinds it emits: `schemas pull` fetches them
    crds: tuple[CrdRelease, ...] = ()  # the CRDs its charts install: embedded, and pulled for other pins

    @property
    def units(self) -> tuple[str, str]:
        """Sync units it may produce (an upper bound: the second exists only when needed)."""
        return self.name, config_unit(self.name)

    def version_of(self, cluster: ClusterModel) -> str:
        """The pinned version on this cluster's platform, or the default."""
        if self.version is None:
            raise ValueError(f"component {self.name} has no version pin")
        return str(getattr(cluster.versions, self.version.field, self.version.default))
