"""Cross-object references of the AI stack resolve, on the example and a synthetic platform."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.pipeline import ClusterBuild
from compiler.spec.serving_runtimes import KSERVE_RUNTIMES
from compiler.synthetic import write_synthetic_spec
from tests.ai.conftest import EXAMPLE_SPEC, build_all, objects


def names(build: ClusterBuild, kind: str) -> set[str]:
    return {o["metadata"]["name"] for o in objects(build, kind)}


def dangling(build: ClusterBuild) -> list[str]:
    problems = []
    queues, flavors, classes = (
        names(build, "ClusterQueue"),
        names(build, "ResourceFlavor"),
        names(build, "DeviceClass"),
    )
    # Runtimes the KServe install provides, plus any (Cluster)ServingRuntime the tree itself contains.
    runtimes = set(KSERVE_RUNTIMES) | names(build, "ClusterServingRuntime") | names(build, "ServingRuntime")
    for lq in objects(build, "LocalQueue"):
        if lq["spec"]["clusterQueue"] not in queues:
            problems.append(f"LocalQueue {lq['metadata']} → {lq['spec']['clusterQueue']}")
    for cq in objects(build, "ClusterQueue"):
        for group in cq["spec"]["resourceGroups"]:
            problems += [
                f"ClusterQueue {cq['metadata']['name']} → {f['name']}"
                for f in group["flavors"]
                if f["name"] not in flavors
            ]
    for t in objects(build, "ResourceClaimTemplate"):
        for request in t["spec"]["spec"]["devices"]["requests"]:
            if request["exactly"]["deviceClassName"] not in classes:
                problems.append(
                    f"ResourceClaimTemplate {t['metadata']['name']} → {request['exactly']['deviceClassName']}"
                )
    for isvc in objects(build, "InferenceService"):
        for predictor in [
            isvc["spec"]["predictor"],
            *(c["predictor"] for c in isvc["spec"].get("canary", [])),
        ]:
            if predictor["model"].get("runtime") not in runtimes:
                problems.append(
                    f"InferenceService {isvc['metadata']['name']} → {predictor['model'].get('runtime')}"
                )
    if objects(build, "InferenceService") and not any(
        c.chart == "kserve-runtime-configs" and c.values["kserve"]["servingruntime"]["enabled"]
        for u in build.units
        for c in u.charts
    ):
        problems.append("InferenceServices but no kserve-runtime-configs chart with servingruntime.enabled")
    return problems


def test_example_references_resolve(example_builds: dict[str, ClusterBuild]) -> None:
    for build in example_builds.values():
        assert objects(build, "LocalQueue") and objects(build, "InferenceService")
        assert dangling(build) == []


def test_synthetic_references_resolve(tmp_path: Path) -> None:
    for build in build_all(write_synthetic_spec(tmp_path / "s", 6, 12, 15)).values():
        assert dangling(build) == []


def test_the_reference_check_can_fail(example_builds: dict[str, ClusterBuild]) -> None:
    build = example_builds["prod-us-east"]
    broken = [(f, o) for f, o in build.placed if o["kind"] != "DeviceClass"]
    assert dangling(ClusterBuild(build.model, build.units, tuple(broken)))


@pytest.mark.parametrize("cluster", ["prod-us-east", "staging-eu"])
def test_privileged_only_in_operator_namespaces(
    example_builds: dict[str, ClusterBuild], cluster: str
) -> None:
    privileged = sorted(
        o["metadata"]["name"]
        for o in objects(example_builds[cluster], "Namespace")
        if o["metadata"]["labels"].get("pod-security.kubernetes.io/enforce") == "privileged"
    )
    # node-exporter of the monitoring stack needs host access too
    expected = (
        ["dra-driver-nvidia-gpu", "gpu-operator", "monitoring"]
        if cluster == "prod-us-east"
        else ["gpu-operator", "monitoring"]
    )
    assert privileged == expected
    assert EXAMPLE_SPEC.is_dir()
