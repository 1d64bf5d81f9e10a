"""Per-object memo of the two costliest pure steps of a cluster's compile, rendering an object to
YAML and scanning it for secrets, keyed by the object's exact content.

A change to one team changes a few objects of each cluster; the cluster's key changes, so its
components, overlays, packaging and validation run again, but each object that is byte for byte
what it was is rendered and scanned from the memo. A key is a digest of the object serialised by
orjson in its own key order, with subclasses of plain types refused (then the object is simply
not memoised), so two objects share a key only if they are the same plain data. Pure data: the
pipeline loads and stores a cluster's memo (compiler/pipeline.py), core only looks things up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

_STRICT = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


def _refuse(value: Any) -> Any:
    raise TypeError(type(value).__name__)


@dataclass
class ObjectMemo:
    """Entries found (`stored`) and entries used or made by this compile (`used`, what is kept)."""

    stored: dict[bytes, Any] = field(default_factory=dict)
    used: dict[bytes, Any] = field(default_factory=dict)

    @staticmethod
    def key(purpose: bytes, obj: Mapping[str, Any]) -> bytes | None:
        try:
            data = orjson.dumps(obj, default=_refuse, option=_STRICT)
        except TypeError:
            return None
        return hashlib.blake2b(purpose + b"\0" + data, digest_size=20).digest()

    def get(self, key: bytes | None) -> Any:
        if key is None:
            return None
        found = self.stored.get(key)
        if found is not None:
            self.used[key] = found
        return found

    def put(self, key: bytes | None, value: Any) -> None:
        if key is not None:
            self.used[key] = value
