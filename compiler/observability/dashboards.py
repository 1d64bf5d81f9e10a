"""Grafana dashboards built with grafana-foundation-sdk: one "GPU platform" dashboard per cluster
and one per team and cluster.

Panels and their queries come from the cluster model, so a new team, flavor, queue or serving path
shows up on the dashboards in the same compile that creates it. The JSON is deterministic: uids
derive from names, panel ids count up in layout order, keys are sorted at serialisation.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from grafana_foundation_sdk.builders import common, dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.models.common import GraphThresholdsStyleMode, LegendDisplayMode, LegendPlacement
from grafana_foundation_sdk.models.dashboard import DataSourceRef, GridPos, Threshold, ThresholdsMode

from compiler.cluster_model import ClusterModel, TeamOnCluster
from compiler.naming import cluster_queue_name
from compiler.observability import queries as q
from compiler.observability.promql import by, number, one_of, selector

# kube-prometheus-stack provisions its Prometheus datasource with this uid
# (grafana.sidecar.datasources.uid); the grafana-operator mode points at the same Grafana.
DATASOURCE = DataSourceRef(type_val="prometheus", uid="prometheus")
UID_MAX = 40  # Grafana rejects longer dashboard uids
FULL_WIDTH = 24
BOUND_GPU_ACTIVE = selector(q.ENGINE_ACTIVE, {"exported_pod": ("!=", "")})


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str


@dataclass(frozen=True)
class PanelSpec:
    title: str
    queries: tuple[Query, ...]
    unit: str = "short"
    kind: str = "timeseries"  # timeseries | stat
    description: str = ""
    threshold: float | None = None  # drawn as a dashed red line (an SLO)
    width: int = 12


# Compared by identity: a reused row is a memo key of its layout (_row_layout), and hashing it
# field by field, every panel and query, costs more than laying it out.
@dataclass(frozen=True, eq=False)
class RowSpec:
    title: str
    panels: tuple[PanelSpec, ...]
    # The same object at the same place on several clusters (a team's rows, _team_rows): its layout
    # is kept. Other rows are laid out where they are used (kept, they would only fill the memo).
    reused: bool = False


@dataclass(frozen=True)
class DashboardSpec:
    uid: str
    title: str
    tags: tuple[str, ...]
    rows: tuple[RowSpec, ...]


def dashboard_uid(*parts: str) -> str:
    uid = "-".join(("platformc", *parts))
    if len(uid) <= UID_MAX:
        return uid
    return "platformc-" + hashlib.sha256(uid.encode()).hexdigest()[: UID_MAX - len("platformc-")]


def _targets(queries: Sequence[Query]) -> list[prometheus.Dataquery]:
    return [
        prometheus.Dataquery()
        .ref_id(chr(ord("A") + i))
        .expr(query.expr)
        .legend_format(query.legend)
        .datasource(DATASOURCE)
        for i, query in enumerate(queries)
    ]


def _thresholds(value: float | None) -> dashboard.ThresholdsConfig:
    steps = [Threshold(value=None, color="green")]
    if value is not None:
        steps.append(Threshold(value=value, color="red"))
    return dashboard.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(steps)


def _panel(spec: PanelSpec, panel_id: int, pos: GridPos) -> Any:
    builder: Any
    if spec.kind == "stat":
        builder = stat.Panel()
    else:
        builder = timeseries.Panel().legend(
            common.VizLegendOptions()
            .show_legend(True)
            .display_mode(LegendDisplayMode.LIST)
            .placement(LegendPlacement.BOTTOM)
        )
        if spec.threshold is not None:
            builder = builder.thresholds_style(
                common.GraphThresholdsStyleConfig().mode(GraphThresholdsStyleMode.DASHED)
            )
    builder = builder.id(panel_id).title(spec.title).unit(spec.unit).datasource(DATASOURCE).grid_pos(pos)
    builder = builder.thresholds(_thresholds(spec.threshold))
    if spec.description:
        builder = builder.description(spec.description)
    for target in _targets(spec.queries):
        builder = builder.with_target(target)
    return builder


def build_dashboard(spec: DashboardSpec) -> dict[str, Any]:
    """Lay rows out top to bottom, panels left to right, and return the dashboard JSON model."""
    return orjson.loads(dashboard_json(spec))


def dashboard_json(spec: DashboardSpec) -> str:
    """The dashboard JSON model as the file text Grafana reads (to_json of build_dashboard), made
    in one serialisation: a cluster has a dashboard per team, 2,000 on a 20 x 100 platform."""
    board = (
        dashboard.Dashboard(spec.title)
        .uid(spec.uid)
        .tags(list(spec.tags))
        .editable()
        .refresh("1m")
        .time("now-6h", "now")
        .timezone("browser")
    )
    # Every row and panel gets an explicit position, never the (0, 0) the SDK's Dashboard builder
    # (with_row / with_panel) would place itself (only the first row sits there, where it would
    # put it too), so the panels list is the SDK's panels in layout order.
    panels: list[dict[str, Any]] = []
    panel_id, y = 1, 0
    for row in spec.rows:
        row_panels, panel_id, y = (_row_layout if row.reused else _lay_out_row)(row, panel_id, y)
        panels += row_panels
    model = board.build().to_json()
    if panels:
        model["panels"] = panels
    model["annotations"] = {"list": []}
    return to_json(model)


def _lay_out_row(row: RowSpec, panel_id: int, y: int) -> tuple[tuple[dict[str, Any], ...], int, int]:
    """The row's and its panels' JSON, the next panel id and the next row's top."""
    panels = [_row_json(row.title, panel_id, y)]
    panel_id, y, x, height = panel_id + 1, y + 1, 0, 0
    for panel in row.panels:
        h = 4 if panel.kind == "stat" else 8
        if x + panel.width > FULL_WIDTH:
            x, y = 0, y + height
            height = 0
        panels.append(_panel_json(panel, panel_id, (h, panel.width, x, y)))
        panel_id, x, height = panel_id + 1, x + panel.width, max(height, h)
    return tuple(panels), panel_id, y + height


