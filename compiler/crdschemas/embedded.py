"""The CRD schemas platformc ships: every CRD kind its built-in components install, at the pinned
versions, plus the GitOps engines' kinds. Read lazily from one LZMA zip (see generate.py)."""

from __future__ import annotations

import functools
import json
import zipfile
from collections.abc import Collection
from pathlib import Path
from typing import Any

from compiler.validate.crd import open_preserved_nodes

BUNDLE = Path(__file__).resolve().parent / "embedded.zip"
INDEX = "index.json"


@functools.cache
def _index(bundle: Path) -> dict[str, dict[str, str]]:
    with zipfile.ZipFile(bundle) as archive:
        rows = json.loads(archive.read(INDEX))
    return {row["file"]: row for row in rows}


def embedded_versions() -> dict[str, str]:
    """component name → the release tag whose schemas are embedded."""
    return {row["component"]: row["tag"] for row in _index(BUNDLE).values()}


def provenance() -> list[dict[str, str]]:
    return [row for _, row in sorted(_index(BUNDLE).items())]


class EmbeddedSchemas:
    """The bundle as a schema source (the interface of validate.crd.SchemaSource).

    `exclude` names components whose pin the spec overrides: their embedded schemas are
    for another release, so they must come from the pull cache instead.
    """

    def __init__(self, exclude: Collection[str] = (), bundle: Path = BUNDLE) -> None:
        self.path = bundle
        self.load_errors: list[tuple[str, str]] = []
        self._files = {
            name: row for name, row in _index(bundle).items() if row["component"] not in set(exclude)
        }
        self._loaded: dict[str, dict[str, Any]] = {}

    @property
    def served(self) -> list[str]:
        """Bundle files this source serves (what `exclude` leaves), for validation cache keys."""
        return sorted(self._files)

    def _name(self, group: str, kind: str, version: str) -> str:
        return f"{group}/{kind.lower()}_{version}.json"

    def lookup(self, group: str, kind: str, version: str) -> tuple[dict[str, Any] | None, str | None]:
        name = self._name(group, kind, version)
        if name not in self._files:
            return None, None
        if name not in self._loaded:
            with zipfile.ZipFile(self.path) as archive:
                self._loaded[name] = open_preserved_nodes(json.loads(archive.read(name)))
        return self._loaded[name], None

    def kinds_in(self, group: str, version: str) -> list[str]:
        """Kinds (lowercase, as the bundle's file names spell them) with a schema in group/version."""
        suffix = f"_{version}.json"
        return sorted(
            n[len(group) + 1 : -len(suffix)]
            for n in self._files
            if n.startswith(f"{group}/") and n.endswith(suffix)
        )

    def versions_of(self, group: str, kind: str) -> list[str]:
        prefix = f"{group}/{kind.lower()}_"
        return sorted(n[len(prefix) : -len(".json")] for n in self._files if n.startswith(prefix))
