"""Helpers for compile tests: run the real CLI in a subprocess, snapshot trees byte for byte."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import CRD_SCHEMAS, REPO_ROOT


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "compiler.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
    )


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file below root, by relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def compile_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`platformc compile` validating against the upstream CRD schemas, as CI does."""
    return run_cli("compile", "--schemas", str(CRD_SCHEMAS), *args, cwd=cwd, env=env)


def flip_byte_in_entry(entry: Path, where: str) -> bool:
    """Flip one byte of a cluster cache entry (compiler/cluster_cache.py: a seal line, a JSON header
    line, the bytes of the files it holds in header order; a delta holds those not marked in
    `fromBase`): `header`, or the middle of the file at path `where`. False when the entry does not
    hold that file's bytes."""
    import orjson

    raw = bytearray(entry.read_bytes())
    mac_end = raw.index(b"\n")
    head_end = raw.index(b"\n", mac_end + 1)
    if where == "header":
        at = (mac_end + head_end) // 2
    else:
        header = orjson.loads(raw[mac_end + 1 : head_end])
        held = [
            (path, size)
            for path, size, mark in zip(
                header["paths"],
                header["sizes"],
                header["fromBase"] or "0" * len(header["paths"]),
                strict=True,
            )
            if mark == "0"
        ]
        if where not in [path for path, _ in held]:
            return False
        index = [path for path, _ in held].index(where)
        at = head_end + 1 + sum(size for _, size in held[:index]) + held[index][1] // 2
    raw[at] ^= 0x01
    entry.write_bytes(bytes(raw))
    return True
