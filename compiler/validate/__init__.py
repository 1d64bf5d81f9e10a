"""`platformc validate`: strict schema validation of generated Kubernetes trees.

Public entry points (the CLI and the compile pipeline call these):

* `SchemaRegistry(schema_dirs)` and `SchemaRegistry.validate(obj, kubernetes_version, file)`
* `validate_objects(objects, registry, allow_missing)` for in-memory objects
* `validate_tree(out_dir, schema_dirs, ...)` for a generated tree on disk
* `pull_schemas(targets, cache_dir, ...)` to fill a CRD schema cache
"""
