"""Ordering: every custom resource syncs after the unit that installs its CRD.

Rule. An object whose API group the Kubernetes API server does not serve itself (derived
from kubernetes-validate's definitions for the cluster's version) is a custom resource.
Its group must be provided by
- a Helm chart that installs CRDs of that group (`CHART_CRD_GROUPS`, keyed by chart name),
- a CustomResourceDefinition object in the tree, or
- the GitOps engine itself (argoproj.io on Argo CD clusters, *.toolkit.fluxcd.io on Flux
  clusters; the engine is recognised by the Applications or Kustomizations in the tree),
- the cluster itself (Gateway API, which the Gateway that serving routes attach to needs),
and the unit syncing the custom resource must run after the unit providing the group:
- Argo CD: the Application whose git path holds the file has a higher sync-wave than an
  Application with a providing chart source (or holding the CRD object);
- Flux: the Kustomization whose path holds the file depends on (transitively) the
  Kustomization that holds the HelmRelease of the providing chart (or the CRD object).
Admission webhooks. A chart whose admission webhooks (failurePolicy Fail) admit an API group
(platformc.dev/webhook-groups on its Application or HelmRelease) gates that group: every
object of it in the tree, and every other chart that creates such objects
(platformc.dev/uses-crd-groups), must sync in a later unit, or a first install is refused
while the webhook has no endpoint yet (KServe's ClusterServingRuntimes after kserve-resources).
Findings use check id "ordering".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from compiler.registry_table import TABLE
from compiler.tree_contract import (
    APPLICATION_HEALTH_KEY,
    ARGOCD_CM,
    CRD_GROUPS_ANNOTATION,
    CRDS_ANNOTATION,
    USES_CRD_GROUPS_ANNOTATION,
    WEBHOOK_GROUPS_ANNOTATION,
    split_groups,
)

from .checks import ClusterObjects, Entry, ObjectSet
from .core import UnsupportedKubernetesVersion, builtin_groups
from .findings import Finding
from .gitops import (
    ARGO_GROUP,
    CRD_GROUP,
    FLUX_GROUP_SUFFIX,
    HELM_GROUP,
    SOURCE_GROUP,
    WAVE_PATH,
    ClusterLayout,
    SyncUnit,
    layout,
)

CHECK = "ordering"
# API groups whose CRDs well-known charts install, for trees that lack the
# platformc.dev/crd-groups annotation packaging stamps on what installs a chart: the charts of
# platformc's components (generated from the registry) and a few no component installs.
OTHER_CHART_CRD_GROUPS: dict[str, frozenset[str]] = {
    "nvidia-dra-driver-gpu": frozenset({"resource.nvidia.com"}),  # the DRA driver before kubernetes-sigs
    "prometheus-operator-crds": frozenset({"monitoring.coreos.com"}),
    "argo-cd": frozenset({"argoproj.io"}),
}
CHART_CRD_GROUPS: dict[str, frozenset[str]] = {**TABLE.chart_crd_groups, **OTHER_CHART_CRD_GROUPS}

# Groups the cluster serves before any platformc unit syncs: Gateway API comes with the Gateway
# implementation behind the cluster's Gateway (Cluster spec.ingress), which serving routes attach to.
CLUSTER_PREREQUISITE_GROUPS = frozenset({"gateway.networking.k8s.io"})

ENGINE_GROUPS: dict[str, Callable[[str], bool]] = {
    "argocd": lambda group: group == ARGO_GROUP,
    "flux": lambda group: group.endswith(FLUX_GROUP_SUFFIX),
}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _flux_chart_name(cluster: ClusterObjects, release: Entry) -> str | None:
    """Chart name of a HelmRelease: spec.chart.spec.chart, or the last path segment of its OCIRepository."""
    spec = _dict(release.obj.get("spec"))
    chart = _dict(_dict(spec.get("chart")).get("spec")).get("chart")
    if isinstance(chart, str) and chart:
        return chart
    ref = _dict(spec.get("chartRef"))
    if ref.get("kind") == "OCIRepository" and isinstance(ref.get("name"), str):
        namespace = ref.get("namespace") if isinstance(ref.get("namespace"), str) else release.namespace
        repo = cluster.get(SOURCE_GROUP, "OCIRepository", ref["name"], namespace)
        url = _dict(repo.obj.get("spec")).get("url") if repo is not None else None
        if isinstance(url, str) and url:
            return url.rstrip("/").rsplit("/", 1)[-1]
    return None


def _stamped_groups(entry: Entry, annotation: str = "") -> frozenset[str]:
    """API groups packaging recorded on an Application or HelmRelease: those its charts install
    (platformc.dev/crd-groups, the default) or use (platformc.dev/uses-crd-groups)."""
    value = _dict(_dict(entry.obj.get("metadata")).get("annotations")).get(
        annotation or CRD_GROUPS_ANNOTATION
    )
    return _split_groups(value) if isinstance(value, str) else frozenset()


@lru_cache(maxsize=1024)
def _split_groups(value: str) -> frozenset[str]:
    """split_groups, once per text: the checks read each unit's annotations several times, and a
    chart's CRD list can be long."""
    return split_groups(value)


