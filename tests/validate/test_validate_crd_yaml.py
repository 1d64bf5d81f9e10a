"""CRD YAML files given with --schemas: served versions validate, unserved ones are missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from compiler.validate import SchemaRegistry
from compiler.validate.crd import convert_openapi_v3

CRD_YAML = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: modelcaches.example.acme.dev
spec:
  group: example.acme.dev
  names: {kind: ModelCache, plural: modelcaches, singular: modelcache, listKind: ModelCacheList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            apiVersion: {type: string}
            kind: {type: string}
            metadata: {type: object}
            spec:
              type: object
              required: [storageUri]
              properties:
                storageUri: {type: string}
                size: {x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}]}
                nodeGroup: {type: string, nullable: true}
                tuning:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
                  properties:
                    mode: {type: string}
    - name: v1alpha1
      served: false
      storage: false
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: not-a-crd}
"""


def cache(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.acme.dev/v1",
        "kind": "ModelCache",
        "metadata": {"name": "llama", "namespace": "ai-research"},
        "spec": {"storageUri": "s3://models/llama", **spec},
    }


@pytest.fixture()
def crd_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "crds" / "nested"
    folder.mkdir(parents=True)
    (folder / "modelcache-crd.yaml").write_text(CRD_YAML)
    (folder / "unrelated.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    return tmp_path / "crds"


def test_served_version_validates(crd_dir: Path) -> None:
    registry = SchemaRegistry([crd_dir])
    assert registry.validate(cache(size=10, nodeGroup=None, tuning={"anything": {"goes": 1}}), "1.34") == []
    assert registry.validate(cache(size="10Gi"), "1.34") == []


def test_served_version_is_strict(crd_dir: Path) -> None:
    registry = SchemaRegistry([crd_dir])
    findings = registry.validate(cache(sise=10, size=[1]), "1.34", "c/mc.yaml")
    assert sorted((f.path, f.message) for f in findings) == [
        ("$.spec.sise", 'unknown field "sise" (did you mean "size"?)'),
        ("$.spec.size", "expected integer or string, got array"),
    ]
    missing = cache()
    del missing["spec"]["storageUri"]
    assert [(f.path, f.message) for f in registry.validate(missing, "1.34")] == [
        ("$.spec.storageUri", 'missing required field "storageUri"')
    ]


def test_unserved_version_is_reported_missing(crd_dir: Path) -> None:
    registry = SchemaRegistry([crd_dir])
    obj = cache()
    obj["apiVersion"] = "example.acme.dev/v1alpha1"
    [finding] = registry.validate(obj, "1.34")
    assert finding.check == "missing-schema"
    assert "served: false" in finding.message


def test_single_crd_file_as_schema_source(crd_dir: Path) -> None:
    registry = SchemaRegistry([crd_dir / "nested" / "modelcache-crd.yaml"])
    assert registry.validate(cache(), "1.34") == []


def test_yaml_is_only_parsed_when_its_kind_is_needed(crd_dir: Path) -> None:
    registry = SchemaRegistry([crd_dir])
    (crd_dir / "nested" / "broken-crd.yaml").write_text(
        "kind: CustomResourceDefinition # ModelCache\n  bad: [\n"
    )
    # A built-in kind never touches the CRD folder, so the broken file goes unnoticed...
    assert (
        registry.validate({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}, "1.34") == []
    )
    assert registry.load_errors == []
    # ...whereas a kind it may define makes the registry read it and report the problem,
    # while the good CRD file still provides the schema.
    assert registry.validate(cache(), "1.34") == []
    [(file, message)] = registry.load_errors
    assert file.endswith("broken-crd.yaml")
    assert "invalid YAML" in message


def test_conversion_matches_catalog_rules() -> None:
    converted = convert_openapi_v3(
        {
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "properties": {
                        "port": {"type": "string", "format": "int-or-string"},
                        "open": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                            "properties": {"a": {"type": "string"}},
                        },
                        "map": {"type": "object", "additionalProperties": {"type": "string"}},
                        "properties": {"type": "object", "properties": {"x": {"type": "string"}}},
                    },
                }
            },
        }
    )
    assert "additionalProperties" not in converted  # root left open, as the catalog does
    spec = converted["properties"]["spec"]
    assert spec["additionalProperties"] is False
    assert spec["properties"]["port"] == {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    assert "additionalProperties" not in spec["properties"]["open"]
    assert spec["properties"]["map"]["additionalProperties"] == {"type": "string"}
    # A field literally named "properties" is a field, not a schema keyword.
    assert spec["properties"]["properties"]["additionalProperties"] is False
    assert "additionalProperties" not in spec["properties"]
