"""A compile that fails or is killed after writing began leaves the previous tree byte-identical."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compiler import write
from compiler.errors import PlatformcError
from compiler.pipeline import compile_platform
from tests.compile.helpers import compile_cli, snapshot
from tests.conftest import CRD_SCHEMAS, REPO_ROOT
from tests.spec.base_spec import TEAM, write_spec

TEAM_WITHOUT_GPUS = TEAM.split("      gpus:")[0]


def _many_teams(spec: Path, count: int) -> None:
    """The base spec plus `count` CPU-only teams: thousands of files to write."""
    for i in range(count):
        (spec / "teams" / f"team-{i:04d}.yaml").write_text(
            TEAM_WITHOUT_GPUS.replace("name: research", f"name: team-{i:04d}")
        )


@pytest.fixture
def compiled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, bytes]]:
    monkeypatch.chdir(tmp_path)
    write_spec(tmp_path / "spec")
    result = compile_cli("--spec", "spec", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path, snapshot(tmp_path / "out")


def test_failure_while_writing_leaves_previous_tree(
    compiled: tuple[Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    work, before = compiled
    _many_teams(work / "spec", 20)
    real_write = Path.write_bytes
    calls = {"n": 0}

    def failing_write(self: Path, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == 50:
            raise OSError(28, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing_write)
    # Reported as a PlatformcError (a message for the user, never a traceback).
    with pytest.raises(PlatformcError, match=r"cannot write .*out: No space left on device"):
        compile_platform(work / "spec", work / "out", schema_dirs=[CRD_SCHEMAS])
    assert calls["n"] == 50, "the failure must happen after writing began"
    assert snapshot(work / "out") == before
    assert sorted(p.name for p in work.iterdir()) == ["out", "spec"]  # staging removed, lock released


def test_kill_while_writing_leaves_previous_tree_and_next_compile_recovers(
    compiled: tuple[Path, dict[str, bytes]],
) -> None:
    work, before = compiled
    _many_teams(work / "spec", 400)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "compiler.cli",
            "compile",
            "--spec",
            "spec",
            "--out",
            "out",
            "--schemas",
            str(CRD_SCHEMAS),
        ],
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    staged_files = 0
    while time.monotonic() < deadline and process.poll() is None:
        staging = list(work.glob(".out.staging-*"))
        if staging:
            staged_files = sum(1 for _ in staging[0].rglob("*.yaml"))
            if staged_files > 200:
                process.send_signal(signal.SIGKILL)
                break
        time.sleep(0.002)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "compile finished before it could be killed mid-write"
    assert staged_files > 200

    assert snapshot(work / "out") == before

    result = compile_cli("--spec", "spec", "--out", "out", cwd=work)
    assert result.returncode == 0, result.stderr
    assert not list(work.glob(".out.*")), "leftovers of the killed compile were not cleaned"
    assert (work / "out/east/components/tenancy/namespace-team-0399.yaml").is_file()


def test_exchange_fallback_keeps_tree_when_renameat2_is_unavailable(
    compiled: tuple[Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    work, _ = compiled
    monkeypatch.setattr(write, "_exchange", lambda a, b: False)
    _many_teams(work / "spec", 3)
    compile_platform(work / "spec", work / "out", schema_dirs=[CRD_SCHEMAS])
    assert (work / "out/east/components/tenancy/namespace-team-0002.yaml").is_file()
    assert sorted(p.name for p in work.iterdir()) == ["out", "spec"]
