"""Sync units and their order, derived from what objects use rather than declared by hand.

A unit is what one Argo CD Application or one Flux Kustomization syncs. A component
becomes one unit, or two when it installs a chart and also ships custom resources of
that chart's CRDs: those go to `<component>-config`, which must sync after the chart.

Unit U depends on unit V when
- U has an object of an API group whose CRDs V's charts install or whose objects V's charts'
  admission webhooks must admit, or U's chart creates such objects itself
  (HelmChart.uses_crd_groups),
- U has an object in a namespace that V creates, or
- U's component declares `after` V's component.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from compiler.components.base import ComponentOutput, HelmChart, KubeObject
from compiler.errors import PlatformcError
from compiler.kube import api_group, group_of, name_of
from compiler.tree_contract import config_unit

__all__ = ["Unit", "api_group", "order_units", "split_component"]


@dataclass(frozen=True)
class Unit:
    name: str
    component: str
    charts: tuple[HelmChart, ...]
    objects: tuple[KubeObject, ...]
    depends_on: tuple[str, ...] = ()
    wave: int = 0

    @property
    def provided_groups(self) -> frozenset[str]:
        """Groups whose CRDs its charts install or it holds as objects (hydrated charts)."""
        from_crds = {
            str(o["spec"]["group"])
            for o in self.objects
            if o["kind"] == "CustomResourceDefinition" and o["apiVersion"].startswith("apiextensions.k8s.io/")
        }
        return frozenset(from_crds.union(*(chart.crd_groups for chart in self.charts)))

    @property
    def used_groups(self) -> frozenset[str]:
        # Distinct apiVersions first: a unit holds thousands of objects of a handful of them.
        from_objects = {api_group(str(v)) for v in {o["apiVersion"] for o in self.objects}}
        return frozenset(from_objects.union(*(chart.uses_crd_groups for chart in self.charts)))

    @property
    def gated_groups(self) -> frozenset[str]:
        return frozenset(g for chart in self.charts for g in chart.webhook_groups)

    @property
    def created_namespaces(self) -> frozenset[str]:
        return frozenset(name_of(o) for o in self.objects if o["kind"] == "Namespace" and group_of(o) == "")

    @property
    def used_namespaces(self) -> frozenset[str]:
        # namespace_of per distinct value, not per object.
        used = {str(ns) for ns in {o["metadata"].get("namespace") for o in self.objects} if ns}
        used |= {chart.namespace for chart in self.charts}
        return frozenset(used)

    @property
    def namespace(self) -> str | None:
        """Default destination namespace: the first chart's, if any."""
        return self.charts[0].namespace if self.charts else None


def split_component(name: str, output: ComponentOutput) -> list[Unit]:
    """One unit per component, plus `<name>-config` for its custom resources of its own charts' CRDs."""
    provided = frozenset(g for chart in output.charts for g in chart.crd_groups)
    if provided:
        # Decided per distinct apiVersion, not per object (monitoring has thousands of objects).
        own = {v for v in {o["apiVersion"] for o in output.objects} if api_group(str(v)) in provided}
        own_crs = tuple(o for o in output.objects if o["apiVersion"] in own)
        rest = tuple(o for o in output.objects if o["apiVersion"] not in own)
    else:
        own_crs, rest = (), tuple(output.objects)
    units = []
    if output.charts or rest:
        units.append(Unit(name, name, output.charts, rest))
    if own_crs:
        units.append(Unit(config_unit(name) if units else name, name, (), own_crs))
    return units


def order_units(outputs: Sequence[tuple[str, ComponentOutput]]) -> list[Unit]:
    """Units with depends_on and wave filled in, in a stable topological order."""
    units = [u for name, output in outputs for u in split_component(name, output)]
    afters = {name: set(output.after) for name, output in outputs}
    known_components = {name for name, _ in outputs}
    for name, wanted in afters.items():
        unknown = sorted(wanted - known_components)
        if unknown:
            raise PlatformcError(
                f"component '{name}' orders after unknown component(s): {', '.join(unknown)}"
            )

    # Each unit's sets once (they walk its objects), not once per pair of units.
    used = [(u.used_groups, u.used_namespaces) for u in units]
    offered = [(v.provided_groups | v.gated_groups, v.created_namespaces) for v in units]
    deps: dict[str, set[str]] = {u.name: set() for u in units}
    for u, (groups, namespaces) in zip(units, used, strict=True):
        for v, (their_groups, their_namespaces) in zip(units, offered, strict=True):
            if u is v:
                continue
            if (
                groups & their_groups
                or namespaces & their_namespaces
                or v.component in afters[u.component]
                or (v.component == u.component and v.charts and not u.charts)
            ):
                deps[u.name].add(v.name)

    waves: dict[str, int] = {}
    remaining = {u.name for u in units}
    while remaining:
        ready = sorted(n for n in remaining if deps[n] <= waves.keys())
        if not ready:
            cycle = ", ".join(f"{n} → {sorted(deps[n] & remaining)}" for n in sorted(remaining))
            raise PlatformcError(f"sync units depend on each other in a cycle: {cycle}")
        for n in ready:
            waves[n] = 1 + max((waves[d] for d in deps[n]), default=-1)
            remaining.discard(n)
    ordered = sorted(units, key=lambda u: (waves[u.name], u.name))
    return [
        Unit(u.name, u.component, u.charts, u.objects, tuple(sorted(deps[u.name])), waves[u.name])
        for u in ordered
    ]
