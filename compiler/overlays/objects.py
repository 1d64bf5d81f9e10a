"""Plain Kubernetes objects from overlay files and rendered templates, with positions."""

from __future__ import annotations

from collections.abc import Iterator

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from compiler.cluster_model import MANAGED_BY
from compiler.components.base import KubeObject
from compiler.errors import SourceLocation, SpecError
from compiler.spec.loader import SourceDocument, to_plain
from compiler.spec.models import API_VERSION

NOT_AN_OBJECT = (
    "(expected a Kubernetes object with apiVersion, kind and metadata.name, "
    f"or a patch with apiVersion: {API_VERSION} and kind: Patch)"
)


def load_text(text: str, shown: str, errors: list[SpecError]) -> Iterator[SourceDocument]:
    """Like spec.loader.load_file, for text that is not a file of its own (a rendered template)."""
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        documents = list(yaml.load_all(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p) or "invalid YAML"
        errors.append(SpecError(SourceLocation(shown, line, col), f"YAML syntax error: {problem}"))
        return
    for index, data in enumerate(documents):
        if data is None:
            continue
        # Already read round-trip: the documents carry their own positions.
        yield SourceDocument(shown, index, data, text, lambda: documents)


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