# A row starts at the left edge below the previous one, so its layout depends on the row, its
# first panel id and its top only: a team's rows sit at the same place on each of its clusters.
# Kept as plain JSON, never changed (only serialised). A pure function of a frozen row and ints.
_row_layout = functools.lru_cache(maxsize=2048)(_lay_out_row)


def _panel_json(spec: PanelSpec, panel_id: int, pos: tuple[int, int, int, int]) -> dict[str, Any]:
    """The SDK's panel for `spec`: its shape (_panel_shape) with this panel's id, position and
    query expressions, which the SDK sets as given (Panel.id, grid_pos, Dataquery.expr)."""
    shape = _panel_shape(
        spec.title,
        tuple(query.legend for query in spec.queries),
        spec.unit,
        spec.kind,
        spec.description,
        spec.threshold,
    )
    h, w, x, y = pos
    targets = [
        {**target, "expr": query.expr} for target, query in zip(shape["targets"], spec.queries, strict=True)
    ]
    return {**shape, "id": panel_id, "gridPos": {"h": h, "w": w, "x": x, "y": y}, "targets": targets}


# Panels differ in their ids, positions and queries far more than in anything else (a serving path's
# four panels, a team's seven, differ from the next path's or team's only there), so a worker builds
# each shape once with the SDK, kept as plain JSON (never changed: _panel_json copies what it sets,
# the rest is only serialised). A pure function of hashable values.
@functools.lru_cache(maxsize=4096)
def _panel_shape(
    title: str, legends: tuple[str, ...], unit: str, kind: str, description: str, threshold: float | None
) -> dict[str, Any]:
    queries = tuple(Query("", legend) for legend in legends)
    spec = PanelSpec(title, queries, unit, kind, description, threshold)
    return _plain(_panel(spec, 0, GridPos(h=0, w=0, x=0, y=0)).build())


@functools.lru_cache(maxsize=1024)
def _row_json(title: str, panel_id: int, y: int) -> dict[str, Any]:
    return _plain(dashboard.Row(title).id(panel_id).grid_pos(GridPos(h=1, w=FULL_WIDTH, x=0, y=y)).build())


def _plain(model: Any) -> dict[str, Any]:
    plain: dict[str, Any] = orjson.loads(orjson.dumps(model, default=_sdk_to_json))
    return plain


def _sdk_to_json(value: Any) -> Any:
    """The SDK's models serialise themselves (what its own JSONEncoder.default does)."""
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return to_json()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(model: dict[str, Any]) -> str:
    # orjson: the stdlib encoder falls back to pure Python when indenting, and a platform of
    # 20 clusters x 100 teams has 2,000 dashboards; same layout, UTF-8 instead of \u escapes.
    # The SDK's models inside `model` serialise themselves (_sdk_to_json).
    option = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
    return orjson.dumps(model, default=_sdk_to_json, option=option).decode() + "\n"


# --- content --------------------------------------------------------------------------------------


def _serving_rows(cluster: ClusterModel, targets: Sequence[q.ServingTarget]) -> list[RowSpec]:
    return [_serving_row(cluster, target) for target in targets]


