"""`platformc schema` gives editors a JSON Schema that accepts the example and flags mistakes."""

from __future__ import annotations

import json

import jsonschema_rs
import yaml
from click.testing import CliRunner

from compiler.cli import main
from tests.conftest import EXAMPLE_SPEC


def _validator() -> jsonschema_rs.Validator:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    return jsonschema_rs.validator_for(json.loads(result.stdout))


def test_schema_accepts_every_example_document() -> None:
    validator = _validator()
    docs = [d for p in sorted(EXAMPLE_SPEC.rglob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]
    assert len(docs) >= 10
    for doc in docs:
        assert validator.is_valid(doc), list(validator.iter_errors(doc))[:3]


def test_schema_rejects_unknown_fields_and_wrong_kinds() -> None:
    validator = _validator()
    team = {
        "apiVersion": "platformc.dev/v1alpha1",
        "kind": "Team",
        "metadata": {"name": "t"},
        "spec": {
            "costCenter": "c",
            "owners": ["o"],
            "clusters": [{"cluster": "c", "cpu": "1", "memory": "1Gi"}],
        },
    }
    assert validator.is_valid(team)
    assert not validator.is_valid({**team, "spec": {**team["spec"], "priorty": "high"}})
    assert not validator.is_valid({**team, "kind": "Teem"})
