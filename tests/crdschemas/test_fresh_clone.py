"""The README's main command on a fresh clone: no ../shared beside it, no network."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

OFFLINE = {
    # Anything that tries the network goes to a closed local port and fails at once.
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "no_proxy": "",
    "PIP_NO_INDEX": "1",
    "PLATFORMC_JOBS": "1",
}


def readme_main_command() -> str:
    """The line of the README's first bash block that installs and runs compile and validate."""
    block = re.search(r"```bash\n(.*?)```", (REPO_ROOT / "README.md").read_text(), re.DOTALL)
    assert block, "README has no bash block"
    [line] = [ln for ln in block.group(1).splitlines() if "platformc compile" in ln]
    return line


def run(args: list[str] | str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, shell=isinstance(args, str)
    )


def test_readme_main_command_works_on_a_fresh_offline_clone(tmp_path: Path) -> None:
    """Clone HEAD into a folder with no ../shared, install it offline (its dependencies are the
    ones already installed), and run the README's command: exit 0, 0 validation errors, no
    missing-schema warning, and the committed generated/ tree reproduced byte for byte."""
    clone = tmp_path / "work" / "platformc"
    subprocess.run(["git", "clone", "-q", str(REPO_ROOT), str(clone)], check=True, timeout=120)
    assert not (clone.parent / "shared").exists()
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120
    )
    env = {**os.environ, **OFFLINE, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)

    wheel_dir = tmp_path / "dist"
    built = run(
        ["pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheel_dir), str(clone)],
        tmp_path,
        env,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = wheel_dir.glob("platformc-*.whl")
    assert wheel.stat().st_size < 3_000_000, f"wheel is {wheel.stat().st_size} bytes"

    command = readme_main_command().replace("pip install", "pip install -q --no-deps --no-build-isolation")
    result = run(command, clone, env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "no schema" not in output and "warning:" not in output, output
    assert re.search(r"objects in \d+ cluster\(s\): 0 error\(s\), 0 warning\(s\)", output), output
    installed = run(["python", "-c", "import compiler; print(compiler.__file__)"], tmp_path, env)
    assert str(venv) in installed.stdout, "the clone's own package must be the one that ran"
    status = run(["git", "status", "--porcelain"], clone, env)
    assert status.stdout == "", f"compile changed the committed tree:\n{status.stdout}"
