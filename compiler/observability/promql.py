"""Small PromQL building blocks, so queries are assembled from typed parts instead of pasted strings.

Label values are quoted with JSON string escaping, which PromQL string literals accept, so a
name from the spec can never break out of a matcher.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from json.encoder import encode_basestring_ascii

import promql_parser

Matchers = Mapping[str, str | tuple[str, str]]  # label → value (=) or (op, value) with op in = != =~ !~


def quote(value: str) -> str:
    # What json.dumps(value) returns for a string, without its encoder set-up (a platform's queries
    # quote thousands of label values per cluster).
    return encode_basestring_ascii(value)


def selector(metric: str, matchers: Matchers | None = None) -> str:
    """`metric{a="x", b=~"y"}`; matchers sorted by label so output is stable."""
    if not matchers:
        return metric
    # A cluster's dashboards and rules make thousands of selectors: one comprehension, no helpers.
    parts = [
        f"{label}{spec[0]}{encode_basestring_ascii(spec[1])}"
        if isinstance(spec, tuple)
        else f"{label}={encode_basestring_ascii(spec)}"
        for label, spec in sorted(matchers.items())
    ]
    return f"{metric}{{{', '.join(parts)}}}"


def by(labels: Iterable[str]) -> str:
    return f"by ({', '.join(labels)})"


def one_of(values: Iterable[str]) -> tuple[str, str]:
    """A regex matcher for exactly these values (escaped; names are DNS labels but be safe)."""
    escaped = sorted({v.replace("\\", "\\\\").replace(".", "\\.") for v in values})
    return ("=~", "|".join(escaped))


def number(value: float) -> str:
    """A float literal without binary-representation noise (0.1 * 14.4 → 1.44, not 1.4400000000000002)."""
    text = f"{value:.10g}"
    return text


def metric_names(expr: str) -> set[str]:
    """Every metric name an expression reads. Raises ValueError if it does not parse."""
    found: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.MatrixSelector):
            node = node.vector_selector
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                found.add(node.name)
            for m in node.matchers.matchers:  # the {__name__="..."} form
                if m.name == "__name__":
                    found.add(m.value)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found
