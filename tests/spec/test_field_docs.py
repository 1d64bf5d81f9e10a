"""Editor support that teaches: every spec field has a description, unit where one applies, and an
example; `platformc spec-schema` carries them (yaml-language-server shows `description` on hover and
offers `examples`); the README's spec reference is generated from the same table."""

from __future__ import annotations

import json

from click.testing import CliRunner

from compiler.cli import main
from compiler.spec import models
from compiler.spec.field_docs import DOCS, reachable_models, undocumented
from compiler.spec.reference import BEGIN, END, reference
from tests.conftest import REPO_ROOT

SPEC_MODELS = reachable_models(models.DOCUMENT_KINDS.values())


def test_every_field_is_documented() -> None:
    assert undocumented(SPEC_MODELS) == [], "add them to compiler/spec/field_docs.py"


def test_no_entry_for_a_field_that_does_not_exist() -> None:
    fields = {f"{m.__name__}.{f}" for m in SPEC_MODELS for f in m.model_fields}
    shared = {f"*.{f}" for m in SPEC_MODELS for f in m.model_fields}  # `*.field`: that field anywhere
    assert set(DOCS) - fields - shared == set()


def test_spec_schema_carries_description_unit_and_example() -> None:
    result = CliRunner().invoke(main, ["spec-schema"])
    assert result.exit_code == 0
    defs = json.loads(result.stdout)["$defs"]
    cost = defs["GPUFlavorSpec"]["properties"]["hourlyCost"]
    assert (
        cost["description"]
        == "cost of one GPU-hour (of one slice for MIG / time-slicing) (unit: USD per GPU-hour)"
    )
    assert cost["examples"] == [3.5]
    missing = [
        f"{name}.{field}"
        for name, model in defs.items()
        for field, prop in (model.get("properties") or {}).items()
        if not prop.get("description") or "examples" not in prop
    ]
    assert missing == []


def test_readme_spec_reference_is_generated() -> None:
    text = (REPO_ROOT / "README.md").read_text()
    block = text[text.index(BEGIN) : text.index(END) + len(END) + 1]
    assert block == reference(), "README drifted: run `python3 -m compiler.spec.reference README.md`"
    assert "| `nodePools[].gpusPerNode` | GPUs per node (unit: GPUs) | required | `8` |" in block
