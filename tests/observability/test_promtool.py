"""The generated rule groups pass `promtool check rules`, and `promtool test rules` shows the
idle-GPU, queue-backlog, latency-SLO and error-budget alerts fire on synthetic series and stay
quiet on healthy ones. promtool reads plain rule groups, so they are written out from the
PrometheusRule objects of the committed tree."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import GENERATED, load_objects

CLUSTER = "prod-us-east"  # ai-research runs chat-llm here (SLO p95 1000 ms, maxErrorRatio 0.01)
TEAM_NS = "ai-research"


def rule_groups(cluster: str) -> list[dict[str, Any]]:
    return [
        group
        for _, obj in load_objects(GENERATED / cluster)
        if obj["kind"] == "PrometheusRule"
        for group in obj["spec"]["groups"]
    ]


def run(promtool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("cluster", sorted(p.name for p in GENERATED.iterdir() if p.is_dir()))
def test_promtool_check_rules(promtool, tmp_path, cluster):
    groups = rule_groups(cluster)
    assert groups
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
    result = run(promtool, "check", "rules", "rules.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {sum(len(g['rules']) for g in groups)} rules found" in result.stdout


def test_promtool_check_rules_rejects_a_broken_rule(promtool, tmp_path):
    # The check above can fail: a broken expression in the same shape is refused.
    groups = rule_groups(CLUSTER)
    groups[0]["rules"][0]["expr"] = "sum(("
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
    assert run(promtool, "check", "rules", "rules.yaml", cwd=tmp_path).returncode != 0


def series(labels: dict[str, str], metric: str, values: str) -> dict[str, str]:
    body = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return {"series": f"{metric}{{{body}}}", "values": values}


GPU = {
    "exported_namespace": TEAM_NS,
    "exported_pod": "train-0",
    "exported_container": "main",
    "gpu": "0",
    "Hostname": "gpu-node-1",
    "namespace": "gpu-operator",
    "job": "nvidia-dcgm-exporter",
}
IDLE_ALERT = {**GPU, "severity": "warning", "team": TEAM_NS}
QUEUE = {"cluster_queue": TEAM_NS}
QUEUE_ALERT = {"cluster_queue": TEAM_NS, "severity": "warning", "team": TEAM_NS}
ISVC = {
    "namespace": TEAM_NS,
    "inference_service": "chat-llm",
    "model_name": "chat-llm",
    "pod": "chat-llm-predictor-0",
}
SERVING_ALERT = {
    "namespace": TEAM_NS,
    "inference_service": "chat-llm",
    "serving_path": "chat-llm",
    "team": TEAM_NS,
}


def latency_histogram(slow_per_minute: int, fast_per_minute: int) -> list[dict[str, str]]:
    """request_predict_seconds buckets: `fast` requests under 0.5 s, `slow` ones between 1 and 2.5 s."""
    cumulative = {
        "0.5": fast_per_minute,
        "1": fast_per_minute,
        "2.5": fast_per_minute + slow_per_minute,
        "+Inf": fast_per_minute + slow_per_minute,
    }
    return [
        series({**ISVC, "le": le}, "request_predict_seconds_bucket", f"0+{n}x120")
        for le, n in cumulative.items()
    ]


def gateway(total_per_minute: int, errors_per_minute: int) -> list[dict[str, str]]:
    base = {
        "reporter": "source",
        "destination_service_namespace": TEAM_NS,
        "destination_service_name": "chat-llm-predictor",
        "namespace": "istio-ingress",
    }
    return [
        series(
            {**base, "response_code": "200"},
            "istio_requests_total",
            f"0+{total_per_minute - errors_per_minute}x120",
        ),
        series({**base, "response_code": "503"}, "istio_requests_total", f"0+{errors_per_minute}x120"),
    ]


Expected = tuple[dict[str, str], dict[str, str]]  # (labels, annotations) of one firing alert


def case(input_series: list[dict[str, str]], alerts: list[tuple[str, str, list[Expected]]]) -> dict[str, Any]:
    return {
        "interval": "1m",
        "input_series": input_series,
        "alert_rule_test": [
            {
                "eval_time": t,
                "alertname": name,
                "exp_alerts": [
                    {"exp_labels": labels, "exp_annotations": notes} for labels, notes in expected
                ],
            }
            for t, name, expected in alerts
        ],
    }


IDLE_NOTES = {
    "summary": "GPU 0 of pod ai-research/train-0 idles",
    "description": "The GPU is bound to a pod of team ai-research and stayed under 5 % utilisation "
    "for 60 minutes; "
    "release it so other teams can use it.",
}
QUEUE_NOTES = {
    "summary": "ClusterQueue ai-research has had pending workloads and no admission for 30 minutes",
    "description": "The queue's nominal quota plus what it may borrow from its cohort is used up, "
    "or its workloads "
    "ask for a flavor it has no quota for (status inadmissible).",
}
# 30 slow (1-2.5 s) + 10 fast requests a minute: the 95th percentile interpolates to 2.4 s.
LATENCY_NOTES = {
    "summary": "p95 latency of chat-llm is over its SLO of 1000 ms",
    "description": "p95 over 5 minutes is 2.4s; scale out (replicas.max) or check the model server.",
}
BURN_NOTES = {
    "summary": "chat-llm burns its error budget 14.4x too fast",
    "description": "5xx ratio over 1h and 5m is above 0.144 (14.4 x the SLO's maxErrorRatio 0.01).",
}


XID = {k: v for k, v in GPU.items() if not k.startswith("exported_")}
XID_ALERT = {**XID, "severity": "critical"}
XID_NOTES = {
    "summary": "GPU 0 on gpu-node-1 reported XID 79",
    "description": "The driver reported a hardware or driver XID (ECC, row remapping, NVLink, fallen off "
    "the bus, GSP): drain the node and reset or replace the GPU. Application XIDs (13, 31, 43, 45) do "
    "not alert.",
}
MIG_NODE = {
    "node": "mig-node-1",
    "label_nvidia_com_mig_config": "a100-mig-1g10gb",
    "job": "kube-state-metrics",
}
MIG_NOTES = {
    "summary": "mig-manager could not apply a100-mig-1g10gb on mig-node-1",
    "description": "nvidia.com/mig.config.state is 'failed': the node's GPUs are not partitioned as its "
    "nvidia.com/mig.config label asks, so the MIG flavor's pods cannot schedule there. Check the "
    "nvidia-mig-manager logs on that node.",
}
# The driver chart's DaemonSet (kubernetes-sigs/dra-driver-nvidia-gpu v0.4.1 templates/kubeletplugin.yaml).
PLUGIN = {"namespace": "dra-driver-nvidia-gpu", "daemonset": "dra-driver-nvidia-gpu-kubelet-plugin"}
PLUGIN_NOTES = {
    "summary": "The NVIDIA DRA kubelet plugin is unavailable on 1 node(s)",
    "description": "Without the plugin a node publishes no ResourceSlice and prepares no claim: GPU pods "
    "there stay Pending or fail to start.",
}
OPERATOR = {"job": "gpu-operator", "namespace": "gpu-operator"}
POLICY_NOTES = {
    "summary": "The GPU Operator's ClusterPolicy has not been ready for 30 minutes",
    "description": "reconciliation_status 0 (0 operands not ready, -1 ClusterPolicy unavailable, -2 "
    "operator error): driver, toolkit, device plugin, DCGM or mig-manager are not running on every GPU node.",
}
MIG_GPU = {**GPU, "GPU_I_PROFILE": "1g.10gb", "GPU_I_ID": "3"}

CASES = {
    "idle GPU fires after an hour": case(
        [series(GPU, "DCGM_FI_PROF_GR_ENGINE_ACTIVE", "0.01x90")],
        [("30m", "GPUAllocatedButIdle", []), ("65m", "GPUAllocatedButIdle", [(IDLE_ALERT, IDLE_NOTES)])],
    ),
    "busy GPU stays quiet": case(
        [series(GPU, "DCGM_FI_PROF_GR_ENGINE_ACTIVE", "0.85x90")],
        [("65m", "GPUAllocatedButIdle", [])],
    ),
    "GPU busy now and then does not count as idle": case(
        [series(GPU, "DCGM_FI_PROF_GR_ENGINE_ACTIVE", "0.01x40 0.9x5 0.01x40")],
        [("70m", "GPUAllocatedButIdle", [])],
    ),
    # NVML's GPU_UTIL is unsupported on MIG instances (0 or absent); engine activity is per instance.
    "busy MIG instance stays quiet although GPU_UTIL reads 0": case(
        [
            series(MIG_GPU, "DCGM_FI_DEV_GPU_UTIL", "0x90"),
            series(MIG_GPU, "DCGM_FI_PROF_GR_ENGINE_ACTIVE", "0.7x90"),
        ],
        [("65m", "GPUAllocatedButIdle", [])],
    ),
    "idle MIG instance fires": case(
        [series(MIG_GPU, "DCGM_FI_PROF_GR_ENGINE_ACTIVE", "0x90")],
        [
            (
                "65m",
                "GPUAllocatedButIdle",
                [({**IDLE_ALERT, "GPU_I_PROFILE": "1g.10gb", "GPU_I_ID": "3"}, IDLE_NOTES)],
            )
        ],
    ),
    "hardware XID fires when it appears and resolves when it stays": case(
        [series(XID, "DCGM_FI_DEV_XID_ERRORS", "0x10 79x60")],
        [
            ("5m", "GPUXidError", []),
            ("15m", "GPUXidError", [(XID_ALERT, XID_NOTES)]),
            ("40m", "GPUXidError", []),
        ],
    ),
    "application XIDs never fire": case(
        [series(XID, "DCGM_FI_DEV_XID_ERRORS", "0x10 13x10 31x10 43x10 45x10")],
        [
            ("15m", "GPUXidError", []),
            ("25m", "GPUXidError", []),
            ("35m", "GPUXidError", []),
            ("45m", "GPUXidError", []),
        ],
    ),
    "failed MIG reconfiguration fires": case(
        [
            series({**MIG_NODE, "label_nvidia_com_mig_config_state": "failed"}, "kube_node_labels", "1x30"),
            series(
                {**MIG_NODE, "node": "mig-node-2", "label_nvidia_com_mig_config_state": "success"},
                "kube_node_labels",
                "1x30",
            ),
        ],
        [
            (
                "10m",
                "MIGReconfigurationFailed",
                [
                    (
                        {**MIG_NODE, "label_nvidia_com_mig_config_state": "failed", "severity": "critical"},
                        MIG_NOTES,
                    )
                ],
            )
        ],
    ),
    "DRA kubelet plugin down fires": case(
        [series(PLUGIN, "kube_daemonset_status_number_unavailable", "0x5 1x30")],
        [
            ("10m", "DRAKubeletPluginDown", []),
            ("20m", "DRAKubeletPluginDown", [({**PLUGIN, "severity": "critical"}, PLUGIN_NOTES)]),
        ],
    ),
    "DRA kubelet plugin running stays quiet": case(
        [series(PLUGIN, "kube_daemonset_status_number_unavailable", "0x30")],
        [("20m", "DRAKubeletPluginDown", [])],
    ),
    "ClusterPolicy not ready fires": case(
        [series(OPERATOR, "gpu_operator_reconciliation_status", "1x5 0x60")],
        [
            ("20m", "GPUOperatorClusterPolicyNotReady", []),
            (
                "50m",
                "GPUOperatorClusterPolicyNotReady",
                [({**OPERATOR, "severity": "warning"}, POLICY_NOTES)],
            ),
        ],
    ),
    "ClusterPolicy ready stays quiet": case(
        [series(OPERATOR, "gpu_operator_reconciliation_status", "1x60")],
        [("50m", "GPUOperatorClusterPolicyNotReady", [])],
    ),
    "queue backlog fires when nothing is admitted": case(
        [
            series({**QUEUE, "status": "active"}, "kueue_pending_workloads", "3x60"),
            series(QUEUE, "kueue_admitted_workloads_total", "5x60"),
        ],
        [
            ("20m", "KueueWorkloadsPendingTooLong", []),
            ("40m", "KueueWorkloadsPendingTooLong", [(QUEUE_ALERT, QUEUE_NOTES)]),
        ],
    ),
    "draining queue stays quiet": case(
        [
            series({**QUEUE, "status": "active"}, "kueue_pending_workloads", "3x60"),
            series(QUEUE, "kueue_admitted_workloads_total", "0+1x60"),
        ],
        [("40m", "KueueWorkloadsPendingTooLong", [])],
    ),
    "empty queue stays quiet": case(
        [
            series({**QUEUE, "status": "active"}, "kueue_pending_workloads", "0x60"),
            series(QUEUE, "kueue_admitted_workloads_total", "5x60"),
        ],
        [("40m", "KueueWorkloadsPendingTooLong", [])],
    ),
    "p95 over the SLO fires": case(
        latency_histogram(slow_per_minute=30, fast_per_minute=10),
        [
            ("5m", "ServingLatencyOverSLO", []),
            ("20m", "ServingLatencyOverSLO", [({**SERVING_ALERT, "severity": "warning"}, LATENCY_NOTES)]),
        ],
    ),
    "p95 under the SLO stays quiet": case(
        latency_histogram(slow_per_minute=1, fast_per_minute=100),
        [("20m", "ServingLatencyOverSLO", [])],
    ),
    "fast error-budget burn fires": case(
        gateway(total_per_minute=100, errors_per_minute=50),
        [("10m", "ServingErrorBudgetBurnFast", [({**SERVING_ALERT, "severity": "critical"}, BURN_NOTES)])],
    ),
    "errors within budget stay quiet": case(
        gateway(total_per_minute=1000, errors_per_minute=5),
        [("30m", "ServingErrorBudgetBurnFast", []), ("90m", "ServingErrorBudgetBurnSlow", [])],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_promtool_alert_unit_tests(promtool, tmp_path, name):
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": rule_groups(CLUSTER)}))
    tests = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": [CASES[name]]}
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests, sort_keys=False))
    result = run(promtool, "test", "rules", "tests.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_test_can_fail(promtool, tmp_path):
    # Expecting silence where the idle alert fires must fail, or the cases above prove nothing.
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": rule_groups(CLUSTER)}))
    wrong = case(
        [series(GPU, "DCGM_FI_PROF_GR_ENGINE_ACTIVE", "0.01x90")], [("65m", "GPUAllocatedButIdle", [])]
    )
    tests = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": [wrong]}
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests, sort_keys=False))
    assert run(promtool, "test", "rules", "tests.yaml", cwd=tmp_path).returncode != 0
