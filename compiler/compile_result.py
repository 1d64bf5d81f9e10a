"""What a compile returns, and its validation failure: light types, shared by the pipeline and
the compile record (compiler/compile_record.py), which answers a current tree without the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from compiler.errors import PlatformcError
from compiler.validate.findings import Report
from compiler.write import Drift


class ValidationFailed(PlatformcError):
    """Generated objects failed validation; nothing was written."""

    def __init__(self, report: Report):
        self.report = report
        super().__init__(f"validation failed: {report.summary()}")


@dataclass
class CompileResult:
    clusters: list[str]
    objects: int = 0
    files: int = 0
    drift: Drift | None = None  # with --check: how the tree on disk differs
    written: Drift | None = None  # without --check: what the write changed
    validation: Report = field(default_factory=Report)
    seconds: dict[str, float] = field(default_factory=dict)  # per stage: spec, clusters, write
    charts_dir: Path | None = None  # the chart cache rendered from; None: charts were not rendered
    recompiled: list[str] = field(default_factory=list)  # clusters compiled, not taken from the cache
    recorded: bool = False  # answered by the compile record: nothing changed since the last compile

    def change_summary(self) -> str:
        """'3 added, 1 changed, 0 removed, 283 unchanged files' for what compile wrote."""
        d = self.written or Drift((), (), ())
        unchanged = self.files - len(d.changed) - len(d.missing)
        return (
            f"{len(d.missing)} added, {len(d.changed)} changed, {len(d.extra)} removed, "
            f"{unchanged} unchanged files"
        )
