"""Emitter, the pure half: objects → the files of a cluster tree, as bytes keyed by path.

- One object per file, `<kind>-<name>.yaml`, keys in Kubernetes order.
- A kustomization.yaml in every folder, and the cluster info file.

Nothing here touches the disk; compiler/write.py puts a rendered tree in place.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from compiler import yaml_out
from compiler.errors import PlatformcError
from compiler.object_memo import ObjectMemo
from compiler.pathsafety import kind_problem, name_problem, object_name_problem, safe_relative
from compiler.tree_contract import CLUSTER_INFO_FILE, KUSTOMIZATION_FILE, ClusterInfo, Tree, file_digest

__all__ = ["CLUSTER_INFO_FILE", "KUSTOMIZATION_FILE", "ClusterInfo", "Tree"]

TOP_KEYS = ("apiVersion", "kind", "metadata", "spec")
METADATA_KEYS = ("name", "namespace")


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _head_first(mapping: Mapping[str, Any], head: tuple[str, ...]) -> dict[str, Any]:
    ordered = {k: mapping[k] for k in head if k in mapping}
    ordered.update({k: mapping[k] for k in sorted(mapping) if k not in ordered})
    return ordered


def canonical(obj: Mapping[str, Any]) -> dict[str, Any]:
    """apiVersion, kind, metadata (name, namespace first), spec, then the rest; nested keys sorted."""
    body = {k: _sorted(v) for k, v in obj.items()}
    if isinstance(body.get("metadata"), dict):
        body["metadata"] = _head_first(body["metadata"], METADATA_KEYS)
    return _head_first(body, TOP_KEYS)


def dump_yaml(data: dict[str, Any]) -> bytes:
    """PyYAML's block style (multi-line strings as literal blocks), written by yaml_out's fast path."""
    return yaml_out.dump(data).encode()


def file_name(obj: Mapping[str, Any]) -> str:
    return f"{obj['kind']}-{obj['metadata']['name']}.yaml".lower()


class _PathChecks:
    """Each object's path in the cluster folder, built from checked parts only (see pathsafety).
    Overlay input is checked at its source line before this; here nothing unchecked passes. A
    cluster's objects share a few kinds and folders: each of those is checked once."""

    def __init__(self, info: ClusterInfo) -> None:
        self.info = info
        self.cluster_problem = name_problem(info.name, "cluster name")
        self.kinds: dict[Any, str | None] = {}
        self.folders: dict[str, str | None] = {}

    def path(self, folder: str, obj: Mapping[str, Any]) -> str:
        meta = obj.get("metadata") or {}
        kind = obj.get("kind")
        kind_checked = kind_problem(kind) if not isinstance(kind, str) else self.kinds.get(kind, "")
        if kind_checked == "":
            kind_checked = self.kinds[kind] = kind_problem(kind)
        folder_checked = self.folders.get(folder, "")
        if folder_checked == "":
            parts = (name_problem(part, "folder") for part in folder.split("/") if folder)
            folder_checked = self.folders[folder] = next((p for p in parts if p is not None), None)
            if folder_checked is None and folder:
                safe_relative(folder)
        problem = (
            kind_checked
            or object_name_problem(kind, meta.get("name"))
            or self.cluster_problem
            or folder_checked
        )
        if problem is not None:
            raise PlatformcError(f"cluster '{self.info.name}': {kind} cannot be written: {problem}")
        name = safe_relative(file_name(obj))  # the folder was, when first met
        return f"{folder}/{name}" if folder else name


def kustomization(entries: Iterable[str]) -> bytes:
    return _kustomization(tuple(sorted(entries)))


# A team's folders hold the same files on every cluster it is on: a worker compiling several
# clusters renders each list once.
@functools.lru_cache(maxsize=8192)
def _kustomization(resources: tuple[str, ...]) -> bytes:
    return dump_yaml(
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": list(resources),
        }
    )


def render_cluster(
    info: ClusterInfo,
    placed: Iterable[tuple[str, Mapping[str, Any]]],
    files: Mapping[str, bytes] | None = None,
    header: str = "",
    memo: ObjectMemo | None = None,
    digests: dict[str, str] | None = None,
) -> Tree:
    """The files of one cluster folder, keyed by path relative to the output folder; `files` are
    non-object files at the cluster folder's top (the node-pool contract), not in kustomizations.
    `header` (one comment line) starts every YAML file; JSON files cannot carry one. A memo
    (compiler/object_memo.py) spares rendering objects rendered before, and hashing them: given
    `digests`, it is filled with every file's file_digest."""
    first = header.encode()
    tree: Tree = {}
    owners: dict[str, Mapping[str, Any]] = {}
    children: dict[str, set[str]] = {"": set()}
    checks = _PathChecks(info)
    purpose = b"render\0" + first
    for folder, obj in placed:
        rel = checks.path(folder, obj)
        if rel in owners:
            first = owners[rel]["metadata"]
            raise PlatformcError(
                f"cluster '{info.name}': two objects would be written to {rel} "
                f"({obj['kind']} {first.get('namespace') or ''}/{first['name']} twice)"
            )
        owners[rel] = obj
        key = memo.key(purpose, obj) if memo is not None else None
        found = memo.get(key) if memo is not None else None
        if type(found) is tuple and len(found) == 2 and type(found[0]) is bytes and type(found[1]) is str:
            rendered, digest = found
        else:
            rendered = first + dump_yaml(canonical(obj))
            digest = file_digest(rendered)
            if memo is not None:
                memo.put(key, (rendered, digest))
        path = f"{info.name}/{rel}"
        tree[path] = rendered
        if digests is not None:
            digests[path] = digest
        # Register the file with its folder, and a new folder and every one on its way up with
        # their parents (in the order a walk from the top meets them).
        parent, _, name = rel.rpartition("/")
        siblings = children.get(parent)
        if siblings is None:
            parts = parent.split("/")
            for depth in range(len(parts)):
                children.setdefault("/".join(parts[:depth]), set()).add(parts[depth])
            siblings = children[parent] = set()
        siblings.add(name)
    for folder, entries in children.items():
        path = f"{info.name}/{folder}/{KUSTOMIZATION_FILE}" if folder else f"{info.name}/{KUSTOMIZATION_FILE}"
        tree[path] = first + kustomization(entries)
    tree[f"{info.name}/{CLUSTER_INFO_FILE}"] = info.to_json()
    for name, content in sorted((files or {}).items()):
        tree[f"{info.name}/{name}"] = first + content if name.endswith((".yaml", ".yml")) else content
    if digests is not None:
        digests.update({path: file_digest(content) for path, content in tree.items() if path not in digests})
    return tree
