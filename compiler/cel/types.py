"""CEL types for the checker, built lazily from OpenAPI/JSON schemas.

Mirrors how Kubernetes declares types from a kind's schema
(k8s.io/apiserver/pkg/cel/common/schemas.go SchemaDeclType): properties become object
fields, additionalProperties a map, items a list, int-or-string and
x-kubernetes-preserve-unknown-fields stay dynamic.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BOOL",
    "BYTES",
    "DOUBLE",
    "DYN",
    "INT",
    "NULL",
    "QUANTITY",
    "STRING",
    "TIMESTAMP",
    "UINT",
    "CelType",
    "ListType",
    "MapType",
    "ObjectType",
    "Prim",
    "declared_object",
    "from_schema",
]


class CelType:
    kind: str = "dyn"

    def describe(self) -> str:
        return self.kind


@dataclass(frozen=True)
class Prim(CelType):
    kind: str

    def describe(self) -> str:
        return self.kind


DYN = Prim("dyn")
STRING = Prim("string")
INT = Prim("int")
UINT = Prim("uint")
DOUBLE = Prim("double")
BOOL = Prim("bool")
BYTES = Prim("bytes")
NULL = Prim("null_type")
TIMESTAMP = Prim("timestamp")
DURATION = Prim("duration")
QUANTITY = Prim("kubernetes.Quantity")
TYPE = Prim("type")


@dataclass(frozen=True)
class ListType(CelType):
    elem: CelType
    kind: str = "list"

    def describe(self) -> str:
        return f"list({self.elem.describe()})"


@dataclass(frozen=True)
class MapType(CelType):
    key: CelType
    value: CelType
    kind: str = "map"

    def describe(self) -> str:
        return f"map({self.key.describe()}, {self.value.describe()})"


@dataclass(eq=False)
class ObjectType(CelType):
    """An object schema with declared properties; `label` is its path for messages."""

    schema: dict[str, Any]
    defs: dict[str, Any]
    label: str
    kind: str = "object"
    _fields: dict[str, CelType] = field(default_factory=dict)

    def describe(self) -> str:
        return self.label

    @property
    def field_names(self) -> list[str]:
        return sorted(self.schema.get("properties") or {})

    def field(self, name: str) -> CelType | None:
        if name not in self._fields:
            properties = self.schema.get("properties") or {}
            if name not in properties:
                return None
            self._fields[name] = from_schema(properties[name], self.defs, f"{self.label}.{name}")
        return self._fields[name]

    def missing_field_message(self, name: str) -> str:
        close = difflib.get_close_matches(name, self.field_names, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; fields: {', '.join(self.field_names)}"
        return f"undefined field '{name}' on {self.label}{hint}"


def _resolve(node: Any, defs: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 64:
        target = defs.get(node["$ref"].rsplit("/", 1)[-1])
        if target is None:
            return {}
        merged = {k: v for k, v in node.items() if k != "$ref"}
        node = {**target, **merged}
        seen += 1
    return node if isinstance(node, dict) else {}


def _types(node: dict[str, Any]) -> set[str]:
    declared = node.get("type")
    names = (
        set(declared) if isinstance(declared, list) else {declared} if isinstance(declared, str) else set()
    )
    return names - {"null"}


def from_schema(node: Any, defs: dict[str, Any], label: str) -> CelType:
    node = _resolve(node, defs)
    alternatives = node.get("oneOf") or node.get("anyOf")
    if isinstance(alternatives, list) and not node.get("properties"):
        kinds = {frozenset(_types(_resolve(alt, defs))) for alt in alternatives}
        return from_schema({"type": sorted(next(iter(kinds)))[0]}, defs, label) if len(kinds) == 1 else DYN
    types = _types(node)
    if len(types) != 1:
        if node.get("properties"):
            types = {"object"}
        else:
            return DYN
    (kind,) = types
    if kind == "object":
        if node.get("properties"):
            return ObjectType(node, defs, label)
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            return MapType(STRING, from_schema(extra, defs, f"{label}[]"))
        return DYN
    if kind == "array":
        return ListType(from_schema(node.get("items") or {}, defs, f"{label}[]"))
    if kind == "string":
        return TIMESTAMP if node.get("format") == "date-time" else STRING
    return {"integer": INT, "number": DOUBLE, "boolean": BOOL}.get(kind, DYN)


def declared_object(label: str, fields: dict[str, CelType]) -> ObjectType:
    """An object type whose fields are given as CEL types (DRA `device`, `variables`)."""
    return ObjectType({"properties": {name: {} for name in fields}}, {}, label, _fields=dict(fields))