def _serving_row(cluster: ClusterModel, target: q.ServingTarget) -> RowSpec:
    """A serving path's row: the same on the cluster's dashboard and on its team's."""
    slo = target.path.spec.slo
    panels = (
        PanelSpec(
            "Requests per second",
            (Query(q.request_rate(target), "{{inference_service}}"),),
            "reqps",
            description="at the ingress gateway (Istio), 5m rate",
            width=8,
        ),
        PanelSpec(
            "p95 latency",
            (Query(q.latency_p95(target), "p95"),),
            "s",
            threshold=slo.p95LatencyMs / 1000 if slo else None,
            description="vLLM end-to-end latency, or KServe predict latency; dashed line = SLO",
            width=8,
        ),
        PanelSpec(
            "Error ratio (5xx)",
            (Query(q.error_ratio(target), "5m"), Query(q.error_ratio(target, "1h"), "1h")),
            "percentunit",
            threshold=slo.maxErrorRatio if slo else None,
            description="dashed line = SLO maxErrorRatio",
            width=8,
        ),
        PanelSpec(
            "Autoscaling: replicas wanted vs running",
            (
                Query(q.wanted_replicas(target, q.cpu_per_replica(cluster, target.path)), "wanted"),
                Query(q.running_replicas(target), "running"),
            ),
            "short",
            threshold=target.path.spec.replicas.max,
            description=f"wanted = {q.scaling_description(target.path)}; dashed line = replicas.max",
            width=24,
        ),
    )
    return RowSpec(f"Serving: {target.name} ({target.namespace})", panels)


def cluster_dashboard(cluster: ClusterModel, serving_rows: Sequence[RowSpec] | None = None) -> DashboardSpec:
    """`serving_rows`: a row per serving target (_serving_row), made here when not given."""
    teams = [t.namespace for t in cluster.teams]
    queues = [cluster_queue_name(t.name) for t in cluster.teams]
    team_ns = {"exported_namespace": one_of(teams)} if teams else {}
    idle = cluster.platform.spec.alerts.idleGpuUtilPercent
    gpus = RowSpec(
        "GPUs",
        (
            PanelSpec(
                "GPU utilisation by team namespace",
                (Query(selector(q.GPU_UTIL_BY_NS, team_ns), "{{exported_namespace}}"),),
                "percent",
            ),
            PanelSpec(
                "GPU memory used by team namespace",
                (Query(selector(q.GPU_MEM_BY_NS, team_ns), "{{exported_namespace}}"),),
                "bytes",
            ),
            PanelSpec(
                "Allocated GPUs per flavor (Kueue)", (Query(q.allocated_by_flavor(cluster), "{{flavor}}"),)
            ),
            PanelSpec(
                "Unallocated GPUs per flavor",
                (Query(q.idle_capacity_by_flavor(cluster), "{{flavor}}"),),
                description="node-pool capacity from the spec minus GPUs admitted by Kueue",
            ),
            PanelSpec(
                "Node-pool capacity per flavor",
                (Query(q.FLAVOR_CAPACITY, "{{flavor}}"),),
                kind="stat",
                width=8,
                description="schedulable GPU units from the spec: nodes x gpusPerNode x MIG instances"
                " or time-slice replicas",
            ),
            PanelSpec(
                "GPUs bound to pods but idle",
                (
                    Query(
                        f"count({BOUND_GPU_ACTIVE} < {number(idle / 100)}) or vector(0)",
                        "idle",
                    ),
                ),
                kind="stat",
                width=8,
                description=f"engine active under {idle} % of the time right now (MIG instances included)",
            ),
            PanelSpec(
                "Cluster GPU cost (USD/h)",
                (Query(f"sum({q.TEAM_COST}) or vector(0)", "USD/h"),),
                "currencyUSD",
                kind="stat",
                width=8,
            ),
        ),
    )
    queue_sel = {"cluster_queue": one_of(queues)} if queues else {}
    per_queue = f"sum {by(['cluster_queue'])}"
    queues_row = RowSpec(
        "Kueue",
        (
            PanelSpec(
                "Pending workloads per ClusterQueue",
                tuple(Query(q.pending(queue), queue) for queue in queues),
            ),
            PanelSpec(
                "Admitted active workloads per ClusterQueue",
                tuple(Query(q.admitted(queue), queue) for queue in queues),
            ),
            PanelSpec(
                "GPU quota usage per ClusterQueue (used / nominal)",
                (
                    Query(
                        f"{per_queue} ({selector(q.GPU_ALLOCATED, queue_sel)}) "
                        f"/ {per_queue} ({selector(q.GPU_QUOTA, queue_sel)})",
                        "{{cluster_queue}}",
                    ),
                ),
                "percentunit",
                description="over 100 % means the queue borrows from its cohort",
            ),
            PanelSpec(
                "GPU cost per team (USD/h)",
                (Query(selector(q.TEAM_COST, queue_sel), "{{cluster_queue}}"),),
                "currencyUSD",
                description="allocated GPUs x the flavor's hourlyCost from the spec",
            ),
        ),
    )
    return DashboardSpec(
        dashboard_uid(cluster.name, "gpu"),
        f"GPU platform / {cluster.name}",
        ("platformc", "gpu", cluster.name),
        (
            gpus,
            queues_row,
            *(_serving_rows(cluster, q.serving_targets(cluster)) if serving_rows is None else serving_rows),
        ),
    )


