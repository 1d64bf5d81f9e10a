"""Prometheus recording and alerting rules for one cluster, as PrometheusRule objects.

One PrometheusRule with the cluster-wide groups (recordings, GPU health) and one per team with
that team's alerts, labelled `team` so Alertmanager can route them to the team. Thresholds come
from the spec: ServingPath.slo and Platform.spec.alerts (defaults documented in the README).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from compiler.cluster_model import ClusterModel, TeamOnCluster
from compiler.kube import KubeObject, obj
from compiler.naming import DRA_DRIVER_NAMESPACE, resource_flavor_name
from compiler.observability import queries as q
from compiler.observability.promql import Matchers, by, number, selector
from compiler.spec.budgets import HOURS_PER_MONTH
from compiler.spec.node_pools import is_mig

Rule = dict[str, Any]
Group = dict[str, Any]

# Multi-window, multi-burn-rate error-budget alerts (Google SRE workbook, ch. 5): a burn rate
# of 14.4 spends 2 % of a 30-day budget in 1 h, 6 spends 5 % in 6 h. Each long window is paired
# with a short one (1/12 of it) so the alert resets soon after the burn stops.
BURN_ALERTS = (
    ("ServingErrorBudgetBurnFast", 14.4, "1h", "5m", "2m", "critical"),
    ("ServingErrorBudgetBurnSlow", 6.0, "6h", "30m", "15m", "warning"),
)
SERVING_KEYS = ["namespace", "inference_service"]
# XIDs that mean the GPU or driver is at fault (NVIDIA "XID Errors" catalogue, docs.nvidia.com/deploy/
# xid-errors): 48 DBE ECC, 61/62 internal micro-controller, 63/64 row remapping, 74 NVLink,
# 79 fallen off the bus, 92 high SBE rate, 94/95 contained/uncontained ECC, 119/120 GSP,
# 140 unrecovered ECC. 13, 31, 43, 45 are application faults and stay out.
HARDWARE_XIDS = (48, 61, 62, 63, 64, 74, 79, 92, 94, 95, 119, 120, 140)
XID_WINDOW = "10m"
# kube-state-metrics exports nvidia.com/mig.config.state as this label (metricLabelsAllowlist).
MIG_STATE_METRIC_LABEL = "label_nvidia_com_mig_config_state"
DRA_KUBELET_PLUGIN = "dra-driver-nvidia-gpu-kubelet-plugin"  # the driver chart's DaemonSet


def record(name: str, expr: str, labels: dict[str, str] | None = None) -> Rule:
    rule: Rule = {"record": name, "expr": expr}
    if labels:
        rule["labels"] = labels
    return rule


def alert(name: str, expr: str, for_: str, labels: dict[str, str], summary: str, description: str) -> Rule:
    rule: Rule = {"alert": name, "expr": expr}
    if for_ != "0m":
        rule["for"] = for_
    rule["labels"] = labels
    rule["annotations"] = {"summary": summary, "description": description}
    return rule


# --- cluster-wide ---------------------------------------------------------------------------------


def gpu_recordings(cluster: ClusterModel) -> Group:
    gpu_flavors = q.gpu_flavor_matcher(cluster)
    kueue = {"flavor": gpu_flavors, "resource": q.NON_GPU_RESOURCES}
    rules = [
        record(
            q.GPU_UTIL_BY_NS,
            f"avg {by(['exported_namespace'])} "
            f"({selector('DCGM_FI_DEV_GPU_UTIL', {'exported_namespace': ('!=', '')})})",
        ),
        record(
            q.GPU_MEM_BY_NS,
            f"sum {by(['exported_namespace'])} "
            f"({selector('DCGM_FI_DEV_FB_USED', {'exported_namespace': ('!=', '')})}) * 1024 * 1024",
        ),
        record(
            q.GPU_ALLOCATED,
            f"sum {by(['cluster_queue', 'flavor'])} "
            f"({selector('kueue_cluster_queue_resource_usage', kueue)})",
        ),
        record(
            q.GPU_QUOTA,
            f"sum {by(['cluster_queue', 'flavor'])} ({selector('kueue_cluster_queue_nominal_quota', kueue)})",
        ),
    ]
    # Spec constants as series, so capacity and cost join against live metrics by `flavor`.
    for name, flavor in cluster.flavors.items():
        labels = {"flavor": resource_flavor_name(name)}
        rules.append(record(q.FLAVOR_CAPACITY, f"vector({cluster.capacity[name]})", labels))
        rules.append(record(q.FLAVOR_COST, f"vector({number(flavor.spec.hourlyCost)})", labels))
    rules.append(
        record(
            q.TEAM_COST,
            f"sum {by(['cluster_queue'])} ({q.GPU_ALLOCATED} * on (flavor) group_left {q.FLAVOR_COST})",
        )
    )
    rules.append(record(q.TEAM_COST_1D, f"avg_over_time({q.TEAM_COST}[1d])"))
    # Average cost rate over the window Prometheus holds (up to 730 h) × 730 h: the spend of one
    # month, exact once retention covers 730 h, an extrapolation before.
    rules.append(
        record(q.TEAM_SPEND, f"avg_over_time({q.TEAM_COST}[{HOURS_PER_MONTH}h]) * {HOURS_PER_MONTH}")
    )
    return {"name": "platformc.gpu.recording", "rules": rules}


def _by_serving(inner: str) -> str:
    """Gateway series renamed to the labels the serving queries use (namespace, inference_service)."""
    ns = f'label_replace({inner}, "namespace", "$1", "destination_service_namespace", "(.*)")'
    service = f"(.+){q.PREDICTOR_SUFFIX}"
    svc = f'label_replace({ns}, "inference_service", "$1", "destination_service_name", "{service}")'
    return f"sum {by(SERVING_KEYS)} ({svc})"


def serving_recordings() -> Group:
    base: Matchers = {"reporter": "source", "destination_service_name": ("=~", f".+{q.PREDICTOR_SUFFIX}")}
    rules = []
    for window in q.BURN_WINDOWS:
        requests = f"rate({selector('istio_requests_total', base)}[{window}])"
        errors = (
            f"rate({selector('istio_requests_total', {**base, 'response_code': ('=~', '5..')})}[{window}])"
        )
        rules.append(record(q.serving_requests(window), _by_serving(requests)))
        rules.append(
            record(
                q.serving_error_ratio(window),
                f"{_by_serving(errors)} / on ({', '.join(SERVING_KEYS)}) {q.serving_requests(window)}",
            )
        )
    keys = [*SERVING_KEYS, "le"]
    has_isvc = {"inference_service": ("!=", "")}
    vllm = f"sum {by(keys)} (rate({selector('vllm:e2e_request_latency_seconds_bucket', has_isvc)}[5m]))"
    kserve = f"sum {by(keys)} (rate({selector('request_predict_seconds_bucket', has_isvc)}[5m]))"
    # vLLM's end-to-end histogram where the backend is vLLM (generation); KServe's predict
    # histogram otherwise (encoders, non-vLLM backends). Bucket layouts differ, so never mix them
    # for one service: `or on (...)` takes the KServe series only where no vLLM series exists.
    rules.append(
        record(
            q.SERVING_P95, f"histogram_quantile(0.95, ({vllm}) or on ({', '.join(SERVING_KEYS)}) ({kserve}))"
        )
    )
    return {"name": "platformc.serving.recording", "rules": rules}


def xid_alert() -> Rule:
    """DCGM_FI_DEV_XID_ERRORS holds the last XID seen, forever: alert when it changes to an XID
    that means hardware or driver trouble, and resolve once it stops changing."""
    xid = selector("DCGM_FI_DEV_XID_ERRORS")
    wanted = " or ".join(f"{xid} == {code}" for code in HARDWARE_XIDS)
    return alert(
        "GPUXidError",
        f"({wanted}) and changes({xid}[{XID_WINDOW}]) > 0",
        "0m",
        {"severity": "critical"},
        "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} reported XID {{ $value }}",
        "The driver reported a hardware or driver XID (ECC, row remapping, NVLink, fallen off the "
        "bus, GSP): drain the node and reset or replace the GPU. Application XIDs (13, 31, 43, 45) "
        "do not alert.",
    )


def gpu_health_alerts(cluster: ClusterModel) -> Group:
    up = selector("up", {"job": q.DCGM_JOB})
    rules = [
        xid_alert(),
        alert(
            "DCGMExporterDown",
            f"{up} == 0",
            "10m",
            {"severity": "warning"},
            "DCGM exporter {{ $labels.instance }} cannot be scraped",
            "GPU metrics of this node are missing: dashboards, idle-GPU and XID alerts are blind there.",
        ),
        alert(
            "DCGMExporterAbsent",
            f"absent({up})",
            "15m",
            {"severity": "warning"},
            "No DCGM exporter is scraped on this cluster",
            f"The spec gives this cluster {sum(cluster.capacity.values())} schedulable GPU units but "
            "Prometheus "
            "scrapes no DCGM exporter (GPU Operator dcgmExporter.serviceMonitor).",
        ),
    ]
    if any(is_mig(f) for f in cluster.flavors.values()):
        failed = selector("kube_node_labels", {MIG_STATE_METRIC_LABEL: "failed"})
        rules.append(
            alert(
                "MIGReconfigurationFailed",
                failed,
                "5m",
                {"severity": "critical"},
                "mig-manager could not apply {{ $labels.label_nvidia_com_mig_config }} on {{ $labels.node }}",
                "nvidia.com/mig.config.state is 'failed': the node's GPUs are not partitioned as its "
                "nvidia.com/mig.config label asks, so the MIG flavor's pods cannot schedule there. "
                "Check the nvidia-mig-manager logs on that node.",
            )
        )
    if cluster.dra:
        plugin = {"namespace": DRA_DRIVER_NAMESPACE, "daemonset": DRA_KUBELET_PLUGIN}
        rules.append(
            alert(
                "DRAKubeletPluginDown",
                f"{selector('kube_daemonset_status_number_unavailable', plugin)} > 0",
                "10m",
                {"severity": "critical"},
                "The NVIDIA DRA kubelet plugin is unavailable on {{ $value }} node(s)",
                "Without the plugin a node publishes no ResourceSlice and prepares no claim: GPU pods "
                "there stay Pending or fail to start.",
            )
        )
    rules.append(
        alert(
            "GPUOperatorClusterPolicyNotReady",
            f"{selector('gpu_operator_reconciliation_status')} != 1",
            "30m",
            {"severity": "warning"},
            "The GPU Operator's ClusterPolicy has not been ready for 30 minutes",
            "reconciliation_status {{ $value }} (0 operands not ready, -1 ClusterPolicy unavailable, "
            "-2 operator error): driver, toolkit, device plugin, DCGM or mig-manager are not running "
            "on every GPU node.",
        )
    )
    return {"name": "platformc.gpu.alerts", "rules": rules}


# --- per team -------------------------------------------------------------------------------------


def team_alerts(
    cluster: ClusterModel, team: TeamOnCluster, targets: Sequence[q.ServingTarget] | None = None
) -> Group:
    """`targets`: the team's serving targets (queries.targets_by_team), looked up when not given."""
    thresholds = cluster.platform.spec.alerts
    base = {"severity": "warning", "team": team.name}
    queue = q.queue_of(team)
    rules = [
        alert(
            "GPUAllocatedButIdle",
            q.idle_gpus(team.namespace, thresholds.idleGpuUtilPercent),
            f"{thresholds.idleGpuMinutes}m",
            base,
            "GPU {{ $labels.gpu }} of pod {{ $labels.exported_namespace }}/{{ $labels.exported_pod }} idles",
            f"The GPU is bound to a pod of team {team.name} and stayed under "
            f"{thresholds.idleGpuUtilPercent} % utilisation for {thresholds.idleGpuMinutes} minutes; "
            "release it so other teams can use it.",
        ),
        alert(
            "KueueWorkloadsPendingTooLong",
            q.queue_backlog(queue, thresholds.queuePendingMinutes),
            f"{thresholds.queuePendingMinutes}m",
            {**base, "cluster_queue": queue},
            f"ClusterQueue {queue} has had pending workloads and no admission for "
            f"{thresholds.queuePendingMinutes} minutes",
            "The queue's nominal quota plus what it may borrow from its cohort is used up, or its "
            "workloads ask for a flavor it has no quota for (status inadmissible).",
        ),
    ]
    for target in q.serving_targets(cluster, team.name) if targets is None else targets:
        maximum = target.path.spec.replicas.max
        rules.append(
            alert(
                "ServingWantsMoreThanMaxReplicas",
                f"{q.wanted_replicas(target, q.cpu_per_replica(cluster, target.path))} > {maximum}",
                "15m",
                {**base, "serving_path": target.name},
                f"{target.name} needs more than its replicas.max {maximum}",
                f"The autoscaling signal, {q.scaling_description(target.path)}, asks for "
                "{{ $value | humanize }} replicas; raise replicas.max (and the team quota) or expect "
                "queueing and latency.",
            )
        )
        slo = target.path.spec.slo
        if slo is None:
            continue  # an SLO is a contract; without one there is nothing to alert on
        labels = {**base, "serving_path": target.name}
        rules.append(
            alert(
                "ServingLatencyOverSLO",
                f"{q.latency_p95(target)} > {q.slo_seconds(target.path)}",
                "10m",
                labels,
                f"p95 latency of {target.name} is over its SLO of {slo.p95LatencyMs} ms",
                "p95 over 5 minutes is {{ $value | humanizeDuration }}; "
                "scale out (replicas.max) or check the model server.",
            )
        )
        for name, rate, long, short, for_, severity in BURN_ALERTS:
            threshold = number(min(rate * slo.maxErrorRatio, 1.0))
            over = f"> {threshold}"
            expr = f"{q.error_ratio(target, long)} {over} and {q.error_ratio(target, short)} {over}"
            rules.append(
                alert(
                    name,
                    expr,
                    for_,
                    {**labels, "severity": severity},
                    f"{target.name} burns its error budget {number(rate)}x too fast",
                    f"5xx ratio over {long} and {short} is above {threshold} "
                    f"({number(rate)} x the SLO's maxErrorRatio {number(slo.maxErrorRatio)}).",
                )
            )
    rules += budget_rules(team)
    return {"name": f"platformc.team.{team.name}", "rules": rules}


