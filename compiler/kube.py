"""Kubernetes objects as plain dicts: the one helper every stage that makes objects shares.

A leaf module (imports only the tree contract), so components, observability and overlays
build objects the same way without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compiler.tree_contract import MANAGED_BY

KubeObject = dict[str, Any]


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


def api_group(api_version: str) -> str:
    """ "kueue.x-k8s.io/v1beta2" → "kueue.x-k8s.io"; the core group "v1" → ""."""
    return api_version.rpartition("/")[0]


# Typed accessors for what platformc's own stages read back from an object they built (every
# object made by `obj` has these fields; objects from users are checked before they get here).


def kind_of(o: KubeObject) -> str:
    return str(o["kind"])


def name_of(o: KubeObject) -> str:
    return str(o["metadata"]["name"])


def namespace_of(o: KubeObject) -> str | None:
    namespace = o["metadata"].get("namespace")
    return str(namespace) if namespace else None


def group_of(o: KubeObject) -> str:
    return api_group(str(o["apiVersion"]))
