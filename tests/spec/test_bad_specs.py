"""Every bad spec gets exact file:line:col errors, exit status 1, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli import main
from tests.serving.cases import SERVING_CASES
from tests.spec.base_spec import write_spec
from tests.spec.cases import CASES, Case


@pytest.mark.parametrize("case", CASES + SERVING_CASES, ids=lambda c: c.id)
def test_bad_spec_reports_exact_errors_and_writes_nothing(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_spec(tmp_path / "spec", case.files)
    (tmp_path / "spec").mkdir(exist_ok=True)
    result = CliRunner().invoke(main, ["compile", "--spec", "spec", "--out", "out"])
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert lines[:-1] == case.expected
    assert (
        lines[-1] == f"platformc: {len(case.expected)} error(s) in the spec or overlays; nothing was written"
    )
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec"]  # no staging or lock files either


def test_there_are_at_least_twenty_distinct_bad_spec_cases() -> None:
    assert len({c.id for c in CASES}) == len(CASES) >= 20


def test_base_spec_is_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_spec(tmp_path / "spec")
    result = CliRunner().invoke(main, ["compile", "--spec", "spec", "--out", "out"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "east" / "platformc-cluster.json").is_file()


def test_missing_spec_folder_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["compile", "--spec", "nope", "--out", "out"])
    assert result.exit_code == 1
    assert "nope: spec folder does not exist (expected a folder of *.yaml files)" in result.stderr


def test_all_errors_of_a_run_are_reported_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    by_id = {c.id: c for c in CASES}
    files = {**by_id["wrong-type"].files, **by_id["unknown-field"].files, **by_id["invalid-dns-name"].files}
    files["teams/research.yaml"] = (
        by_id["unknown-field"].files["teams/research.yaml"].replace("name: research", "name: Bad_Name")
    )
    monkeypatch.chdir(tmp_path)
    write_spec(tmp_path / "spec", files)
    result = CliRunner().invoke(main, ["compile", "--spec", "spec", "--out", "out"])
    assert result.exit_code == 1
    assert "3 error(s)" in result.stderr.splitlines()[-1]
