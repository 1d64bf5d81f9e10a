"""Errors that point at a place in a file, and the collection a run reports at once."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """Control characters (a key holding a newline) escaped, so one error stays one line."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


@dataclass(frozen=True, order=True)
class SourceLocation:
    file: str
    line: int  # 1-based; 0 when the problem is the file or folder as a whole
    column: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}" if self.line else self.file


@dataclass(frozen=True, order=True)
class SpecError:
    """One problem in user input, anchored to the file position it came from."""

    location: SourceLocation
    message: str

    def __str__(self) -> str:
        from compiler.secrets_scan import redact  # printed messages never carry a secret

        return f"{self.location}: {one_line(redact(self.message))}"


class SpecErrors(Exception):
    """Every error of a run, reported together (sorted, de-duplicated)."""

    def __init__(self, errors: list[SpecError], partial_model: object | None = None):
        self.errors = sorted(set(errors))
        # The typed model when only cross-document checks failed: later stages may still look
        # for their own problems (overlay folders) so that a run reports everything at once.
        self.partial_model = partial_model
        super().__init__("\n".join(str(e) for e in self.errors))


class PlatformcError(Exception):
    """A failure that is not about the spec's content (I/O, tool, usage)."""


class UsageError(PlatformcError):
    """The command was called wrongly (a folder that does not exist, a bad flag value): exit 2 in
    every command, where problems in the spec, overlays or tree exit 1."""
