"""Every object the AI components emit validates against its upstream schema (CRD or strict Kubernetes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.components import dra, gpu_operator, kserve, kueue, serving
from compiler.pipeline import ClusterBuild
from compiler.synthetic import write_synthetic_spec
from tests.ai.conftest import build_all, mini_docs, objects
from tests.conftest import schema_errors

AI_COMPONENTS = (
    gpu_operator.COMPONENT,
    dra.COMPONENT,
    kueue.COMPONENT,
    kserve.CRD_COMPONENT,
    kserve.COMPONENT,
    serving.SERVING_COMPONENT,
)


def ai_objects(builds: dict[str, ClusterBuild]) -> list[tuple[str, dict]]:
    found = []
    for build in builds.values():
        for component in AI_COMPONENTS:
            out = component.build(build.model)
            found += [(build.model.kubernetes_version, o) for o in out.objects]
    return found


def assert_valid(found: list[tuple[str, dict]]) -> None:
    problems = [e for kube, o in found for e in schema_errors(o, kube)]
    assert problems == []


def test_example_platform_objects_validate(example_builds: dict[str, ClusterBuild]) -> None:
    found = ai_objects(example_builds)
    kinds = {o["kind"] for _, o in found}
    assert {
        "DeviceClass",
        "ResourceClaimTemplate",
        "ClusterQueue",
        "LocalQueue",
        "ResourceFlavor",
        "Cohort",
        "WorkloadPriorityClass",
        "InferenceService",
        "NetworkPolicy",
        "ConfigMap",
        "Namespace",
    } <= kinds
    assert_valid(found)


def test_synthetic_platform_objects_validate(tmp_path: Path) -> None:
    spec = write_synthetic_spec(tmp_path / "spec", clusters=6, teams=12, serving_paths=15)
    found = ai_objects(build_all(spec))
    assert len([o for _, o in found if o["kind"] == "InferenceService"]) == 15
    assert_valid(found)


def test_whole_example_trees_validate(example_builds: dict[str, ClusterBuild]) -> None:
    """The packaging objects around the charts (Applications, HelmReleases …) too."""
    assert_valid([(b.model.kubernetes_version, o) for b in example_builds.values() for o in objects(b)])


@pytest.mark.parametrize("allocation", ["dra", "device-plugin"])
def test_mini_platform_objects_validate(write_spec, allocation: str) -> None:
    assert_valid(ai_objects(build_all(write_spec(mini_docs(allocation)))))


def test_helper_rejects_what_the_api_server_would(example_builds: dict[str, ClusterBuild]) -> None:
    """The helper is strict: an unknown field fails, on a core kind and on a custom resource."""
    build = example_builds["prod-us-east"]
    device_class = dict(objects(build, "DeviceClass")[0], spec={"selectors": [], "bogus": 1})
    queue = objects(build, "ClusterQueue")[0]
    queue = {**queue, "spec": {**queue["spec"], "cohort": "old-v1beta1-field"}}
    assert schema_errors(device_class, "1.34")
    assert schema_errors(queue, "1.34")
    [missing] = schema_errors({"apiVersion": "example.com/v1", "kind": "Nothing", "metadata": {"name": "x"}})
    assert "no schema for example.com/v1 Nothing" in missing
