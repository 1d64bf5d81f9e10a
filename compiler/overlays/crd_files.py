"""The CRD files of a custom component's `crds: [{folder: ...}]`, checked for the shape the API server
requires of a schema before they are used to validate the component's custom resources.

A CRD file is PR input. The API server refuses a CRD whose openAPIV3Schema is not a JSONSchemaProps
tree (k8s.io/apiextensions-apiserver pkg/apis/apiextensions/v1 types_jsonschema.go: `properties` maps
names to schemas, `items` is a schema, `type` and `required` are strings), so the Argo CD / Flux sync
would fail; used as it is here, a malformed `properties` would check nothing. Each problem is an error
at its line. What is not YAML or not a CRD is left to the schema registry, which reports it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from compiler.errors import SpecError
from compiler.pathsafety import regular_files
from compiler.spec.loader import SourceDocument, display_path, load_file

PathKey = tuple[str | int, ...]
YAML_SUFFIXES = (".yaml", ".yml")


def crd_folder_errors(folders: list[Path]) -> list[SpecError]:
    """Shape errors in the CRDs of every YAML file under `folders`, each at its line."""
    errors: list[SpecError] = []
    for folder in folders:
        if not folder.is_dir():
            continue  # a missing folder is reported where the schemas are looked up
        for path in sorted(regular_files(folder, [], display_path)):
            if path.suffix not in YAML_SUFFIXES:
                continue
            for doc in load_file(path, []):  # unreadable YAML: the schema registry reports it
                errors.extend(_crd_errors(doc))
    return errors


def _crd_errors(doc: SourceDocument) -> Iterator[SpecError]:
    data = doc.data
    if not isinstance(data, dict) or data.get("kind") != "CustomResourceDefinition":
        return
    spec = data.get("spec")
    versions = spec.get("versions") if isinstance(spec, dict) else None
    for i, version in enumerate(versions if isinstance(versions, list) else []):
        schema = version.get("schema") if isinstance(version, dict) else None
        root = schema.get("openAPIV3Schema") if isinstance(schema, dict) else None
        if root is None:
            continue
        at: PathKey = ("spec", "versions", i, "schema", "openAPIV3Schema")
        for path, problem in _schema_problems(root, at):
            shown = ".".join(str(p) for p in path[len(at) - 1 :])
            yield SpecError(
                doc.location(path),
                f"CRD schema {shown} {problem} (expected an OpenAPI v3 schema as the API server "
                "requires of apiextensions.k8s.io/v1 CustomResourceDefinitions)",
            )


def _schema_problems(root: Any, at: PathKey) -> Iterator[tuple[PathKey, str]]:
    """(path, problem) for every node of a JSONSchemaProps tree of the wrong shape; no recursion,
    so a deeply nested file cannot crash it."""
    stack: list[tuple[PathKey, Any]] = [(at, root)]
    while stack:
        path, node = stack.pop()
        if not isinstance(node, dict):
            yield path, f"is {_what(node)}, not a mapping"
            continue
        kind = node.get("type")
        if "type" in node and not isinstance(kind, str):
            yield (*path, "type"), f"is {_what(kind)}, not a type name"
        required = node.get("required")
        names = isinstance(required, list) and all(isinstance(r, str) for r in required)
        if "required" in node and not names:
            yield (*path, "required"), f"is {_what(required)}, not a list of field names"
        properties = node.get("properties")
        if "properties" in node:
            if isinstance(properties, dict):
                stack.extend(((*path, "properties", str(k)), v) for k, v in properties.items())
            else:
                yield (*path, "properties"), f"is {_what(properties)}, not a mapping of field name to schema"
        items = node.get("items")
        if isinstance(items, list):  # JSONSchemaPropsOrArray: a schema per position
            stack.extend(((*path, "items", i), item) for i, item in enumerate(items))
        elif "items" in node:
            stack.append(((*path, "items"), items))
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            stack.append(((*path, "additionalProperties"), extra))


def _what(value: Any) -> str:
    return "empty" if value is None else f"a {type(value).__name__}"
