"""Issue 16, Found 8 and 9: inputs that gave tracebacks or ran away now give file:line:col errors,
and nothing is written."""

from __future__ import annotations

import re
import time

import pytest

from tests.security.conftest import Workspace

BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(9)
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "apiVersion: platformc.dev/v1alpha1\nkind: Team\nmetadata: {name: x\x00}\n",
            r":3:\d+: character #x0000",
        ),
        ("apiVersion: v1\nnote: \x1b[31m\n", r":2:\d+: character #x001b"),
        ("a: " + "[" * 250 + "]" * 250 + "\n", r":1:\d+: YAML syntax error: nested deeper than 64 levels"),
        (BOMB, r":1:1: aliases expand this document past 1000000 nodes"),
        ("---\n" * 20_000, r":10001:1: file holds more than 10000 YAML documents"),
        (
            "!!python/object/apply:os.system ['id']\n",
            r":1:1: YAML syntax error: could not determine a constructor",
        ),
    ],
)
def test_hostile_yaml_in_the_spec_is_a_located_error(ws: Workspace, text: str, expected: str) -> None:
    ws.write("platform-spec/teams/evil.yaml", "")
    (ws.root / "platform-spec/teams/evil.yaml").write_text(text)
    started = time.monotonic()
    result = ws.run("compile")
    assert time.monotonic() - started < 30  # the bomb ran past 120 s, a million documents 106 s
    assert result.exit_code == 1
    assert re.search("platform-spec/teams/evil.yaml" + expected, result.output), result.output
    assert not (ws.root / "generated").exists()


def test_the_same_bounds_hold_for_overlays(ws: Workspace) -> None:
    (ws.root / "overlays/all/evil.yaml").write_text(BOMB)
    result = ws.run("compile")
    assert result.exit_code == 1
    assert "overlays/all/evil.yaml:1:1: aliases expand this document" in result.output


def test_validate_refuses_an_alias_bomb_in_a_tree(ws: Workspace) -> None:
    """validate read a bomb in a generated tree past 4 GiB."""
    assert ws.run("compile").exit_code == 0
    (ws.root / "generated/staging-eu/components/bomb.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: default}\ndata:\n"
        + "".join("  " + line + "\n" for line in BOMB.splitlines())
    )
    started = time.monotonic()
    result = ws.run("validate", "--allow-missing-schemas")
    assert time.monotonic() - started < 30
    assert result.exit_code == 1
    assert "staging-eu/components/bomb.yaml" in result.output and "uses YAML aliases" in result.output


def test_a_patch_making_labels_a_string_then_a_selector_patch(ws: Workspace) -> None:
    ws.write(
        "overlays/all/p.yaml",
        """
        apiVersion: platformc.dev/v1alpha1
        kind: Patch
        target: {kind: Namespace, name: ai-research}
        merge: {metadata: {labels: "oops"}}
        ---
        apiVersion: platformc.dev/v1alpha1
        kind: Patch
        target:
          kind: Namespace
          labelSelector: {matchLabels: {platformc.dev/team: ai-research}}
        merge: {metadata: {annotations: {x: y}}}
        """,
    )
    result = ws.run("compile")
    assert result.exit_code == 1
    assert "overlays/all/p.yaml:4:28: patch makes metadata.labels of Namespace ai-research" in result.output


def test_a_merge_key_bringing_in_an_unknown_field(ws: Workspace) -> None:
    ws.write(
        "platform-spec/extra.yaml",
        """
        apiVersion: platformc.dev/v1alpha1
        kind: GPUFlavor
        metadata: {name: zz}
        spec:
          <<: {bogus: 1}
          product: X
          memory: 1Gi
          hourlyCost: 1
        """,
    )
    result = ws.run("compile")
    assert result.exit_code == 1
    assert "platform-spec/extra.yaml:5:3: unknown field 'spec.bogus'" in result.output


@pytest.mark.parametrize("url", [": ", ""])
def test_init_refuses_a_bad_repo_url_and_writes_nothing(ws: Workspace, url: str) -> None:
    result = ws.run("init", "--repo-url", url, "new")
    assert result.exit_code == 1
    assert f"--repo-url {url!r} is not a Git URL" in result.output
    assert not (ws.root / "new").exists() or not any((ws.root / "new").iterdir())


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("2001-12-14", "a YAML date value"),
        ("!!binary aGVsbG8=", "a YAML bytes value"),
        (".inf", "non-finite"),
        ("1e400", "non-finite"),  # a float too large is infinite too (JSON would write it as null)
    ],
)
def test_values_json_cannot_hold_are_errors_at_their_line(ws: Workspace, value: str, what: str) -> None:
    """bench/fuzz.py found these: a timestamp in an overlay object reached the schema validator
    (ValueError: Unsupported type: 'datetime'), a traceback."""
    ws.write(
        "overlays/all/cm.yaml",
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm, namespace: default}}\ndata:\n  when: {value}\n",
    )
    result = ws.run("compile")
    assert result.exit_code == 1
    assert "overlays/all/cm.yaml:5:9: 'data.when' is " in result.output and what in result.output


