"""Checks that keep generated names inside Kubernetes' limits and serving replicas on one node.

Every spec name is a DNS-1123 label (at most 63 characters) by itself, but compile joins
names: Argo CD objects are `<cluster>-<unit>` and `<cluster>-<team>`, and KServe names the
Service of an InferenceService `<serving path>-predictor`. A valid spec must never compile to
objects the API server or a controller rejects at sync time, so the limits are checked here,
at the name a user has to shorten.
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import SpecError
from compiler.registry_facts import RegistryFacts
from compiler.registry_table import TABLE
from compiler.spec.cluster_facts import cluster_engine
from compiler.spec.gpus import units_per_gpu
from compiler.spec.model import PlatformModel
from compiler.tree_contract import ARGOCD_FIXED_SUFFIXES, CONFIG_SUFFIX, OVERLAYS_UNIT, config_unit

__all__ = ["ARGOCD_FIXED_SUFFIXES", "CONFIG_SUFFIX", "NAME_MAX", "OVERLAYS_UNIT", "argocd_suffixes"]

NAME_MAX = 63  # DNS-1123 label; also the longest label value (Argo CD's app.kubernetes.io/instance)
PREDICTOR_SUFFIX = "-predictor"  # KServe: Service and Deployment `<isvc>-predictor`
SERVING_NAME_MAX = NAME_MAX - len(PREDICTOR_SUFFIX)


def argocd_suffixes(facts: RegistryFacts = TABLE) -> list[str]:
    """Every name platformc may put after `<cluster>-` on an Argo CD cluster (an upper bound:
    a component has a -config unit only where its charts' custom resources exist)."""
    return [*ARGOCD_FIXED_SUFFIXES, *facts.units, OVERLAYS_UNIT, config_unit(OVERLAYS_UNIT)]


def _engine(model: PlatformModel, cluster_name: str) -> str:
    return cluster_engine(model, model.clusters[cluster_name])


def check_argocd_names(model: PlatformModel, facts: RegistryFacts = TABLE) -> Iterator[SpecError]:
    added = 1 + max(len(s) for s in argocd_suffixes(facts))
    for name in model.clusters:
        if _engine(model, name) != "argocd":
            continue
        if len(name) + added > NAME_MAX:
            yield SpecError(
                model.locate("Cluster", name, ("metadata", "name")),
                f"cluster name '{name}' has {len(name)} characters, too long for Argo CD (expected at most "
                f"{NAME_MAX - added}: Application names are '<cluster>-<unit>', units add up to {added} "
                f"characters, and the result must stay within {NAME_MAX})",
            )
    for team_name, team in model.teams.items():
        for c, entry in enumerate(team.spec.clusters):
            if entry.cluster not in model.clusters or _engine(model, entry.cluster) != "argocd":
                continue
            composed = f"{entry.cluster}-{team_name}"
            if len(composed) > NAME_MAX:
                yield SpecError(
                    model.locate("Team", team_name, ("spec", "clusters", c, "cluster")),
                    f"the Argo CD AppProject '{composed}' of team '{team_name}' on cluster '{entry.cluster}' "
                    f"has {len(composed)} characters (expected '<cluster>-<team>' of at most {NAME_MAX}: "
                    "shorten the team or the cluster name)",
                )


def check_serving_names(model: PlatformModel) -> Iterator[SpecError]:
    for name in model.serving_paths:
        # Located only on error: locating reads the file round-trip.
        if len(name) > SERVING_NAME_MAX:
            yield SpecError(
                model.locate("ServingPath", name, ("metadata", "name")),
                f"serving path name '{name}' has {len(name)} characters, too long for KServe, which names "
                f"its Service '{name}{PREDICTOR_SUFFIX}' (expected at most {SERVING_NAME_MAX} characters)",
            )
        if not name[0].isalpha():
            yield SpecError(
                model.locate("ServingPath", name, ("metadata", "name")),
                f"serving path name '{name}' starts with a digit, which KServe rejects: its Service "
                f"'{name}{PREDICTOR_SUFFIX}' must be a DNS-1035 label "
                "(expected a name starting with a letter)",
            )


def check_replica_fits_a_node(model: PlatformModel) -> Iterator[SpecError]:
    """All GPUs of one replica (one pod) come from one node."""
    for name, path in model.serving_paths.items():
        gpu = path.spec.gpu
        flavor = model.flavors.get(gpu.flavor)
        if flavor is None:
            continue  # reported by check_serving_paths
        for cluster_name in path.spec.clusters:
            cluster = model.clusters.get(cluster_name)
            if cluster is None:
                continue
            pools = [p for p in cluster.spec.nodePools if p.flavor == gpu.flavor]
            if not pools:
                continue  # reported by check_serving_paths
            per_node = max(p.gpusPerNode for p in pools) * units_per_gpu(flavor)
            if gpu.count > per_node:
                yield SpecError(
                    model.locate("ServingPath", name, ("spec", "gpu", "count")),
                    f"one replica needs {gpu.count} '{gpu.flavor}' GPUs, but a node of cluster "
                    f"'{cluster_name}' has at most {per_node}, so the pod can never be scheduled "
                    f"(expected count <= {per_node}, the largest node pool's gpusPerNode"
                    + (f" × {units_per_gpu(flavor)} units per GPU)" if units_per_gpu(flavor) > 1 else ")"),
                )


def check_self_references(model: PlatformModel) -> Iterator[SpecError]:
    """Traffic inside a team's namespace is always allowed; naming the team itself is a mix-up."""
    for name, team in model.teams.items():
        for i, other in enumerate(team.spec.allowIngressFrom):
            if other == name:
                yield SpecError(
                    model.locate("Team", name, ("spec", "allowIngressFrom", i)),
                    f"team '{name}' lists itself in allowIngressFrom (expected other teams: traffic inside "
                    "a team's own namespace is always allowed)",
                )
    for name, path in model.serving_paths.items():
        for i, other in enumerate(path.spec.allowFrom):
            if other == path.spec.team:
                yield SpecError(
                    model.locate("ServingPath", name, ("spec", "allowFrom", i)),
                    f"allowFrom names team '{other}', which owns serving path '{name}' (expected other "
                    "teams: the owning team's namespace may always call it)",
                )


LIMIT_CHECKS = (check_serving_names, check_replica_fits_a_node, check_self_references)
