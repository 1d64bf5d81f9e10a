"""Rules that need more than one document: references, capacity, version gates.

Each check yields SpecErrors anchored at the line a user has to change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from compiler.errors import SpecError
from compiler.gpu_allocation import reach, uses_dra
from compiler.kube_versions import supported_versions
from compiler.registry_facts import RegistryFacts
from compiler.registry_table import TABLE
from compiler.spec.ai_checks import AI_CHECKS
from compiler.spec.cluster_facts import cluster_capacity, cluster_engine, cluster_kubernetes_version
from compiler.spec.gpus import MIG_CAPABLE_FAMILIES, mig_profile_known, mig_profiles
from compiler.spec.limits import LIMIT_CHECKS, check_argocd_names
from compiler.spec.loader import PathKey
from compiler.spec.model import PlatformModel
from compiler.spec.models import MigSharing
from compiler.spec.policy_checks import POLICY_CHECKS
from compiler.spec.serving_checks import SERVING_CHECKS

# Namespaces a team must not take: Kubernetes' own, the GitOps engines', the mesh's, and the
# DRA driver's upstream default; plus every namespace a registered component owns.
UNMANAGED_NAMESPACES = frozenset(
    {
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "argocd",
        "flux-system",
        "istio-system",
        "istio-ingress",
        "nvidia-dra-driver-gpu",
    }
)
RESERVED_NAMESPACES = UNMANAGED_NAMESPACES | TABLE.namespaces


def reserved_namespaces(facts: RegistryFacts = TABLE) -> frozenset[str]:
    return UNMANAGED_NAMESPACES | facts.namespaces


DRA_MIN_VERSION = (1, 34)

Check = Callable[[PlatformModel], Iterator[SpecError]]
# A check that needs to know the registered components (their namespaces, unit names).
RegistryCheck = Callable[[PlatformModel, RegistryFacts], Iterator[SpecError]]


def _version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


def check_versions(model: PlatformModel) -> Iterator[SpecError]:
    supported = supported_versions()
    expected = f"one of {', '.join(supported)}"
    version = model.platform.spec.kubernetesVersion
    if version not in supported:
        where = model.locate("Platform", model.platform.metadata.name, ("spec", "kubernetesVersion"))
        yield SpecError(where, f"Kubernetes version {version!r} has no bundled schemas (expected {expected})")
    for name, cluster in model.clusters.items():
        own = cluster.spec.kubernetesVersion
        if own is not None and own not in supported:
            where = model.locate("Cluster", name, ("spec", "kubernetesVersion"))
            yield SpecError(where, f"Kubernetes version {own!r} has no bundled schemas (expected {expected})")
        effective = cluster_kubernetes_version(model, cluster)
        if uses_dra(cluster.spec.gpuAllocation) and _version(effective) < DRA_MIN_VERSION:
            where = model.locate("Cluster", name, ("spec", "gpuAllocation"))
            yield SpecError(
                where,
                f"gpuAllocation dra needs Kubernetes >= 1.34 (resource.k8s.io/v1), but cluster '{name}' runs "
                f'{effective} (expected gpuAllocation: device-plugin or kubernetesVersion >= "1.34")',
            )


def check_clusters(model: PlatformModel) -> Iterator[SpecError]:
    for name, cluster in model.clusters.items():
        if cluster_engine(model, cluster) == "argocd" and not cluster.spec.gitops.destination:
            yield SpecError(
                model.locate("Cluster", name, ("spec",), key=True),
                f"cluster '{name}' syncs with argocd but has no spec.gitops.destination "
                "(expected the Argo CD destination server URL, e.g. https://kubernetes.default.svc)",
            )
        seen: set[str] = set()
        for i, pool in enumerate(cluster.spec.nodePools):
            if pool.name in seen:
                yield SpecError(
                    model.locate("Cluster", name, ("spec", "nodePools", i, "name")),
                    f"duplicate node pool '{pool.name}' in cluster '{name}' (expected unique pool names)",
                )
            seen.add(pool.name)
            if pool.flavor not in model.flavors:
                yield SpecError(
                    model.locate("Cluster", name, ("spec", "nodePools", i, "flavor")),
                    f"node pool '{pool.name}' uses unknown GPUFlavor '{pool.flavor}' "
                    f"(expected one of: {', '.join(model.flavors) or 'no GPUFlavor is defined'})",
                )


def check_flavors(model: PlatformModel) -> Iterator[SpecError]:
    for name, flavor in model.flavors.items():
        sharing = flavor.spec.sharing
        if not isinstance(sharing, MigSharing):
            continue
        found = mig_profiles(flavor.spec.product)
        if found is None:
            yield SpecError(
                model.locate("GPUFlavor", name, ("spec", "sharing", "mode")),
                f"product '{flavor.spec.product}' does not support MIG "
                f"(expected a MIG-capable product: {', '.join(MIG_CAPABLE_FAMILIES)}; or mode "
                "exclusive / time-slicing)",
            )
        elif sharing.migProfile not in found[1]:
            yield SpecError(
                model.locate("GPUFlavor", name, ("spec", "sharing", "migProfile")),
                f"MIG profile '{sharing.migProfile}' does not exist on {found[0]} "
                f"(expected one of: {', '.join(found[1])})",
            )


def check_reserved_namespaces(model: PlatformModel, facts: RegistryFacts) -> Iterator[SpecError]:
    monitoring = model.platform.spec.monitoringNamespace
    reserved = reserved_namespaces(facts)
    if monitoring in reserved or monitoring.startswith("kube-"):
        # It becomes a GitOps-managed Namespace, pruned with the tree.
        yield SpecError(
            model.locate("Platform", model.platform.metadata.name, ("spec", "monitoringNamespace")),
            f"monitoringNamespace '{monitoring}' is a reserved namespace (expected a namespace of its own, "
            "such as monitoring: platformc creates and prunes it)",
        )
    for name in model.teams:
        if name in reserved or name == monitoring or name.startswith("kube-"):
            yield SpecError(
                model.locate("Team", name, ("metadata", "name")),
                f"team name '{name}' is a reserved namespace (expected a name other than "
                "Kubernetes' and the platform's own namespaces)",
            )


def check_teams(model: PlatformModel) -> Iterator[SpecError]:
    for name, team in model.teams.items():
        for i, other in enumerate(team.spec.allowIngressFrom):
            if other not in model.teams:
                yield SpecError(
                    model.locate("Team", name, ("spec", "allowIngressFrom", i)),
                    f"allowIngressFrom names unknown team '{other}' (expected one of: "
                    f"{', '.join(model.teams)})",
                )
        seen_clusters: set[str] = set()
        for c, entry in enumerate(team.spec.clusters):
            base = ("spec", "clusters", c)
            if entry.cluster not in model.clusters:
                yield SpecError(
                    model.locate("Team", name, (*base, "cluster")),
                    f"team '{name}' lists unknown cluster '{entry.cluster}' "
                    f"(expected one of: {', '.join(model.clusters) or 'no Cluster is defined'})",
                )
                continue
            if entry.cluster in seen_clusters:
                yield SpecError(
                    model.locate("Team", name, (*base, "cluster")),
                    f"team '{name}' lists cluster '{entry.cluster}' twice (expected one entry per cluster)",
                )
            seen_clusters.add(entry.cluster)
            capacity = cluster_capacity(model, model.clusters[entry.cluster])
            seen_flavors: set[str] = set()
            for g, quota in enumerate(entry.gpus):
                at = (*base, "gpus", g)
                if quota.flavor not in model.flavors:
                    yield SpecError(
                        model.locate("Team", name, (*at, "flavor")),
                        f"quota on unknown GPUFlavor '{quota.flavor}' "
                        f"(expected one of: {', '.join(model.flavors) or 'no GPUFlavor is defined'})",
                    )
                    continue
                if quota.flavor not in capacity:
                    yield SpecError(
                        model.locate("Team", name, (*at, "flavor")),
                        f"GPUFlavor '{quota.flavor}' has no node pool on cluster '{entry.cluster}' "
                        f"(expected a flavor of its node pools: {', '.join(sorted(capacity)) or 'none'})",
                    )
                    continue
                if quota.flavor in seen_flavors:
                    yield SpecError(
                        model.locate("Team", name, (*at, "flavor")),
                        f"flavor '{quota.flavor}' is listed twice for cluster '{entry.cluster}' "
                        "(expected one quota per flavor)",
                    )
                seen_flavors.add(quota.flavor)
                if quota.lendingLimit is not None and quota.lendingLimit > quota.quota:
                    yield SpecError(
                        model.locate("Team", name, (*at, "lendingLimit")),
                        f"lendingLimit {quota.lendingLimit} is more than the quota {quota.quota} "
                        "(expected lendingLimit <= quota)",
                    )


def check_capacity(model: PlatformModel) -> Iterator[SpecError]:
    """The nominal GPU quotas of all teams on a cluster fit into its node pools.

    An excess is reported once, at the quota line that comes last in file order (the one a user
    most likely just added), naming the whole total and every team line that contributes."""
    # Quota lines are located only for an excess: locating reads the file round-trip, which on a
    # large spec costs more than every check together.
    lines: dict[tuple[str, str], list[tuple[PathKey, str, int]]] = {}
    capacities: dict[tuple[str, str], int] = {}
    capacity_of = {name: cluster_capacity(model, cluster) for name, cluster in model.clusters.items()}
    # An invalid MIG profile is reported by check_flavors; its capacity would be a guess.
    known = {name for name, flavor in model.flavors.items() if mig_profile_known(flavor)}
    for name, team in model.teams.items():
        for c, entry in enumerate(team.spec.clusters):
            capacity = capacity_of.get(entry.cluster)
            if capacity is None:
                continue
            for g, quota in enumerate(entry.gpus):
                if quota.flavor not in capacity or quota.flavor not in known:
                    continue
                key = (entry.cluster, quota.flavor)
                capacities[key] = capacity[quota.flavor]
                at: PathKey = ("spec", "clusters", c, "gpus", g, "quota")
                lines.setdefault(key, []).append((at, name, quota.quota))
    for (cluster_name, flavor), quota_lines in sorted(lines.items()):
        total = sum(amount for _, _, amount in quota_lines)
        if total <= capacities[(cluster_name, flavor)]:
            continue
        contributions = [(model.locate("Team", team, at), team, amount) for at, team, amount in quota_lines]
        contributions.sort(key=lambda item: (item[0].file, item[0].line, item[0].column))
        parts = ", ".join(f"{amount} from team '{team}' ({where})" for where, team, amount in contributions)
        yield SpecError(
            contributions[-1][0],
            f"GPU quotas for '{flavor}' on cluster '{cluster_name}' add up to {total}, over the "
            f"cluster's capacity of {capacities[(cluster_name, flavor)]}: {parts} (expected the sum "
            "of team quotas <= node pools' nodes × gpusPerNode × units per GPU)",
        )


def check_serving_paths(model: PlatformModel) -> Iterator[SpecError]:
    for name, path in model.serving_paths.items():
        spec = path.spec
        team = model.teams.get(spec.team)
        if team is None:
            yield SpecError(
                model.locate("ServingPath", name, ("spec", "team")),
                f"serving path '{name}' belongs to unknown team '{spec.team}' (expected one of: "
                f"{', '.join(model.teams)})",
            )
        if spec.gpu.flavor not in model.flavors:
            yield SpecError(
                model.locate("ServingPath", name, ("spec", "gpu", "flavor")),
                f"serving path '{name}' uses unknown GPUFlavor '{spec.gpu.flavor}' "
                f"(expected one of: {', '.join(model.flavors)})",
            )
        if spec.replicas.min > spec.replicas.max:
            yield SpecError(
                model.locate("ServingPath", name, ("spec", "replicas", "min")),
                f"replicas.min {spec.replicas.min} is more than replicas.max {spec.replicas.max} "
                "(expected min <= max)",
            )
        if spec.canary is not None and not 1 <= spec.canary.trafficPercent <= 99:
            yield SpecError(
                model.locate("ServingPath", name, ("spec", "canary", "trafficPercent")),
                f"canary trafficPercent {spec.canary.trafficPercent} is out of range (expected 1..99)",
            )
        for i, other in enumerate(spec.allowFrom):
            if other not in model.teams:
                yield SpecError(
                    model.locate("ServingPath", name, ("spec", "allowFrom", i)),
                    f"allowFrom names unknown team '{other}' (expected one of: {', '.join(model.teams)})",
                )
        for i, cluster_name in enumerate(spec.clusters):
            cluster = model.clusters.get(cluster_name)
            if cluster is None:
                yield SpecError(
                    model.locate("ServingPath", name, ("spec", "clusters", i)),
                    f"serving path '{name}' lists unknown cluster '{cluster_name}' "
                    f"(expected one of: {', '.join(model.clusters)})",
                )
                continue
            if cluster.spec.ingress is None:
                yield SpecError(
                    model.locate("ServingPath", name, ("spec", "clusters", i)),
                    f"cluster '{cluster_name}' has no spec.ingress, so serving path '{name}' has no host "
                    "(expected spec.ingress.domain on the cluster)",
                )
            if team is None or spec.gpu.flavor not in model.flavors:
                continue
            entry = next((e for e in team.spec.clusters if e.cluster == cluster_name), None)
            if entry is None:
                yield SpecError(
                    model.locate("ServingPath", name, ("spec", "clusters", i)),
                    f"team '{spec.team}' has no namespace on cluster '{cluster_name}' "
                    "(expected a cluster the team lists: "
                    f"{', '.join(e.cluster for e in team.spec.clusters)})",
                )
                continue
            if spec.gpu.flavor not in cluster_capacity(model, cluster):
                yield SpecError(
                    model.locate("ServingPath", name, ("spec", "clusters", i)),
                    f"GPUFlavor '{spec.gpu.flavor}' has no node pool on cluster '{cluster_name}' "
                    "(expected a cluster with a node pool of the serving path's flavor)",
                )
                continue
            quota = next((q for q in entry.gpus if q.flavor == spec.gpu.flavor), None)
            most = 0 if quota is None else reach(quota, cluster_capacity(model, cluster)[spec.gpu.flavor])
            if spec.gpu.count > most:
                yield SpecError(
                    model.locate("ServingPath", name, ("spec", "gpu", "count")),
                    f"one replica needs {spec.gpu.count} '{spec.gpu.flavor}' GPUs but team "
                    f"'{spec.team}' may use "
                    f"at most {most} on cluster '{cluster_name}' (expected count <= quota + borrowingLimit)",
                )


CHECKS: tuple[Check, ...] = (
    check_versions,
    check_clusters,
    check_flavors,
    check_teams,
    check_capacity,
    check_serving_paths,
    *AI_CHECKS,
    *SERVING_CHECKS,
    *LIMIT_CHECKS,
    *POLICY_CHECKS,
)


REGISTRY_CHECKS: tuple[RegistryCheck, ...] = (check_reserved_namespaces, check_argocd_names)


def check_platform(model: PlatformModel, facts: RegistryFacts = TABLE) -> list[SpecError]:
    """Every check's errors. `facts`: the components compile will run (the generated table of the
    registry by default; the pipeline passes the live registry's)."""
    errors = [error for check in CHECKS for error in check(model)]
    return errors + [error for check in REGISTRY_CHECKS for error in check(model, facts)]