class Providers:
    """Which units provide which API groups in one cluster."""

    def __init__(
        self, cluster: ClusterObjects, tree: ClusterLayout, chart_groups: Mapping[str, frozenset[str]]
    ):
        self.by_group: dict[str, list[tuple[SyncUnit | None, str]]] = {}  # group -> (unit, what provides it)
        # CRD name -> (entry that installs it, unit, what installs it)
        self.by_crd: dict[str, list[tuple[Entry, SyncUnit | None, str]]] = {}
        for unit in tree.units:
            for name in sorted(_stamped_groups(unit.entry, CRDS_ANNOTATION)):
                charts = f" (chart {', '.join(unit.charts)})" if unit.charts else ""
                self.by_crd.setdefault(name, []).append(
                    (unit.entry, unit, f"{unit.entry.kind} {unit.entry.name}{charts}")
                )
            stamped = _stamped_groups(unit.entry)
            for chart in unit.charts:
                for group in chart_groups.get(chart, frozenset()) | stamped:
                    self.by_group.setdefault(group, []).append((unit, f"chart {chart}"))
        for release in cluster.of_kind(HELM_GROUP, "HelmRelease"):
            released = _flux_chart_name(cluster, release)
            for name in sorted(_stamped_groups(release, CRDS_ANNOTATION)):
                self.by_crd.setdefault(name, []).append(
                    (release, tree.unit_of(release), f"HelmRelease {release.name} (chart {released})")
                )
            for group in chart_groups.get(released or "", frozenset()) | _stamped_groups(release):
                self.by_group.setdefault(group, []).append(
                    (tree.unit_of(release), f"chart {released} (HelmRelease {release.name})")
                )
        for crd in cluster.of_kind(CRD_GROUP, "CustomResourceDefinition"):
            crd_group = _dict(crd.obj.get("spec")).get("group")
            self.by_crd.setdefault(crd.name, []).append(
                (crd, tree.unit_of(crd), f"CustomResourceDefinition in {crd.file}")
            )
            if isinstance(crd_group, str):
                self.by_group.setdefault(crd_group, []).append(
                    (tree.unit_of(crd), f"CustomResourceDefinition {crd.name}")
                )


def _describe(unit: SyncUnit) -> str:
    return f"{unit.entry.kind} {unit.entry.name}"


def ordering_check(
    chart_groups: Mapping[str, frozenset[str]] = CHART_CRD_GROUPS,
) -> Callable[[ObjectSet], Iterator[Finding]]:
    """The ordering Check, with the chart → CRD groups table to use."""

    def check_ordering(objects: ObjectSet) -> Iterator[Finding]:
        for cluster in objects.clusters.values():
            yield from _check_cluster(cluster, chart_groups)

    return check_ordering


