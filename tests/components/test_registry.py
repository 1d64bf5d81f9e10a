"""The component registry is the one list of components: every table other stages need is
derived from it, and a component registered nowhere else is compiled, ordered, schema-pulled
and name-checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import compiler.components as registry
from compiler.cli import main
from compiler.cluster_model import ClusterModel
from compiler.components import COMPONENTS, facts_of
from compiler.components.base import Chart, Component, ComponentOutput, VersionPin, obj
from compiler.crdschemas.catalog import DEFAULT_TARGETS
from compiler.errors import SpecErrors
from compiler.pipeline import build_model, registered, validate_builds
from compiler.registry_table import TABLE
from compiler.spec.build import load_platform_texts
from compiler.spec.checks import RESERVED_NAMESPACES
from compiler.spec.models import ComponentVersions
from compiler.validate import SchemaRegistry
from compiler.validate.ordering import CHART_CRD_GROUPS
from tests.components.synth import SPEC_TEXTS, spec_texts
from tests.crdschemas.release_server import ReleaseServer

# --- derived tables ------------------------------------------------------------------------------


def test_the_generated_table_is_the_registry() -> None:
    """compiler/registry_table.py (what spec and validate read) equals what the registry says;
    if not, run `python3 -m compiler.components`."""
    assert facts_of(COMPONENTS) == TABLE
    assert (Path(registry.__file__).parent.parent / "registry_table.py").read_text() == TABLE.source()


def test_derived_tables_hold_what_the_descriptors_declare() -> None:
    kueue = next(c for c in COMPONENTS if c.name == "kueue")
    assert "kueue-system" in RESERVED_NAMESPACES
    assert CHART_CRD_GROUPS["kueue"] == frozenset({"kueue.x-k8s.io"})
    assert ("kueue.x-k8s.io", "ClusterQueue", "v1beta2") in DEFAULT_TARGETS
    assert kueue.version == VersionPin("kueue", "v0.19.2")
    assert ComponentVersions().kueue == "v0.19.2"
    # Charts no component installs stay known to validate (hand-edited trees).
    assert CHART_CRD_GROUPS["argo-cd"] == frozenset({"argoproj.io"})


def test_every_custom_kind_a_component_emits_is_declared(example_builds) -> None:
    """`schemas pull` fetches what the descriptors declare; a component emitting an undeclared
    custom kind would leave `platformc validate` without its schema."""
    declared = {(g, k) for c in COMPONENTS for g, k, _ in c.emits}
    builtin = ("", "apps", "batch", "rbac.authorization.k8s.io", "networking.k8s.io", "resource.k8s.io")
    builtin += ("policy", "scheduling.k8s.io", "admissionregistration.k8s.io")
    for build in example_builds.values():
        for unit in build.units:
            for o in unit.objects:
                group = o["apiVersion"].rpartition("/")[0]
                if group not in builtin:
                    assert (group, o["kind"]) in declared, f"{unit.component} emits undeclared {o['kind']}"


# --- a throwaway component: one module + one registration line ------------------------------------

THING_GROUP = "widgets.example.com"
THING_NAMESPACE = "widget-system"
THING_CHART = Chart(
    "oci://charts.example.com/widgets", "widget-operator", crd_groups=frozenset({THING_GROUP})
)


def _build_thing(cluster: ClusterModel) -> ComponentOutput:
    return ComponentOutput(
        charts=(THING_CHART.release(THING.version_of(cluster), THING_NAMESPACE),),
        objects=(
            obj("v1", "Namespace", THING_NAMESPACE),
            obj(f"{THING_GROUP}/v1", "Widget", "default", THING_NAMESPACE, spec={"size": 3}),
        ),
    )


THING = Component(
    "widget-operator-extras",  # long: its -config unit is the longest Argo CD suffix
    _build_thing,
    namespaces=(THING_NAMESPACE,),
    version=VersionPin("widgetOperator", "v1.2.3"),
    charts=(THING_CHART,),
    emits=((THING_GROUP, "Widget", "v1"),),
)


@pytest.fixture
def with_thing(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the one registration line in compiler/components/__init__.py does."""
    monkeypatch.setattr(registry, "COMPONENTS", (*registry.COMPONENTS, THING))


def test_a_registered_component_is_compiled_and_ordered(with_thing: None, crd_schemas: Path) -> None:
    model = load_platform_texts(SPEC_TEXTS, facts_of(registered()))
    builds = build_model(model)
    for build in builds:
        units = {u.name: u for u in build.units}
        chart_unit, config_unit = units["widget-operator-extras"], units["widget-operator-extras-config"]
        assert [c.version for c in chart_unit.charts] == ["v1.2.3"]
        assert [o["kind"] for o in config_unit.objects] == ["Widget"]
        assert chart_unit.wave < config_unit.wave  # the Widget syncs after the chart with its CRD
    report = validate_builds(builds, SchemaRegistry([crd_schemas]))
    assert [f for f in report.findings if f.check == "ordering"] == []


def test_a_registered_component_is_schema_pulled(with_thing: None, tmp_path: Path) -> None:
    """The catalog fallback (`schemas pull --url-template`) fetches what a registered component emits."""
    schema = {"type": "object", "properties": {"spec": {"type": "object"}}}
    server = ReleaseServer()
    server.files[f"/{THING_GROUP}/widget_v1.json"] = json.dumps(schema).encode()
    spec = tmp_path / "spec"  # pull reads the spec's pins and custom components
    spec.mkdir()
    for name, text in SPEC_TEXTS.items():
        (spec / name).write_text(text)
    try:
        result = CliRunner().invoke(
            main,
            [
                "schemas",
                "pull",
                "--spec",
                str(spec),
                "--cache-root",
                str(tmp_path / "cache"),
                "--url-template",
                f"{server.base}/{{group}}/{{kind}}_{{version}}.json",
            ],
        )
    finally:
        server.stop()
    assert f"{THING_GROUP}/v1 Widget: fetched" in result.output
    assert (tmp_path / "cache" / "schemas" / THING_GROUP / "widget_v1.json").is_file()


def test_a_registered_component_is_name_checked(with_thing: None) -> None:
    facts = facts_of(registered())
    # Its namespace is reserved for teams…
    texts = spec_texts(team_name=THING_NAMESPACE)
    with pytest.raises(SpecErrors) as caught:
        load_platform_texts(texts, facts)
    assert "team name 'widget-system' is a reserved namespace" in str(caught.value)
    # …and its -config unit lengthens the longest Argo CD Application name: 63 - len("-widget-operator-extras-config").
    longest = 63 - len("-widget-operator-extras-config")
    load_platform_texts(spec_texts(cluster_name="c" * longest), facts)
    with pytest.raises(SpecErrors) as caught:
        load_platform_texts(spec_texts(cluster_name="c" * (longest + 1)), facts)
    assert f"too long for Argo CD (expected at most {longest}" in str(caught.value)
    # Without it, that name fits (the bound comes from the registry, not a list).
    load_platform_texts(spec_texts(cluster_name="c" * (longest + 1)), facts_of(COMPONENTS))
