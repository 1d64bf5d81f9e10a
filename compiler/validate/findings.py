"""Findings and reports of `platformc validate`.

A Finding is one problem with one object (or one file). Findings are plain frozen
values so that checks can run anywhere (compile time, validate time, CI) and the
results can be sorted, de-duplicated and serialised without knowing who made them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from compiler.secrets_scan import redact

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"


@dataclass(frozen=True, order=True)
class Finding:
    """One problem found by a check.

    `order=True` compares fields in declaration order, which fails when one finding
    has `file=None` and another a string; `Report` therefore sorts by `sort_key()`.
    `line`/`column` are 1-based and only set when the problem has a position in a
    file (YAML syntax errors).
    """

    severity: Severity
    check: str  # stable id: "schema", "missing-schema", "yaml", "object", "duplicate", ...
    file: str | None
    kind: str
    namespace: str | None
    name: str
    path: str  # JSON path into the object, "$.spec.x[0]"; "" when not about a field
    message: str
    line: int | None = None
    column: int | None = None

    def sort_key(self) -> tuple[Any, ...]:
        """Order by where the problem is (file, position, object, field), then by what it is."""
        return (
            self.file or "",
            self.line or 0,
            self.column or 0,
            self.kind,
            self.namespace or "",
            self.name,
            self.path,
            self.severity,
            self.check,
            self.message,
        )

    def format(self) -> str:
        """One line: `file: Kind namespace/name: $.path: message [check]`.

        Empty parts are left out; warnings say so before the message, errors do not.
        """
        parts: list[str] = []
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            parts.append(where)
        if self.kind or self.name:
            ident = f"{self.namespace}/{self.name}" if self.namespace else self.name
            parts.append(f"{self.kind} {ident}".strip())
        if self.path and self.path != "$":
            parts.append(self.path)
        prefix = "warning: " if self.severity == WARNING else ""
        parts.append(f"{prefix}{self.message} [{self.check}]")
        return redact(": ".join(parts))  # printed findings never carry a secret

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# A finding without its file, as memos keep it (compiler/object_memo.py): what an object's content
# decides. marshal keeps tuples of str, int and None as they are.
FindingRow = tuple[Any, ...]


def finding_row(finding: Finding) -> FindingRow:
    f = finding
    return (f.severity, f.check, f.kind, f.namespace, f.name, f.path, f.message, f.line, f.column)


def from_row(row: FindingRow, file: str | None) -> Finding:
    return Finding(row[0], row[1], file, *row[2:])


@dataclass
class Report:
    """Findings of one validation run plus what was looked at (for summaries)."""

    findings: list[Finding] = field(default_factory=list)
    objects: int = 0
    clusters: list[str] = field(default_factory=list)

    def add(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)

    def sorted(self) -> list[Finding]:
        """Findings in a deterministic order, duplicates removed."""
        return sorted(set(self.findings), key=Finding.sort_key)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.sorted() if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.sorted() if f.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not any(f.severity == ERROR for f in self.findings)

    def summary(self) -> str:
        return (
            f"{self.objects} objects in {len(self.clusters)} cluster(s): "
            f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        )

    def to_dict(self) -> dict[str, Any]:
        findings = self.sorted()
        return {
            "ok": self.ok,
            "objects": self.objects,
            "clusters": sorted(self.clusters),
            "errors": sum(1 for f in findings if f.severity == ERROR),
            "warnings": sum(1 for f in findings if f.severity == WARNING),
            "findings": [f.to_dict() for f in findings],
        }

    def to_json(self) -> str:
        """Stable JSON for `--format json`: sorted findings, sorted keys, trailing newline."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"
