"""Where a cluster's object memo (compiler/object_memo.py) lives between compiles:
`.platformc-cache/objects/<cluster digest>`, one sealed file per cluster (compiler/sealed.py),
marshal under the seal (only entries this machine wrote are ever read back). Tied to the compiler
(compiler/cache_keys.compiler_digest): a new compiler starts from an empty memo. Only the entries
a compile used are kept, so a file never outgrows its cluster. A missing, damaged or foreign file
is an empty memo; storing is best effort.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from pathlib import Path

from compiler.cache_keys import compiler_digest
from compiler.object_memo import ObjectMemo
from compiler.sealed import seal, unseal


def _path(root: Path, cluster: str) -> Path:
    return root / "objects" / hashlib.sha256(cluster.encode()).hexdigest()[:32]


def _format() -> bytes:
    return f"platformc-objects 2 {compiler_digest()} {sys.version} {marshal.version}\n".encode()


def load_memo(root: Path, cluster: str) -> ObjectMemo:
    try:
        body = unseal(_path(root, cluster).read_bytes())
        head = _format()
        if body is not None and body.startswith(head):
            stored = marshal.loads(body[len(head) :])
            if isinstance(stored, dict):
                return ObjectMemo(stored)
    except (OSError, ValueError, EOFError, TypeError):
        pass
    return ObjectMemo()


def save_memo(root: Path, cluster: str, memo: ObjectMemo) -> None:
    if memo.used.keys() == memo.stored.keys():
        return
    path = _path(root, cluster)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_bytes(seal(_format() + marshal.dumps(memo.used)))
        os.replace(temporary, path)
    except (OSError, ValueError):
        pass