def budget_rules(team: TeamOnCluster) -> list[Rule]:
    """The team's budget as a series, and alerts at a projected overrun, 80 % and 100 %."""
    if team.budget is None:
        return []
    budget = number(team.budget)
    queue = q.queue_of(team)
    labels = {"team": team.name, "cluster_queue": queue}
    spend, projected = q.team_spend(queue), q.team_projected_spend(queue)
    money = f"{team.budget:,.0f} USD"
    return [
        record(q.TEAM_BUDGET, f"vector({budget})", {"cluster_queue": queue}),
        alert(
            "TeamGPUBudgetOverrunProjected",
            f"{projected} > {budget} and {spend} < {budget}",
            "1h",
            {**labels, "severity": "warning"},
            f"Team {team.name} is on course to spend more than its GPU budget of {money} a month",
            "At the last day's GPU spend rate a month costs {{ $value | humanize }} USD; "
            "release idle GPUs or lower the quota.",
        ),
        alert(
            "TeamGPUBudget80Percent",
            f"{spend} >= {number(team.budget * 0.8)} and {spend} < {budget}",
            "0m",
            {**labels, "severity": "warning"},
            f"Team {team.name} has spent 80 % of its GPU budget of {money}",
            "GPU spend over the last 730 h is {{ $value | humanize }} USD.",
        ),
        alert(
            "TeamGPUBudgetExceeded",
            f"{spend} >= {budget}",
            "0m",
            {**labels, "severity": "critical"},
            f"Team {team.name} has spent its whole GPU budget of {money}",
            "GPU spend over the last 730 h is {{ $value | humanize }} USD.",
        ),
    ]


# --- objects --------------------------------------------------------------------------------------


def cluster_groups(cluster: ClusterModel) -> list[Group]:
    groups = [gpu_recordings(cluster)]
    if cluster.serving_paths:
        groups.append(serving_recordings())
    if cluster.flavors:
        groups.append(gpu_health_alerts(cluster))
    return groups


def prometheus_rules(cluster: ClusterModel) -> list[KubeObject]:
    namespace = cluster.monitoring_namespace
    objects = [
        obj(
            "monitoring.coreos.com/v1",
            "PrometheusRule",
            "platformc-cluster",
            namespace,
            spec={"groups": cluster_groups(cluster)},
        )
    ]
    by_team = q.targets_by_team(cluster)
    for team in cluster.teams:
        objects.append(
            obj(
                "monitoring.coreos.com/v1",
                "PrometheusRule",
                f"platformc-team-{team.name}",
                namespace,
                labels=team.labels,
                spec={"groups": [team_alerts(cluster, team, by_team.get(team.name, ()))]},
            )
        )
    return objects
