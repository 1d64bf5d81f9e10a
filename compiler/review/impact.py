"""Spec-level impact of a change: what a reviewer must notice, computed from the two typed specs.

Quotas, borrowing, capacity and cost come straight from the PlatformModels (not from generated
objects), so the numbers are the ones the spec author wrote. Monthly cost = quota * hourlyCost * 730 h.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from compiler.spec.budgets import HOURS_PER_MONTH, committed_cost
from compiler.spec.cluster_facts import cluster_capacity, cluster_engine, cluster_kubernetes_version
from compiler.spec.model import PlatformModel
from compiler.spec.models import ServingPath, Team
from compiler.spec.node_pools import contract_document

SECTIONS = (
    "Clusters",
    "Teams",
    "GPU quota",
    "GPU capacity",
    "Node pools",
    "Cost",
    "Serving",
    "Network exposure",
    "Security",
    "Platform",
)
Severity = Literal["info", "warning"]
OPEN_CIDRS = frozenset({"0.0.0.0/0", "::/0"})
DEFAULT_DENY = ("default-deny-ingress", "default-deny-egress")


@dataclass(frozen=True)
class ImpactItem:
    section: str
    subject: str  # team / cluster / serving path the line is about
    text: str
    severity: Severity = "info"
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CostChange:
    before: float
    after: float

    @property
    def delta(self) -> float:
        return self.after - self.before


@dataclass
class Impact:
    items: list[ImpactItem] = field(default_factory=list)
    team_costs: dict[str, CostChange] = field(default_factory=dict)  # only teams whose cost changed
    total_cost: CostChange = field(default_factory=lambda: CostChange(0.0, 0.0))

    def section(self, name: str) -> list[ImpactItem]:
        return [i for i in self.items if i.section == name]

    @property
    def warnings(self) -> list[ImpactItem]:
        return [i for i in self.items if i.severity == "warning"]

    def lines(self) -> Iterator[str]:
        for item in self.items:
            yield item.text

    def to_json(self) -> dict[str, Any]:
        return {
            "items": [
                {"section": i.section, "subject": i.subject, "severity": i.severity, "text": i.text, **i.data}
                for i in self.items
            ],
            "monthlyCost": {
                "before": round(self.total_cost.before, 2),
                "after": round(self.total_cost.after, 2),
                "change": round(self.total_cost.delta, 2),
                "teams": {
                    t: {"before": round(c.before, 2), "after": round(c.after, 2), "change": round(c.delta, 2)}
                    for t, c in self.team_costs.items()
                },
            },
        }


def money(value: float, signed: bool = False) -> str:
    sign = ("+" if value >= 0 else "-") if signed else ("-" if value < 0 else "")
    return f"{sign}${abs(value):,.2f}"


def signed(value: int) -> str:
    return f"{value:+d}"


def _limit(value: int | None) -> str:
    return "none" if value is None else str(value)


def _listed(values: Iterable[str]) -> str:
    return ", ".join(sorted(values))


# --- quotas and cost --------------------------------------------------------------------------

QuotaKey = tuple[str, str, str]  # team, cluster, flavor


@dataclass(frozen=True)
class _Quota:
    quota: int
    borrowing: int | None
    lending: int | None
    hourly: float

    @property
    def monthly(self) -> float:
        return self.quota * self.hourly * HOURS_PER_MONTH


def _quotas(model: PlatformModel | None) -> dict[QuotaKey, _Quota]:
    if model is None:
        return {}
    found = {}
    for team in model.teams.values():
        for entry in team.spec.clusters:
            for gpu in entry.gpus:
                hourly = model.flavors[gpu.flavor].spec.hourlyCost if gpu.flavor in model.flavors else 0.0
                key = (team.metadata.name, entry.cluster, gpu.flavor)
                found[key] = _Quota(gpu.quota, gpu.borrowingLimit, gpu.lendingLimit, hourly)
    return found


def _quota_items(old: Mapping[QuotaKey, _Quota], new: Mapping[QuotaKey, _Quota]) -> Iterator[ImpactItem]:
    zero = _Quota(0, None, None, 0.0)
    for key in sorted(old.keys() | new.keys()):
        team, cluster, flavor = key
        before, after = old.get(key, zero), new.get(key, zero)
        where = f"{team} on {cluster}"
        if before.quota != after.quota:
            cost = after.monthly - before.monthly
            yield ImpactItem(
                "GPU quota",
                team,
                f"{where}: {flavor} quota {before.quota} → {after.quota} "
                f"({signed(after.quota - before.quota)}), "
                f"monthly cost {money(cost, signed=True)}",
                data={
                    "team": team,
                    "cluster": cluster,
                    "flavor": flavor,
                    "before": before.quota,
                    "after": after.quota,
                    "monthlyCostChange": round(cost, 2),
                },
            )
        for field_name, b, a in (
            ("borrowingLimit", before.borrowing, after.borrowing),
            ("lendingLimit", before.lending, after.lending),
        ):
            if b != a and (key in old and key in new):
                delta = f" ({signed((a or 0) - (b or 0))})" if a is not None and b is not None else ""
                yield ImpactItem(
                    "GPU quota",
                    team,
                    f"{where}: {flavor} {field_name} {_limit(b)} → {_limit(a)}{delta}",
                    data={
                        "team": team,
                        "cluster": cluster,
                        "flavor": flavor,
                        "field": field_name,
                        "before": b,
                        "after": a,
                    },
                )


def _team_costs(quotas: Mapping[QuotaKey, _Quota]) -> dict[str, float]:
    costs: dict[str, float] = {}
    for (team, _, _), quota in quotas.items():
        costs[team] = costs.get(team, 0.0) + quota.monthly
    return costs


# --- clusters and capacity --------------------------------------------------------------------


def _capacity(model: PlatformModel | None) -> dict[str, dict[str, int]]:
    if model is None:
        return {}
    return {name: cluster_capacity(model, cluster) for name, cluster in model.clusters.items()}


def _capacity_text(capacity: Mapping[str, int]) -> str:
    return ", ".join(f"{f} {n}" for f, n in sorted(capacity.items())) or "no GPUs"


def _cluster_items(old: PlatformModel | None, new: PlatformModel) -> Iterator[ImpactItem]:
    before = old.clusters if old else {}
    old_cap, new_cap = _capacity(old), _capacity(new)
    for name in sorted(before.keys() | new.clusters.keys()):
        if name not in before:
            yield ImpactItem(
                "Clusters",
                name,
                f"cluster {name} added (environment {new.clusters[name].spec.environment}, "
                f"GPU capacity: {_capacity_text(new_cap[name])})",
                data={"cluster": name, "change": "added"},
            )
            continue
        if name not in new.clusters:
            yield ImpactItem(
                "Clusters",
                name,
                f"cluster {name} removed (GPU capacity: {_capacity_text(old_cap[name])}; "
                "every object on it is deleted by the GitOps engine)",
                "warning",
                data={"cluster": name, "change": "removed"},
            )
            continue
        assert old is not None
        a, b = before[name], new.clusters[name]
        for label, x, y in (
            ("kubernetesVersion", cluster_kubernetes_version(old, a), cluster_kubernetes_version(new, b)),
            ("engine", cluster_engine(old, a), cluster_engine(new, b)),
            ("gpuAllocation", a.spec.gpuAllocation, b.spec.gpuAllocation),
            ("cohort", a.spec.cohort, b.spec.cohort),
            ("environment", a.spec.environment, b.spec.environment),
        ):
            if x != y:
                yield ImpactItem(
                    "Clusters",
                    name,
                    f"cluster {name}: {label} {x} → {y}",
                    data={"cluster": name, "field": label},
                )
        for flavor in sorted(old_cap[name].keys() | new_cap[name].keys()):
            had, has = old_cap[name].get(flavor, 0), new_cap[name].get(flavor, 0)
            if had != has:
                yield ImpactItem(
                    "GPU capacity",
                    name,
                    f"{name}: {flavor} capacity {had} → {has} ({signed(has - had)})",
                    data={"cluster": name, "flavor": flavor, "before": had, "after": has},
                )
        x_domain = a.spec.ingress.domain if a.spec.ingress else None
        y_domain = b.spec.ingress.domain if b.spec.ingress else None
        if x_domain != y_domain:
            yield ImpactItem(
                "Network exposure",
                name,
                f"cluster {name}: ingress domain {x_domain} → {y_domain}",
                data={"cluster": name},
            )


def _contracts(model: PlatformModel | None) -> dict[tuple[str, str], dict[str, Any]]:
    """(cluster, pool) → the pool's node-pool contract entry."""
    if model is None:
        return {}
    return {
        (name, pool["name"]): pool
        for name, cluster in model.clusters.items()
        for pool in contract_document(cluster, model.flavors)["pools"]
    }


