"""What the chart cache (`charts pull`) and the schema catalog cache (`schemas pull`) share: the
list of per-entry outcomes a pull reports, and the atomic write that puts an entry in the cache."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Protocol, TypeVar

FAILED = "failed"


class HasStatus(Protocol):
    @property
    def status(self) -> str: ...


OutcomeT = TypeVar("OutcomeT", bound=HasStatus)


@dataclass
class PullOutcomes(Generic[OutcomeT]):
    """One outcome per cache entry, in pull order; the pull is ok when none failed."""

    outcomes: list[OutcomeT] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.status != FAILED for o in self.outcomes)

    @property
    def failed(self) -> list[OutcomeT]:
        return [o for o in self.outcomes if o.status == FAILED]


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder + os.replace, so readers see old or new, never half;
    an interrupted write leaves no partial file and never touches the good entry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
