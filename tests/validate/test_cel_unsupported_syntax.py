"""CEL the engine (cel-python) cannot parse: CEL optional syntax (`.?field`, `[?key]`), which the
NVIDIA DRA driver chart v0.4.1 uses in templates/validatingadmissionpolicy.yaml. In a chart's
policy (hydrated output) that is a warning naming the syntax; platformc's own policies (labelled
app.kubernetes.io/managed-by: platformc) stay strictly checked, so the same expression is an error."""

from __future__ import annotations

import copy
import re
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.tree_contract import MANAGED_BY
from compiler.validate import validate_objects
from compiler.validate.findings import ERROR, WARNING, Finding
from tests.conftest import shared_registry

TEMPLATE = "dra-driver-nvidia-gpu/templates/validatingadmissionpolicy.yaml"


@pytest.fixture(scope="module")
def dra_policy(shared_charts: Path) -> dict[str, Any]:
    """The chart's ValidatingAdmissionPolicy, its template actions replaced by plain names."""
    with tarfile.open(shared_charts / "dra-driver-nvidia-gpu-0.4.1.tgz") as archive:
        member = archive.extractfile(TEMPLATE)
        assert member is not None
        text = member.read().decode()
    policy: dict[str, Any] = yaml.safe_load(re.sub(r"\{\{[^}]*\}\}", "dra-driver", text))
    assert ".?nodeName" in str(policy["spec"]["variables"])  # the syntax this test is about
    return policy


def _cel_findings(policy: dict[str, Any]) -> list[Finding]:
    loaded = [("prod", "1.34", "prod/components/dra/vap.yaml", policy)]
    report = validate_objects(loaded, shared_registry(), allow_missing=True)
    return [f for f in report.findings if f.check == "cel"]


def test_chart_policy_with_optional_syntax_is_a_warning_naming_it(dra_policy: dict[str, Any]) -> None:
    findings = _cel_findings(dra_policy)
    assert findings and all(f.severity == WARNING for f in findings), findings
    assert any("optional syntax" in f.message and ".?nodeName" in f.message for f in findings)
    assert any("[?'authentication.kubernetes.io/node-name']" in f.message for f in findings)


def test_platformc_policy_with_optional_syntax_is_an_error(dra_policy: dict[str, Any]) -> None:
    ours = copy.deepcopy(dra_policy)
    ours["metadata"]["labels"] = dict(MANAGED_BY)
    errors = [f for f in _cel_findings(ours) if f.severity == ERROR]
    assert any("optional syntax" in f.message and ".?nodeName" in f.message for f in errors)


def test_chart_policy_with_other_syntax_errors_is_still_an_error(dra_policy: dict[str, Any]) -> None:
    broken = copy.deepcopy(dra_policy)
    broken["spec"]["validations"][0]["expression"] = "object.spec.nodeName =="
    errors = [f for f in _cel_findings(broken) if f.severity == ERROR]
    assert any("CEL syntax error" in f.message for f in errors), errors
