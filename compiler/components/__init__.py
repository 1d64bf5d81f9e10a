"""Platform components. Each is one module with a descriptor `COMPONENT = Component(...)` (see
base.py) and a pure `build(ClusterModel) -> ComponentOutput`.

Adding a component: write the module, then add its COMPONENT to this tuple. Nothing else:
its namespaces, version pin, charts' CRD groups, emitted kinds and unit names reach the spec
checks, ordering and `schemas pull` through `facts_of(COMPONENTS)` (and the generated copy in
compiler/registry_table.py, which `python3 -m compiler.components` rewrites).
Order here does not decide sync order; packaging derives that from CRD and namespace use.
"""

from __future__ import annotations

from collections.abc import Sequence

from compiler.components import (
    cert_manager,
    dra,
    gpu_operator,
    guardrails,
    keda,
    kserve,
    kueue,
    monitoring,
    network,
    policy_controller,
    serving,
    tenancy,
)
from compiler.components.base import Component
from compiler.registry_facts import RegistryFacts

COMPONENTS: tuple[Component, ...] = (
    tenancy.COMPONENT,
    network.COMPONENT,
    gpu_operator.COMPONENT,
    dra.COMPONENT,
    kueue.COMPONENT,
    cert_manager.COMPONENT,
    kserve.CRD_COMPONENT,
    kserve.COMPONENT,
    kserve.RUNTIMES_COMPONENT,
    keda.COMPONENT,
    serving.SERVING_COMPONENT,
    monitoring.COMPONENT,
    guardrails.PARAMS_COMPONENT,
    guardrails.COMPONENT,
    policy_controller.COMPONENT,
)


def facts_of(components: Sequence[Component] = COMPONENTS) -> RegistryFacts:
    """Everything the other stages derive from the registry, in registry order."""
    pins: dict[str, str] = {}
    for c in components:
        if c.version is not None:
            known = pins.setdefault(c.version.field, c.version.default)
            if known != c.version.default:
                raise ValueError(
                    f"version pin {c.version.field} has two defaults: {known}, {c.version.default}"
                )
    chart_groups: dict[str, frozenset[str]] = {}
    for c in components:
        for chart in c.charts:
            if chart.crd_groups:
                chart_groups[chart.chart] = chart_groups.get(chart.chart, frozenset()) | chart.crd_groups
    targets = dict.fromkeys(t for c in components for t in c.emits)
    return RegistryFacts(
        units=tuple(u for c in components for u in c.units),
        namespaces=frozenset(ns for c in components for ns in c.namespaces),
        version_pins=pins,
        chart_crd_groups=chart_groups,
        schema_targets=tuple(targets),
    )
