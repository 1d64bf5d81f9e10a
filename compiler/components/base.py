"""What a component is: a pure function from one cluster's model to what it installs there.

The description is engine-neutral (Helm charts + plain objects); packaging/ turns it
into Argo CD Applications or Flux Kustomizations/HelmReleases.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from compiler.cluster_model import MANAGED_BY, ClusterModel

KubeObject = dict[str, Any]


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
    # Names of the CRDs the chart installs: known only from its render (compiler/charts/facts.py).
    crds: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ComponentOutput:
    charts: tuple[HelmChart, ...] = ()
    objects: tuple[KubeObject, ...] = ()
    # Components this one must sync after, beyond what CRD and namespace use already imply.
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Component:
    name: str
    build: Callable[[ClusterModel], ComponentOutput]


def obj(
    api_version: str,
    kind: str,
    name: str,
    namespace: str | None = None,
    *,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    finalizers: list[str] | None = None,
    **body: Any,
) -> KubeObject:
    """A Kubernetes object as a plain dict, with platformc's managed-by label."""
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    metadata["labels"] = {**MANAGED_BY, **(labels or {})}
    if annotations:
        metadata["annotations"] = dict(annotations)
    if finalizers:
        metadata["finalizers"] = list(finalizers)
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **body}
