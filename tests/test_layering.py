"""No package cycles anywhere in compiler/, including modules the import-linter layers do not list
(a new top-level module that spec imports and that imports spec would slip past the layers)."""

from __future__ import annotations

import grimp


def _top(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_top_level_modules_import_each_other_without_cycles() -> None:
    graph = grimp.build_graph("compiler", cache_dir=None)
    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            a, b = _top(module), _top(imported)
            if a != b and b.startswith("compiler."):
                edges.setdefault(a, set()).add(b)
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            raise AssertionError("package cycle: " + " → ".join([*path[path.index(node) :], node]))
        if node in done:
            return
        for nxt in sorted(edges.get(node, ())):
            visit(nxt, [*path, node])
        done.add(node)

    for node in sorted(edges):
        visit(node, [])
