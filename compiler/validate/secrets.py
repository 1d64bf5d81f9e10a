"""The secret scan on a tree as it is on disk (`platformc validate`).

compile scans its sources at their lines and every object it writes (compiler/secrets_scan.py);
a file committed into the tree by hand, or edited there, passes neither. This check scans every
object `validate` reads with the same detectors, allowing the fingerprints the spec allows
(spec.secretScan.allow; none when no spec is read), and reports each secret at its file:line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from compiler.secrets_scan import scan, show_path
from compiler.spec.loader import SourceDocument, load_documents, load_file

from .checks import Check, Entry, ObjectSet
from .findings import ERROR, Finding

SECRET_CHECK = "secret"


def secret_check(root: Path, allowed: frozenset[str] = frozenset()) -> Check:
    """A check that reports every secret-looking value of the objects under `root` (the tree)."""
    documents: dict[str, list[SourceDocument]] = {}

    def located(entry: Entry, path: tuple[str | int, ...]) -> tuple[int | None, int | None]:
        """Line and column of `path` in the entry's file: the file is read again with positions
        only when it holds a finding, so a clean tree costs no second parse."""
        if entry.file is None:
            return None, None
        if entry.file not in documents:
            documents[entry.file] = list(load_file(root / entry.file, []))
        doc = next((d for d in documents[entry.file] if _same(d.data, entry.obj)), None)
        if doc is None:
            return None, None
        where = doc.location(path)
        return where.line, where.column

    def check(objects: ObjectSet) -> Iterator[Finding]:
        for entry in objects:
            for found in scan(entry.obj, allowed):
                field_path = show_path(found.path)
                line, column = located(entry, found.path)
                yield Finding(
                    ERROR,
                    SECRET_CHECK,
                    entry.file,
                    entry.kind,
                    entry.namespace,
                    entry.name,
                    "$." + field_path,
                    found.message(field_path),
                    line,
                    column,
                )

    return check


def allowlist_in(spec_dir: Path) -> frozenset[str]:
    """spec.secretScan.allow fingerprints read straight from the Platform document, for a spec that
    does not load as a whole: its other mistakes are compile's to report, and its allowlist still
    holds. Entries that are not `{fingerprint: <string>}` allow nothing."""
    allowed: set[str] = set()
    for doc in load_documents(spec_dir, []):
        data = doc.data
        if not isinstance(data, dict) or data.get("kind") != "Platform":
            continue
        scan_cfg = _mapping(_mapping(data.get("spec")).get("secretScan"))
        entries = scan_cfg.get("allow")
        for entry in entries if isinstance(entries, list) else []:
            value = _mapping(entry).get("fingerprint")
            if isinstance(value, str):
                allowed.add(value)
    return frozenset(allowed)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except RecursionError:  # bounded by the tree loader's depth limit; never a traceback here
        return False
