"""The Kubernetes CEL libraries platformc's expressions use, as cel-python functions.

Kubernetes adds these to every admission CEL environment
(k8s.io/apiserver/pkg/cel/library: lists.go, regex.go, quantity.go; strings from cel-go
ext.Strings). cel-python calls `x.f(a)` as `f(x, a)`, so one Python function serves a
name whatever its receiver; receivers of the wrong type are CEL errors, as in cel-go.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import re2
from celpy import celtypes
from celpy.evaluation import CELEvalError

from compiler.spec.quantity import parse_kubernetes_quantity

__all__ = ["FUNCTIONS", "Quantity"]


class Quantity:
    """A parsed resource quantity (the `kubernetes.Quantity` CEL type)."""

    __slots__ = ("text", "value")

    def __init__(self, text: str) -> None:
        self.text = text
        self.value = parse_kubernetes_quantity(text)

    @classmethod
    def of(cls, value: Decimal) -> Quantity:
        quantity = cls("0")
        quantity.value = value
        quantity.text = str(value.normalize()) if value == value.to_integral_value() else str(value)
        return quantity

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Quantity) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __repr__(self) -> str:
        return f"Quantity({self.text!r})"


def _error(message: str) -> CELEvalError:
    return CELEvalError(message, TypeError, None)


def _guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A wrong receiver or argument is a CEL error value, never a Python exception."""

    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        for arg in args:
            if isinstance(arg, CELEvalError):
                return arg
        try:
            return fn(*args)
        except (TypeError, ValueError, IndexError, re2.error) as exc:
            return _error(f"{fn.__name__.lstrip('_')}: {exc}")

    return wrapper


def _string(value: Any) -> str:
    if not isinstance(value, str):  # cel-python's + may hand back a plain str
        raise TypeError(f"expected string, got {type(value).__name__}")
    return str(value)


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"expected list, got {type(value).__name__}")
    return list(value)


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool | celtypes.BoolType):
        raise TypeError(f"expected int, got {type(value).__name__}")
    return int(value)


def _quantity_arg(value: Any) -> Quantity:
    if isinstance(value, Quantity):
        return value
    if isinstance(value, celtypes.IntType):
        return Quantity.of(Decimal(int(value)))
    raise TypeError(f"expected quantity or int, got {type(value).__name__}")


# --- strings (cel-go ext/strings.go, the version Kubernetes enables) ----------------


@_guarded
def _split(text: Any, sep: Any, limit: Any = None) -> celtypes.ListType:
    s, d = _string(text), _string(sep)
    n = -1 if limit is None else _int(limit)
    if n == 0:
        return celtypes.ListType([])
    if d:
        parts = s.split(d) if n < 0 else s.split(d, n - 1)
    else:  # an empty separator splits into characters
        parts = list(s) if n < 0 or len(s) <= n else [*s[: n - 1], s[n - 1 :]]
    return celtypes.ListType([celtypes.StringType(p) for p in parts])


@_guarded
def _join(items: Any, sep: Any = None) -> celtypes.StringType:
    return celtypes.StringType(("" if sep is None else _string(sep)).join(_string(i) for i in _list(items)))


@_guarded
def _lowerAscii(text: Any) -> celtypes.StringType:
    return celtypes.StringType("".join(c.lower() if c.isascii() else c for c in _string(text)))


@_guarded
def _upperAscii(text: Any) -> celtypes.StringType:
    return celtypes.StringType("".join(c.upper() if c.isascii() else c for c in _string(text)))


@_guarded
def _replace(text: Any, old: Any, new: Any, limit: Any = None) -> celtypes.StringType:
    n = -1 if limit is None else _int(limit)
    return celtypes.StringType(_string(text).replace(_string(old), _string(new), n))


@_guarded
def _trim(text: Any) -> celtypes.StringType:
    return celtypes.StringType(_string(text).strip())


@_guarded
def _substring(text: Any, start: Any, end: Any = None) -> celtypes.StringType:
    s = _string(text)
    b, e = _int(start), len(s) if end is None else _int(end)
    if not 0 <= b <= e <= len(s):
        raise IndexError(f"substring range [{b}:{e}] out of range for length {len(s)}")
    return celtypes.StringType(s[b:e])


@_guarded
def _charAt(text: Any, index: Any) -> celtypes.StringType:
    s, i = _string(text), _int(index)
    if not 0 <= i <= len(s):
        raise IndexError(f"index {i} out of range")
    return celtypes.StringType(s[i : i + 1])


@_guarded
def _indexOf(receiver: Any, needle: Any, start: Any = None) -> celtypes.IntType:
    if isinstance(receiver, list):  # lists.go indexOf
        items = list(receiver)
        return celtypes.IntType(items.index(needle) if needle in items else -1)
    s = _string(receiver)
    return celtypes.IntType(s.find(_string(needle), 0 if start is None else _int(start)))


@_guarded
def _lastIndexOf(receiver: Any, needle: Any) -> celtypes.IntType:
    if isinstance(receiver, list):
        items = list(receiver)
        return celtypes.IntType(len(items) - 1 - items[::-1].index(needle) if needle in items else -1)
    return celtypes.IntType(_string(receiver).rfind(_string(needle)))


