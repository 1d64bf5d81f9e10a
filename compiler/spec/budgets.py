"""Team budgets: committed GPU cost and the monthly USD each cluster's alerts compare spend to.

Committed cost = nominal quota × the flavor's hourlyCost × 730 h (one average month), the same
figure `platformc diff` reports. An overall budget (monthlyUSD) is split over the clusters a
team has no explicit amount for, in proportion to their committed cost, because each
cluster's Prometheus only sees that cluster's spend.
"""

from __future__ import annotations

from compiler.spec.model import PlatformModel
from compiler.spec.models import Team

HOURS_PER_MONTH = 730


def committed_cost(model: PlatformModel, team: Team) -> dict[str, float]:
    """cluster → monthly USD of the team's nominal GPU quota there."""
    costs: dict[str, float] = {}
    for entry in team.spec.clusters:
        costs[entry.cluster] = sum(
            gpu.quota * model.flavors[gpu.flavor].spec.hourlyCost * HOURS_PER_MONTH
            for gpu in entry.gpus
            if gpu.flavor in model.flavors
        )
    return costs


def cluster_budgets(model: PlatformModel, team: Team) -> dict[str, float]:
    """cluster → monthly USD budget of the team there; {} without a budget."""
    budget = team.spec.budget
    if budget is None:
        return {}
    found = {c: float(v) for c, v in budget.clusters.items()}
    if budget.monthlyUSD is None:
        return found
    rest = [e.cluster for e in team.spec.clusters if e.cluster not in found]
    remaining = max(budget.monthlyUSD - sum(found.values()), 0.0)
    costs = committed_cost(model, team)
    total = sum(costs[c] for c in rest)
    for cluster in rest:
        share = costs[cluster] / total if total else 1 / len(rest)
        found[cluster] = round(remaining * share, 2)
    return found
