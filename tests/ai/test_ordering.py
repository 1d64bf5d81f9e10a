"""Ordering proof over the committed example tree: no custom resource syncs before (Argo CD: in the
same or an earlier wave; Flux: without a dependsOn path to) the unit whose chart installs its CRDs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from compiler.cluster_model import cluster_models
from compiler.components import COMPONENTS
from compiler.spec.build import load_platform
from tests.ai.conftest import ROOT

GENERATED = ROOT / "generated"


def crd_charts() -> dict[str, str]:
    """API group → chart that installs its CRDs, as the components declare it."""
    providers: dict[str, str] = {}
    for cluster in cluster_models(load_platform(ROOT / "platform-spec")):
        for component in COMPONENTS:
            for chart in component.build(cluster).charts:
                providers.update({g: chart.chart for g in chart.crd_groups})
    return providers


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def unit_groups(cluster_dir: Path) -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}
    for unit in sorted((cluster_dir / "components").iterdir()):
        if unit.is_dir():
            for f in unit.rglob("*.yaml"):
                if f.name != "kustomization.yaml":
                    used.setdefault(unit.name, set()).add(load(f)["apiVersion"].rpartition("/")[0])
    return used


def chart_units(cluster_dir: Path, engine: str) -> dict[str, str]:
    """chart name → unit that installs it, read from the tree (Applications / HelmReleases)."""
    result = {}
    if engine == "argocd":
        for f in (cluster_dir / "apps").glob("application-*.yaml"):
            app = load(f)
            sources = app["spec"].get("sources") or [app["spec"]["source"]]
            for s in sources:
                if "chart" in s:
                    result[s["chart"]] = app["metadata"]["labels"]["platformc.dev/unit"]
    else:
        for f in (cluster_dir / "components").rglob("helmrelease-*.yaml"):
            release = load(f)
            chart = (
                release["spec"].get("chart", {}).get("spec", {}).get("chart") or release["metadata"]["name"]
            )
            result[chart] = f.relative_to(cluster_dir / "components").parts[0]
    return result


CRD_CHARTS = {
    "nvidia.com": "gpu-operator",
    "resource.nvidia.com": "gpu-operator",  # the DRA driver's release skips its copy
    "nfd.k8s-sigs.io": "gpu-operator",  # node-feature-discovery sub-chart
    "kueue.x-k8s.io": "kueue",
    "serving.kserve.io": "kserve-crd",
    "monitoring.coreos.com": "kube-prometheus-stack",
    "cert-manager.io": "cert-manager",
    "acme.cert-manager.io": "cert-manager",
    "keda.sh": "keda",
    "eventing.keda.sh": "keda",
}


def syncs_after(cluster_dir: Path, engine: str) -> Callable[[str, str], bool]:
    if engine == "argocd":
        waves = {}
        for f in (cluster_dir / "apps").glob("application-*.yaml"):
            app = load(f)
            waves[app["metadata"]["labels"]["platformc.dev/unit"]] = int(
                app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
            )
        return lambda later, earlier: waves[later] > waves[earlier]
    deps = {}
    for f in (cluster_dir / "apps").glob("kustomization-*.yaml"):
        k = load(f)
        deps[k["metadata"]["name"]] = {d["name"] for d in k["spec"].get("dependsOn", [])}

    def reaches(later: str, earlier: str) -> bool:
        seen, todo = set(), [later]
        while todo:
            for d in deps.get(todo.pop(), ()):
                if d == earlier:
                    return True
                if d not in seen:
                    seen.add(d)
                    todo.append(d)
        return False

    return reaches


@pytest.mark.parametrize(("cluster", "engine"), [("prod-us-east", "argocd"), ("staging-eu", "flux")])
def test_custom_resources_sync_after_their_crd_chart(cluster: str, engine: str) -> None:
    cluster_dir = GENERATED / cluster
    assert crd_charts() == CRD_CHARTS
    charts = chart_units(cluster_dir, engine)
    after = syncs_after(cluster_dir, engine)
    checked = 0
    for unit, groups in unit_groups(cluster_dir).items():
        for group in groups & CRD_CHARTS.keys():
            provider = charts[CRD_CHARTS[group]]
            if provider == unit:
                continue  # never a custom resource of that group: asserted below
            assert after(unit, provider), f"{unit} uses {group} but does not sync after {provider}"
            checked += 1
    assert checked >= 2  # kueue-config and serving at least
    # a unit that installs a CRD chart holds no custom resource of that group
    for chart_name, provider in charts.items():
        groups = {g for g, c in CRD_CHARTS.items() if c == chart_name}
        assert not groups & unit_groups(cluster_dir).get(provider, set())
