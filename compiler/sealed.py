"""Sealed cache entries: an HMAC-SHA256 under a key that lives outside the repository.

A plain digest proves an entry is intact but not who wrote it: a pull request could commit a
`.platformc-cache/` whose entries carry correct digests for the inputs of the next compile and
get its bytes emitted without compile or validation. The key is 32 random bytes in the user's
cache folder ($XDG_CACHE_HOME/platformc/cache-key, or PLATFORMC_CACHE_KEY_FILE), made on first
use with mode 0600, so only entries written on this machine (or wherever that key is shared)
are ever trusted; an entry from elsewhere is only a miss. A leaf module: no platformc imports.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
from pathlib import Path


def key_file() -> Path:
    configured = os.environ.get("PLATFORMC_CACHE_KEY_FILE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "platformc" / "cache-key"


@functools.cache
def _key(path: Path) -> bytes:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    key = path.read_bytes()
    if len(key) < 32:
        raise OSError(f"cache key {path} is shorter than 32 bytes")
    return key


def seal(body: bytes) -> bytes:
    """body with its seal line in front."""
    return _mac(body).encode() + b"\n" + body


def unseal(raw: bytes) -> bytes | None:
    """The body of a sealed entry, or None when the seal does not match (damaged or foreign)."""
    mac, _, body = raw.partition(b"\n")
    try:
        expected = _mac(body).encode()
    except OSError:
        return None
    return body if hmac.compare_digest(mac, expected) else None


def _mac(body: bytes) -> str:
    return hmac.new(_key(key_file()), body, hashlib.sha256).hexdigest()
