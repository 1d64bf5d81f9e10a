"""Built-in Kubernetes schemas, taken from kubernetes-validate's bundled files.

kubernetes-validate ships, per Kubernetes minor version, a `_definitions.json` with every
OpenAPI definition in JSON Schema form; the `-local-strict` flavour already sets
`additionalProperties: false`. Its own `validate()` re-reads files on every call (~80
objects/s), so we only borrow the data: we index the definitions by
`x-kubernetes-group-version-kind` and cut a small self-contained schema per kind.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import orjson

from compiler.kube_versions import schema_root, supported_versions

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?$")
_REF_RE = re.compile(r"#/\$defs/(.+)$")


class UnsupportedKubernetesVersion(ValueError):
    """The requested Kubernetes version has no bundled schemas."""


def normalize_version(version: str) -> str:
    """ "1.34", "v1.34", "1.34.2" -> "1.34"; raises UnsupportedKubernetesVersion otherwise."""
    m = _VERSION_RE.match(str(version).strip())
    minor = f"{int(m.group(1))}.{int(m.group(2))}" if m else None
    if minor is None or minor not in supported_versions():
        raise UnsupportedKubernetesVersion(
            f"Kubernetes version {version!r} is not supported; schemas are available for "
            f"{', '.join(supported_versions()) or 'no version (kubernetes-validate data missing)'}"
        )
    return minor


def split_api_version(api_version: str) -> tuple[str, str]:
    """ "apps/v1" -> ("apps", "v1"); "v1" -> ("", "v1")."""
    group, _, version = api_version.rpartition("/")
    return group, version


class CoreSchemas:
    """All built-in kinds of one Kubernetes minor version."""

    def __init__(self, version: str) -> None:
        self.version = normalize_version(version)
        path = schema_root() / f"v{self.version}.0-local-strict" / "_definitions.json"
        # Bundled data (not user input): orjson reads its 1.5 MB in a third of json's time, once
        # per version in every worker.
        self._defs: dict[str, Any] = orjson.loads(path.read_bytes())["$defs"]
        # (group, version, kind) -> definition name. A definition may serve several GVKs
        # (DeleteOptions is listed under every group); each GVK names one definition.
        self._gvk: dict[tuple[str, str, str], str] = {}
        self._versions_of: dict[tuple[str, str], list[str]] = {}
        for name, definition in self._defs.items():
            for gvk in definition.get("x-kubernetes-group-version-kind", ()):
                key = (gvk["group"], gvk["version"], gvk["kind"])
                self._gvk.setdefault(key, name)
                self._versions_of.setdefault((gvk["group"], gvk["kind"]), []).append(gvk["version"])
        self.groups = frozenset(group for group, _, _ in self._gvk)

    def definition_name(self, api_version: str, kind: str) -> str | None:
        group, version = split_api_version(api_version)
        return self._gvk.get((group, version, kind))

    def gvks(self) -> list[tuple[str, str, str]]:
        """Every (group, version, kind) this Kubernetes release serves, sorted."""
        return sorted(self._gvk)

    def kinds_in(self, group: str, version: str) -> list[str]:
        """Kinds this Kubernetes release serves in group/version."""
        return sorted(k for g, v, k in self._gvk if g == group and v == version)

    def versions_of(self, group: str, kind: str) -> list[str]:
        """Versions this Kubernetes release serves for group/kind (for "did you mean" messages)."""
        return sorted(set(self._versions_of.get((group, kind), ())))

    def closure(self, name: str) -> dict[str, Any]:
        """Definitions reachable from `name` through $ref, refs rewritten to "#/$defs/NAME"."""
        out: dict[str, Any] = {}
        pending = [name]
        while pending:
            current = pending.pop()
            if current in out:
                continue
            refs: list[str] = []
            out[current] = _rewrite_refs(self._defs[current], refs)
            pending.extend(r for r in refs if r not in out)
        return out

    def schema_for(self, name: str) -> dict[str, Any]:
        """A self-contained schema for definition `name`: its body plus `$defs` of what it uses."""
        defs = self.closure(name)
        root = dict(defs[name])
        root["$schema"] = DRAFT_2020_12
        root["$defs"] = defs
        return root

    def object_meta(self) -> tuple[str, dict[str, Any]]:
        """ObjectMeta's definition name and closure, to give custom resources strict metadata."""
        return OBJECT_META, self.closure(OBJECT_META)


def _rewrite_refs(node: Any, refs: list[str]) -> Any:
    """Deep copy of `node` with every "$ref" pointing into the local "#/$defs"; collects targets.

    The bundled per-kind files use "/api/_definitions.json#/$defs/X" while _definitions.json
    itself uses "#/$defs/X"; both end the same way, so one rule covers both.
    """
    if isinstance(node, dict):
        copy: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                m = _REF_RE.search(value)
                if m:
                    refs.append(m.group(1))
                    copy[key] = f"#/$defs/{m.group(1)}"
                    continue
            copy[key] = _rewrite_refs(value, refs)
        return copy
    if isinstance(node, list):
        return [_rewrite_refs(item, refs) for item in node]
    return node


@cache
def core_schemas(version: str) -> CoreSchemas:
    """CoreSchemas of a minor version, loaded once per process (the registry and checks share it)."""
    return CoreSchemas(normalize_version(version))


def builtin_groups(version: str) -> frozenset[str]:
    """API groups the Kubernetes API server of `version` serves itself ("" is the core group).

    Anything else is a custom resource whose CRD some chart must install first.
    """
    return core_schemas(version).groups | {""}
