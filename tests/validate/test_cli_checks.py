"""`platformc validate` and `platformc compile` from the command line, with the new checks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from compiler.cli import main
from compiler.components.base import Component, ComponentOutput, obj
from tests.validate.ai_fixture import SPEC_DIR, WITH_AI, use_components

NET = "prod-us-east/components/network/ai-research"


def copy(example_tree: Path, tmp_path: Path) -> Path:
    tree = tmp_path / "generated"
    shutil.copytree(example_tree, tree)
    return tree


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_validate_passes_on_example(example_tree: Path, crds_dir: Path) -> None:
    result = CliRunner().invoke(main, ["validate", "--out", str(example_tree), "--schemas", str(crds_dir)])
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output


def test_missing_schema_fails_and_allow_missing_makes_it_a_warning(
    example_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded schemas cover the pinned Kueue release; a version it does not serve has none."""
    tree = copy(example_tree, tmp_path)
    queue = sorted(tree.rglob("clusterqueue-fixture-ai-research.yaml"))[0]
    queue.write_text(queue.read_text().replace("kueue.x-k8s.io/v1beta2", "kueue.x-k8s.io/v1"))
    monkeypatch.chdir(tmp_path)  # no .platformc-cache here: only built-in and embedded schemas
    strict = CliRunner().invoke(main, ["validate", "--out", str(tree)])
    assert strict.exit_code == 1
    assert (
        "ClusterQueue fixture-ai-research: no schema for kueue.x-k8s.io/v1 ClusterQueue; "
        "the schema folders have versions v1beta1, v1beta2" in strict.output
    )
    allowed = CliRunner().invoke(main, ["validate", "--out", str(tree), "--allow-missing-schemas"])
    assert allowed.exit_code == 0, allowed.output
    assert "warning: no schema for kueue.x-k8s.io/v1 ClusterQueue" in allowed.output


def test_json_report_names_baseline_findings(example_tree: Path, tmp_path: Path, crds_dir: Path) -> None:
    tree = copy(example_tree, tmp_path)
    (tree / NET / "networkpolicy-default-deny-egress.yaml").unlink()
    result = CliRunner().invoke(
        main, ["validate", "--out", str(tree), "--schemas", str(crds_dir), "--format", "json"]
    )
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [(f["check"], f["kind"], f["name"], f["file"]) for f in report["findings"]] == [
        ("PSB001", "Namespace", "ai-research", "prod-us-east/components/tenancy/namespace-ai-research.yaml")
    ]


def test_skip_check_drops_only_that_rule(example_tree: Path, tmp_path: Path, crds_dir: Path) -> None:
    tree = copy(example_tree, tmp_path)
    (tree / NET / "networkpolicy-default-deny-egress.yaml").unlink()
    (tree / "prod-us-east/components/tenancy/ai-research/limitrange-defaults.yaml").unlink()
    args = ["validate", "--out", str(tree), "--schemas", str(crds_dir)]
    skipped = CliRunner().invoke(main, [*args, "--skip-check", "PSB001"])
    assert skipped.exit_code == 1
    assert "[PSB004]" in skipped.output and "[PSB001]" not in skipped.output
    both = CliRunner().invoke(main, [*args, "--skip-check", "PSB001", "--skip-check", "PSB004"])
    assert both.exit_code == 0, both.output
    unknown = CliRunner().invoke(main, [*args, "--skip-check", "PSB999"])
    assert unknown.exit_code == 2
    assert "unknown check id(s) PSB999" in unknown.output


def _leaky(_: object) -> ComponentOutput:
    bad = obj(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        "leaky",
        "ai-research",
        spec={"podSelector": {}, "ingres": []},
    )
    return ComponentOutput(objects=(bad,))


def _secret(_: object) -> ComponentOutput:
    return ComponentOutput(objects=(obj("v1", "Secret", "token", "ai-research", stringData={"token": "x"}),))


@pytest.mark.parametrize(
    ("component", "expected"),
    [
        (
            Component("leaky", _leaky),
            'NetworkPolicy ai-research/leaky: $.spec.ingres: unknown field "ingres" (did you mean "ingress"?) [schema]',
        ),
        (
            Component("secrets", _secret),
            "Secret ai-research/token: $.stringData: Secret carries values in Git",
        ),
    ],
    ids=["schema", "baseline"],
)
def test_compile_writes_nothing_when_validation_fails(
    component: Component, expected: str, tmp_path: Path, crds_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "generated"
    out.mkdir()
    (out / "keep.yaml").write_text("previous: tree\n")
    before = snapshot(out)
    use_components(monkeypatch, (*WITH_AI, component))
    result = CliRunner().invoke(
        main, ["compile", "--spec", str(SPEC_DIR), "--out", str(out), "--schemas", str(crds_dir)]
    )
    assert result.exit_code == 1
    assert expected in result.output
    assert "nothing was written" in result.output
    assert snapshot(out) == before


def test_compile_refuses_a_dangling_reference(
    tmp_path: Path, crds_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def orphan(_: object) -> ComponentOutput:
        queue = obj(
            "kueue.x-k8s.io/v1beta2", "LocalQueue", "orphan", "ml-platform", spec={"clusterQueue": "nope"}
        )
        return ComponentOutput(objects=(queue,), after=("fixture-ai",))

    use_components(monkeypatch, (*WITH_AI, Component("orphan", orphan)))
    out = tmp_path / "generated"
    result = CliRunner().invoke(
        main, ["compile", "--spec", str(SPEC_DIR), "--out", str(out), "--schemas", str(crds_dir)]
    )
    assert result.exit_code == 1
    assert (
        "LocalQueue ml-platform/orphan: $.spec.clusterQueue: ClusterQueue 'nope' does not exist"
        in result.output
    )
    assert not out.exists()


def test_compile_only_warns_about_missing_schemas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kind with no schema anywhere (here: the embedded bundle switched off) is a compile warning."""
    from compiler.crdschemas import select
    from compiler.crdschemas.embedded import EmbeddedSchemas, embedded_versions

    monkeypatch.setattr(
        select, "EmbeddedSchemas", lambda exclude: EmbeddedSchemas(exclude=embedded_versions())
    )
    monkeypatch.chdir(tmp_path)
    use_components(monkeypatch, WITH_AI)
    result = CliRunner().invoke(main, ["compile", "--spec", str(SPEC_DIR), "--out", "generated"])
    assert result.exit_code == 0, result.output
    assert "warning: no schema for" in result.output and "ClusterQueue" in result.output
    written = yaml.safe_load(
        (
            tmp_path / "generated/prod-us-east/components/fixture-ai-config/ai-research/"
            "localqueue-fixture.yaml"
        ).read_text()
    )
    assert written["spec"] == {"clusterQueue": "fixture-ai-research"}
