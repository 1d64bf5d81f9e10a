"""Static type checking of a parsed CEL expression against declared variable types.

What the API server's checker reports for a ValidatingAdmissionPolicy
(status.typeChecking, k8s.io/apiserver/pkg/admission/plugin/policy/validating/typechecking.go):
an undefined field, an undeclared variable or function, no overload for the argument
types, a non-bool validation. `dyn` (int-or-string, preserve-unknown-fields) is accepted
anywhere, as in cel-go.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lark import Token, Tree

from .engine import compile_expression
from .types import (
    BOOL,
    BYTES,
    DOUBLE,
    DURATION,
    DYN,
    INT,
    NULL,
    QUANTITY,
    STRING,
    TIMESTAMP,
    TYPE,
    UINT,
    CelType,
    ListType,
    MapType,
    ObjectType,
)

__all__ = ["TypeCheckError", "check_expression"]

_MACROS = {"all", "exists", "exists_one", "map", "filter"}


class TypeCheckError(ValueError):
    pass


@dataclass(frozen=True)
class _Overload:
    receiver: str | None  # kind the receiver must have; None for a global call
    args: tuple[str, ...]
    result: CelType | Callable[[CelType | None, list[CelType]], CelType]


def _elem(receiver: CelType | None, _args: list[CelType]) -> CelType:
    return receiver.elem if isinstance(receiver, ListType) else DYN


def _o(receiver: str | None, args: tuple[str, ...], result: Any) -> _Overload:
    return _Overload(receiver, args, result)


# Standard CEL functions plus the Kubernetes libraries in library.py.
_FUNCTIONS: dict[str, list[_Overload]] = {
    "size": [_o(None, ("any",), INT), _o("any", (), INT)],
    "int": [_o(None, ("any",), INT)],
    "uint": [_o(None, ("any",), UINT)],
    "double": [_o(None, ("any",), DOUBLE)],
    "string": [_o(None, ("any",), STRING)],
    "bool": [_o(None, ("any",), BOOL)],
    "bytes": [_o(None, ("any",), BYTES)],
    "dyn": [_o(None, ("any",), DYN)],
    "type": [_o(None, ("any",), TYPE)],
    "duration": [_o(None, ("string",), DURATION)],
    "timestamp": [_o(None, ("string",), TIMESTAMP)],
    "startsWith": [_o("string", ("string",), BOOL)],
    "endsWith": [_o("string", ("string",), BOOL)],
    "contains": [_o("string", ("string",), BOOL)],
    "matches": [_o("string", ("string",), BOOL), _o(None, ("string", "string"), BOOL)],
    "split": [_o("string", ("string",), ListType(STRING)), _o("string", ("string", "int"), ListType(STRING))],
    "join": [_o("list", (), STRING), _o("list", ("string",), STRING)],
    "lowerAscii": [_o("string", (), STRING)],
    "upperAscii": [_o("string", (), STRING)],
    "replace": [
        _o("string", ("string", "string"), STRING),
        _o("string", ("string", "string", "int"), STRING),
    ],
    "trim": [_o("string", (), STRING)],
    "substring": [_o("string", ("int",), STRING), _o("string", ("int", "int"), STRING)],
    "charAt": [_o("string", ("int",), STRING)],
    "indexOf": [
        _o("string", ("string",), INT),
        _o("string", ("string", "int"), INT),
        _o("list", ("any",), INT),
    ],
    "lastIndexOf": [_o("string", ("string",), INT), _o("list", ("any",), INT)],
    "sum": [_o("list", (), _elem)],
    "min": [_o("list", (), _elem)],
    "max": [_o("list", (), _elem)],
    "isSorted": [_o("list", (), BOOL)],
    "find": [_o("string", ("string",), STRING)],
    "findAll": [
        _o("string", ("string",), ListType(STRING)),
        _o("string", ("string", "int"), ListType(STRING)),
    ],
    "quantity": [_o(None, ("string",), QUANTITY)],
    "isQuantity": [_o(None, ("string",), BOOL)],
    "sign": [_o("kubernetes.Quantity", (), INT)],
    "compareTo": [_o("kubernetes.Quantity", ("kubernetes.Quantity",), INT)],
    "isGreaterThan": [_o("kubernetes.Quantity", ("kubernetes.Quantity",), BOOL)],
    "isLessThan": [_o("kubernetes.Quantity", ("kubernetes.Quantity",), BOOL)],
    "add": [
        _o("kubernetes.Quantity", ("kubernetes.Quantity",), QUANTITY),
        _o("kubernetes.Quantity", ("int",), QUANTITY),
    ],
    "sub": [
        _o("kubernetes.Quantity", ("kubernetes.Quantity",), QUANTITY),
        _o("kubernetes.Quantity", ("int",), QUANTITY),
    ],
    "isInteger": [_o("kubernetes.Quantity", (), BOOL)],
    "asInteger": [_o("kubernetes.Quantity", (), INT)],
    "asApproximateFloat": [_o("kubernetes.Quantity", (), DOUBLE)],
}

_NUMERIC = {"int", "uint", "double"}


def _fits(actual: CelType, wanted: str) -> bool:
    if wanted == "any" or actual.kind == "dyn":
        return True
    if wanted == "any-container":
        return actual.kind in ("string", "bytes", "list", "map", "object")
    return actual.kind == wanted


def _join(a: CelType, b: CelType) -> CelType:
    if a == b or b is NULL:
        return a
    if a is NULL:
        return b
    if isinstance(a, ObjectType) and isinstance(b, ObjectType) and a.schema is b.schema:
        return a
    return DYN


class _Checker:
    def __init__(self, source: str, env: Mapping[str, CelType]) -> None:
        self.source = source
        self.scopes: list[dict[str, CelType]] = [dict(env)]
        self.errors: list[str] = []

    def fail(self, message: str) -> CelType:
        if message not in self.errors:
            self.errors.append(message)
        return DYN

    def lookup(self, name: str) -> CelType | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def visit(self, node: Tree | Token) -> CelType:
        if isinstance(node, Token):
            return DYN
        handler = getattr(self, f"_{node.data}", None)
        if handler is None:
            if len(node.children) == 1:
                return self.visit(node.children[0])
            return self.fail(f"unsupported syntax '{node.data}'")
        return handler(node)

    # --- operators -----------------------------------------------------------
    def _expr(self, node: Tree) -> CelType:
        if len(node.children) == 1 or node.children[1] is None:
            return self.visit(node.children[0])
        cond, then, other = (self.visit(c) for c in node.children)
        if not _fits(cond, "bool"):
            self.fail(f"the condition of ?: must be bool, not {cond.describe()}")
        return _join(then, other)

    def _logical(self, node: Tree, op: str) -> CelType:
        if len(node.children) == 1 or node.children[0] is None:
            return self.visit(node.children[-1])
        for child in node.children:
            t = self.visit(child)
            if not _fits(t, "bool"):
                self.fail(f"no matching overload for '{op}' applied to {t.describe()}")
        return BOOL

    def _conditionalor(self, node: Tree) -> CelType:
        return self._logical(node, "||")

    def _conditionaland(self, node: Tree) -> CelType:
        return self._logical(node, "&&")

    def _relation(self, node: Tree) -> CelType:
        if len(node.children) == 1 or node.children[0] is None:
            return self.visit(node.children[-1])
        op_node, right_node = node.children
        op = op_node.data.removeprefix("relation_")
        left = self.visit(op_node.children[0])
        right = self.visit(right_node)
        if op == "in":
            if isinstance(right, ListType):
                container = right.elem
            elif isinstance(right, MapType):
                container = right.key
            elif right.kind in ("dyn",):
                container = DYN
            else:
                return self.fail(
                    f"no matching overload for 'in' applied to ({left.describe()}, {right.describe()})"
                )
            self._comparable(left, container, "in")
        elif op in ("eq", "ne"):
            self._comparable(left, right, "==" if op == "eq" else "!=")
        else:
            if left.kind != "dyn" and right.kind != "dyn":
                ordered = {"int", "uint", "double", "string", "bytes", "bool", "timestamp", "duration"}
                if (
                    left.kind not in ordered
                    or right.kind not in ordered
                    or (left.kind != right.kind and not {left.kind, right.kind} <= _NUMERIC)
                ):
                    self.fail(
                        f"no matching overload for '<' applied to ({left.describe()}, {right.describe()})"
                    )
        return BOOL

    def _comparable(self, left: CelType, right: CelType, op: str) -> None:
        if "dyn" in (left.kind, right.kind) or NULL in (left, right):
            return
        if left.kind == right.kind or {left.kind, right.kind} <= _NUMERIC:
            return
        self.fail(f"no matching overload for '{op}' applied to ({left.describe()}, {right.describe()})")

    def _arith(self, node: Tree, prefix: str) -> CelType:
        if len(node.children) == 1 or node.children[0] is None:
            return self.visit(node.children[-1])
        op_node, right_node = node.children
        op = op_node.data.removeprefix(prefix)
        left, right = self.visit(op_node.children[0]), self.visit(right_node)
        if "dyn" in (left.kind, right.kind):
            return (
                left if right.kind == "dyn" and left.kind != "dyn" else right if left.kind == "dyn" else DYN
            )
        if left.kind != right.kind:
            symbol = {"add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%"}[op]
            return self.fail(
                f"no matching overload for '{symbol}' applied to ({left.describe()}, {right.describe()})"
            )
        allowed = {"add": {"int", "uint", "double", "string", "bytes", "list"}}.get(
            op, {"int", "uint", "double"}
        )
        if op == "mod":
            allowed = {"int", "uint"}
        if left.kind not in allowed:
            return self.fail(
                f"no matching overload for '{op}' applied to ({left.describe()}, {right.describe()})"
            )
        return _join(left, right)

    def _addition(self, node: Tree) -> CelType:
        return self._arith(node, "addition_")

    def _multiplication(self, node: Tree) -> CelType:
        return self._arith(node, "multiplication_")

    def _unary(self, node: Tree) -> CelType:
        if len(node.children) == 1:
            return self.visit(node.children[0])
        op, operand = node.children
        t = self.visit(operand)
        wanted = "bool" if op.data == "unary_not" else None
        if wanted and not _fits(t, wanted):
            self.fail(f"no matching overload for '!' applied to {t.describe()}")
        if not wanted and t.kind not in ("int", "double", "dyn"):
            self.fail(f"no matching overload for '-' applied to {t.describe()}")
        return t

    # --- members -------------------------------------------------------------
    def _select(self, target: CelType, name: str) -> CelType:
        if isinstance(target, ObjectType):
            found = target.field(name)
            return found if found is not None else self.fail(target.missing_field_message(name))
        if isinstance(target, MapType):
            if not _fits(target.key, "string"):
                return self.fail(f"cannot select '{name}' from {target.describe()}")
            return target.value
        if target.kind == "dyn":
            return DYN
        return self.fail(f"cannot select field '{name}' from {target.describe()}")

    def _member_dot(self, node: Tree) -> CelType:
        target, name = node.children
        return self._select(self.visit(target), str(name))

    def _member_index(self, node: Tree) -> CelType:
        target_node, index_node = node.children
        target, index = self.visit(target_node), self.visit(index_node)
        if isinstance(target, ListType):
            if not _fits(index, "int") and index.kind != "uint":
                self.fail(f"a list index must be int, not {index.describe()}")
            return target.elem
        if isinstance(target, MapType):
            self._comparable(index, target.key, "[]")
            return target.value
        if isinstance(target, ObjectType):
            return self.fail(f"{target.describe()} is an object: select its fields with '.', not '[]'")
        if target.kind == "dyn":
            return DYN
        return self.fail(f"cannot index {target.describe()}")

    def _member_dot_arg(self, node: Tree) -> CelType:
        target_node, name_token, *rest = node.children
        name = str(name_token)
        args = list(rest[0].children) if rest and rest[0] is not None else []
        if name in _MACROS:
            return self._macro(target_node, name, args)
        receiver = self.visit(target_node)
        return self._call(name, receiver, [self.visit(a) for a in args])

    def _macro(self, target_node: Tree, name: str, args: list[Any]) -> CelType:
        target = self.visit(target_node)
        if len(args) not in (2, 3) or (len(args) == 3 and name != "map"):
            return self.fail(f"wrong number of arguments to the '{name}' macro")
        var = _ident_name(args[0])
        if var is None:
            return self.fail(f"the first argument of '{name}' must be a simple name")
        if isinstance(target, ListType):
            var_type = target.elem
        elif isinstance(target, MapType):
            var_type = target.key
        elif target.kind == "dyn":
            var_type = DYN
        else:
            return self.fail(f"'{name}' needs a list or map, not {target.describe()}")
        self.scopes.append({var: var_type})
        try:
            body = [self.visit(a) for a in args[1:]]
        finally:
            self.scopes.pop()
        if name == "map":
            if len(body) == 2 and not _fits(body[0], "bool"):
                self.fail(f"the filter of 'map' must be bool, not {body[0].describe()}")
            return ListType(body[-1])
        if not _fits(body[0], "bool"):
            self.fail(f"the predicate of '{name}' must be bool, not {body[0].describe()}")
        return ListType(var_type) if name == "filter" else BOOL

    def _call(self, name: str, receiver: CelType | None, args: list[CelType]) -> CelType:
        overloads = _FUNCTIONS.get(name)
        if overloads is None:
            return self.fail(f"undeclared reference to '{name}'")
        for overload in overloads:
            if (overload.receiver is None) != (receiver is None) or len(overload.args) != len(args):
                continue
            if (
                receiver is not None
                and overload.receiver is not None
                and not _fits(receiver, overload.receiver)
            ):
                continue
            if all(_fits(a, w) for a, w in zip(args, overload.args, strict=True)):
                result = overload.result
                return result(receiver, args) if callable(result) else result
        shown = ", ".join(t.describe() for t in ([receiver] if receiver else []) + args)
        return self.fail(f"found no matching overload for '{name}' applied to ({shown})")

    def _ident_arg(self, node: Tree) -> CelType:
        name_token, *rest = node.children
        args = list(rest[0].children) if rest and rest[0] is not None else []
        if str(name_token) == "has":
            return self._has(args)
        return self._call(str(name_token), None, [self.visit(a) for a in args])

    def _dot_ident_arg(self, node: Tree) -> CelType:
        return self._ident_arg(node)

    def _has(self, args: list[Any]) -> CelType:
        select = _only_member(args[0]) if len(args) == 1 else None
        if select is None or select.data != "member_dot":
            return self.fail("has() needs a field selection such as has(object.spec.x)")
        target_node, name = select.children
        target = self.visit(target_node)
        if isinstance(target, ListType):
            return self.fail(f"has() cannot test field '{name}' of {target.describe()}")
        self._select(target, str(name))
        return BOOL

    def _ident(self, node: Tree) -> CelType:
        name = str(node.children[0])
        found = self.lookup(name)
        return found if found is not None else self.fail(f"undeclared reference to '{name}'")

    def _dot_ident(self, node: Tree) -> CelType:
        return self._ident(node)

    def _paren_expr(self, node: Tree) -> CelType:
        return self.visit(node.children[0])

    def _list_lit(self, node: Tree) -> CelType:
        if not node.children or node.children[0] is None:
            return ListType(DYN)
        elem: CelType | None = None
        for child in node.children[0].children:
            t = self.visit(child)
            elem = t if elem is None else _join(elem, t)
        return ListType(elem or DYN)

    def _map_lit(self, node: Tree) -> CelType:
        if not node.children or node.children[0] is None:
            return MapType(DYN, DYN)
        items = [self.visit(c) for c in node.children[0].children]
        key, value = items[0], items[1]
        for k, v in zip(items[2::2], items[3::2], strict=True):
            key, value = _join(key, k), _join(value, v)
        return MapType(key, value)

    def _member_object(self, node: Tree) -> CelType:
        return self.fail("message construction is not available in Kubernetes CEL")

    def _literal(self, node: Tree) -> CelType:
        token = node.children[0]
        return {
            "INT_LIT": INT,
            "UINT_LIT": UINT,
            "FLOAT_LIT": DOUBLE,
            "STRING_LIT": STRING,
            "MLSTRING_LIT": STRING,
            "BYTES_LIT": BYTES,
            "BOOL_LIT": BOOL,
            "NULL_LIT": NULL,
        }.get(token.type if isinstance(token, Token) else "", DYN)


def _only_member(node: Any) -> Tree | None:
    """The member_* node an expression consists of, or None when it is more than that."""
    while isinstance(node, Tree):
        if node.data.startswith("member_"):
            return node
        children = [c for c in node.children if c is not None]
        if len(children) != 1:
            return None
        node = children[0]
    return None


def _ident_name(node: Any) -> str | None:
    while isinstance(node, Tree):
        if node.data == "ident":
            return str(node.children[0])
        children = [c for c in node.children if c is not None]
        if len(children) != 1:
            return None
        node = children[0]
    return None


def check_expression(source: str, env: Mapping[str, CelType], expect: CelType | None = None) -> CelType:
    """The expression's type; raises TypeCheckError listing every problem found.

    `expect` (BOOL for validations, STRING for messageExpression) is the result type the
    API server requires.
    """
    expression = compile_expression(source)
    checker = _Checker(source, env)
    result = checker.visit(expression.tree)
    if expect is not None and result.kind != "dyn" and result.kind != expect.kind:
        checker.fail(f"must evaluate to {expect.describe()}, not {result.describe()}")
    if checker.errors:
        raise TypeCheckError(f"{source!r}: " + "; ".join(checker.errors))
    return result