def _label_text(labels: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "none"


def _taint_text(taints: list[dict[str, str]]) -> str:
    return ", ".join(f"{t['key']}={t.get('value', '')}:{t['effect']}" for t in taints) or "none"


def _node_pool_items(old: PlatformModel | None, new: PlatformModel) -> Iterator[ImpactItem]:
    """Changes of the node-pool contract (node-pools.json): someone must relabel or retaint nodes,
    since nothing in the GitOps tree can."""
    if old is None:
        return
    before, after = _contracts(old), _contracts(new)
    for key in sorted(before.keys() & after.keys()):
        cluster, pool = key
        a, b = before[key], after[key]
        for field_name in ("labels", "taints"):
            if a[field_name] == b[field_name]:
                continue
            if field_name == "labels":
                was, now = _label_text(a["labels"]), _label_text(b["labels"])
            else:
                was, now = (
                    ", ".join(f"{t['key']}={t.get('value', '')}:{t['effect']}" for t in x[field_name])
                    or "none"
                    for x in (a, b)
                )
            yield ImpactItem(
                "Node pools",
                cluster,
                f"{cluster}: node pool {pool} {field_name} {was} → {now}: relabel the pool's nodes "
                f"(node-pools.json), or its GPUs stay unscheduled",
                "warning",
                data={
                    "cluster": cluster,
                    "pool": pool,
                    "field": field_name,
                    "before": a[field_name],
                    "after": b[field_name],
                },
            )
    for key in sorted(after.keys() - before.keys()):
        cluster, pool = key
        yield ImpactItem(
            "Node pools",
            cluster,
            f"{cluster}: node pool {pool} added: provision its nodes with labels "
            f"{_label_text(after[key]['labels'])} (node-pools.json)",
            data={"cluster": cluster, "pool": pool, "change": "added"},
        )


def _flavor_items(old: PlatformModel | None, new: PlatformModel) -> Iterator[ImpactItem]:
    if old is None:
        return
    for name in sorted(old.flavors.keys() & new.flavors.keys()):
        a, b = old.flavors[name].spec, new.flavors[name].spec
        if a.hourlyCost != b.hourlyCost:
            yield ImpactItem(
                "Cost",
                name,
                f"GPU flavor {name}: hourlyCost ${a.hourlyCost:,.2f} → ${b.hourlyCost:,.2f}",
                data={"flavor": name},
            )
        if a.sharing != b.sharing:
            yield ImpactItem(
                "GPU capacity",
                name,
                f"GPU flavor {name}: sharing {a.sharing.mode} → {b.sharing.mode}",
                data={"flavor": name},
            )


# --- teams, network, security -----------------------------------------------------------------


def _set_change(
    section: str,
    subject: str,
    what: str,
    old: Iterable[str],
    new: Iterable[str],
    severity_added: Severity = "info",
) -> Iterator[ImpactItem]:
    a, b = set(old), set(new)
    if b - a:
        yield ImpactItem(
            section,
            subject,
            f"{subject}: {what} + {_listed(b - a)}",
            severity_added,
            data={"added": sorted(b - a), "field": what},
        )
    if a - b:
        yield ImpactItem(
            section,
            subject,
            f"{subject}: {what} - {_listed(a - b)}",
            data={"removed": sorted(a - b), "field": what},
        )


def _team_items(old: PlatformModel | None, new: PlatformModel) -> Iterator[ImpactItem]:
    before: Mapping[str, Team] = old.teams if old else {}
    for name in sorted(before.keys() | new.teams.keys()):
        if name not in before:
            spec = new.teams[name].spec
            clusters = _listed(e.cluster for e in spec.clusters)
            yield ImpactItem(
                "Teams",
                name,
                f"team {name} added (clusters: {clusters}; priority {spec.priority}; "
                f"podSecurity {spec.podSecurity})",
                data={"team": name, "change": "added"},
            )
            if OPEN_CIDRS & set(spec.allowEgressTo):
                yield ImpactItem(
                    "Security",
                    name,
                    f"{name}: allowEgressTo includes {_listed(OPEN_CIDRS & set(spec.allowEgressTo))}"
                    " (egress to the whole internet)",
                    "warning",
                    data={"team": name},
                )
            continue
        if name not in new.teams:
            yield ImpactItem(
                "Teams",
                name,
                f"team {name} removed (its namespaces and everything in them are deleted)",
                "warning",
                data={"team": name, "change": "removed"},
            )
            continue
        a, b = before[name].spec, new.teams[name].spec
        yield from _set_change(
            "Teams", name, "clusters", (e.cluster for e in a.clusters), (e.cluster for e in b.clusters)
        )
        if a.priority != b.priority:
            yield ImpactItem(
                "Teams", name, f"{name}: priority {a.priority} → {b.priority}", data={"team": name}
            )
        if a.costCenter != b.costCenter:
            yield ImpactItem(
                "Teams", name, f"{name}: costCenter {a.costCenter} → {b.costCenter}", data={"team": name}
            )
        yield from _set_change(
            "Network exposure", name, "allowIngressFrom", a.allowIngressFrom, b.allowIngressFrom
        )
        if a.podSecurity != b.podSecurity:
            weaker = a.podSecurity == "restricted"
            yield ImpactItem(
                "Security",
                name,
                f"{name}: podSecurity {a.podSecurity} → {b.podSecurity}" + (" (weaker)" if weaker else ""),
                "warning" if weaker else "info",
                data={"team": name},
            )
        yield from _set_change("Security", name, "allowEgressTo", a.allowEgressTo, b.allowEgressTo, "warning")
        if OPEN_CIDRS & (set(b.allowEgressTo) - set(a.allowEgressTo)):
            yield ImpactItem(
                "Security",
                name,
                f"{name}: allowEgressTo now includes the whole internet",
                "warning",
                data={"team": name},
            )
        yield from _set_change("Security", name, "owners (admin)", a.owners, b.owners, "warning")
        yield from _set_change("Security", name, "members (edit)", a.members, b.members)


def _serving_text(path: ServingPath) -> str:
    spec = path.spec
    parts = [
        f"team {spec.team}",
        f"on {_listed(spec.clusters)}",
        f"{spec.gpu.flavor} x {spec.gpu.count} per replica",
        f"replicas {spec.replicas.min}-{spec.replicas.max}",
    ]
    if spec.canary:
        parts.append(f"canary {spec.canary.trafficPercent}% → {spec.canary.storageUri}")
    return "; ".join(parts)


def _serving_items(old: PlatformModel | None, new: PlatformModel) -> Iterator[ImpactItem]:
    before: Mapping[str, ServingPath] = old.serving_paths if old else {}
    for name in sorted(before.keys() | new.serving_paths.keys()):
        if name not in before:
            path = new.serving_paths[name]
            yield ImpactItem(
                "Serving",
                name,
                f"serving path {name} added ({_serving_text(path)})",
                data={"servingPath": name, "change": "added"},
            )
            if path.spec.allowFrom:
                yield ImpactItem(
                    "Network exposure",
                    name,
                    f"{name}: callable from {_listed(path.spec.allowFrom)}",
                    data={"servingPath": name},
                )
            continue
        if name not in new.serving_paths:
            yield ImpactItem(
                "Serving",
                name,
                f"serving path {name} removed ({_serving_text(before[name])})",
                "warning",
                data={"servingPath": name, "change": "removed"},
            )
            continue
        a, b = before[name].spec, new.serving_paths[name].spec
        yield from _set_change("Serving", name, "clusters", a.clusters, b.clusters)
        if a.model != b.model:
            yield ImpactItem(
                "Serving",
                name,
                f"{name}: model {a.model.storageUri} → {b.model.storageUri}",
                data={"servingPath": name, "field": "model"},
            )
        if a.gpu != b.gpu:
            yield ImpactItem(
                "Serving",
                name,
                f"{name}: GPU per replica {a.gpu.flavor} x {a.gpu.count} → {b.gpu.flavor} x {b.gpu.count}",
                data={"servingPath": name, "field": "gpu"},
            )
        if a.replicas != b.replicas:
            yield ImpactItem(
                "Serving",
                name,
                f"{name}: replicas {a.replicas.min}-{a.replicas.max} → {b.replicas.min}-{b.replicas.max}",
                data={"servingPath": name, "field": "replicas"},
            )
        if a.canary != b.canary:
            if a.canary is None and b.canary is not None:
                text = f"canary added: {b.canary.trafficPercent}% of traffic → {b.canary.storageUri}"
            elif b.canary is None and a.canary is not None:
                text = f"canary removed (was {a.canary.trafficPercent}% → {a.canary.storageUri})"
            else:
                assert a.canary and b.canary
                text = f"canary {a.canary.trafficPercent}% → {b.canary.trafficPercent}%"
                if a.canary.storageUri != b.canary.storageUri:
                    text += f", model {a.canary.storageUri} → {b.canary.storageUri}"
            yield ImpactItem(
                "Serving", name, f"{name}: {text}", data={"servingPath": name, "field": "canary"}
            )
        if a.slo != b.slo:
            yield ImpactItem(
                "Serving", name, f"{name}: SLO changed", data={"servingPath": name, "field": "slo"}
            )
        yield from _set_change("Network exposure", name, "allowFrom", a.allowFrom, b.allowFrom)


def _platform_items(old: PlatformModel | None, new: PlatformModel) -> Iterator[ImpactItem]:
    if old is None:
        yield ImpactItem(
            "Platform", new.platform.metadata.name, f"platform {new.platform.metadata.name} added"
        )
        return
    a, b = old.platform.spec, new.platform.spec
    for label, x, y in (
        ("gitops.repoURL", a.gitops.repoURL, b.gitops.repoURL),
        ("gitops.revision", a.gitops.revision, b.gitops.revision),
        ("gitops.path", a.gitops.path, b.gitops.path),
        ("gitops.engine", a.gitops.engine, b.gitops.engine),
        ("dashboards", a.dashboards, b.dashboards),
        *(
            (f"components.{k}", getattr(a.components, k), getattr(b.components, k))
            for k in type(a.components).model_fields
        ),
    ):
        if x != y:
            yield ImpactItem("Platform", label, f"{label} {x} → {y}", data={"field": label})


def default_deny_items(model: PlatformModel, tree_paths: Iterable[str]) -> Iterator[ImpactItem]:
    """Team namespaces whose generated tree lacks a default-deny policy (e.g. removed by an overlay)."""
    present: set[tuple[str, str, str]] = set()
    for path in tree_paths:
        name = path.rsplit("/", 1)[-1]
        if name.startswith("networkpolicy-default-deny-"):
            parts = path.split("/")
            present.add((parts[0], parts[-2], name[len("networkpolicy-") : -len(".yaml")]))
    for team in model.teams.values():
        for entry in team.spec.clusters:
            missing = [p for p in DEFAULT_DENY if (entry.cluster, team.metadata.name, p) not in present]
            if missing:
                yield ImpactItem(
                    "Security",
                    team.metadata.name,
                    f"{team.metadata.name} on {entry.cluster}: {', '.join(missing)} missing",
                    "warning",
                    data={"team": team.metadata.name, "cluster": entry.cluster},
                )


def _over_budget(model: PlatformModel | None) -> dict[tuple[str, str], tuple[float, float]]:
    """(team, cluster or "all clusters") → (committed monthly cost, budget) where cost > budget."""
    found: dict[tuple[str, str], tuple[float, float]] = {}
    if model is None:
        return found
    for name, team in model.teams.items():
        if team.spec.budget is None:
            continue
        costs = committed_cost(model, team)
        # Explicit cluster amounts only: a split overall budget is over wherever the total is.
        for cluster, budget in team.spec.budget.clusters.items():
            if costs.get(cluster, 0.0) > budget:
                found[(name, cluster)] = (costs[cluster], budget)
        overall = team.spec.budget.monthlyUSD
        if overall is not None and sum(costs.values()) > overall:
            found[(name, "all clusters")] = (sum(costs.values()), overall)
    return found


def _budget_items(old: PlatformModel | None, new: PlatformModel) -> Iterator[ImpactItem]:
    """A quota or budget change after which committed GPU capacity costs more than the budget."""
    before, after = _over_budget(old), _over_budget(new)
    for (team, where), (cost, budget) in sorted(after.items()):
        if (team, where) in before:
            continue  # already over before this change: not news
        place = "across all clusters" if where == "all clusters" else f"on {where}"
        yield ImpactItem(
            "Cost",
            team,
            f"team {team}: committed GPU quota {place} now costs {money(cost)} a month, more than its "
            f"budget of {money(budget)}",
            "warning",
            data={"team": team, "cluster": where, "monthlyCost": round(cost, 2), "budget": round(budget, 2)},
        )


def compute_impact(
    old: PlatformModel | None, new: PlatformModel, new_tree_paths: Iterable[str] | None = None
) -> Impact:
    """What changes from old to new (old None: the spec did not exist at the base)."""
    old_quotas, new_quotas = _quotas(old), _quotas(new)
    items = [
        *_cluster_items(old, new),
        *_node_pool_items(old, new),
        *_team_items(old, new),
        *_quota_items(old_quotas, new_quotas),
        *_budget_items(old, new),
        *_flavor_items(old, new),
        *_serving_items(old, new),
        *_platform_items(old, new),
    ]
    if new_tree_paths is not None:
        items.extend(default_deny_items(new, new_tree_paths))
    order = {s: i for i, s in enumerate(SECTIONS)}
    items.sort(key=lambda i: order[i.section])  # stable: keeps the order within a section
    old_costs, new_costs = _team_costs(old_quotas), _team_costs(new_quotas)
    team_costs = {}
    for team in sorted(old_costs.keys() | new_costs.keys()):
        change = CostChange(old_costs.get(team, 0.0), new_costs.get(team, 0.0))
        if round(change.delta, 2) != 0:
            team_costs[team] = change
    total = CostChange(sum(old_costs.values()), sum(new_costs.values()))
    return Impact(items, team_costs, total)
