"""The typed model of one cluster: everything a component may read, nothing it may not.

Components are pure functions of a ClusterModel, so each cluster compiles on its own
and in any order, which is what makes the output deterministic and parallelisable.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from compiler.gpu_allocation import Allocation, uses_dra
from compiler.spec.budgets import cluster_budgets
from compiler.spec.cluster_facts import cluster_capacity, cluster_engine, cluster_kubernetes_version
from compiler.spec.gpus import resource_name
from compiler.spec.model import PlatformModel
from compiler.spec.models import (
    Cluster,
    ComponentVersions,
    GPUFlavor,
    Platform,
    ServingPath,
    Team,
    TeamCluster,
)
from compiler.tree_contract import COST_CENTER_LABEL, MANAGED_BY, TEAM_LABEL, Engine

__all__ = ["COST_CENTER_LABEL", "MANAGED_BY", "TEAM_LABEL", "ClusterModel", "TeamOnCluster", "cluster_models"]


@dataclass(frozen=True)
class TeamOnCluster:
    """A team as it exists on one cluster: its spec plus that cluster's quota entry."""

    team: Team
    entry: TeamCluster
    budget: float | None = None  # monthly USD on this cluster (spec/budgets.py), None without one

    @property
    def name(self) -> str:
        return self.team.metadata.name

    @property
    def namespace(self) -> str:
        return self.team.metadata.name

    @property
    def labels(self) -> dict[str, str]:
        """Team and cost labels every team-owned object carries (cost reports group by them)."""
        return {TEAM_LABEL: self.name, COST_CENTER_LABEL: self.team.spec.costCenter}


@dataclass(frozen=True)
class ClusterModel:
    platform: Platform
    cluster: Cluster
    kubernetes_version: str
    engine: Engine
    flavors: dict[str, GPUFlavor]  # flavors with a node pool on this cluster, by name
    capacity: dict[str, int]  # schedulable GPU units per flavor
    teams: tuple[TeamOnCluster, ...]  # teams with a namespace here, by name
    serving_paths: tuple[ServingPath, ...]  # serving paths deployed here, by name
    versions: ComponentVersions

    @property
    def name(self) -> str:
        return self.cluster.metadata.name

    @property
    def allocation(self) -> Allocation:
        """How pods get GPUs here; compiler.gpu_allocation answers every question that depends on it."""
        return self.cluster.spec.gpuAllocation

    @property
    def dra(self) -> bool:
        return uses_dra(self.allocation)

    @property
    def monitoring_namespace(self) -> str:
        return self.platform.spec.monitoringNamespace

    def team(self, name: str) -> TeamOnCluster | None:
        return self._teams_by_name.get(name)

    @cached_property
    def _teams_by_name(self) -> dict[str, TeamOnCluster]:
        # Components ask for teams by name per serving path and per dashboard: index them once.
        return {t.name: t for t in reversed(self.teams)}  # the first of a name wins, as a scan would

    def gpu_resource(self, flavor: str) -> str:
        return resource_name(self.flavors[flavor])


def cluster_models(model: PlatformModel) -> list[ClusterModel]:
    """One ClusterModel per Cluster document, sorted by cluster name."""
    result = []
    budgets = {name: cluster_budgets(model, team) for name, team in model.teams.items()}
    for name, cluster in model.clusters.items():
        present = {pool.flavor for pool in cluster.spec.nodePools}
        teams = tuple(
            TeamOnCluster(team, entry, budgets[team_name].get(name))
            for team_name, team in model.teams.items()
            for entry in team.spec.clusters
            if entry.cluster == name
        )
        result.append(
            ClusterModel(
                platform=model.platform,
                cluster=cluster,
                kubernetes_version=cluster_kubernetes_version(model, cluster),
                engine=cluster_engine(model, cluster),
                flavors={f: model.flavors[f] for f in sorted(present)},
                capacity=cluster_capacity(model, cluster),
                teams=teams,
                serving_paths=tuple(p for p in model.serving_paths.values() if name in p.spec.clusters),
                versions=model.platform.spec.components,
            )
        )
    return result
