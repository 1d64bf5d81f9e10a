"""Findings as text, JSON or GitHub Actions annotations (`--format`), the same in every command.

GitHub shows `::error file=F,line=L,col=C::message` lines of a workflow's output inline on the
pull request's diff (docs: "Workflow commands for GitHub Actions", setting an error message).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from compiler.errors import SpecError
from compiler.validate.findings import Finding
from compiler.verify.findings import Finding as VerifyFinding
from compiler.write import Drift

FORMATS = ("text", "json", "github")


def _data(text: str) -> str:
    # The workflow-command escapes: a newline would end the command, % starts an escape.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, file: str, line: int, column: int, message: str, title: str = "") -> str:
    props = [f"file={_property(file)}"]
    if line:
        props += [f"line={line}", f"col={column or 1}"]
    if title:
        props.append(f"title={_property(title)}")
    return f"::{level} {','.join(props)}::{_data(message)}"


def spec_errors_github(errors: Iterable[SpecError]) -> list[str]:
    return [
        annotation("error", e.location.file, e.location.line, e.location.column, e.message, "platformc")
        for e in errors
    ]


def spec_errors_json(errors: Iterable[SpecError]) -> str:
    rows = [
        {"file": e.location.file, "line": e.location.line, "column": e.location.column, "message": e.message}
        for e in errors
    ]
    return json.dumps({"ok": False, "errors": rows}, indent=2, sort_keys=True) + "\n"


def findings_github(findings: Iterable[Finding], out_dir: Path) -> list[str]:
    """One annotation per finding, at the generated file (paths in findings are relative to out_dir)."""
    lines = []
    for f in findings:
        file = (out_dir / f.file).as_posix() if f.file else out_dir.as_posix()
        subject = " ".join(p for p in (f.kind, f"{f.namespace}/{f.name}" if f.namespace else f.name) if p)
        where = f.path if f.path and f.path != "$" else ""
        message = ": ".join(p for p in (subject, where, f"{f.message} [{f.check}]") if p)
        level = "error" if f.severity == "error" else "warning"
        lines.append(annotation(level, file, f.line or 1, f.column or 1, message, "platformc"))
    return lines


def drift_github(drift: Drift, out_dir: Path) -> list[str]:
    """`compile --check`: one annotation per generated file that is not what the spec compiles to."""
    hint = "run `platformc compile` and commit generated/"
    base = out_dir.parent
    rows = [(p, "differs from what the spec compiles to") for p in drift.changed]
    rows += [(p, "is missing: the spec compiles to it") for p in drift.missing]
    rows += [(p, "is left over: the spec no longer compiles to it") for p in drift.extra]
    return [
        annotation("error", (base / p).as_posix(), 1, 1, f"{p} {what}; {hint}", "platformc")
        for p, what in rows
    ]


def verify_github(findings: Iterable[VerifyFinding], out_dir: Path) -> list[str]:
    """`verify`: one annotation per finding, at the cluster's folder (a simulated workload or
    flow has no single line; the message names the object, the rule, its fix and source)."""
    lines = []
    for f in findings:
        rec = f.record()
        message = f"{f.object}: {f.message}; fix: {rec['fix']} (source: {rec['source']})"
        file = (out_dir / f.cluster).as_posix()
        lines.append(annotation("error", file, 0, 0, message, f"platformc verify {f.rule}"))
    return lines
