"""A compile that fails or is killed after writing began leaves the previous tree byte-identical."""

from __future__ import annotations

import os
import shutil
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


def _entries(work: Path) -> list[str]:
    """What is in the work folder besides the compile cache of the CLI runs."""
    return sorted(p.name for p in work.iterdir() if p.name != ".platformc-cache")


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
    real_write = write.write_file
    calls = {"n": 0}

    def failing_write(path: str, data: bytes) -> write.Signature:
        calls["n"] += 1
        if calls["n"] == 50:
            raise OSError(28, "No space left on device")
        return real_write(path, data)

    monkeypatch.setattr(write, "write_file", failing_write)
    # Reported as a PlatformcError (a message for the user, never a traceback).
    with pytest.raises(PlatformcError, match=r"cannot write .*out: No space left on device"):
        compile_platform(work / "spec", work / "out", schema_dirs=[CRD_SCHEMAS])
    assert calls["n"] == 50, "the failure must happen after writing began"
    assert snapshot(work / "out") == before
    assert _entries(work) == ["out", "spec"]  # staging removed, lock released


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
            staged_files = sum(1 for p in staging[0].rglob("*") if p.is_file())
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


# --- SIGKILL at random points of an incremental (journaled) write -------------------------------

_KILL_CHILD = """
import os, signal, shutil, sys
from pathlib import Path
from compiler import write
from tests.compile.test_atomicity import _kill_trees

kill_at = int(sys.argv[2])
count = 0

def counted(function):
    def run(*args, **kwargs):
        global count
        count += 1
        if count == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return function(*args, **kwargs)
    return run

for owner, name in (
    (os, "replace"), (os, "unlink"), (os, "rmdir"), (os, "rename"), (os, "makedirs"), (shutil, "rmtree"),
    (write, "write_file"),
):
    setattr(owner, name, counted(getattr(owner, name)))
for name in ("write_bytes", "write_text", "mkdir"):
    setattr(Path, name, counted(getattr(Path, name)))
_, new = _kill_trees()
write.write_tree(Path(sys.argv[1]), new, ["a", "b", "d"], prune_others=True)
print(count)
"""


def _kill_trees() -> tuple[dict[str, bytes], dict[str, bytes]]:
    """An old and a new tree: changed, removed and added files, a new folder, an unchanged
    cluster, a cluster that leaves (c) and one that arrives (d)."""
    old: dict[str, bytes] = {}
    for cluster in ("a", "b", "c"):
        old[f"{cluster}/platformc-cluster.json"] = b'{"cluster": "%s"}\n' % cluster.encode()
        for unit in range(4):
            for item in range(15):
                old[f"{cluster}/components/u{unit}/obj-{item}.yaml"] = b"v: old-%d-%d\n" % (unit, item)
    new = {p: c for p, c in old.items() if not p.startswith("c/")}
    for item in range(15):
        new[f"a/components/u0/obj-{item}.yaml"] = b"v: new-%d\n" % item  # changed
        del new[f"a/components/u1/obj-{item}.yaml"]  # removed (the folder goes too)
        new[f"a/components/u9/obj-{item}.yaml"] = b"v: added-%d\n" % item  # new folder
        new[f"d/components/u0/obj-{item}.yaml"] = b"v: d-%d\n" % item
    new["d/platformc-cluster.json"] = b'{"cluster": "d"}\n'
    return old, new


def _run_kill_child(out: Path, kill_at: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-c", _KILL_CHILD, str(out), str(kill_at)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_sigkill_at_random_points_of_an_incremental_write_leaves_old_or_new_tree(tmp_path: Path) -> None:
    """32 kills, each at a random file operation of the journaled write (staging, journal commit,
    renames into place, removals, cleanup). Without a journal on disk the tree is already whole
    (untouched before the commit, complete after); with one, the next command's recovery
    completes the new tree. Never a mix."""
    import random

    old, new = _kill_trees()
    pristine = tmp_path / "pristine"
    write.write_tree(pristine / "out", old, ["a", "b", "c"], prune_others=True)
    assert snapshot(pristine / "out") == old

    counting = tmp_path / "count"
    shutil.copytree(pristine, counting)
    full = _run_kill_child(counting / "out", 0)
    assert full.returncode == 0, full.stderr
    operations = int(full.stdout.strip())
    assert snapshot(counting / "out") == new
    assert operations > 100, "the write should be made of many file operations"

    kill_points = sorted(random.Random(17).sample(range(1, operations + 1), 32))
    outcomes = {"old": 0, "new": 0}
    for kill_at in kill_points:
        work = tmp_path / f"kill-{kill_at}"
        shutil.copytree(pristine, work)
        out = work / "out"
        killed = _run_kill_child(out, kill_at)
        assert killed.returncode == -signal.SIGKILL, f"kill point {kill_at}: {killed.stderr}"
        committed = (work / ".out.journal").exists()
        if not committed:  # before the commit, or after the journal was done with (cleanup left)
            assert snapshot(out) in (old, new), f"kill point {kill_at}: tree changed outside the journal"
        with write._locked(out):
            write.recover(out)
        after = snapshot(out)
        assert after in (old, new), f"kill point {kill_at}: a mix of the old and the new tree"
        outcomes["new" if after == new else "old"] += 1
        assert sorted(p.name for p in work.iterdir()) == ["out"], f"kill point {kill_at}: leftovers"
        shutil.rmtree(work)
    assert outcomes["old"] and outcomes["new"], f"kill points should land on both sides: {outcomes}"
