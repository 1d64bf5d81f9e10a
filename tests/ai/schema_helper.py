"""Schema validation for the AI stack's tests, until compiler.validate is merged.

Custom resources: the upstream CRD JSON schemas in ../shared/schemas/crds/{group}/{kind}_{version}.json.
Core kinds: kubernetes-validate's bundled `v1.XX.0-local-strict` schemas, whose refs
("/api/_definitions.json#/$defs/X") are rewritten to "#/$defs/X" with the transitive closure inlined.
A kind with no schema raises: nothing passes unchecked.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import jsonschema_rs
import kubernetes_validate

CRD_ROOT = Path(__file__).resolve().parents[3] / "shared" / "schemas" / "crds"
KUBE_ROOT = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
_REF = re.compile(r"^/api/_definitions\.json#/\$defs/(.+)$")


class NoSchema(LookupError):
    pass


def _split(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


@functools.cache
def _definitions(kube: str) -> dict[str, Any]:
    return json.loads((KUBE_ROOT / f"v{kube}.0-local-strict" / "_definitions.json").read_text())["$defs"]


def _rewrite(node: Any, needed: set[str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                match = _REF.match(value) or re.match(r"^#/\$defs/(.+)$", value)
                if match:
                    needed.add(match.group(1))
                    value = f"#/$defs/{match.group(1)}"
            out[key] = _rewrite(value, needed)
        return out
    if isinstance(node, list):
        return [_rewrite(v, needed) for v in node]
    return node


@functools.cache
def _core_validator(kube: str, group: str, version: str, kind: str) -> Any:
    name = (
        f"{kind.lower()}-{group.split('.')[0]}-{version}.json" if group else f"{kind.lower()}-{version}.json"
    )
    path = KUBE_ROOT / f"v{kube}.0-local-strict" / name
    if not path.exists():
        raise NoSchema(f"no Kubernetes {kube} schema for {group or 'core'}/{version} {kind} ({path.name})")
    needed: set[str] = set()
    schema = _rewrite(json.loads(path.read_text()), needed)
    defs: dict[str, Any] = {}
    pending = set(needed)
    while pending:
        key = pending.pop()
        inner: set[str] = set()
        defs[key] = _rewrite(_definitions(kube)[key], inner)
        pending |= inner - defs.keys()
    schema["$defs"] = defs
    schema.pop("$id", None)
    return jsonschema_rs.validator_for(schema)


@functools.cache
def _crd_validator(group: str, version: str, kind: str) -> Any:
    path = CRD_ROOT / group / f"{kind.lower()}_{version}.json"
    if not path.exists():
        raise NoSchema(f"no CRD schema for {group}/{version} {kind} at {path}")
    return jsonschema_rs.validator_for(json.loads(path.read_text()))


def is_core(api_version: str) -> bool:
    group, _ = _split(api_version)
    return "." not in group or (group.endswith(".k8s.io") and not group.startswith("kueue."))


def errors(obj: dict[str, Any], kube: str = "1.34") -> list[str]:
    """Schema errors of one object ('' path means the root); raises NoSchema for unknown kinds."""
    group, version = _split(obj["apiVersion"])
    kind = obj["kind"]
    if is_core(obj["apiVersion"]):
        validator = _core_validator(kube, group, version, kind)
    else:
        validator = _crd_validator(group, version, kind)
    where = f"{kind}/{obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}"
    return [f"{where} {e.instance_path}: {e.message}" for e in validator.iter_errors(obj)]