# --- lists (k8s.io/apiserver/pkg/cel/library/lists.go) ----------------------------


@_guarded
def _sum(items: Any) -> Any:
    values = _list(items)
    if values and isinstance(values[0], Quantity):
        return Quantity.of(sum((_quantity_arg(v).value for v in values), Decimal(0)))
    total = celtypes.IntType(0) if not values or isinstance(values[0], celtypes.IntType) else values[0] * 0
    for value in values:
        total = total + value
    return total


def _extreme(pick: Callable[..., Any]) -> Callable[[Any], Any]:
    def extreme(items: Any) -> Any:
        values = _list(items)
        if not values:
            raise ValueError(f"{pick.__name__} called on an empty list")
        return pick(values, key=lambda v: v.value if isinstance(v, Quantity) else v)

    extreme.__name__ = pick.__name__
    return _guarded(extreme)


_min = _extreme(min)
_max = _extreme(max)


@_guarded
def _isSorted(items: Any) -> celtypes.BoolType:
    values = _list(items)
    return celtypes.BoolType(all(a <= b for a, b in itertools.pairwise(values)))


# --- regex (k8s.io/apiserver/pkg/cel/library/regex.go) ----------------------------


@_guarded
def _find(text: Any, pattern: Any) -> celtypes.StringType:
    match = re2.search(_string(pattern), _string(text))
    return celtypes.StringType(match.group(0) if match else "")


@_guarded
def _findAll(text: Any, pattern: Any, limit: Any = None) -> celtypes.ListType:
    found = [m.group(0) for m in re2.finditer(_string(pattern), _string(text))]
    if limit is not None and _int(limit) >= 0:
        found = found[: _int(limit)]
    return celtypes.ListType([celtypes.StringType(f) for f in found])


# --- quantity (k8s.io/apiserver/pkg/cel/library/quantity.go) ----------------------


@_guarded
def _quantity(text: Any) -> Quantity:
    return Quantity(_string(text))


@_guarded
def _isQuantity(text: Any) -> celtypes.BoolType:
    try:
        Quantity(_string(text))
    except ValueError:
        return celtypes.BoolType(False)
    return celtypes.BoolType(True)


def _quantity_receiver(value: Any) -> Quantity:
    if not isinstance(value, Quantity):
        raise TypeError(f"expected quantity, got {type(value).__name__}")
    return value


@_guarded
def _sign(q: Any) -> celtypes.IntType:
    v = _quantity_receiver(q).value
    return celtypes.IntType((v > 0) - (v < 0))


@_guarded
def _compareTo(q: Any, other: Any) -> celtypes.IntType:
    a, b = _quantity_receiver(q).value, _quantity_receiver(other).value
    return celtypes.IntType((a > b) - (a < b))


@_guarded
def _isGreaterThan(q: Any, other: Any) -> celtypes.BoolType:
    return celtypes.BoolType(_quantity_receiver(q).value > _quantity_receiver(other).value)


@_guarded
def _isLessThan(q: Any, other: Any) -> celtypes.BoolType:
    return celtypes.BoolType(_quantity_receiver(q).value < _quantity_receiver(other).value)


@_guarded
def _add(q: Any, other: Any) -> Quantity:
    return Quantity.of(_quantity_receiver(q).value + _quantity_arg(other).value)


@_guarded
def _sub(q: Any, other: Any) -> Quantity:
    return Quantity.of(_quantity_receiver(q).value - _quantity_arg(other).value)


@_guarded
def _isInteger(q: Any) -> celtypes.BoolType:
    v = _quantity_receiver(q).value
    return celtypes.BoolType(v == v.to_integral_value() and abs(v) < 2**63)


@_guarded
def _asInteger(q: Any) -> celtypes.IntType:
    v = _quantity_receiver(q).value
    if v != v.to_integral_value() or abs(v) >= 2**63:
        raise ValueError(f"cannot convert quantity {v} to an integer without losing precision")
    return celtypes.IntType(int(v))


@_guarded
def _asApproximateFloat(q: Any) -> celtypes.DoubleType:
    return celtypes.DoubleType(float(_quantity_receiver(q).value))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "split": _split,
    "join": _join,
    "lowerAscii": _lowerAscii,
    "upperAscii": _upperAscii,
    "replace": _replace,
    "trim": _trim,
    "substring": _substring,
    "charAt": _charAt,
    "indexOf": _indexOf,
    "lastIndexOf": _lastIndexOf,
    "sum": _sum,
    "min": _min,
    "max": _max,
    "isSorted": _isSorted,
    "find": _find,
    "findAll": _findAll,
    "quantity": _quantity,
    "isQuantity": _isQuantity,
    "sign": _sign,
    "compareTo": _compareTo,
    "isGreaterThan": _isGreaterThan,
    "isLessThan": _isLessThan,
    "add": _add,
    "sub": _sub,
    "isInteger": _isInteger,
    "asInteger": _asInteger,
    "asApproximateFloat": _asApproximateFloat,
}