def _check_cluster(cluster: ClusterObjects, chart_groups: Mapping[str, frozenset[str]]) -> Iterator[Finding]:
    try:
        builtin = builtin_groups(cluster.kubernetes_version)
    except UnsupportedKubernetesVersion:
        return  # schema validation already reports the version
    tree = layout(cluster)
    preinstalled = [ENGINE_GROUPS[e] for e in tree.engines]
    providers = Providers(cluster, tree, chart_groups)
    for unit in tree.units:
        if unit.wave_error:
            yield unit.entry.finding(CHECK, WAVE_PATH, unit.wave_error)
    # (unit entry id, group) -> custom resources it syncs too early, reported once per pair
    late: dict[tuple[int, str], tuple[SyncUnit, list[Entry], list[tuple[SyncUnit | None, str]]]] = {}
    ordered: dict[tuple[int, str], bool] = {}  # see _in_order
    # Kinds of groups the cluster does not serve before some unit syncs them: most objects are not.
    custom = {
        (group, kind)
        for group, kind in cluster.kinds
        if kind
        and group not in builtin
        and group not in CLUSTER_PREREQUISITE_GROUPS
        and not any(pre(group) for pre in preinstalled)
    }
    for entry in cluster.of_kinds(custom):
        group = entry.group
        offers = providers.by_group.get(group)
        if not offers:
            known = sorted(c for c, g in chart_groups.items() if group in g)
            yield entry.finding(
                CHECK,
                "$.apiVersion",
                f"no chart in this tree installs CRDs for group {group} "
                f"(charts known to install them: {', '.join(known) or 'none'})",
            )
            continue
        syncing = tree.unit_of(entry)
        if syncing is None:
            yield entry.finding(CHECK, "$", "no Application or Kustomization in this tree syncs this file")
            continue
        if not _in_order(ordered, tree, syncing, group, offers):
            late.setdefault((id(syncing.entry), group), (syncing, [], offers))[1].append(entry)
    for (_, late_group), (late_unit, entries, late_offers) in late.items():
        yield _late_finding(late_unit, late_group, entries, late_offers)
    yield from _check_chart_needs(cluster, tree, providers)
    yield from _check_webhook_gates(cluster, tree)
    yield from _check_application_health(cluster, tree)
    yield from _check_crd_owners(providers)


def _check_application_health(cluster: ClusterObjects, tree: ClusterLayout) -> Iterator[Finding]:
    """Waves between child Applications hold back later waves only when Argo CD assesses an
    Application's health, which needs the health customization in argocd-cm."""
    apps = sorted((u for u in tree.units if u.engine == "argocd"), key=lambda u: (u.wave, u.entry.name))
    if len({u.wave for u in apps}) < 2:
        return
    namespaces = {u.entry.namespace for u in apps}
    for config in cluster.of_kind("", "ConfigMap"):
        data = _dict(config.obj.get("data"))
        if config.name == ARGOCD_CM and config.namespace in namespaces and data.get(APPLICATION_HEALTH_KEY):
            return
    later = next(u for u in apps if u.wave > apps[0].wave)
    yield later.entry.finding(
        CHECK,
        WAVE_PATH,
        f"sync waves between Applications do not gate: no ConfigMap {ARGOCD_CM} in "
        f"{', '.join(sorted(n for n in namespaces if n))} sets {APPLICATION_HEALTH_KEY}, so Argo CD "
        "does not wait for an earlier wave's Applications to be healthy (platformc emits it in bootstrap/)",
    )


def _installers(cluster: ClusterObjects, tree: ClusterLayout) -> list[tuple[Entry, SyncUnit | None]]:
    """What installs charts (Applications, HelmReleases) and the unit that syncs each."""
    installers: list[tuple[Entry, SyncUnit | None]] = [(unit.entry, unit) for unit in tree.units]
    installers += [(release, tree.unit_of(release)) for release in cluster.of_kind(HELM_GROUP, "HelmRelease")]
    return installers


GATES = "runs the admission webhooks for"


def _check_webhook_gates(cluster: ClusterObjects, tree: ClusterLayout) -> Iterator[Finding]:
    """Objects of a webhook-gated group, in the tree or created by another chart, sync after the
    unit whose chart runs the webhook."""
    gates: dict[str, list[tuple[SyncUnit | None, str]]] = {}
    installers = _installers(cluster, tree)
    for carrier, unit in installers:
        for group in _stamped_groups(carrier, WEBHOOK_GROUPS_ANNOTATION):
            gates.setdefault(group, []).append((unit, f"webhooks of {carrier.kind} {carrier.name}"))
    if not gates:
        return
    late: dict[tuple[int, str], tuple[SyncUnit, list[Entry], list[tuple[SyncUnit | None, str]]]] = {}
    ordered: dict[tuple[int, str], bool] = {}  # see _in_order
    for entry in cluster.of_kinds({(group, kind) for group, kind in cluster.kinds if gates.get(group)}):
        offers = gates[entry.group]
        unit = tree.unit_of(entry)
        if unit is None:
            continue
        if not _in_order(ordered, tree, unit, entry.group, offers):
            late.setdefault((id(unit.entry), entry.group), (unit, [], offers))[1].append(entry)
    for (_, group), (unit, entries, offers) in late.items():
        yield _late_finding(unit, group, entries, offers, installs=GATES)
    for carrier, unit in installers:
        if unit is None:
            continue
        own = _stamped_groups(carrier, WEBHOOK_GROUPS_ANNOTATION)
        for group in sorted(_stamped_groups(carrier, USES_CRD_GROUPS_ANNOTATION)):
            offers = gates.get(group, [])
            if not offers or group in own or any(_before(tree, gate, unit) for gate, _ in offers):
                continue
            what = f"the chart in {carrier.kind} {carrier.name} (which creates {group} objects)"
            yield _late_finding(
                unit, group, [carrier], offers, what=what, installs="runs the admission webhooks for"
            )