def test_an_ordering_cycle_made_by_a_custom_component_is_reported_at_its_component_yaml(
    ws: Workspace,
) -> None:
    """bench/fuzz.py found this: a cycle was a bare message without file:line."""
    ws.edit(
        "overlays/components/volcano/component.yaml",
        "environments: [staging]",
        "environments: [staging]\nafter: [kserve]",
    )
    ws.edit(
        "overlays/components/volcano/component.yaml",
        "crdGroups: [batch.volcano.sh,",
        "crdGroups: [cert-manager.io, batch.volcano.sh,",
    )
    result = ws.run("compile")
    assert result.exit_code == 1
    assert (
        "overlays/components/volcano/component.yaml:3:8: sync units depend on each other in a cycle"
        in result.output
    )


QUEUE_CRD = "overlays/components/volcano/crds/scheduling.volcano.sh_queues.yaml"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # One of the two tracebacks of the 2,000-case fuzz rerun: a root `properties` that is not a
        # mapping crashed the strict-root step (compiler/validate/schemas.py _strict_custom_root).
        (
            "        description: Queue is a queue of PodGroup.\n        properties:\n",
            "        description: Queue is a queue of PodGroup.\n        properties: [1]\n        x-was:\n",
            ":27:21: CRD schema openAPIV3Schema.properties is a list, not a mapping of field name to schema",
        ),
        (
            "        description: Queue is a queue of PodGroup.\n",
            "        description: Queue is a queue of PodGroup.\n        required: spec\n",
            ":27:19: CRD schema openAPIV3Schema.required is a str, not a list of field names",
        ),
        (
            "          apiVersion:\n            description: |-\n",
            "          apiVersion: 7\n          x-was:\n            description: |-\n",
            ":28:23: CRD schema openAPIV3Schema.properties.apiVersion is a int, not a mapping",
        ),
    ],
)
def test_a_malformed_crd_in_a_custom_components_crds_folder_is_an_error_at_its_line(
    ws: Workspace, old: str, new: str, expected: str
) -> None:
    """bench/fuzz.py found this (2,000-case rerun, 2 tracebacks): the component's CRD file is PR input.
    The API server requires a JSONSchemaProps tree (k8s.io/apiextensions-apiserver
    pkg/apis/apiextensions/v1/types_jsonschema.go); a malformed one is an error at its line, not a
    traceback, and not a schema that silently checks nothing."""
    ws.edit(QUEUE_CRD, old, new)
    result = ws.run("compile")
    assert result.exit_code == 1
    assert QUEUE_CRD + expected in result.output, result.output
    assert "CustomResourceDefinitions)" in result.output  # what was expected
    assert not (ws.root / "generated").exists()


def test_a_crd_schema_whose_defs_is_not_a_mapping_is_reported_by_validate(ws: Workspace) -> None:
    """The other traceback of the 2,000-case fuzz rerun: a root `$defs` that is not a mapping. `$defs`
    is no JSONSchemaProps field, so the CRD shape check lets it pass; the schema registry then
    refuses the schema, naming it, instead of crashing: compile warns (no schema for Queue) and
    validate, where a missing schema is an error, says why."""
    ws.edit(
        QUEUE_CRD,
        "        description: Queue is a queue of PodGroup.\n",
        "        description: Queue is a queue of PodGroup.\n        $defs: x\n",
    )
    result = ws.run("compile")
    assert result.exit_code == 0 and "no schema for Queue" in result.output, result.output
    result = ws.run("validate")
    assert result.exit_code == 1
    assert (
        "schema for scheduling.volcano.sh/v1beta1 Queue cannot be used: its root `$defs` is str 'x' "
        "(expected a mapping of field name to schema; fix the CRD file)" in result.output
    ), result.output


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("when: 2024-01-01", "'data.when' is a YAML date value, not plain data"),
        ("blob: !!binary aGVsbG8=", "'data.blob' is a YAML bytes value, not plain data"),
        ("members: !!set {a, b}", "'data.members' is a YAML set value, not plain data"),
        ("1: one", "'data.1' is not a string key"),
    ],
)
def test_validate_refuses_values_json_cannot_hold_in_a_tree(ws: Workspace, value: str, expected: str) -> None:
    """A hand-written tree file with a YAML date, !!binary, !!set or an integer key made validate
    exit with a traceback from the schema validator (jsonschema_rs takes JSON types only); it is a
    finding at the file now, like the spec loader's error for the same values."""
    assert ws.run("compile").exit_code == 0
    (ws.root / "generated/staging-eu/components/hand.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: h, namespace: default}}\ndata:\n  {value}\n"
    )
    result = ws.run("validate", "--allow-missing-schemas")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"staging-eu/components/hand.yaml: document 1: {expected}" in result.output, result.output
