"""Small readers for component outputs, so tests say what they look at."""

from __future__ import annotations

from typing import Any

from compiler.components.base import ComponentOutput


def of_kind(output: ComponentOutput, kind: str) -> list[dict[str, Any]]:
    return [o for o in output.objects if o["kind"] == kind]


def named(output: ComponentOutput, kind: str, name: str) -> dict[str, Any]:
    (found,) = [o for o in of_kind(output, kind) if o["metadata"]["name"] == name]
    return found


def names(output: ComponentOutput, kind: str, namespace: str | None = None) -> list[str]:
    return sorted(
        o["metadata"]["name"]
        for o in of_kind(output, kind)
        if namespace is None or o["metadata"].get("namespace") == namespace
    )
