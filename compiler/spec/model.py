"""The typed model of the whole spec, as the checks, the cluster model and review read it."""

from __future__ import annotations

from dataclasses import dataclass, field

from compiler.errors import SourceLocation
from compiler.spec.loader import SourceDocument
from compiler.spec.models import Cluster, GPUFlavor, Platform, ServingPath, Team


@dataclass(frozen=True)
class PlatformModel:
    """The whole typed spec. Every mapping is sorted by name, so input order never matters."""

    platform: Platform
    flavors: dict[str, GPUFlavor]
    clusters: dict[str, Cluster]
    teams: dict[str, Team]
    serving_paths: dict[str, ServingPath]
    sources: dict[tuple[str, str], SourceDocument] = field(repr=False)

    def locate(
        self, kind: str, name: str, path: tuple[str | int, ...] = (), *, key: bool = False
    ) -> SourceLocation:
        return self.sources[(kind, name)].location(path, key=key)
