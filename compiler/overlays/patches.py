"""`kind: Patch` overlay documents: parse, match targets, apply RFC 7386 / RFC 6902 patches.

A patch edits objects in place of a fork of the compiler. It may change anything but
what identifies the object (kind, metadata.name, metadata.namespace): renaming an object
through a patch would silently orphan the original's references and file.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import json_merge_patch
import jsonpatch
from pydantic import Field, ValidationError

from compiler.components.base import KubeObject
from compiler.errors import SourceLocation, SpecError
from compiler.overlays.errors import CLUSTERS
from compiler.spec.build import explain
from compiler.spec.loader import SourceDocument, to_plain
from compiler.spec.models import DnsLabel, Strict

JSON_PATCH_OPS = ("add", "remove", "replace", "move", "copy", "test")
# Objects that packaging creates after overlays ran; a patch cannot reach them.
PACKAGING_KINDS = frozenset(
    {
        "Application",
        "AppProject",
        "Kustomization",
        "GitRepository",
        "HelmRelease",
        "HelmRepository",
        "OCIRepository",
    }
)


class LabelSelectorRequirement(Strict):
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[str] = Field(default_factory=list)


class LabelSelector(Strict):
    matchLabels: dict[str, str] = Field(default_factory=dict)
    matchExpressions: list[LabelSelectorRequirement] = Field(default_factory=list)

    def matches(self, labels: dict[str, str]) -> bool:
        if any(labels.get(k) != v for k, v in self.matchLabels.items()):
            return False
        for req in self.matchExpressions:
            present = req.key in labels
            if req.operator == "In" and not (present and labels[req.key] in req.values):
                return False
            if req.operator == "NotIn" and present and labels[req.key] in req.values:
                return False
            if req.operator == "Exists" and not present:
                return False
            if req.operator == "DoesNotExist" and present:
                return False
        return True


def _labels(meta: object) -> dict[str, str]:
    labels = meta.get("labels") if isinstance(meta, dict) else None
    return labels if isinstance(labels, dict) else {}


class PatchTarget(Strict):
    kind: str = Field(min_length=1)
    name: str | None = None
    namespace: str | None = None
    apiVersion: str | None = None
    labelSelector: LabelSelector | None = None

    def matches(self, obj: KubeObject) -> bool:
        meta = obj.get("metadata") or {}
        return (
            obj.get("kind") == self.kind
            and (self.apiVersion is None or obj.get("apiVersion") == self.apiVersion)
            and (self.name is None or meta.get("name") == self.name)
            and (self.namespace is None or meta.get("namespace") == self.namespace)
            and (self.labelSelector is None or self.labelSelector.matches(_labels(meta)))
        )

    def describe(self) -> str:
        parts = [f"kind: {self.kind}"]
        parts += [
            f"{k}: {v}"
            for k, v in (("apiVersion", self.apiVersion), ("namespace", self.namespace), ("name", self.name))
            if v
        ]
        if self.labelSelector is not None:
            parts.append("labelSelector")
        return "{" + ", ".join(parts) + "}"


class PatchMetadata(Strict):
    name: DnsLabel


class Patch(Strict):
    apiVersion: Literal["platformc.dev/v1alpha1"]
    kind: Literal["Patch"]
    metadata: PatchMetadata | None = None
    target: PatchTarget
    merge: dict[str, Any] | None = None
    jsonPatch: list[Any] | None = None


@dataclass(frozen=True)
class ParsedPatch:
    patch: Patch
    doc: SourceDocument

    @property
    def location(self) -> SourceLocation:
        return self.doc.start


def _check_operation(doc: SourceDocument, index: int, op: Any) -> Iterator[SpecError]:
    where = doc.location(("jsonPatch", index))
    if not isinstance(op, dict):
        yield SpecError(where, "JSON patch operation is not a mapping (expected {op, path, value|from})")
        return
    name = op.get("op")
    if name not in JSON_PATCH_OPS:
        yield SpecError(
            where, f"invalid JSON patch op {name!r} (expected one of: {', '.join(JSON_PATCH_OPS)})"
        )
        return
    needed = {"path"} | ({"value"} if name in ("add", "replace", "test") else set())
    needed |= {"from"} if name in ("move", "copy") else set()
    for key in sorted(needed - op.keys()):
        yield SpecError(
            where, f"JSON patch '{name}' operation has no '{key}' (expected {', '.join(sorted(needed))})"
        )
    for key in sorted(op.keys() - needed - {"op"}):
        yield SpecError(
            doc.location(("jsonPatch", index, key), key=True),
            f"unknown field '{key}' in a '{name}' operation",
        )
    for key in ("path", "from"):
        value = op.get(key)
        if (
            key in needed
            and key in op
            and not (isinstance(value, str) and (value == "" or value.startswith("/")))
        ):
            yield SpecError(
                doc.location(("jsonPatch", index, key)), f"invalid JSON pointer {value!r} (expected '/a/b/0')"
            )


def parse_patch(doc: SourceDocument) -> tuple[ParsedPatch | None, list[SpecError]]:
    try:
        patch = Patch.model_validate(to_plain(doc.data))
    except ValidationError as exc:
        return None, [explain(e, Patch, doc) for e in exc.errors(include_url=False)]
    errors: list[SpecError] = []
    given = [k for k in ("merge", "jsonPatch") if getattr(patch, k) is not None]
    if len(given) != 1:
        where = doc.location(("jsonPatch",), key=True) if len(given) == 2 else doc.start
        what = "both merge and jsonPatch" if given else "neither merge nor jsonPatch"
        errors.append(SpecError(where, f"patch has {what} (expected exactly one of them)"))
    if patch.target.name is None and patch.target.labelSelector is None:
        errors.append(
            SpecError(
                doc.location(("target",)),
                "patch target has neither name nor labelSelector (expected one or both)",
            )
        )
    for i, op in enumerate(patch.jsonPatch or ()):
        errors.extend(_check_operation(doc, i, op))
    return (None if errors else ParsedPatch(patch, doc)), errors


def identity(obj: KubeObject) -> tuple[Any, Any, Any]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
    return obj.get("kind"), meta.get("name"), meta.get("namespace")


def _show_object(obj: KubeObject) -> str:
    kind, name, namespace = identity(obj)
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _has_key(data: Any, path: tuple[str, ...]) -> bool:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def _identity_location(parsed: ParsedPatch, index: int | None) -> SourceLocation:
    doc = parsed.doc
    if index is not None:
        return doc.location(("jsonPatch", index))
    for path in (("metadata", "name"), ("metadata", "namespace"), ("metadata",), ("kind",)):
        if _has_key(parsed.patch.merge, path):
            return doc.location(("merge", *path), key=True)
    return doc.location(("merge",))


def apply_patch(parsed: ParsedPatch, obj: KubeObject) -> tuple[KubeObject | None, SpecError | None]:
    """The patched copy of obj, or the error naming the failing operation (with `{clusters}`)."""
    before = identity(obj)
    if parsed.patch.merge is not None:
        result = json_merge_patch.merge(copy.deepcopy(obj), copy.deepcopy(parsed.patch.merge))
        if isinstance(result, dict) and identity(result) == before:
            return _checked_metadata(parsed, None, obj, result)
        return None, _identity_error(parsed, None, obj)
    result = copy.deepcopy(obj)
    for index, op in enumerate(parsed.patch.jsonPatch or ()):
        try:
            result = jsonpatch.JsonPatch([op]).apply(result, in_place=True)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            tested = " with the tested value" if op["op"] == "test" else ""
            # jsonpatch appends the whole object it looked into; the object is already named.
            reason = re.sub(r" in [\[{].*$", "", str(exc), flags=re.DOTALL).rstrip(".")
            message = (
                f"JSON patch '{op['op']}' at {op['path']} failed on {_show_object(obj)} on cluster(s) "
                f"{CLUSTERS}: {reason} (expected the path to exist in the object{tested}; "
                "use 'add' to create a field, '-' to append to a list)"
            )
            return None, SpecError(parsed.doc.location(("jsonPatch", index)), message)
        if not isinstance(result, dict) or identity(result) != before:
            return None, _identity_error(parsed, index, obj)
    return _checked_metadata(parsed, len(parsed.patch.jsonPatch or ()) - 1, obj, result)


def _checked_metadata(
    parsed: ParsedPatch, index: int | None, obj: KubeObject, result: KubeObject
) -> tuple[KubeObject | None, SpecError | None]:
    """Labels and annotations stay mappings of strings: later selectors and checks read them."""
    meta = result.get("metadata")
    for field in ("labels", "annotations"):
        value = meta.get(field) if isinstance(meta, dict) else None
        if value is None or (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
            continue
        where = (
            parsed.doc.location(("jsonPatch", index))
            if index is not None
            else parsed.doc.location(("merge", "metadata", field))
        )
        message = (
            f"patch makes metadata.{field} of {_show_object(obj)} something other than a mapping on "
            f"cluster(s) {CLUSTERS} (expected a mapping of string keys to string values)"
        )
        return None, SpecError(where, message)
    return result, None


def _identity_error(parsed: ParsedPatch, index: int | None, obj: KubeObject) -> SpecError:
    message = (
        f"patch changes the kind, name or namespace of {_show_object(obj)} "
        "(expected a patch that keeps them; add a new object in the overlay instead)"
    )
    return SpecError(_identity_location(parsed, index), message)


def unmatched_message(target: PatchTarget) -> str:
    hint = ""
    if target.kind in PACKAGING_KINDS:
        hint = (
            f"; {target.kind} objects are generated by GitOps packaging after overlays and cannot be patched"
        )
    return (
        f"patch target {target.describe()} matches no object on cluster(s) {CLUSTERS} "
        f"(expected an object made by a component or added by this or an earlier overlay layer{hint})"
    )
