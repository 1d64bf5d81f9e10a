"""`platformc verify` on the compiled example: the table, the findings and the exit status.

Until the serving and GPU issues land, the example's findings are exactly the defects those issues
list (issue 12: Pod Security, model download, canary traffic, Kueue capturing serving; issue 13:
MIG never partitioned, time-sliced product renamed -SHARED, DRA quota bypass, ComputeDomain CRDs in
two units, team roles that can delete their NetworkPolicies; plus the Argo CD wave gate); once they
land the set shrinks and the example exits 0.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from compiler.cli import main
from compiler.verify.findings import RULES
from tests.conftest import EXAMPLE_GENERATED, EXAMPLE_SPEC

ISSUE_DEFECT_RULES = {
    "admission.pod-security",
    "network.model-store-unreachable",
    "serving.canary-traffic",
    "kueue.manages-serving",
    "gpu.mig-unpartitioned",
    "scheduling.node-affinity",
    "dra.quota-bypass",
    "gitops.crd-two-units",
    "rbac.team-writes-isolation",
    "gitops.wave-not-gated",
}


def run(*args: str) -> tuple[int, str]:
    runner = CliRunner()
    with runner.isolated_filesystem():  # the render cache (.platformc-cache/) lands in a temp folder
        result = runner.invoke(
            main, ["verify", "--out", str(EXAMPLE_GENERATED), "--spec", str(EXAMPLE_SPEC), *args]
        )
    return result.exit_code, result.output


def test_json_is_one_record_per_finding_and_only_the_issue_defects(shared_charts: Path) -> None:
    code, out = run("--charts", str(shared_charts), "--format", "json")
    records = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert code == (1 if records else 0)
    for r in records:
        assert set(r) == {"cluster", "rule", "object", "message", "source", "fix"}
        assert r["rule"] in RULES and r["source"] == RULES[r["rule"]].source
    assert {r["rule"] for r in records} <= ISSUE_DEFECT_RULES, sorted({r["rule"] for r in records})


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
