"""Plain Kubernetes objects from overlay files and rendered templates, with positions."""

from __future__ import annotations

from compiler.components.base import KubeObject
from compiler.errors import SpecError
from compiler.spec.loader import SourceDocument, to_plain
from compiler.spec.models import API_VERSION
from compiler.tree_contract import MANAGED_BY

NOT_AN_OBJECT = (
    "(expected a Kubernetes object with apiVersion, kind and metadata.name, "
    f"or a patch with apiVersion: {API_VERSION} and kind: Patch)"
)


def check_object(doc: SourceDocument, errors: list[SpecError]) -> KubeObject | None:
    """The document as a plain object with platformc's managed-by label, or None and an error."""
    data = doc.data
    if not isinstance(data, dict):
        errors.append(SpecError(doc.start, f"document is not a mapping {NOT_AN_OBJECT}"))
        return None
    if data.get("apiVersion") == API_VERSION:
        where = doc.location(("kind",))
        errors.append(
            SpecError(where, f"unknown kind {data.get('kind')!r} for {API_VERSION} {NOT_AN_OBJECT}")
        )
        return None
    metadata = data.get("metadata")
    missing = [k for k in ("apiVersion", "kind") if not isinstance(data.get(k), str) or not data.get(k)]
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("name"), str)
        or not metadata.get("name")
    ):
        missing.append("metadata.name")
    if missing:
        errors.append(
            SpecError(
                doc.start,
                f"document is neither a patch nor an object: no {', '.join(missing)} {NOT_AN_OBJECT}",
            )
        )
        return None
    obj = to_plain(data)
    # Same ownership label as generated objects, so selectors and prune treat them alike.
    labels = obj["metadata"].get("labels")
    if labels is not None and not isinstance(labels, dict):
        errors.append(
            SpecError(
                doc.location(("metadata", "labels")), "metadata.labels is not a mapping (expected key: value)"
            )
        )
        return None
    obj["metadata"]["labels"] = {**MANAGED_BY, **(labels or {})}
    return obj


def is_patch(doc: SourceDocument) -> bool:
    data = doc.data
    return isinstance(data, dict) and data.get("apiVersion") == API_VERSION and data.get("kind") == "Patch"
