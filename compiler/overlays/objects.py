"""Plain Kubernetes objects from overlay files and rendered templates, with positions."""

from __future__ import annotations

from compiler.components.base import KubeObject
from compiler.errors import SpecError
from compiler.pathsafety import kind_problem, name_problem, object_name_problem
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
    if not isinstance(metadata, dict) or not _names_are_safe(doc, data, metadata, errors):
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


def _names_are_safe(doc: SourceDocument, data: dict, metadata: dict, errors: list[SpecError]) -> bool:
    """Kind, name and namespace become the file's path: each must be a plain name (see pathsafety).
    A `*List` with items is refused: kustomize expands it into objects no check has seen."""
    before = len(errors)
    if (problem := kind_problem(data["kind"])) is not None:
        errors.append(SpecError(doc.location(("kind",)), problem))
    elif data["kind"].endswith("List") and "items" in data:
        errors.append(
            SpecError(
                doc.location(("kind",)),
                f"kind {data['kind']} is a list of objects, refused (kustomize inlines the items of any "
                "*List, sigs.k8s.io/kustomize api/resource/factory.go inlineAnyEmbeddedLists, so they would "
                "skip every check; expected one object per document, separated by ---)",
            )
        )
    if (problem := object_name_problem(data["kind"], metadata["name"])) is not None:
        errors.append(SpecError(doc.location(("metadata", "name")), problem))
    if metadata.get("namespace") not in (None, ""):  # empty or absent: cluster-scoped or defaulted
        problem = name_problem(metadata["namespace"], "metadata.namespace")
        if problem is None and len(metadata["namespace"]) > 63:
            problem = "metadata.namespace is longer than 63 characters (expected a DNS-1123 label)"
        if problem is not None:
            errors.append(SpecError(doc.location(("metadata", "namespace")), problem))
    return len(errors) == before


def is_patch(doc: SourceDocument) -> bool:
    data = doc.data
    return isinstance(data, dict) and data.get("apiVersion") == API_VERSION and data.get("kind") == "Patch"
