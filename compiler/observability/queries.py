"""The PromQL both dashboards and rules use, derived from one cluster's model.

Names come from compiler/naming.py, so the ClusterQueue, flavor and InferenceService a query
selects are the ones the kueue and kserve components create.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.cluster_model import ClusterModel, TeamOnCluster
from compiler.naming import (
    cluster_queue_name,
    inference_service_name,
    predictor_service_name,
    resource_flavor_name,
)
from compiler.observability.promql import by, number, one_of, selector
from compiler.spec.budgets import HOURS_PER_MONTH
from compiler.spec.models import ServingPath
from compiler.spec.serving import DEFAULT_CPU_UTILIZATION, format_cpu, replica_resources

# Recording rules (rules.py defines them; dashboards read them because they are cheap).
GPU_UTIL_BY_NS = "platformc:gpu_utilization_percent:avg_by_namespace"
GPU_MEM_BY_NS = "platformc:gpu_memory_used_bytes:sum_by_namespace"
GPU_ALLOCATED = "platformc:gpu_allocated:sum_by_queue_flavor"
GPU_QUOTA = "platformc:gpu_nominal_quota:sum_by_queue_flavor"
FLAVOR_CAPACITY = "platformc:flavor_gpu_capacity"
FLAVOR_COST = "platformc:flavor_hourly_cost_usd"
TEAM_COST = "platformc:gpu_cost_usd_per_hour:sum_by_queue"
# Budgets: spend over the last 730 h (one average month, as `platformc diff` counts) and the
# spend rate of the last day; the budget itself as a series for dashboards.
TEAM_COST_1D = "platformc:gpu_cost_usd_per_hour:avg_by_queue_1d"
TEAM_SPEND = "platformc:gpu_spend_usd:sum_by_queue_730h"
TEAM_BUDGET = "platformc:gpu_budget_usd:monthly"
SERVING_P95 = "platformc:serving_latency_seconds:p95_5m"
BURN_WINDOWS = ("5m", "30m", "1h", "6h")


def serving_requests(window: str) -> str:
    return f"platformc:serving_requests:rate{window}"


def serving_error_ratio(window: str) -> str:
    return f"platformc:serving_error_ratio:rate{window}"


# Kueue reports every resource of a flavor; GPU flavors' ResourceFlavors carry the GPU resource
# (nvidia.com/gpu, nvidia.com/mig-*, or the DRA device class), cpu/memory live in the CPU flavor.
NON_GPU_RESOURCES = ("!~", "cpu|memory|pods|ephemeral-storage")
DCGM_JOB = ("=~", ".*dcgm-exporter.*")
PREDICTOR_SUFFIX = "-predictor"  # KServe raw deployment: Service <isvc>-predictor


@dataclass(frozen=True)
class ServingTarget:
    """A serving path as the metrics see it on this cluster."""

    path: ServingPath
    namespace: str
    inference_service: str

    @property
    def name(self) -> str:
        return self.path.metadata.name

    @property
    def matchers(self) -> dict[str, str | tuple[str, str]]:
        return {"namespace": self.namespace, "inference_service": self.inference_service}


def serving_targets(cluster: ClusterModel, team: str | None = None) -> list[ServingTarget]:
    targets = []
    for path in cluster.serving_paths:
        owner = cluster.team(path.spec.team)
        if owner is None or (team is not None and owner.name != team):
            continue
        targets.append(ServingTarget(path, owner.namespace, inference_service_name(path.metadata.name)))
    return targets


def targets_by_team(cluster: ClusterModel) -> dict[str, list[ServingTarget]]:
    """serving_targets(cluster, team) of every team, from one pass over the serving paths (a cluster
    has a dashboard and an alert group per team: asking per team would be O(teams × paths))."""
    by_team: dict[str, list[ServingTarget]] = {}
    for target in serving_targets(cluster):
        by_team.setdefault(target.path.spec.team, []).append(target)
    return by_team


def gpu_flavor_matcher(cluster: ClusterModel) -> tuple[str, str]:
    return one_of(resource_flavor_name(f) for f in cluster.flavors)


def queue_of(team: TeamOnCluster) -> str:
    return cluster_queue_name(team.name)


# --- GPU ----------------------------------------------------------------------------------------
# A team's queries take its namespace or ClusterQueue name: they are the same on every cluster.


def team_gpu_util(namespace: str) -> str:
    return selector(GPU_UTIL_BY_NS, {"exported_namespace": namespace})


def team_gpu_memory(namespace: str) -> str:
    return selector(GPU_MEM_BY_NS, {"exported_namespace": namespace})


# Engine activity, not DCGM_FI_DEV_GPU_UTIL: NVML's utilisation is unsupported on MIG instances
# (no series, or 0, for every MIG pod), while the profiling field is reported per instance.
ENGINE_ACTIVE = "DCGM_FI_PROF_GR_ENGINE_ACTIVE"


def idle_gpus(namespace: str, util_percent: int) -> str:
    """GPUs (or MIG instances) bound to a pod of the team namespace and below the idle threshold."""
    active = selector(ENGINE_ACTIVE, {"exported_namespace": namespace, "exported_pod": ("!=", "")})
    return f"{active} < {number(util_percent / 100)}"


def allocated_by_flavor(cluster: ClusterModel) -> str:
    return f"sum {by(['flavor'])} ({GPU_ALLOCATED})"


def idle_capacity_by_flavor(cluster: ClusterModel) -> str:
    """Capacity from the spec minus what Kueue admitted (flavors with nothing admitted count fully)."""
    allocated = f"(sum {by(['flavor'])} ({GPU_ALLOCATED}) or {FLAVOR_CAPACITY} * 0)"
    return f"{FLAVOR_CAPACITY} - on (flavor) {allocated}"


def team_allocated(queue: str) -> str:
    return selector(GPU_ALLOCATED, {"cluster_queue": queue})


def team_quota(queue: str) -> str:
    return selector(GPU_QUOTA, {"cluster_queue": queue})


def team_cost(queue: str) -> str:
    return selector(TEAM_COST, {"cluster_queue": queue})


def team_spend(queue: str) -> str:
    return selector(TEAM_SPEND, {"cluster_queue": queue})


def team_projected_spend(queue: str) -> str:
    """What a whole month costs at the last day's spend rate."""
    return f"{selector(TEAM_COST_1D, {'cluster_queue': queue})} * {HOURS_PER_MONTH}"


