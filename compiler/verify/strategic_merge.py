"""Kubernetes strategic merge patch, for the two types KServe merges: Container and PodSpec.

KServe merges a serving runtime's container with the InferenceService's model container, and the
runtime's pod fields with the predictor's, through `strategicpatch.StrategicMergePatch`
(kserve v0.20.0 pkg/utils/container_merge.go, pkg/controller/v1beta1/inferenceservice/utils/
utils.go MergePodSpec). The merge keys below are the `patchMergeKey`/`patchStrategy:"merge"` tags
of k8s.io/api core/v1 types.go; every other list is atomic (the patch replaces it), every map is
merged key by key, and a null in the patch deletes the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compiler.verify.copying import copy_tree

# field name -> merge key, for lists merged element by element (core/v1 types.go tags).
CONTAINER_LIST_KEYS = {
    "ports": "containerPort",
    "env": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
}
POD_LIST_KEYS = {
    "volumes": "name",
    "initContainers": "name",
    "containers": "name",
    "ephemeralContainers": "name",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "schedulingGates": "name",
}
CONTAINER_FIELDS = {"initContainers", "containers", "ephemeralContainers"}
RETAIN_KEYS = {"volumes", "resourceClaims"}  # patchStrategy "merge,retainKeys"


def _merge_map(
    base: Mapping[str, Any], patch: Mapping[str, Any], list_keys: Mapping[str, str]
) -> dict[str, Any]:
    out = copy_tree(dict(base))
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif key in list_keys and isinstance(value, list) and isinstance(out.get(key), list):
            element_keys = CONTAINER_LIST_KEYS if key in CONTAINER_FIELDS else {}
            out[key] = _merge_list(
                out[key], value, list_keys[key], retain=key in RETAIN_KEYS, element_keys=element_keys
            )
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge_map(out[key], value, {})
        else:
            out[key] = copy_tree(value)
    return out


def _merge_list(
    base: list[Any], patch: list[Any], merge_key: str, *, retain: bool, element_keys: Mapping[str, str]
) -> list[Any]:
    merged = [copy_tree(item) for item in base]
    index = {item.get(merge_key): i for i, item in enumerate(merged) if isinstance(item, Mapping)}
    for item in patch:
        key = item.get(merge_key) if isinstance(item, Mapping) else None
        if key is not None and key in index:
            combined = _merge_map(merged[index[key]], item, element_keys)
            if retain:
                combined = {k: v for k, v in combined.items() if k in item}
            merged[index[key]] = combined
        else:
            merged.append(copy_tree(item))
    return merged


def merge_container(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    return _merge_map(base, patch, CONTAINER_LIST_KEYS)


def merge_pod_spec(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    return _merge_map(base, patch, POD_LIST_KEYS)
