"""Exactly one sync unit installs each CRD (issue 13, item 4), asserted on the charts rendered
with real Helm from ../shared/charts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compiler.packaging.common import CRD_GROUPS_ANNOTATION
from compiler.pipeline import ClusterBuild
from tests.ai.charts import component_chart, of_kind, render_helm_chart
from tests.ai.conftest import build_all, mini_docs, objects


def _installs_crds(build: ClusterBuild, release: str) -> bool:
    """Whether the emitted Application / HelmRelease lets Helm apply the chart's crds/."""
    if build.model.engine == "flux":
        hr = next(o for o in objects(build, "HelmRelease") if o["metadata"]["name"] == release)
        return hr["spec"]["install"]["crds"] != "Skip" and hr["spec"]["upgrade"]["crds"] != "Skip"
    for app in objects(build, "Application"):
        sources = app["spec"].get("sources") or [app["spec"]["source"]]
        for source in sources:
            if source.get("helm", {}).get("releaseName") == release:
                return not source["helm"].get("skipCrds", False)
    raise AssertionError(f"no Application installs {release}")


def _crd_owners(charts_dir: Path, build: ClusterBuild) -> dict[str, list[str]]:
    owners: dict[str, list[str]] = {}
    for unit in build.units:
        for chart in unit.charts:
            rendered = render_helm_chart(
                charts_dir, chart, build.model.kubernetes_version, _installs_crds(build, chart.release)
            )
            for crd in of_kind(rendered, "CustomResourceDefinition"):
                owners.setdefault(crd["metadata"]["name"], []).append(unit.name)
    return owners


def test_each_crd_has_one_installing_unit(shared_charts: Path, example_builds, write_spec):
    """NVIDIA/gpu-operator v26.7.0 deployments/gpu-operator/crds/resource.nvidia.com_computedomains.yaml
    and kubernetes-sigs/dra-driver-nvidia-gpu v0.4.1
    deployments/helm/dra-driver-nvidia-gpu/crds/resource.nvidia.com_computedomains.yaml are the
    same CRD with different schemas (numNodes required in the operator's only): two self-healing
    apps applying both would fight. Checked on Argo CD (skipCrds) and Flux (crds: Skip)."""
    builds = [*example_builds.values(), *build_all(write_spec(mini_docs("dra"))).values()]
    assert {(b.model.engine, b.model.dra) for b in builds} >= {("argocd", True), ("flux", True)}
    for build in builds:
        owners = _crd_owners(shared_charts, build)
        assert "computedomains.resource.nvidia.com" in owners, build.model.name
        twice = {crd: units for crd, units in owners.items() if len(units) > 1}
        assert not twice, f"{build.model.name}: CRDs installed by several units: {twice}"
        if build.model.dra:
            # The driver's chart does ship them: the skip is what keeps one owner.
            driver = component_chart(build, "dra-driver-nvidia-gpu")
            shipped = render_helm_chart(shared_charts, driver, build.model.kubernetes_version, True)
            assert of_kind(shipped, "CustomResourceDefinition")


def _annotation_groups(build: ClusterBuild, release: str) -> set[str]:
    holders: list[dict[str, Any]]
    if build.model.engine == "flux":
        holders = [o for o in objects(build, "HelmRelease") if o["metadata"]["name"] == release]
    else:
        holders = [
            o for o in objects(build, "Application") if o["metadata"]["name"].endswith("-gpu-operator")
        ]
    annotation = holders[0]["metadata"]["annotations"].get(CRD_GROUPS_ANNOTATION, "")
    return set(filter(None, annotation.split(",")))


def test_gpu_operator_crd_groups_list_every_crd_its_chart_installs(shared_charts: Path, example_builds):
    """NVIDIA/gpu-operator v26.7.0 deployments/gpu-operator/crds (nvidia.com, resource.nvidia.com)
    and its node-feature-discovery sub-chart's crds/nfd-api-crds.yaml (nfd.k8s-sigs.io): the
    platformc.dev/crd-groups annotation validate orders by must name all of them."""
    for build in example_builds.values():
        chart = component_chart(build, "gpu-operator")
        rendered = render_helm_chart(shared_charts, chart, build.model.kubernetes_version)
        groups = {crd["spec"]["group"] for crd in of_kind(rendered, "CustomResourceDefinition")}
        assert {"nvidia.com", "resource.nvidia.com", "nfd.k8s-sigs.io"} <= groups
        assert _annotation_groups(build, "gpu-operator") == groups, build.model.name
