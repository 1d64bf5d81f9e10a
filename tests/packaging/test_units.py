"""Sync order is derived from what objects use: CRD groups, namespaces, declared `after`."""

from __future__ import annotations

import pytest

from compiler.components.base import ComponentOutput, HelmChart, obj
from compiler.errors import PlatformcError
from compiler.packaging.units import order_units

QUEUE_CHART = HelmChart(
    "oci://registry.example/charts",
    "queues",
    "1.0.0",
    "queues",
    "queues-system",
    crd_groups=frozenset({"queues.example.com"}),
)


def _namespace(name: str) -> dict:
    return obj("v1", "Namespace", name)


def _queue(name: str, namespace: str) -> dict:
    return obj("queues.example.com/v1", "Queue", name, namespace)


def test_chart_and_its_custom_resources_become_two_units_in_order() -> None:
    units = order_units(
        [
            ("tenancy", ComponentOutput(objects=(_namespace("team-a"),))),
            (
                "queues",
                ComponentOutput(
                    charts=(QUEUE_CHART,), objects=(_namespace("queues-system"), _queue("q", "team-a"))
                ),
            ),
        ]
    )
    by_name = {u.name: u for u in units}
    assert [u.name for u in units] == ["queues", "tenancy", "queues-config"]
    assert by_name["queues"].objects == (
        _namespace("queues-system"),
    )  # the chart's own namespace syncs with it
    assert by_name["queues-config"].depends_on == ("queues", "tenancy")
    assert by_name["queues-config"].wave == 1
    assert by_name["queues"].wave == by_name["tenancy"].wave == 0


def test_custom_resource_of_another_components_chart_waits_for_it() -> None:
    units = order_units(
        [
            ("queues", ComponentOutput(charts=(QUEUE_CHART,))),
            ("tenancy", ComponentOutput(objects=(_namespace("team-a"), _queue("team-a", "team-a")))),
        ]
    )
    tenancy = next(u for u in units if u.name == "tenancy")
    assert tenancy.depends_on == ("queues",) and tenancy.wave == 1


def test_declared_after_orders_units_and_unknown_after_is_an_error() -> None:
    units = order_units(
        [
            ("a", ComponentOutput(objects=(_namespace("x"),), after=("b",))),
            ("b", ComponentOutput(objects=(_namespace("y"),))),
        ]
    )
    assert [(u.name, u.wave, u.depends_on) for u in units] == [("b", 0, ()), ("a", 1, ("b",))]
    with pytest.raises(PlatformcError, match="component 'a' orders after unknown component"):
        order_units([("a", ComponentOutput(objects=(_namespace("x"),), after=("nope",)))])


def test_cycles_are_reported_with_the_units_involved() -> None:
    with pytest.raises(PlatformcError, match=r"cycle: a → \['b'\], b → \['a'\]"):
        order_units(
            [
                ("a", ComponentOutput(objects=(_namespace("x"),), after=("b",))),
                ("b", ComponentOutput(objects=(_namespace("y"),), after=("a",))),
            ]
        )


def test_order_is_independent_of_registration_order() -> None:
    outputs = [
        ("tenancy", ComponentOutput(objects=(_namespace("team-a"),))),
        ("queues", ComponentOutput(charts=(QUEUE_CHART,), objects=(_queue("q", "team-a"),))),
        (
            "network",
            ComponentOutput(objects=(obj("networking.k8s.io/v1", "NetworkPolicy", "deny", "team-a"),)),
        ),
    ]
    assert order_units(outputs) == order_units(list(reversed(outputs)))


def test_chart_that_creates_custom_resources_waits_for_the_chart_installing_their_crds() -> None:
    monitors = HelmChart(
        "https://charts.example",
        "exporter",
        "1.0.0",
        "exporter",
        "exporter",
        uses_crd_groups=frozenset({"queues.example.com"}),
    )
    units = order_units(
        [
            ("exporter", ComponentOutput(charts=(monitors,))),
            ("queues", ComponentOutput(charts=(QUEUE_CHART,))),
        ]
    )
    assert [(u.name, u.wave, u.depends_on) for u in units] == [
        ("queues", 0, ()),
        ("exporter", 1, ("queues",)),
    ]
