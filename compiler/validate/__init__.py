"""`platformc validate`: strict schema validation of generated Kubernetes trees.

Public entry points (the CLI and the compile pipeline call these):

* `SchemaRegistry(schema_dirs)` and `SchemaRegistry.validate(obj, kubernetes_version, file)`
* `validate_objects(objects, registry, allow_missing)` for in-memory objects
* `validate_tree(out_dir, schema_dirs, ...)` for a generated tree on disk
"""

from .checks import Check, ClusterObjects, Entry, ObjectSet, check_duplicates
from .core import UnsupportedKubernetesVersion, supported_versions
from .defaults import CHECK_IDS, DEFAULT_CHECKS, default_checks
from .findings import ERROR, WARNING, Finding, Report
from .schemas import SchemaRegistry
from .tree import iter_tree, validate_objects, validate_tree

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
