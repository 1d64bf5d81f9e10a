"""Team budgets: spend recording rules and alerts under promtool, budget split, dashboard.

Spend is Kueue's admitted GPU usage (kueue_cluster_queue_resource_usage) × the flavor's
hourlyCost, averaged over the last 730 h and multiplied by 730 h; a projected overrun is the
last day's rate × 730 h. `promtool test rules` (Debian's prometheus package) runs the
generated groups on synthetic series for a team under, projected over and over its budget.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.observability.dashboards import team_dashboard
from compiler.observability.rules import prometheus_rules
from compiler.spec.budgets import cluster_budgets
from compiler.spec.build import load_platform
from tests.conftest import tool
from tests.guardrails.conftest import clusters_of, guardrail_docs

TEAM = {"cluster_queue": "research", "team": "research"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    docs = guardrail_docs()
    docs[4]["spec"]["budget"] = {"clusters": {"gpu-dp": 10000}}
    return clusters_of(tmp_path_factory.mktemp("budget"), docs)["gpu-dp"]


def _usage(gpus: str) -> dict[str, str]:
    series = 'kueue_cluster_queue_resource_usage{cluster_queue="research", flavor="h100", resource="nvidia.com/gpu"}'
    return {"series": series, "values": gpus}


def _alerts(name: str, fired: list[tuple[str, str]]) -> dict[str, Any]:
    """Expected firing of `name` at 72 h: (severity, description) per alert."""
    return {
        "eval_time": "72h",
        "alertname": name,
        "exp_alerts": [
            {"exp_labels": {**TEAM, "severity": sev}, "exp_annotations": notes} for sev, notes in fired
        ],
    }


PROJECTED = {
    "summary": "Team research is on course to spend more than its GPU budget of 10,000 USD a month",
    "description": "At the last day's GPU spend rate a month costs 11.68k USD; release idle GPUs or lower the quota.",
}

# GPUs admitted, one sample every 4 minutes for 72 h+ (rules read each other's last evaluation,
# so the evaluation interval stays under the 5 m lookback as in a real Prometheus) at 4 USD/GPU-hour; budget 10,000 USD.
CASES = {
    "under budget (2 GPUs: 5,840 USD a month)": ("2x1100", {}),
    "projected over (1 GPU for 47 h, then 4)": (
        "1x704 4x415",
        {"TeamGPUBudgetOverrunProjected": [("warning", PROJECTED)]},
    ),
    "80 % spent (3 GPUs: 8,760 USD)": (
        "3x1100",
        {
            "TeamGPUBudget80Percent": [
                (
                    "warning",
                    {
                        "summary": "Team research has spent 80 % of its GPU budget of 10,000 USD",
                        "description": "GPU spend over the last 730 h is 8.76k USD.",
                    },
                )
            ]
        },
    ),
    "over budget (4 GPUs: 11,680 USD)": (
        "4x1100",
        {
            "TeamGPUBudgetExceeded": [
                (
                    "critical",
                    {
                        "summary": "Team research has spent its whole GPU budget of 10,000 USD",
                        "description": "GPU spend over the last 730 h is 11.68k USD.",
                    },
                )
            ]
        },
    ),
}
ALERTS = ("TeamGPUBudgetOverrunProjected", "TeamGPUBudget80Percent", "TeamGPUBudgetExceeded")


def _promtool(cluster, tmp_path: Path, test: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    groups = [g for obj in prometheus_rules(cluster) for g in obj["spec"]["groups"]]
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
    tests = {"rule_files": ["rules.yaml"], "evaluation_interval": "4m", "tests": [test]}
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests, sort_keys=False))
    return subprocess.run(
        [tool("promtool"), "test", "rules", "tests.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_budget_alerts(cluster, tmp_path: Path, name: str) -> None:
    values, fired = CASES[name]
    test = {
        "interval": "4m",
        "input_series": [_usage(values)],
        "alert_rule_test": [_alerts(alert, fired.get(alert, [])) for alert in ALERTS],
    }
    result = _promtool(cluster, tmp_path, test)
    assert result.returncode == 0, result.stdout + result.stderr


def test_budget_alert_test_can_fail(cluster, tmp_path: Path) -> None:
    test = {
        "interval": "4m",
        "input_series": [_usage("4x1100")],
        "alert_rule_test": [_alerts("TeamGPUBudgetExceeded", [])],
    }
    assert _promtool(cluster, tmp_path, test).returncode != 0


def test_overall_budget_is_split_by_committed_cost(tmp_path: Path) -> None:
    docs = guardrail_docs()
    docs[4]["spec"]["budget"] = {"monthlyUSD": 30000, "clusters": {"gpu-dp": 10000}}
    docs[4]["spec"]["clusters"].append(
        {"cluster": "gpu-extra", "cpu": "8", "memory": "16Gi", "gpus": [{"flavor": "h100", "quota": 16}]}
    )
    docs.append({**docs[3], "metadata": {"name": "gpu-extra"}})
    (tmp_path / "platform.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    model = load_platform(tmp_path)
    # 20,000 USD left, two clusters with the same committed cost (16 H100s each).
    assert cluster_budgets(model, model.teams["research"]) == {
        "gpu-dp": 10000.0,
        "gpu-dra": 10000.0,
        "gpu-extra": 10000.0,
    }


def test_team_dashboard_shows_budget_against_spend(cluster) -> None:
    research = cluster.team("research")
    spec = team_dashboard(cluster, research)
    (row,) = [r for r in spec.rows if r.title == "Budget"]
    (panel,) = row.panels
    assert panel.threshold == 10000
    assert [q.legend for q in panel.queries] == [
        "spent, last 730 h",
        "a month at the last day's rate",
        "budget",
    ]
    assert not any(r.title == "Budget" for r in team_dashboard(cluster, cluster.team("web")).rows)
