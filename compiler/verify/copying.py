"""Deep copies of Kubernetes objects (dicts, lists and scalars, as YAML and JSON load them)."""

from __future__ import annotations

import copy
from typing import TypeVar

T = TypeVar("T")
_SCALARS = (str, int, float, bool, type(None))


def copy_tree(value: T) -> T:
    """What copy.deepcopy returns for loaded YAML/JSON data, without its memo and dispatch (several
    times faster; the pods verify builds copy their templates many times)."""
    kind = type(value)
    if kind is dict:
        return {k: copy_tree(v) for k, v in value.items()}  # type: ignore[attr-defined,return-value]
    if kind is list:
        return [copy_tree(v) for v in value]  # type: ignore[attr-defined,return-value]
    if isinstance(value, _SCALARS):
        return value
    return copy.deepcopy(value)
