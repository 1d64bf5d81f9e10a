"""The PromQL both dashboards and rules use, derived from one cluster's model.

Names come from compiler/naming.py, so the ClusterQueue, flavor and InferenceService a query
selects are the ones the kueue and kserve components create.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.cluster_model import ClusterModel, TeamOnCluster
from compiler.naming import cluster_queue_name, inference_service_name, resource_flavor_name
from compiler.observability.promql import by, number, one_of, selector
from compiler.spec.budgets import HOURS_PER_MONTH
from compiler.spec.models import ServingPath

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


def gpu_flavor_matcher(cluster: ClusterModel) -> tuple[str, str]:
    return one_of(resource_flavor_name(f) for f in cluster.flavors)


def queue_of(team: TeamOnCluster) -> str:
    return cluster_queue_name(team.name)


# --- GPU ----------------------------------------------------------------------------------------


def team_gpu_util(team: TeamOnCluster) -> str:
    return selector(GPU_UTIL_BY_NS, {"exported_namespace": team.namespace})


def team_gpu_memory(team: TeamOnCluster) -> str:
    return selector(GPU_MEM_BY_NS, {"exported_namespace": team.namespace})


def idle_gpus(team: TeamOnCluster, util_percent: int) -> str:
    """GPUs bound to one of the team's pods and below the idle threshold (per GPU)."""
    util = selector(
        "DCGM_FI_DEV_GPU_UTIL", {"exported_namespace": team.namespace, "exported_pod": ("!=", "")}
    )
    return f"{util} < {util_percent}"


def allocated_by_flavor(cluster: ClusterModel) -> str:
    return f"sum {by(['flavor'])} ({GPU_ALLOCATED})"


def idle_capacity_by_flavor(cluster: ClusterModel) -> str:
    """Capacity from the spec minus what Kueue admitted (flavors with nothing admitted count fully)."""
    allocated = f"(sum {by(['flavor'])} ({GPU_ALLOCATED}) or {FLAVOR_CAPACITY} * 0)"
    return f"{FLAVOR_CAPACITY} - on (flavor) {allocated}"


def team_allocated(team: TeamOnCluster) -> str:
    return selector(GPU_ALLOCATED, {"cluster_queue": queue_of(team)})


def team_quota(team: TeamOnCluster) -> str:
    return selector(GPU_QUOTA, {"cluster_queue": queue_of(team)})


def team_cost(team: TeamOnCluster) -> str:
    return selector(TEAM_COST, {"cluster_queue": queue_of(team)})


def team_spend(team: TeamOnCluster) -> str:
    return selector(TEAM_SPEND, {"cluster_queue": queue_of(team)})


def team_projected_spend(team: TeamOnCluster) -> str:
    """What a whole month costs at the last day's spend rate."""
    return f"{selector(TEAM_COST_1D, {'cluster_queue': queue_of(team)})} * {HOURS_PER_MONTH}"


def team_budget(team: TeamOnCluster) -> str:
    return selector(TEAM_BUDGET, {"cluster_queue": queue_of(team)})


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