def _check_crd_owners(providers: Providers) -> Iterator[Finding]:
    """A CRD has one owner: two units installing it fight over its schema and, on removal of
    either, delete every custom resource of it."""
    for name, installers in sorted(providers.by_crd.items()):
        units = {id(unit.entry) if unit else id(entry) for entry, unit, _ in installers}
        if len(units) < 2:
            continue
        first, *others = installers
        for entry, _, what in others:
            yield entry.finding(
                CHECK,
                f'$.metadata.annotations["{CRDS_ANNOTATION}"]'
                if entry.kind != "CustomResourceDefinition"
                else "$",
                f"CustomResourceDefinition {name} is installed by {first[2]} and by {what} "
                "(expected one unit to own each CRD: leave it out of one of the charts, e.g. with skipCrds)",
            )


def _check_chart_needs(
    cluster: ClusterObjects, tree: ClusterLayout, providers: Providers
) -> Iterator[Finding]:
    """A chart whose own templates create custom resources (platformc.dev/uses-crd-groups on its
    Application or HelmRelease) must sync after the chart that installs those CRDs."""
    for carrier, unit in _installers(cluster, tree):
        for group in sorted(_stamped_groups(carrier, USES_CRD_GROUPS_ANNOTATION)):
            offers = providers.by_group.get(group)
            if not offers:
                yield carrier.finding(
                    CHECK,
                    f'$.metadata.annotations["{USES_CRD_GROUPS_ANNOTATION}"]',
                    f"its chart creates custom resources of group {group}, but no chart in this tree "
                    "installs those CRDs",
                )
            elif unit is not None and not any(_before(tree, provider, unit) for provider, _ in offers):
                what = f"the chart in {carrier.kind} {carrier.name} (which creates {group} resources)"
                yield _late_finding(unit, group, [carrier], offers, what=what)


def _in_order(
    known: dict[tuple[int, str], bool],
    tree: ClusterLayout,
    unit: SyncUnit,
    group: str,
    offers: list[tuple[SyncUnit | None, str]],
) -> bool:
    """Whether one of the units that offer `group` syncs before `unit`; every object of one group in
    one unit gets the same answer, so it is worked out once (`known`: (unit id, group) -> answer)."""
    answer = known.get((id(unit), group))
    if answer is None:
        answer = known[(id(unit), group)] = any(_before(tree, provider, unit) for provider, _ in offers)
    return answer


def _before(tree: ClusterLayout, provider: SyncUnit | None, unit: SyncUnit) -> bool:
    if provider is None or provider is unit:
        return False
    if unit.engine == "argocd" and provider.engine == "argocd":
        return provider.wave < unit.wave
    if unit.engine == "flux":
        return any(dep is provider for dep in tree.flux_dependencies(unit))
    return False


def _late_finding(
    unit: SyncUnit,
    group: str,
    entries: list[Entry],
    offers: list[tuple[SyncUnit | None, str]],
    what: str | None = None,
    installs: str = "installs the CRDs of",
) -> Finding:
    first = min(entries, key=lambda e: (e.file or "", e.kind, e.namespace or "", e.name))
    ident = f"{first.namespace}/{first.name}" if first.namespace else first.name
    if what is None:
        what = f"{first.kind} {ident} ({first.file})"
        if len(entries) > 1:
            what += f" and {len(entries) - 1} more object(s) of group {group}"
    sources = sorted(
        f"{how} in {_describe(p)}" + (f" (wave {p.wave})" if p.engine == "argocd" else "")
        for p, how in offers
        if p is not None
    ) or sorted(how for _, how in offers)
    if unit.engine == "argocd":
        return unit.entry.finding(
            CHECK,
            WAVE_PATH,
            f"syncs {what} in wave {unit.wave}, not after {'; '.join(sources)}, which {installs} {group}",
        )
    return unit.entry.finding(
        CHECK,
        "$.spec.dependsOn",
        f"syncs {what} but does not depend on {'; '.join(sources)}, which {installs} {group}",
    )


check_ordering = ordering_check()
