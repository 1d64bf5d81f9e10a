"""The ordering proof: in the example's Argo CD and Flux trees no custom resource syncs before
the chart that installs its CRD, checked with the same library compile and validate use."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.components.base import HelmChart
from compiler.validate import ObjectSet, iter_tree
from compiler.validate.core import builtin_groups
from compiler.validate.gitops import layout
from compiler.validate.ordering import (
    CHART_CRD_GROUPS,
    CLUSTER_PREREQUISITE_GROUPS,
    ENGINE_GROUPS,
    Providers,
    check_ordering,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def load(tree: Path) -> ObjectSet:
    objects = ObjectSet()
    problems: list = []
    for cluster, version, file, obj in iter_tree(tree, problems):
        objects.add(cluster, version, file, obj)
    assert problems == []
    return objects


def custom_resources_in_order(objects: ObjectSet) -> dict[str, int]:
    """Per cluster, how many custom resources were proven to sync after their CRD's chart.

    Independent of check_ordering's own loop: for every custom resource find its unit and
    a providing unit, and compare waves (Argo CD) or walk dependsOn (Flux) here.
    """
    proven: dict[str, int] = {}
    for name, cluster in objects.clusters.items():
        tree = layout(cluster)
        providers = Providers(cluster, tree, CHART_CRD_GROUPS)
        builtin = builtin_groups(cluster.kubernetes_version)
        count = 0
        for entry in cluster.entries:
            if entry.group in builtin or any(ENGINE_GROUPS[e](entry.group) for e in tree.engines):
                continue
            if entry.group in CLUSTER_PREREQUISITE_GROUPS:
                continue  # Gateway API: the cluster's Gateway implementation brings it
            unit = tree.unit_of(entry)
            assert unit is not None, f"{entry.file} is synced by no unit"
            offers = [p for p, _ in providers.by_group.get(entry.group, []) if p is not None]
            assert offers, f"{entry.file}: no chart provides {entry.group}"
            if unit.engine == "argocd":
                assert any(p.wave < unit.wave for p in offers), f"{entry.file} syncs in wave {unit.wave}"
            else:
                deps = list(tree.flux_dependencies(unit))
                assert any(p in deps for p in offers), (
                    f"{entry.file}: {unit.entry.name} does not depend on its chart"
                )
            count += 1
        proven[name] = count
    return proven


def test_example_trees_sync_every_custom_resource_after_its_chart(example_tree: Path) -> None:
    objects = load(example_tree)
    assert {name: layout(c).engines for name, c in objects.clusters.items()} == {
        "prod-us-east": frozenset({"argocd"}),
        "staging-eu": frozenset({"flux"}),
    }
    proven = custom_resources_in_order(objects)
    # Kueue (4 kinds) and KServe custom resources on both engines: the proof is not vacuous.
    assert proven["prod-us-east"] >= 5 and proven["staging-eu"] >= 5
    assert list(check_ordering(objects)) == []


def test_committed_generated_tree_is_ordered() -> None:
    objects = load(REPO_ROOT / "generated")
    custom_resources_in_order(objects)
    assert list(check_ordering(objects)) == []


def test_chart_table_agrees_with_components(example_tree: Path) -> None:
    """validate (table) and compile (components' HelmChart.crd_groups) must order alike."""
    from compiler.cluster_model import cluster_models
    from compiler.spec.build import load_platform
    from tests.validate.ai_fixture import WITH_AI

    charts: list[HelmChart] = []
    for cluster in cluster_models(load_platform(REPO_ROOT / "platform-spec")):
        for component in WITH_AI:
            charts += component.build(cluster).charts
    declared = [c for c in charts if c.crd_groups]
    assert declared, "no component declares CRD groups"
    for chart in declared:
        assert chart.crd_groups <= CHART_CRD_GROUPS.get(chart.chart, frozenset()), (
            f"chart {chart.chart} installs {sorted(chart.crd_groups)}; add it to CHART_CRD_GROUPS"
        )


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_engine_groups_are_preinstalled_only_on_their_engine(engine: str) -> None:
    own = "argoproj.io" if engine == "argocd" else "source.toolkit.fluxcd.io"
    other = "source.toolkit.fluxcd.io" if engine == "argocd" else "argoproj.io"
    assert ENGINE_GROUPS[engine](own) and not ENGINE_GROUPS[engine](other)
