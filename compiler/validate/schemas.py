"""Schema registry: finds the schema for an object and validates it strictly.

Built-in kinds come from kubernetes-validate's bundled strict schemas (see core.py),
custom resources from `schema_dirs` (see crd.py). Compiled jsonschema-rs validators are
cached per (Kubernetes version, apiVersion, kind); valid objects cost one `is_valid`
call, and only invalid ones pay for error collection and message building.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs

from compiler.cache_keys import stat_digest

from .core import (
    DRAFT_2020_12,
    CoreSchemas,
    UnsupportedKubernetesVersion,
    core_schemas,
    normalize_version,
    split_api_version,
    supported_versions,
)
from .crd import SchemaSource
from .findings import ERROR, Finding

__all__ = ["SchemaRegistry", "UnsupportedKubernetesVersion", "json_path", "supported_versions"]

MAX_ERRORS_PER_OBJECT = 50
MAX_MESSAGE = 240
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def json_path(parts: Sequence[str | int]) -> str:
    """["spec", "ports", 0, "app.kubernetes.io/name"] -> "$.spec.ports[0]['app.kubernetes.io/name']"."""
    out = ["$"]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENT_RE.match(part):
            out.append(f".{part}")
        else:
            out.append("['" + str(part).replace("\\", "\\\\").replace("'", "\\'") + "']")
    return "".join(out)


@dataclass
class _Compiled:
    """A compiled validator plus the schema it came from (to suggest field names)."""

    validator: Any
    schema: dict[str, Any]


class SchemaRegistry:
    """Schemas for built-in kinds and custom resources, with compiled validators cached."""

    def __init__(self, schema_dirs: Sequence[Path] = (), fallbacks: Sequence[Any] = ()) -> None:
        """`schema_dirs` are searched in order, then `fallbacks` (sources with the
        SchemaSource interface, such as the embedded bundle)."""
        # Fail fast on a mistyped --schemas path: otherwise every custom resource would
        # only be "missing", which allow_missing_schemas would even turn into a pass.
        for path in schema_dirs:
            if not Path(path).exists():
                raise FileNotFoundError(f"schema folder or CRD file {path} does not exist")
        self.sources: list[Any] = [SchemaSource(Path(p)) for p in schema_dirs]
        self.sources += list(fallbacks)
        self._core: dict[str, CoreSchemas] = {}
        self._versions: dict[str, str] = {}
        # (normalized k8s version, apiVersion, kind) -> its schema, or a str saying why there is
        # none; then its compiled validator. Misses are cached too: a missing kind is looked up once.
        self._found: dict[tuple[str, str, str], dict[str, Any] | str] = {}
        # Where each was found (_locate): reading the sources is what a lookup leaves behind.
        self._located: dict[tuple[str, str, str], _Located] = {}
        self._compiled: dict[tuple[str, str, str], _Compiled | str] = {}
        self._identity: str | None = None  # "" when the sources cannot be named

    @property
    def identity(self) -> str | None:
        """Names the schemas this registry serves, for memos of its findings: each source's kind,
        path and what it serves, and the size, time and inode of every file below the paths (the
        trust compile's cluster cache gives schema folders, compiler/cache_keys.stat_digest). None
        for a source without a path (its findings are then not memoised)."""
        if self._identity is None:
            parts = []
            for source in self.sources:
                path = getattr(source, "path", None)
                if not isinstance(path, Path):
                    self._identity = ""
                    break
                served = getattr(source, "served", None)
                parts.append(f"{type(source).__qualname__}\0{path.resolve()}\0{json.dumps(served)}")
            else:
                parts.append(stat_digest([s.path for s in self.sources]))
                self._identity = "\0".join(parts)
        return self._identity or None

    @staticmethod
    def supported_kubernetes_versions() -> tuple[str, ...]:
        return supported_versions()

    @property
    def load_errors(self) -> list[tuple[str, str]]:
        """(file, message) for schema files that could not be read, across all sources."""
        return [err for source in self.sources for err in source.load_errors]

    def core(self, kubernetes_version: str) -> CoreSchemas:
        version = self._normalize(kubernetes_version)
        if version not in self._core:
            self._core[version] = core_schemas(version)
        return self._core[version]

    def _normalize(self, kubernetes_version: str) -> str:
        version = self._versions.get(kubernetes_version)
        if version is None:
            version = normalize_version(kubernetes_version)  # raises when unsupported
            self._versions[kubernetes_version] = version
        return version

    def has_schema(self, api_version: str, kind: str, kubernetes_version: str) -> bool:
        return isinstance(self._get(api_version, kind, kubernetes_version), _Compiled)

    def look_up(self, api_version: str, kind: str, kubernetes_version: str) -> None:
        """Find a kind's schema as validate would, without compiling its validator: what a lookup
        leaves behind (schema files read, those that failed recorded in load_errors) is the same.
        Compiling takes up to 60 ms a kind (InferenceService), which an answer from a memo spares."""
        self._locate((self._normalize(kubernetes_version), api_version, kind))

    def kind_for_resource(
        self, group: str, version: str, resource: str, kubernetes_version: str
    ) -> str | None:
        """The kind whose resource name (lowercase kind + "s") is `resource`, or None."""
        candidates = self.core(kubernetes_version).kinds_in(group, version)
        for source in self.sources:
            candidates += source.kinds_in(group, version)
        return next((k for k in candidates if k.lower() + "s" == resource), None)

    def schema(self, api_version: str, kind: str, kubernetes_version: str) -> dict[str, Any]:
        """The strict JSON schema of a kind (its `$defs` inside); LookupError saying why not. Its
        validator is not compiled for this (CEL type-checking reads the schema only)."""
        found = self._find((self._normalize(kubernetes_version), api_version, kind))
        if isinstance(found, str):
            raise LookupError(found)
        return found

    def _get(self, api_version: str, kind: str, kubernetes_version: str) -> _Compiled | str:
        key = (self._normalize(kubernetes_version), api_version, kind)
        compiled = self._compiled.get(key)
        if compiled is None:
            found = self._find(key)
            compiled = found if isinstance(found, str) else self._compile(found, *key[1:])
            self._compiled[key] = compiled
        return compiled

    def _find(self, key: tuple[str, str, str]) -> dict[str, Any] | str:
        found = self._found.get(key)
        if found is None:
            found = self._found[key] = self._schema_of(key)
        return found

    def _locate(self, key: tuple[str, str, str]) -> _Located:
        located = self._located.get(key)
        if located is None:
            located = self._located[key] = self._source_of(*key)
        return located

    @staticmethod
    def _compile(schema: dict[str, Any], api_version: str, kind: str) -> _Compiled | str:
        try:
            return _Compiled(jsonschema_rs.validator_for(schema), schema)
        except Exception as exc:  # a broken user-supplied schema must not abort the whole run
            return f"schema for {api_version} {kind} cannot be compiled: {exc}"

    def _source_of(self, version: str, api_version: str, kind: str) -> _Located:
        """Where a kind's schema is: reads the schema sources (once per key: a file that fails to
        load is recorded in load_errors each time it is read)."""
        core = self.core(version)
        definition = core.definition_name(api_version, kind)
        if definition is not None:
            return _Located(definition=definition)
        group, api_ver = split_api_version(api_version)
        reasons = []
        for source in self.sources:
            found, reason = source.lookup(group, kind, api_ver)
            if found is not None:
                return _Located(custom=found)
            if reason:
                reasons.append(reason)
        return _Located(missing=self._missing_reason(core, group, api_ver, kind, reasons))

    def _schema_of(self, key: tuple[str, str, str]) -> dict[str, Any] | str:
        located = self._locate(key)
        core = self.core(key[0])
        if located.definition is not None:
            return core.schema_for(located.definition)
        if located.custom is None:
            return located.missing
        if (malformed := _malformed_root(located.custom)) is not None:
            return f"schema for {key[1]} {key[2]} cannot be used: {malformed}"
        return _strict_custom_root(located.custom, core, key[1], key[2])

    def _missing_reason(
        self, core: CoreSchemas, group: str, version: str, kind: str, reasons: list[str]
    ) -> str:
        gv = f"{group}/{version}" if group else version
        if reasons:
            return "; ".join(reasons)
        served = core.versions_of(group, kind)
        if served:
            return (
                f"Kubernetes {core.version} has no {gv} {kind}; it serves "
                f"{', '.join(f'{group}/{v}' if group else v for v in served)}"
            )
        known = sorted({v for source in self.sources for v in source.versions_of(group, kind)})
        if known:
            return f"no schema for {gv} {kind}; the schema folders have versions {', '.join(known)}"
        if group in core.groups or not group:
            return f"Kubernetes {core.version} has no kind {kind} in {gv}"
        return (
            f"no schema for {gv} {kind}; add its CRD (YAML) or a CRDs-catalog folder "
            f"with --schemas, or allow missing schemas"
        )

    def validate(
        self, obj: dict[str, Any], kubernetes_version: str, file: str | None = None
    ) -> list[Finding]:
        """Check one object against its schema for `kubernetes_version`; [] when valid.

        Raises UnsupportedKubernetesVersion when no schemas exist for that version.
        """
        if not isinstance(obj, dict):
            return [Finding(ERROR, "object", file, "", None, "", "$", "document is not a mapping")]
        api_version = obj.get("apiVersion")
        kind = obj.get("kind")
        metadata = obj.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
        ident = (
            kind if isinstance(kind, str) else "",
            namespace if isinstance(namespace, str) and namespace else None,
            name if isinstance(name, str) else "",
        )
        findings: list[Finding] = []
        if not isinstance(api_version, str) or not api_version:
            findings.append(Finding(ERROR, "object", file, *ident, "$.apiVersion", "apiVersion is missing"))
        if not isinstance(kind, str) or not kind:
            findings.append(Finding(ERROR, "object", file, *ident, "$.kind", "kind is missing"))
        if not isinstance(name, str) or not name:
            findings.append(
                Finding(ERROR, "object", file, *ident, "$.metadata.name", "metadata.name is missing")
            )
        if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
            return findings
        compiled = self._get(api_version, kind, kubernetes_version)
        if isinstance(compiled, str):
            findings.append(Finding(ERROR, "missing-schema", file, *ident, "$", compiled))
            return findings
        if compiled.validator.is_valid(obj):
            return findings
        for count, error in enumerate(compiled.validator.iter_errors(obj)):
            if count == MAX_ERRORS_PER_OBJECT:
                findings.append(
                    Finding(ERROR, "schema", file, *ident, "$", f"more than {MAX_ERRORS_PER_OBJECT} errors")
                )
                break
            for path, message in _describe(error, compiled.schema):
                findings.append(Finding(ERROR, "schema", file, *ident, path, message))
        return findings


@dataclass(frozen=True)
class _Located:
    """Where a kind's schema was found: a built-in definition, a custom resource's schema from a
    source, or neither (why not)."""

    definition: str | None = None
    custom: dict[str, Any] | None = None
    missing: str = ""


def _malformed_root(schema: dict[str, Any]) -> str | None:
    """A custom component's CRD file is PR input: a root `properties` (or catalog `$defs`) that is
    not a mapping would silently check nothing, so say so instead of guessing."""
    for key in ("properties", "$defs"):
        value = schema.get(key)
        if key in schema and not isinstance(value, dict):
            return (
                f"its root `{key}` is {type(value).__name__} {str(value)[:40]!r} "
                "(expected a mapping of field name to schema; fix the CRD file)"
            )
    return None


def _strict_custom_root(
    schema: dict[str, Any], core: CoreSchemas, api_version: str, kind: str
) -> dict[str, Any]:
    """Make a CRD schema's root as strict as a built-in kind's.

    Catalog conversion leaves the root open and types `metadata` as a bare object, so a
    typo such as `sepc:` or `metadata.lables` would pass. We close the root (unless it
    preserves unknown fields), pin apiVersion/kind, and validate metadata against the
    cluster version's ObjectMeta. CRD-level constraints on metadata are dropped: the API
    server only honours name constraints there, which the ObjectMeta schema cannot hold.
    """
    root = dict(schema)
    meta_name, meta_defs = core.object_meta()
    # A custom component's CRD file is PR input: a malformed `properties` must not be a traceback.
    found_props = root.get("properties")
    props = dict(found_props) if isinstance(found_props, dict) else {}
    props["apiVersion"] = {"type": "string", "enum": [api_version]}
    props["kind"] = {"type": "string", "enum": [kind]}
    props["metadata"] = {"$ref": f"#/$defs/{meta_name}"}
    root["properties"] = props
    if "additionalProperties" not in root and not root.get("x-kubernetes-preserve-unknown-fields"):
        root["additionalProperties"] = False
    defs = root.get("$defs")
    root["$defs"] = {**(defs if isinstance(defs, dict) else {}), **meta_defs}
    root["$schema"] = DRAFT_2020_12
    return root


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _schema_at(schema: dict[str, Any], parts: Sequence[str | int]) -> Any:
    node: Any = schema
    for part in parts:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _describe(error: Any, schema: dict[str, Any]) -> list[tuple[str, str]]:
    """(JSON path, readable message) pairs for one jsonschema-rs error."""
    instance_path = list(error.instance_path)
    kind_name = type(error.kind).__name__
    details = error.kind.as_dict()
    if kind_name == "AdditionalProperties":
        parent = _schema_at(schema, list(error.schema_path)[:-1])
        allowed = sorted((parent or {}).get("properties") or {}) if isinstance(parent, dict) else []
        out = []
        for field in details.get("unexpected", []):
            message = f'unknown field "{field}"'
            close = difflib.get_close_matches(str(field), allowed, n=1)
            if close:
                message += f' (did you mean "{close[0]}"?)'
            out.append((json_path([*instance_path, field]), message))
        return out
    if kind_name == "Required":
        field = details.get("property")
        return [(json_path([*instance_path, field]), f'missing required field "{field}"')]
    if kind_name == "Type":
        expected = [t for t in details.get("types", []) if t != "null"] or ["null"]
        got = _json_type(error.instance)
        return [(json_path(instance_path), f"expected {' or '.join(expected)}, got {got}")]
    if kind_name == "Enum":
        options = [o for o in details.get("options", []) if o is not None]
        return [
            (
                json_path(instance_path),
                f"{_short(error.instance)} is not one of {', '.join(_short(o) for o in options)}",
            )
        ]
    if kind_name in ("OneOfNotValid", "AnyOf"):
        # int-or-string and Quantity are oneOf string|number: say which types fit.
        branches = details.get("context") or []
        kinds = [type(e.kind).__name__ for branch in branches for e in branch]
        if branches and all(len(b) == 1 for b in branches) and set(kinds) == {"Type"}:
            expected = sorted({t for b in branches for t in b[0].kind.as_dict().get("types", [])} - {"null"})
            got = _json_type(error.instance)
            return [(json_path(instance_path), f"expected {' or '.join(expected)}, got {got}")]
        return [(json_path(instance_path), f"{_short(error.instance)} matches none of the allowed forms")]
    message = error.message
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 3] + "..."
    return [(json_path(instance_path), message)]
