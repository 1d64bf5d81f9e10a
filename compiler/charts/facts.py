"""What a chart installs, read from its render rather than declared: CRDs (group, kind, name),
admission webhooks, DeviceClasses, ClusterServingRuntimes, and the custom resources its own
templates create (which must wait for the unit installing their CRDs).

Compile renders every chart of a cluster (compiler/charts/releases.py) and puts these facts on
the HelmCharts before packaging orders the units, so sync order, the `platformc.dev/crd-groups`
/ `uses-crd-groups` / `crds` annotations and the ordering check all follow the render. The
components' hand-declared groups (and validate/ordering.py's CHART_CRD_GROUPS) are the fallback
when no chart cache is available; tests/charts/test_facts.py keeps both in agreement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from compiler.charts.releases import Release, release_of, render_releases
from compiler.components.base import ComponentOutput, HelmChart, KubeObject
from compiler.packaging.units import api_group, split_component
from compiler.validate.core import builtin_groups

WEBHOOK_KINDS = frozenset({"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"})


@dataclass(frozen=True)
class ChartFacts:
    crds: frozenset[tuple[str, str, str]] = frozenset()  # (group, kind, CRD name)
    webhooks: frozenset[tuple[str, str]] = frozenset()  # (kind, name)
    device_classes: frozenset[str] = frozenset()
    serving_runtimes: frozenset[str] = frozenset()  # ClusterServingRuntime names
    uses_groups: frozenset[str] = frozenset()  # groups of custom resources its templates create

    @property
    def crd_groups(self) -> frozenset[str]:
        return frozenset(group for group, _, _ in self.crds)

    @property
    def crd_names(self) -> frozenset[str]:
        return frozenset(name for _, _, name in self.crds)


def _names(objects: Iterable[KubeObject], kind: str) -> frozenset[str]:
    return frozenset(str(o["metadata"]["name"]) for o in objects if o.get("kind") == kind)


def chart_facts(objects: Sequence[KubeObject], kubernetes_version: str) -> ChartFacts:
    crds = frozenset(
        (str(o["spec"]["group"]), str(o["spec"]["names"]["kind"]), str(o["metadata"]["name"]))
        for o in objects
        if o.get("kind") == "CustomResourceDefinition"
    )
    own = {group for group, _, _ in crds}
    builtin = builtin_groups(kubernetes_version)
    uses = {api_group(str(o.get("apiVersion", ""))) for o in objects}
    return ChartFacts(
        crds=crds,
        webhooks=frozenset(
            (str(o["kind"]), str(o["metadata"]["name"])) for o in objects if o.get("kind") in WEBHOOK_KINDS
        ),
        device_classes=_names(objects, "DeviceClass"),
        serving_runtimes=_names(objects, "ClusterServingRuntime"),
        uses_groups=frozenset(uses - own - builtin),
    )


def _chart_releases(engine: str, name: str, output: ComponentOutput) -> list[Release]:
    """The releases of one component's charts, as packaging will write them (the chart unit is the
    component's first unit; on Argo CD its namespace is the first chart's)."""
    unit = split_component(name, output)[0]
    return [release_of(engine, unit, chart) for chart in output.charts]


@dataclass(frozen=True)
class LearnedCluster:
    outputs: list[tuple[str, ComponentOutput]]  # charts carrying their rendered CRD groups and uses
    facts: dict[tuple[str, str], ChartFacts]  # (component, release) → facts
    rendered: dict[tuple[str, str], tuple[KubeObject, ...]]  # (component, release) → rendered objects
    releases: list[tuple[str, Release]]  # (component, release) in render order


def learn_from_charts(
    engine: str, kubernetes_version: str, outputs: Sequence[tuple[str, ComponentOutput]], charts_dir: Path
) -> LearnedCluster:
    """Render every chart of a cluster and replace each HelmChart's declared groups by rendered facts."""
    releases = [
        (name, r) for name, output in outputs if output.charts for r in _chart_releases(engine, name, output)
    ]
    rendered = render_releases([r for _, r in releases], kubernetes_version, charts_dir)
    objects = {(name, r.release): done.objects for (name, r), done in zip(releases, rendered, strict=True)}
    facts = {key: chart_facts(found, kubernetes_version) for key, found in objects.items()}
    learned: list[tuple[str, ComponentOutput]] = []
    for name, output in outputs:
        charts = tuple(_with_facts(c, facts[(name, c.release)]) for c in output.charts)
        learned.append((name, replace(output, charts=charts) if charts else output))
    return LearnedCluster(learned, facts, objects, releases)


def _with_facts(chart: HelmChart, facts: ChartFacts) -> HelmChart:
    return replace(
        chart, crd_groups=facts.crd_groups, uses_crd_groups=facts.uses_groups, crds=facts.crd_names
    )
