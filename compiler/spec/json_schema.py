"""JSON Schema of the spec for editors: any document is one of the five kinds, chosen by `kind`."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from compiler.spec.models import DOCUMENT_KINDS

SCHEMA_ID = "https://platformc.dev/schemas/v1alpha1/spec.json"


def spec_json_schema() -> dict[str, Any]:
    models = list(DOCUMENT_KINDS.values())
    union: Any = models[0]
    for model in models[1:]:
        union = union | model
    schema = TypeAdapter(union).json_schema(ref_template="#/$defs/{model}")
    defs = schema.pop("$defs", {})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "platformc spec document",
        "description": "One document of platform-spec/: Platform, GPUFlavor, Cluster, Team or ServingPath.",
        "$defs": defs,
        "oneOf": [{"$ref": f"#/$defs/{m.__name__}"} for m in models],
    }
