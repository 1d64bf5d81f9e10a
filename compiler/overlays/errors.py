"""Overlay problems of a whole run, reported together.

The same overlay file applies to many clusters, so the same mistake would otherwise be
reported once per cluster. A problem is keyed by place and message; a message that
depends on the cluster says `{clusters}` and is reported once, listing every cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compiler.errors import SourceLocation, SpecError, SpecErrors

CLUSTERS = "{clusters}"


@dataclass
class Problems:
    found: dict[tuple[SourceLocation, str], set[str]] = field(default_factory=dict)

    def add(self, location: SourceLocation, message: str, cluster: str | None = None) -> None:
        clusters = self.found.setdefault((location, message), set())
        if cluster is not None:
            clusters.add(cluster)

    def extend(self, errors: list[SpecError]) -> None:
        for error in errors:
            self.add(error.location, error.message)

    def merge(self, other: Problems) -> None:
        for key, clusters in other.found.items():
            self.found.setdefault(key, set()).update(clusters)

    def __bool__(self) -> bool:
        return bool(self.found)

    def errors(self) -> list[SpecError]:
        return [
            SpecError(location, message.replace(CLUSTERS, ", ".join(sorted(clusters))))
            for (location, message), clusters in self.found.items()
        ]

    def raise_if_any(self) -> None:
        if self:
            raise OverlayErrors(self)


class OverlayErrors(SpecErrors):
    """SpecErrors (so the CLI prints them like spec errors) that keep their structure for merging."""

    def __init__(self, problems: Problems):
        self.problems = problems
        super().__init__(problems.errors())
