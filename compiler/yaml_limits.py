"""Bounds on the YAML platformc reads (spec, overlays, component files, trees `validate` reads).

A 700-byte alias bomb ("billion laughs") expands to billions of nodes as soon as anything walks
it; a million empty documents or 250 nested flow sequences exhaust time or the Python stack.
YAML parsers load aliases as shared references, so the loaded data is small: `alias_problem`
measures what a walk would see, memoised per shared node, before anything walks it.
"""

from __future__ import annotations

import math
import re
from typing import Any

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DOCUMENTS = 10_000  # per file
MAX_DEPTH = 64  # nesting of mappings and sequences; real objects stay well under 30
MAX_EXPANDED_NODES = 1_000_000  # per document, counting what aliases repeat

_DOCUMENT_MARKER = re.compile(rb"^(---|\.\.\.)(?=[ \t\r\n]|$)", re.MULTILINE)


def size_problem(data: bytes) -> tuple[int, str] | None:
    """(line, problem) when a file is too large or holds too many documents, before parsing."""
    if len(data) > MAX_FILE_BYTES:
        return 1, f"file is {len(data)} bytes (expected at most {MAX_FILE_BYTES})"
    for count, match in enumerate(_DOCUMENT_MARKER.finditer(data), start=1):
        if count > MAX_DOCUMENTS:
            line = data.count(b"\n", 0, match.start()) + 1
            return line, f"file holds more than {MAX_DOCUMENTS} YAML documents (expected fewer)"
    return None


def expanded_size(node: Any, limit: int = MAX_EXPANDED_NODES) -> int:
    """Nodes a full walk of `node` visits, counting shared (aliased) containers each time they
    appear; stops counting past `limit`. Recursion depth is bounded by the parser's max depth."""
    memo: dict[int, int] = {}

    def size(value: Any, depth: int) -> int:
        if not isinstance(value, dict | list) or depth > MAX_DEPTH * 2:
            return 1
        key = id(value)
        if key in memo:
            return memo[key]
        children = value.values() if isinstance(value, dict) else value
        total = 1
        for child in children:
            total += size(child, depth + 1)
            if total > limit:
                break
        memo[key] = total
        return total

    return size(node, 0)


def has_shared_nodes(node: Any) -> bool:
    """Whether a container appears twice (an alias) — trees platformc writes never have one."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        value = stack.pop()
        if isinstance(value, dict | list):
            if id(value) in seen:
                return True
            seen.add(id(value))
            stack.extend(value.values() if isinstance(value, dict) else value)
    return False


def depth(node: Any, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of `node`, iteratively; stops at limit + 1."""
    deepest = 0
    stack = [(node, 0)]
    while stack:
        value, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            break
        if isinstance(value, dict | list):
            stack.extend((v, level + 1) for v in (value.values() if isinstance(value, dict) else value))
    return deepest


def alias_problem(node: Any) -> str | None:
    if expanded_size(node) > MAX_EXPANDED_NODES:
        return (
            f"aliases expand this document past {MAX_EXPANDED_NODES} nodes (expected plain YAML; "
            "a few anchors and aliases are fine, an alias bomb is not)"
        )
    return None


def non_json_value(node: Any) -> tuple[tuple[str | int, ...], str] | None:
    """(path, what) of the first value JSON cannot hold: a YAML timestamp, !!binary, !!set member
    or a non-finite number. Kubernetes objects are JSON; such values broke validation."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), node)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, child in value.items():
                if not isinstance(key, str | int) or isinstance(key, bool):
                    return path, f"a {type(key).__name__} key"
                stack.append(((*path, key), child))
        elif isinstance(value, list):
            stack.extend(((*path, i), child) for i, child in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            return path, "a non-finite number (.inf or .nan)"
        elif value is not None and not isinstance(value, str | int | float | bool):
            return path, f"a YAML {type(value).__name__} value"
    return None
