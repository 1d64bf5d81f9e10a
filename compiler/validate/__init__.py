"""`platformc validate`: strict schema validation of generated Kubernetes trees.

Public entry points (the CLI and the compile pipeline call these):

* `SchemaRegistry(schema_dirs)` and `SchemaRegistry.validate(obj, kubernetes_version, file)`
* `validate_objects(objects, registry, allow_missing)` for in-memory objects
* `validate_tree(out_dir, schema_dirs, ...)` for a generated tree on disk

Names are imported on first use (PEP 562): a compile that finds its cache current needs only
findings.py, not the schema and CEL machinery behind the rest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .checks import Check, ClusterObjects, Entry, ObjectSet, check_duplicates
    from .core import UnsupportedKubernetesVersion, supported_versions
    from .defaults import CHECK_IDS, DEFAULT_CHECKS, default_checks
    from .findings import ERROR, WARNING, Finding, Report
    from .schemas import SchemaRegistry
    from .tree import iter_tree, validate_objects, validate_tree

_MODULES = {
    "Check": "checks",
    "ClusterObjects": "checks",
    "Entry": "checks",
    "ObjectSet": "checks",
    "check_duplicates": "checks",
    "UnsupportedKubernetesVersion": "core",
    "supported_versions": "core",
    "CHECK_IDS": "defaults",
    "DEFAULT_CHECKS": "defaults",
    "default_checks": "defaults",
    "ERROR": "findings",
    "WARNING": "findings",
    "Finding": "findings",
    "Report": "findings",
    "SchemaRegistry": "schemas",
    "iter_tree": "tree",
    "validate_objects": "tree",
    "validate_tree": "tree",
}

__all__ = [
    "CHECK_IDS",
    "DEFAULT_CHECKS",
    "ERROR",
    "WARNING",
    "Check",
    "ClusterObjects",
    "Entry",
    "Finding",
    "ObjectSet",
    "Report",
    "SchemaRegistry",
    "UnsupportedKubernetesVersion",
    "check_duplicates",
    "default_checks",
    "iter_tree",
    "supported_versions",
    "validate_objects",
    "validate_tree",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
