"""The Kubernetes CEL libraries on cel-python, checked against upstream behaviour.

Sources: k8s.io/apiserver/pkg/cel/library/{lists,regex,quantity}.go and cel-go
ext/strings.go at the versions Kubernetes 1.33-1.35 vendor.
"""

from __future__ import annotations

import pytest

from compiler.cel import CelError, CelSyntaxError, compile_expression, evaluate
from compiler.cel.engine import to_cel


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('"a,b,c".split(",")', ["a", "b", "c"]),
        ('"a,b,c".split(",", 2)', ["a", "b,c"]),
        ('("a," + "b").split(",").join("-")', "a-b"),  # concatenation results are strings too
        ('["x", "y"].join("/")', "x/y"),
        ('"GPU-A100".lowerAscii()', "gpu-a100"),
        ('" v1 ".trim()', "v1"),
        ('"registry.io/team/app".indexOf("/")', 11),
        ('"registry.io/team/app".substring(0, 11)', "registry.io"),
        ("[3, 1, 2].max()", 3),
        ("[1, 2, 3].sum()", 6),
        ("[1, 2, 3].isSorted()", True),
        ("[1, 2].indexOf(2)", 1),
        ('"abc123def".find("[0-9]+")', "123"),
        ('"a1b2".findAll("[0-9]")', ["1", "2"]),
        ('quantity("1Gi").isGreaterThan(quantity("1G"))', True),
        ('quantity("500m").compareTo(quantity("0.5"))', 0),
        ('quantity("8").add(4).asInteger()', 12),
        ('quantity("1.5").isInteger()', False),
        ('quantity("2e3").asInteger()', 2000),
        ('isQuantity("12x")', False),
        ('[quantity("1"), quantity("2")].sum().asInteger()', 3),
        ('"nvcr.io/nvidia/pytorch:24.05".matches("^nvcr\\\\.io/")', True),
    ],
)
def test_kubernetes_library_functions(expression: str, expected: object) -> None:
    assert evaluate(expression, {}) == expected


def test_runtime_errors_are_cel_errors_not_crashes() -> None:
    """A missing key is a CEL error (the API server maps it to failurePolicy)."""
    with pytest.raises(CelError, match="no such member"):
        evaluate("object.spec.nodeName == 'x'", {"object": to_cel({"spec": {}})})
    with pytest.raises(CelError, match=r"fractional|precision"):
        evaluate('quantity("1.5").asInteger()', {})
    with pytest.raises(CelError):
        evaluate('"x".substring(3)', {})


def test_syntax_error_points_at_the_column() -> None:
    with pytest.raises(CelSyntaxError) as err:
        compile_expression("object.spec.(")
    assert "object.spec.(\n            ^" in str(err.value)
