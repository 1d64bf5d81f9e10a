"""`platformc verify` on the compiled example: the table, the findings and the exit status.

The serving and GPU issues have landed, so the example verifies clean (exit 0); a tree with one
defect exits 1 with one JSON record per finding.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from compiler.cli import main
from compiler.verify.findings import RULES
from tests.conftest import EXAMPLE_GENERATED, EXAMPLE_SPEC


def run(*args: str, out: Path = EXAMPLE_GENERATED) -> tuple[int, str]:
    runner = CliRunner()
    with runner.isolated_filesystem():  # the render cache (.platformc-cache/) lands in a temp folder
        result = runner.invoke(main, ["verify", "--out", str(out), "--spec", str(EXAMPLE_SPEC), *args])
    return result.exit_code, result.output


def test_example_verifies_clean(shared_charts: Path) -> None:
    """Acceptance of the verify issue: the compiled example platform has no finding."""
    code, out = run("--charts", str(shared_charts))
    assert code == 0, out
    assert out.rstrip().endswith("verify: no findings")
    code, out = run("--charts", str(shared_charts), "--format", "json")
    assert (code, out.strip()) == (0, "")


def test_json_and_github_are_one_line_per_finding(shared_charts: Path, tmp_path: Path) -> None:
    """A defect written into the tree (ml-platform's DNS egress allow deleted) exits 1: one JSON
    record a line, or one GitHub Actions error annotation a line at the cluster's folder."""
    tree = tmp_path / "generated"
    shutil.copytree(EXAMPLE_GENERATED, tree)
    dns = tree / "prod-us-east/components/network/ml-platform/networkpolicy-allow-dns.yaml"
    dns.unlink()
    kustomization = dns.parent / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace(f"- {dns.name}\n", ""))
    code, out = run("--charts", str(shared_charts), "--cluster", "prod-us-east", "--format", "json", out=tree)
    records = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert code == 1 and records
    for r in records:
        assert set(r) == {"cluster", "rule", "object", "message", "source", "fix"}
        assert r["rule"] in RULES and r["source"] == RULES[r["rule"]].source
    assert {r["rule"] for r in records} == {"network.intended-flow-denied"}
    assert all("/ml-platform/" in r["object"] for r in records), records
    code, out = run(
        "--charts", str(shared_charts), "--cluster", "prod-us-east", "--format", "github", out=tree
    )
    annotations = out.splitlines()
    assert code == 1 and len(annotations) == len(records)
    prefix = f"::error file={tree / 'prod-us-east'},title=platformc verify network.intended-flow-denied::"
    assert all(a.startswith(prefix) and "fix: " in a for a in annotations), annotations


def test_text_has_the_workload_table_per_cluster(shared_charts: Path) -> None:
    _, out = run("--charts", str(shared_charts), "--cluster", "prod-us-east")
    assert "cluster prod-us-east:" in out and "staging-eu" not in out
    assert "Deployment/ai-research/chat-llm-predictor" in out
    assert "Deployment/ai-research/chat-llm-canary-predictor" in out
    assert "Job/ai-research/verify-batch-h100" in out
    assert "DaemonSet/dra-driver-nvidia-gpu/dra-driver-nvidia-gpu-kubelet-plugin" in out


def test_markdown_table(shared_charts: Path) -> None:
    _, out = run("--charts", str(shared_charts), "--cluster", "staging-eu", "--format", "markdown")
    assert "## staging-eu:" in out
    assert "| workload | role | replicas | admitted | scheduled | reachable |" in out


def test_missing_charts_and_unknown_cluster_are_usage_errors(tmp_path: Path) -> None:
    code, out = run("--charts", str(tmp_path), "--cluster", "prod-us-east")
    assert code == 2 and "is not in" in out and "charts pull" in out
    code, out = run("--charts", str(tmp_path), "--cluster", "nowhere")
    assert code == 2 and "no cluster 'nowhere'" in out


def test_render_cache_makes_a_second_run_render_nothing(shared_charts: Path, tmp_path: Path) -> None:
    """The second verify of an unchanged tree reads the renders back instead of running Helm."""
    from compiler.verify import charts
    from compiler.verify.run import verify_tree

    cache = tmp_path / "renders"
    first = verify_tree(EXAMPLE_GENERATED, shared_charts, ["staging-eu"], EXAMPLE_SPEC, cache, jobs=1)
    assert list(cache.glob("*.json"))
    charts._MEMO.clear()
    calls: list[object] = []
    original = charts.render
    charts.render = lambda *a, **k: calls.append(a) or original(*a, **k)  # type: ignore[assignment]
    try:
        second = verify_tree(EXAMPLE_GENERATED, shared_charts, ["staging-eu"], EXAMPLE_SPEC, cache, jobs=1)
    finally:
        charts.render = original  # type: ignore[assignment]
    assert calls == []
    assert [f.record() for f in second.findings] == [f.record() for f in first.findings]
