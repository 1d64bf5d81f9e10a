"""Per-team GPU metrics on DRA clusters (issue 13, item 8), asserted on the gpu-operator
v26.7.0 chart rendered with real Helm from ../shared/charts."""

from __future__ import annotations

from pathlib import Path

from tests.ai.charts import component_chart, of_kind, render_chart
from tests.ai.conftest import objects

# NVIDIA/gpu-operator v26.7.0 manifests/state-dcgm-exporter/0210_clusterrole.yaml: what the
# DRA-aware exporter reads to map (pool, device) to pods.
DRA_EXPORTER_READS = {("", "pods"), ("resource.k8s.io", "resourceslices")}
# assets/state-dcgm-exporter/0100_service_account.yaml: the ClusterPolicy exporter's account.
EXPORTER_ACCOUNT = "nvidia-dcgm-exporter"


def _grants(build, account: str, namespace: str) -> set[tuple[str, str]]:
    roles = {o["metadata"]["name"]: o for o in objects(build, "ClusterRole")}
    granted = set()
    for binding in objects(build, "ClusterRoleBinding"):
        if {"kind": "ServiceAccount", "name": account, "namespace": namespace} not in binding["subjects"]:
            continue
        for rule in roles[binding["roleRef"]["name"]]["rules"]:
            if {"get", "list", "watch"} <= set(rule["verbs"]):
                granted |= {(g, r) for g in rule["apiGroups"] for r in rule["resources"]}
    return granted


def test_dcgm_exporter_resolves_dra_devices_to_pods(shared_charts: Path, example_builds):
    """NVIDIA/gpu-operator v26.7.0 manifests/state-dcgm-exporter/0700_daemonset.yaml: 'The
    kubelet reports DRA-allocated devices as (pool, device) names rather than GPU UUIDs, so the
    exporter needs the ResourceSlice informer' (KUBERNETES_ENABLE_DRA=true), with the RBAC of
    0210_clusterrole.yaml. The chart's templates/clusterpolicy.yaml passes dcgmExporter.env through."""
    build = example_builds["prod-us-east"]
    assert build.model.dra
    (policy,) = of_kind(render_chart(shared_charts, build, "gpu-operator"), "ClusterPolicy")
    env = {e["name"]: e["value"] for e in policy["spec"]["dcgmExporter"].get("env", [])}
    assert env.get("KUBERNETES_ENABLE_DRA") == "true"
    namespace = component_chart(build, "gpu-operator").namespace
    assert _grants(build, EXPORTER_ACCOUNT, namespace) >= DRA_EXPORTER_READS


def test_device_plugin_clusters_keep_the_uuid_path(shared_charts: Path, example_builds):
    """Device-plugin clusters report GPU UUIDs to the pod-resources API: no DRA lookup there."""
    build = example_builds["staging-eu"]
    (policy,) = of_kind(render_chart(shared_charts, build, "gpu-operator"), "ClusterPolicy")
    env = {e["name"] for e in policy["spec"]["dcgmExporter"].get("env", [])}
    assert "KUBERNETES_ENABLE_DRA" not in env


def test_alerts_watch_what_the_charts_deploy(shared_charts: Path, example_builds):
    """kubernetes-sigs/dra-driver-nvidia-gpu v0.4.1 templates/kubeletplugin.yaml names the
    DaemonSet the DRAKubeletPluginDown alert selects; kube-prometheus-stack 88.0.0
    charts/kube-state-metrics/templates/deployment.yaml turns metricLabelsAllowlist into
    --metric-labels-allowlist, without which kube_node_labels has no nvidia.com/mig.config.state
    for MIGReconfigurationFailed (NVIDIA/mig-parted sets it to 'failed')."""
    from compiler.observability import rules

    build = example_builds["prod-us-east"]
    driver = render_chart(shared_charts, build, "dra-driver-nvidia-gpu")
    plugin = [d for d in of_kind(driver, "DaemonSet") if d["metadata"]["name"] == rules.DRA_KUBELET_PLUGIN]
    assert plugin and component_chart(build, "dra-driver-nvidia-gpu").namespace == "dra-driver-nvidia-gpu"
    stack = render_chart(shared_charts, build, "kube-prometheus-stack")
    ksm = next(
        d for d in of_kind(stack, "Deployment") if d["metadata"]["name"].endswith("kube-state-metrics")
    )
    args = " ".join(ksm["spec"]["template"]["spec"]["containers"][0]["args"])
    assert "--metric-labels-allowlist=nodes=[nvidia.com/mig.config,nvidia.com/mig.config.state]" in args
    groups = [g for o in objects(build, "PrometheusRule") for g in o["spec"]["groups"]]
    alerts = {r["alert"] for g in groups for r in g["rules"] if "alert" in r}
    assert {"MIGReconfigurationFailed", "DRAKubeletPluginDown", "GPUOperatorClusterPolicyNotReady"} <= alerts
