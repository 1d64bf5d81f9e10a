"""Where a cluster's object memo (compiler/object_memo.py) lives between compiles:
`.platformc-cache/objects/<cluster digest>`, one sealed file per cluster (compiler/sealed.py),
marshal under the seal (only entries this machine wrote are ever read back). Tied to the compiler
(compiler/cache_keys.compiler_digest): a new compiler starts from an empty memo. Only the entries
a compile used are kept, so a file never outgrows its cluster. A missing, damaged or foreign file
is an empty memo; storing is best effort.

A change to one team makes a few new entries per cluster, of thousands: those go to a small sealed
delta beside the base file (`<digest>.new`), which names the base it extends by the base's seal, so
it is never applied to another. The base is rewritten whole when the delta would hold more than an
eighth of the entries or a quarter of the base's entries are no longer used.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from pathlib import Path
from typing import Any

from compiler.cache_keys import compiler_digest
from compiler.object_memo import ObjectMemo
from compiler.sealed import seal, unseal


def _path(root: Path, cluster: str) -> Path:
    return root / "objects" / hashlib.sha256(cluster.encode()).hexdigest()[:32]


def _format() -> bytes:
    return f"platformc-objects 2 {compiler_digest()} {sys.version} {marshal.version}\n".encode()


def _delta(path: Path) -> Path:
    return path.with_name(path.name + ".new")


def _read(path: Path, head: bytes) -> tuple[dict[bytes, Any], bytes] | None:
    """(entries, seal line) of a sealed file whose body starts with head; None when it is missing,
    damaged, foreign or of another format."""
    try:
        raw = path.read_bytes()
        body = unseal(raw)
        if body is not None and body.startswith(head):
            entries = marshal.loads(body[len(head) :])
            if isinstance(entries, dict):
                return entries, raw.partition(b"\n")[0]
    except (OSError, ValueError, EOFError, TypeError):
        pass
    return None


def load_memo(root: Path, cluster: str) -> ObjectMemo:
    path = _path(root, cluster)
    base = _read(path, _format())
    if base is None:
        return ObjectMemo()
    entries, base_seal = base
    delta = _read(_delta(path), _format() + b"delta " + base_seal + b"\n")
    stored = {**entries, **delta[0]} if delta is not None else entries
    return ObjectMemo(stored, base=entries, base_seal=base_seal)


def save_memo(root: Path, cluster: str, memo: ObjectMemo) -> None:
    if memo.used.keys() == memo.stored.keys():
        return
    path = _path(root, cluster)
    extra = {key: value for key, value in memo.used.items() if key not in memo.base}
    unused = len(memo.base) - (len(memo.used) - len(extra))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if memo.base_seal and len(extra) * 8 <= len(memo.used) and unused * 4 <= len(memo.base):
            head = _format() + b"delta " + memo.base_seal + b"\n"
            _write(_delta(path), seal(head + marshal.dumps(extra)))
        else:
            _write(path, seal(_format() + marshal.dumps(memo.used)))
            _delta(path).unlink(missing_ok=True)  # it names the old base: never applied again
    except (OSError, ValueError):
        pass


def _write(path: Path, content: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_bytes(content)
    os.replace(temporary, path)
