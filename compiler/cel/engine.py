"""Parse and run CEL with cel-python, plus the Kubernetes libraries (library.py).

One parse serves both the type checker (which walks the lark tree) and evaluation.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import celpy
from celpy import celtypes
from celpy.evaluation import CELEvalError
from lark import Tree

from .library import FUNCTIONS, Quantity

__all__ = [
    "CelError",
    "CelSyntaxError",
    "Expression",
    "UnsupportedSyntax",
    "compile_expression",
    "evaluate",
    "to_cel",
    "to_python",
]


@functools.cache
def _env() -> celpy.Environment:
    """Built on first use: building cel-python's parser costs a fifth of a second, which a
    command that evaluates no CEL (a compile that finds its cache current) should not pay."""
    return celpy.Environment()


class CelSyntaxError(ValueError):
    """An expression that does not parse; the message points at the column."""


class UnsupportedSyntax(CelSyntaxError):
    """Valid Kubernetes CEL that cel-python cannot parse: optional field and index selection
    (`obj.?field`, `map[?key]`, cel-go's optional types, enabled by kube-apiserver since 1.29)."""


# cel-go parser/parser.go: `.?` (optional field selection) and `[?` (optional index).
_OPTIONAL_SYNTAX = re.compile(r"\.\s*\?|\[\s*\?")


class CelError(RuntimeError):
    """An expression that failed at run time (no such key, wrong type, ...)."""


@dataclass(frozen=True)
class Expression:
    source: str
    tree: Tree
    runner: Any


@lru_cache(maxsize=2048)
def compile_expression(source: str) -> Expression:
    try:
        tree = _env().compile(source)
    except celpy.CELParseError as exc:
        where = str(exc).strip()
        if _OPTIONAL_SYNTAX.search(source):
            raise UnsupportedSyntax(
                f"CEL optional syntax (`.?field` / `[?key]`) in {source!r} cannot be parsed by the CEL "
                "engine (cel-python), so it is not checked"
            ) from None
        raise CelSyntaxError(f"CEL syntax error in {source!r}:\n{where}") from None
    return Expression(source, tree, _env().program(tree, functions=FUNCTIONS))


def to_cel(value: Any) -> Any:
    """JSON-shaped Python (as decoded from YAML) → CEL values; None stays null."""
    return celpy.json_to_cel(value)


def to_python(value: Any) -> Any:
    """CEL values → plain Python, so results compare with ordinary literals."""
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, celtypes.IntType | celtypes.UintType):
        return int(value)
    if isinstance(value, celtypes.DoubleType):
        return float(value)
    if isinstance(value, celtypes.StringType):
        return str(value)
    if isinstance(value, celtypes.ListType):
        return [to_python(v) for v in value]
    if isinstance(value, celtypes.MapType):
        return {to_python(k): to_python(v) for k, v in value.items()}
    if isinstance(value, Quantity):
        return value
    return value


def evaluate(expression: Expression | str, activation: dict[str, Any], raw: bool = False) -> Any:
    """Run one expression; `activation` values must already be CEL values (see to_cel).

    The result is plain Python unless `raw` (then the CEL value, to bind it again).

    Raises CelError when CEL reports an error, as the API server would.
    """
    compiled = compile_expression(expression) if isinstance(expression, str) else expression
    try:
        result = compiled.runner.evaluate(activation)
    except CELEvalError as exc:
        raise CelError(_describe(exc)) from None
    except (TypeError, ValueError, KeyError, AttributeError, ZeroDivisionError) as exc:
        raise CelError(f"{type(exc).__name__}: {exc}") from None
    if isinstance(result, CELEvalError):
        raise CelError(_describe(result))
    return result if raw else to_python(result)


def _describe(error: CELEvalError) -> str:
    return str(error.args[0]) if error.args else "evaluation error"