def team_dashboard(
    cluster: ClusterModel, team: TeamOnCluster, serving_rows: Sequence[RowSpec] | None = None
) -> DashboardSpec:
    """`serving_rows`: a row per serving target of the team (_serving_row), made here when not given."""
    if serving_rows is None:
        serving_rows = _serving_rows(cluster, q.serving_targets(cluster, team.name))
    idle = cluster.platform.spec.alerts.idleGpuUtilPercent
    return DashboardSpec(
        dashboard_uid(cluster.name, team.name),
        f"Team {team.name} / {cluster.name}",
        ("platformc", "team", team.name, cluster.name),
        (*_team_rows(team.namespace, q.queue_of(team), idle, team.budget), *serving_rows),
    )


# A team's GPU, quota and budget rows select by its namespace and ClusterQueue only, so they are the
# same on each of its clusters with the same budget: a worker compiling several clusters makes them
# once. A pure function of strings and numbers, returning frozen specs.
@functools.lru_cache(maxsize=4096)
def _team_rows(namespace: str, queue: str, idle: int, budget: float | None) -> tuple[RowSpec, ...]:
    gpus = RowSpec(
        "GPUs and quota",
        (
            PanelSpec(
                "GPU utilisation", (Query(q.team_gpu_util(namespace), "{{exported_namespace}}"),), "percent"
            ),
            PanelSpec(
                "GPU memory used", (Query(q.team_gpu_memory(namespace), "{{exported_namespace}}"),), "bytes"
            ),
            PanelSpec(
                "Allocated GPUs vs nominal quota per flavor",
                (
                    Query(q.team_allocated(queue), "allocated {{flavor}}"),
                    Query(q.team_quota(queue), "quota {{flavor}}"),
                ),
            ),
            PanelSpec(
                "Pending and admitted workloads",
                (
                    Query(q.pending_by_status(queue), "pending {{status}}"),
                    Query(q.admitted(queue), "admitted"),
                ),
            ),
            PanelSpec(
                "GPUs idle right now",
                (Query(f"count({q.idle_gpus(namespace, idle)}) or vector(0)", "idle"),),
                kind="stat",
                width=8,
                description=f"bound to a pod of the team and under {idle} % utilisation",
            ),
            PanelSpec(
                "GPU cost (USD/h)",
                (Query(f"sum({q.team_cost(queue)}) or vector(0)", "USD/h"),),
                "currencyUSD",
                kind="stat",
                width=8,
            ),
            PanelSpec(
                "GPU cost (USD/day at this rate)",
                (Query(f"24 * (sum({q.team_cost(queue)}) or vector(0))", "USD/day"),),
                "currencyUSD",
                kind="stat",
                width=8,
            ),
        ),
        reused=True,
    )
    return (gpus, *_budget_rows(queue, budget))


def _budget_rows(queue: str, budget: float | None) -> list[RowSpec]:
    if budget is None:
        return []
    panel = PanelSpec(
        "GPU spend vs monthly budget (USD)",
        (
            Query(f"sum({q.team_spend(queue)}) or vector(0)", "spent, last 730 h"),
            Query(f"sum({q.team_projected_spend(queue)}) or vector(0)", "a month at the last day's rate"),
            Query(f"sum({q.team_budget(queue)})", "budget"),
        ),
        "currencyUSD",
        description="spend = average GPU cost rate over the last 730 h x 730 h; alerts at a projected "
        "overrun, 80 % and 100 %",
        threshold=budget,
        width=24,
    )
    return [RowSpec("Budget", (panel,), reused=True)]


def dashboards(cluster: ClusterModel) -> list[DashboardSpec]:
    rows: dict[str, list[RowSpec]] = {}  # by team, each serving path's row made once
    every: list[RowSpec] = []
    for target in q.serving_targets(cluster):
        row = _serving_row(cluster, target)
        rows.setdefault(target.path.spec.team, []).append(row)
        every.append(row)
    return [
        cluster_dashboard(cluster, every),
        *(team_dashboard(cluster, t, rows.get(t.name, ())) for t in cluster.teams),
    ]
