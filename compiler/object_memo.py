"""Per-object memo of the costly pure steps of a cluster's compile that look at one object at a
time: rendering it to YAML, scanning it for secrets, validating it against its schema and
type-checking its CEL, keyed by the object's exact content.

A change to one team changes a few objects of each cluster; the cluster's key changes, so its
components, overlays, packaging and whole-set checks run again, but each object that is byte for
byte what it was is rendered, scanned and validated from the memo. An object's content digest is
made once per compile (orjson in the object's own key order, with subclasses of plain types
refused: then the object is simply not memoised), so two objects share it only if they are the
same plain data; a purpose (what is done with the object, and every other input of it: the file
header, the allowed secrets, the schemas and Kubernetes version) is a short digest put in front.
Pure data: the pipeline loads and stores a cluster's memo (compiler/memo_store.py), core and
validate only look things up.
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


def content_digest(obj: Mapping[str, Any]) -> bytes | None:
    """Digest of the object's exact plain content (key order included); None when it is not plain."""
    try:
        data = orjson.dumps(obj, default=_refuse, option=_STRICT)
    except TypeError:
        return None
    # SHA-256 is OpenSSL's, on the CPU's SHA extensions where it has them: a cluster's ~3 MB of
    # objects hash in 1.8 ms, where CPython's blake2b (its portable C) takes 2.6 ms. 160 bits kept.
    return hashlib.sha256(data).digest()[:20]


@dataclass
class ObjectMemo:
    """Entries found (`stored`) and entries used or made by this compile (`used`, what is kept).

    Content digests are kept by object identity for the memo's life: the objects of one compile
    are final once packaged, and each is digested once however many purposes look it up."""

    stored: dict[bytes, Any] = field(default_factory=dict)
    used: dict[bytes, Any] = field(default_factory=dict)
    # Where `stored` came from, for compiler/memo_store.py to write back only what changed: the
    # entries of its base file (the rest came from the base's delta) and that file's seal line.
    base: dict[bytes, Any] = field(default_factory=dict, repr=False)
    base_seal: bytes = b""
    _contents: dict[int, tuple[Any, bytes | None]] = field(default_factory=dict, repr=False)
    _purposes: dict[bytes, bytes] = field(default_factory=dict, repr=False)

    def content(self, obj: Mapping[str, Any]) -> bytes | None:
        known = self._contents.get(id(obj))
        if known is None or known[0] is not obj:
            known = (obj, content_digest(obj))
            self._contents[id(obj)] = known  # the object is kept with its id: ids are not reused
        return known[1]

    def tag(self, purpose: bytes) -> bytes:
        """What a key for `purpose` starts with (a key is the tag, then the content digest)."""
        tag = self._purposes.get(purpose)
        if tag is None:
            tag = self._purposes[purpose] = hashlib.blake2b(purpose, digest_size=16).digest()
        return tag

    def key(self, purpose: bytes, obj: Mapping[str, Any]) -> bytes | None:
        content = self.content(obj)
        return None if content is None else self.tag(purpose) + content

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