def team_budget(queue: str) -> str:
    return selector(TEAM_BUDGET, {"cluster_queue": queue})


# --- Kueue --------------------------------------------------------------------------------------


def pending(queue: str) -> str:
    return f"sum {by(['cluster_queue'])} ({selector('kueue_pending_workloads', {'cluster_queue': queue})})"


def pending_by_status(queue: str) -> str:
    workloads = selector("kueue_pending_workloads", {"cluster_queue": queue})
    return f"sum {by(['cluster_queue', 'status'])} ({workloads})"


def admitted(queue: str) -> str:
    return selector("kueue_admitted_active_workloads", {"cluster_queue": queue})


def queue_backlog(queue: str, minutes: int) -> str:
    """Workloads are pending and none was admitted in the window: the queue is not draining."""
    admissions = selector("kueue_admitted_workloads_total", {"cluster_queue": queue})
    return f"{pending(queue)} > 0 unless on (cluster_queue) increase({admissions}[{minutes}m]) > 0"


# --- Serving ------------------------------------------------------------------------------------


def request_rate(target: ServingTarget) -> str:
    return selector(serving_requests("5m"), target.matchers)


def error_ratio(target: ServingTarget, window: str = "5m") -> str:
    return selector(serving_error_ratio(window), target.matchers)


def latency_p95(target: ServingTarget) -> str:
    return selector(SERVING_P95, target.matchers)


def slo_seconds(path: ServingPath) -> str | None:
    return number(path.spec.slo.p95LatencyMs / 1000) if path.spec.slo else None


# --- Autoscaling --------------------------------------------------------------------------------


def _stable_pods(path: ServingPath, namespace: str) -> dict[str, str | tuple[str, str]]:
    """The stable predictor's pods (`<isvc>-predictor-…`; the canary's are `<isvc>-canary-predictor-…`)."""
    service = predictor_service_name(inference_service_name(path.metadata.name))
    return {"namespace": namespace, "pod": ("=~", f"{service}-.*")}


def scaling_signal(path: ServingPath, namespace: str) -> str | None:
    """The PromQL KEDA reads for a serving path (None for CPU, which KServe's HPA measures).

    concurrency: vLLM's running + waiting requests on the stable predictor's pods;
    requestRate: requests/s the gateway sends to the stable Service (exists at zero replicas);
    prometheus: the spec's own query.
    """
    scaling = path.spec.autoscaling
    if scaling is None or scaling.metric == "cpu":
        return None
    if scaling.metric == "prometheus":
        return scaling.query
    if scaling.metric == "requestRate":
        service = predictor_service_name(inference_service_name(path.metadata.name))
        matchers = {
            "reporter": "source",
            "destination_service_namespace": namespace,
            "destination_service_name": service,
        }
        return f"sum(rate({selector('istio_requests_total', matchers)}[1m]))"
    pods = _stable_pods(path, namespace)
    running = selector("vllm:num_requests_running", pods)
    waiting = selector("vllm:num_requests_waiting", pods)
    return f"sum({running}) + sum({waiting})"


def wanted_replicas(target: ServingTarget, cpu_per_replica: str) -> str:
    """Replicas the autoscaling signal asks for: the signal over the per-replica target (KEDA's
    AverageValue rule), or CPU cores used over cores per replica at the target utilisation."""
    path = target.path
    scaling = path.spec.autoscaling
    signal = scaling_signal(path, target.namespace)
    if signal is not None and scaling is not None:
        return f"({signal}) / {number(scaling.target)}"
    utilization = scaling.target if scaling else DEFAULT_CPU_UTILIZATION
    matchers = {**_stable_pods(path, target.namespace), "container": "kserve-container"}
    used = f"sum(rate({selector('container_cpu_usage_seconds_total', matchers)}[5m]))"
    return f"{used} / ({cpu_per_replica} * {number(utilization / 100)})"


def running_replicas(target: ServingTarget) -> str:
    deployment = predictor_service_name(target.inference_service)
    matchers = {"namespace": target.namespace, "deployment": deployment}
    return selector("kube_deployment_status_replicas_available", matchers)


def scaling_description(path: ServingPath) -> str:
    scaling = path.spec.autoscaling
    if scaling is None or scaling.metric == "cpu":
        target = int(scaling.target) if scaling else DEFAULT_CPU_UTILIZATION
        return f"CPU utilisation (KServe HPA), target {target} % per replica"
    what = {
        "concurrency": "in-flight requests (vLLM running + waiting)",
        "requestRate": "requests/s at the gateway",
        "prometheus": "the spec's Prometheus query",
    }[scaling.metric]
    return f"{what} (KEDA), target {number(scaling.target)} per replica"


def cpu_per_replica(cluster: ClusterModel, path: ServingPath) -> str:
    return format_cpu(replica_resources(path, cluster.flavors[path.spec.gpu.flavor]).cpu)
