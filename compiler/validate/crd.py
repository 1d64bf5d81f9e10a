"""Custom resource schemas: CRDs-catalog folders and CustomResourceDefinition YAML files.

Two kinds of source, both indexed lazily so that pointing `--schemas` at a big folder
costs one directory walk and nothing is parsed until a kind from it is needed:

* catalog folders in the datreeio/CRDs-catalog (kubeconform) layout
  `{group}/{kind_lower}_{version}.json`, already converted to JSON Schema;
* CRD YAML files anywhere under a folder (or a single file); each served version's
  `schema.openAPIV3Schema` is converted the way the catalog converts it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

YAML_SUFFIXES = (".yaml", ".yml")

# Keywords whose value is a schema, a list of schemas or a map of schemas. The
# conversion only descends through these so that data such as `enum`, `default` or a
# property that is itself called "properties" is never mistaken for a schema.
_SCHEMA_VALUED = ("additionalProperties", "not", "items")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "$defs")


def convert_openapi_v3(schema: dict[str, Any]) -> dict[str, Any]:
    """Convert a CRD `openAPIV3Schema` to a strict JSON Schema, kubeconform style.

    * every nested object schema with `properties` gets `additionalProperties: false`
      unless it sets one, so unknown fields are errors as they are for built-in kinds;
      the root is left alone (the registry makes it strict with apiVersion/kind/metadata);
    * nodes with `x-kubernetes-preserve-unknown-fields: true` stay open: the API server
      keeps unknown fields there, so rejecting them would be wrong;
    * `x-kubernetes-int-or-string` / `format: int-or-string` become oneOf string|integer;
    * `nullable: true` adds "null" to the allowed types, as the API server accepts null.
    """
    return _convert(schema, root=True)


def _convert(node: Any, root: bool = False) -> Any:
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SCHEMA_VALUED and isinstance(value, dict):
            out[key] = _convert(value)
        elif (key == "items" or key in _SCHEMA_LISTS) and isinstance(value, list):
            out[key] = [_convert(v) for v in value]
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _convert(sub) for name, sub in value.items()}
        else:
            out[key] = value
    if out.get("format") == "int-or-string" or (
        # controller-gen already writes anyOf integer|string next to the marker; adding a
        # oneOf too would only report every bad value twice.
        out.get("x-kubernetes-int-or-string") and "anyOf" not in out and "oneOf" not in out
    ):
        out.pop("type", None)
        if out.get("format") == "int-or-string":
            out.pop("format")
        out["oneOf"] = [{"type": "string"}, {"type": "integer"}]
    if out.get("nullable") is True:
        types = out.get("type")
        if isinstance(types, str):
            out["type"] = [types, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    if (
        not root
        and "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def open_preserved_nodes(node: Any) -> Any:
    """Drop `additionalProperties: false` where the CRD says x-kubernetes-preserve-unknown-fields.

    The catalog conversion adds it to such nodes too (Kyverno foreach `preconditions`, Istio
    `status`), which would reject objects the API server accepts. Returns `node` itself
    when nothing needs changing, so unaffected schemas are not copied.
    """
    if isinstance(node, list):
        items: list[Any] | None = None  # copied on the first change only
        for index, item in enumerate(node):
            if isinstance(item, dict | list) and (opened := open_preserved_nodes(item)) is not item:
                items = items if items is not None else list(node)
                items[index] = opened
        return node if items is None else items
    if not isinstance(node, dict):
        return node
    changed: dict[str, Any] | None = None
    for key, value in node.items():
        if isinstance(value, dict | list) and (opened := open_preserved_nodes(value)) is not value:
            changed = changed if changed is not None else dict(node)
            changed[key] = opened
    current = changed if changed is not None else node
    preserved = node.get("x-kubernetes-preserve-unknown-fields") is True
    if preserved and current.get("additionalProperties") is False:
        changed = dict(current)
        del changed["additionalProperties"]
    return node if changed is None else changed


@dataclass(frozen=True)
class CrdVersion:
    """One version of one CRD as found in a file."""

    group: str
    kind: str
    version: str
    served: bool
    schema: dict[str, Any] | None  # raw openAPIV3Schema, converted on use
    source: str


def crd_versions(doc: Any, source: str) -> Iterator[CrdVersion]:
    """Versions defined by one YAML document if it is a CustomResourceDefinition."""
    if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
        return
    spec = doc.get("spec") or {}
    group = spec.get("group")
    kind = (spec.get("names") or {}).get("kind")
    if not isinstance(group, str) or not isinstance(kind, str):
        return
    # apiextensions.k8s.io/v1beta1 CRDs may put one schema for all versions in spec.validation.
    shared = (spec.get("validation") or {}).get("openAPIV3Schema")
    versions = spec.get("versions") or []
    if not versions and isinstance(spec.get("version"), str):
        versions = [{"name": spec["version"], "served": True}]
    for entry in versions:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        schema = (entry.get("schema") or {}).get("openAPIV3Schema") or shared
        yield CrdVersion(
            group=group,
            kind=kind,
            version=entry["name"],
            served=bool(entry.get("served", True)),
            schema=schema if isinstance(schema, dict) else None,
            source=source,
        )


class SchemaSource:
    """One `schema_dirs` entry. Looks up (group, kind, version) lazily."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._scanned = False
        self._catalog: dict[tuple[str, str, str], Path] = {}
        self._yaml_pending: list[Path] = []
        self._crds: dict[tuple[str, str, str], CrdVersion] = {}
        self._json_cache: dict[Path, dict[str, Any]] = {}
        self.load_errors: list[tuple[str, str]] = []  # (file, message)

    def _scan(self) -> None:
        """Walk the folder once, recording file names only."""
        if self._scanned:
            return
        self._scanned = True
        if self.path.is_file():
            self._yaml_pending.append(self.path)
            return
        if not self.path.is_dir():
            self.load_errors.append((str(self.path), "schema folder or file does not exist"))
            return
        for dirpath, dirnames, filenames in os.walk(self.path):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            here = Path(dirpath)
            depth = len(here.relative_to(self.path).parts)
            for filename in sorted(filenames):
                if depth == 1 and filename.endswith(".json"):
                    stem = filename[: -len(".json")]
                    kind, sep, version = stem.rpartition("_")
                    if sep and kind and version:
                        self._catalog[(here.name, kind.lower(), version)] = here / filename
                elif filename.endswith(YAML_SUFFIXES):
                    self._yaml_pending.append(here / filename)

    def _load_yaml_mentioning(self, kind: str) -> None:
        """Parse pending YAML files that could define `kind` (cheap byte pre-filter first)."""
        needle = kind.encode()
        still_pending: list[Path] = []
        for path in self._yaml_pending:
            try:
                data = path.read_bytes()
            except OSError as exc:
                self.load_errors.append((str(path), f"cannot read: {exc}"))
                continue
            if b"CustomResourceDefinition" not in data:
                continue  # never a CRD file; drop it for good
            if needle not in data:
                still_pending.append(path)
                continue
            try:
                docs = list(yaml.load_all(data, Loader=yaml.CSafeLoader))
            except yaml.YAMLError as exc:
                self.load_errors.append((str(path), f"invalid YAML in CRD file: {exc}"))
                continue
            for doc in docs:
                for crd in crd_versions(doc, str(path)):
                    self._crds.setdefault((crd.group, crd.kind.lower(), crd.version), crd)
        self._yaml_pending = still_pending

    def lookup(self, group: str, kind: str, version: str) -> tuple[dict[str, Any] | None, str | None]:
        """(JSON schema, None) when found; (None, reason) when the kind is known but unusable.

        (None, None) means this source knows nothing about the kind.
        """
        self._scan()
        key = (group, kind.lower(), version)
        path = self._catalog.get(key)
        if path is not None:
            loaded = self._load_json(path)
            if loaded is None:
                return None, f"schema file {path} could not be loaded"
            return loaded, None
        if self._yaml_pending:
            self._load_yaml_mentioning(kind)
        crd = self._crds.get(key)
        if crd is None:
            return None, None
        if not crd.served:
            return None, f"CRD in {crd.source} defines {group}/{version} {kind} but marks it served: false"
        if crd.schema is None:
            return None, f"CRD in {crd.source} has no openAPIV3Schema for {group}/{version} {kind}"
        return convert_openapi_v3(crd.schema), None

    def kinds_in(self, group: str, version: str) -> list[str]:
        """Kinds (as the source spells them) this source has a schema for in group/version."""
        self._scan()
        if self._yaml_pending:
            self._load_yaml_mentioning("")
        found = {k for (g, k, v) in self._catalog if g == group and v == version}
        found |= {crd.kind for (g, _, v), crd in self._crds.items() if g == group and v == version}
        return sorted(found)

    def versions_of(self, group: str, kind: str) -> list[str]:
        """Served versions known for group/kind, after lookup() has run for it."""
        lower = kind.lower()
        found = {v for (g, k, v) in self._catalog if g == group and k == lower}
        found |= {v for (g, k, v), crd in self._crds.items() if g == group and k == lower and crd.served}
        return sorted(found)

    def _load_json(self, path: Path) -> dict[str, Any] | None:
        if path not in self._json_cache:
            try:
                with path.open("rb") as fh:
                    loaded = json.load(fh)
            except (OSError, ValueError) as exc:
                self.load_errors.append((str(path), f"cannot load schema: {exc}"))
                return None
            if not isinstance(loaded, dict):
                self.load_errors.append((str(path), "schema file is not a JSON object"))
                return None
            self._json_cache[path] = open_preserved_nodes(loaded)
        return self._json_cache[path]
