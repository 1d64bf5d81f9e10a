"""CustomResourceDefinition YAML → CRDs-catalog JSON schema files, byte for byte.

This is the conversion datreeio/CRDs-catalog runs (`Utilities/openapi2jsonschema.py`,
itself from yannh/kubeconform `scripts/openapi2jsonschema.py`), reimplemented so that the
embedded schemas and `schemas pull` produce exactly the catalog's bytes:

* every nested schema with `properties` and `type: object` (or a type list holding
  "object") gets `additionalProperties: false` unless it sets one; the root is skipped.
  The walk descends through mapping values only, never into lists;
* a mapping value with `format: int-or-string` is replaced by
  `{"oneOf": [{"type": "string"}, {"type": "integer"}]}` (its other keys dropped);
* the file is `json.dumps(schema, indent=2)` plus a newline;
* YAML is read with PyYAML's safe loader, plus the `=` (value) tag as a plain string,
  which kube-prometheus-stack's CRDs use;
* file names are `{group}/{kind lower}_{version}.json`; `kind: List` documents are unwrapped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

INT_OR_STRING = {"oneOf": [{"type": "string"}, {"type": "integer"}]}


class CrdLoader(yaml.SafeLoader):
    """PyYAML's safe loader, plus the `=` tag read as its text (pyyaml issue 89)."""


def _construct_value(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise yaml.constructor.ConstructorError(
            "while constructing a value", node.start_mark, f"expected a scalar, found {type(node).__name__}"
        )
    return str(node.value)


CrdLoader.add_constructor("tag:yaml.org,2002:value", _construct_value)


@dataclass(frozen=True)
class ConvertedSchema:
    group: str
    kind: str
    version: str
    served: bool
    text: str  # the file content, newline-terminated

    @property
    def filename(self) -> str:
        return f"{self.group}/{self.kind.lower()}_{self.version}.json"


def _is_object(node: dict[str, Any]) -> bool:
    types = node.get("type")
    return types == "object" or (isinstance(types, list) and "object" in types)


def _close_objects(node: Any, root: bool = False) -> None:
    if not isinstance(node, dict):
        return
    if not root and "properties" in node and _is_object(node) and "additionalProperties" not in node:
        node["additionalProperties"] = False
    for value in node.values():
        _close_objects(value)


def _int_or_string(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if isinstance(value, dict):
            out[key] = (
                dict(INT_OR_STRING) if value.get("format") == "int-or-string" else _int_or_string(value)
            )
        elif isinstance(value, list):
            out[key] = [_int_or_string(item) for item in value]
        else:
            out[key] = value
    return out


def convert_schema(open_api_v3: dict[str, Any]) -> str:
    """One openAPIV3Schema → catalog file text. The argument is not modified."""
    schema = json.loads(json.dumps(open_api_v3))
    _close_objects(schema, root=True)
    return json.dumps(_int_or_string(schema), indent=2) + "\n"


def crd_documents(text: str | bytes) -> list[dict[str, Any]]:
    """The CustomResourceDefinition documents of a YAML stream (List items included)."""
    found: list[dict[str, Any]] = []
    for doc in yaml.load_all(text, Loader=CrdLoader):
        if not isinstance(doc, dict):
            continue
        items = doc.get("items") if doc.get("kind") == "List" else None
        for candidate in items if isinstance(items, list) else [doc]:
            if isinstance(candidate, dict) and candidate.get("kind") == "CustomResourceDefinition":
                found.append(candidate)
    return found


def convert_crd(crd: dict[str, Any]) -> Iterator[ConvertedSchema]:
    """Every version of one CRD that carries a schema (its own or the v1beta1 shared one)."""
    spec = crd.get("spec") or {}
    group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
    if not isinstance(group, str) or not isinstance(kind, str):
        return
    shared = (spec.get("validation") or {}).get("openAPIV3Schema")
    for version in spec.get("versions") or []:
        schema = ((version.get("schema") or {}).get("openAPIV3Schema")) or shared
        if isinstance(schema, dict) and isinstance(version.get("name"), str):
            yield ConvertedSchema(
                group, kind, version["name"], bool(version.get("served", True)), convert_schema(schema)
            )
