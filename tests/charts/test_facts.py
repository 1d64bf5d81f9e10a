"""What charts install is read from their render: CRDs, webhooks, DeviceClasses, runtimes.
The components' hand-declared groups (the fallback without a chart cache) must agree with it,
and a CRD that two units install is an error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compiler.charts.facts import chart_facts, learn_from_charts
from compiler.charts.releases import Release, render_releases
from compiler.components.base import ComponentOutput, HelmChart
from compiler.packaging import argocd
from compiler.packaging.units import order_units
from compiler.pipeline import ClusterBuild
from compiler.validate import ObjectSet
from compiler.validate.ordering import CHART_CRD_GROUPS, check_ordering
from tests.charts.conftest import Rendered


def _chart_outputs(build: ClusterBuild) -> list[tuple[str, ComponentOutput]]:
    return [(u.name, ComponentOutput(charts=u.charts)) for u in build.units if u.charts]


def test_declared_crd_groups_agree_with_the_render(
    example_builds: dict[str, ClusterBuild], shared_charts: Path
) -> None:
    """Hand-declared HelmChart.crd_groups (and validate/ordering.py's CHART_CRD_GROUPS) equal the
    groups of the CRDs each chart renders; declared uses cover every custom resource its templates
    create (more may be declared: gpu-operator's controller creates the DCGM ServiceMonitor at run time)."""
    checked = set()
    for build in example_builds.values():
        model = build.model
        outputs = _chart_outputs(build)
        learned = learn_from_charts(model.engine, model.kubernetes_version, outputs, shared_charts)
        for name, output in outputs:
            for chart in output.charts:
                facts = learned.facts[(name, chart.release)]
                assert chart.crd_groups == facts.crd_groups, chart.chart
                assert chart.uses_crd_groups >= facts.uses_groups, chart.chart
                if chart.chart in CHART_CRD_GROUPS:
                    assert CHART_CRD_GROUPS[chart.chart] == facts.crd_groups, chart.chart
                checked.add(chart.chart)
    assert {
        "gpu-operator",
        "dra-driver-nvidia-gpu",
        "kueue",
        "kserve-crd",
        "kube-prometheus-stack",
        "volcano",
    } <= checked


def test_render_tells_webhooks_device_classes_and_serving_runtimes(
    example_rendered: dict[str, Rendered],
) -> None:
    """dra-driver-nvidia-gpu 0.4.1 templates/deviceclass-*.yaml; kserve-runtime-configs v0.20.0
    templates/ (one ClusterServingRuntime per runtime); kueue 0.19.2 templates/webhook/."""
    prod = example_rendered["prod-us-east"]
    dra = chart_facts(prod["dra"], "1.34")
    assert {"gpu.nvidia.com", "mig.nvidia.com"} <= dra.device_classes
    runtimes = chart_facts(prod["runtimes"], "1.34")
    assert {"kserve-huggingfaceserver", "kserve-sklearnserver"} <= runtimes.serving_runtimes
    assert chart_facts(prod["kserve"], "1.34").uses_groups == {"serving.kserve.io", "cert-manager.io"}
    kueue = chart_facts(prod["kueue"], "1.34")
    assert {kind for kind, _ in kueue.webhooks} == {
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    }
    assert ("kueue.x-k8s.io", "ClusterQueue", "clusterqueues.kueue.x-k8s.io") in kueue.crds


def test_two_units_installing_the_compute_domain_crds_is_an_error(shared_charts: Path) -> None:
    """gpu-operator v26.7.0 crds/resource.nvidia.com_computedomains.yaml and dra-driver-nvidia-gpu
    0.4.1 crds/resource.nvidia.com_computedomains.yaml: both charts ship the ComputeDomain and
    ComputeDomainClique CRDs, whatever their values, so a DRA cluster with both gets them twice."""
    gpu = HelmChart(
        "https://helm.ngc.nvidia.com/nvidia", "gpu-operator", "v26.7.0", "gpu-operator", "gpu-operator"
    )
    dra = HelmChart(
        "oci://registry.k8s.io/dra-driver-nvidia/charts",
        "dra-driver-nvidia-gpu",
        "0.4.1",
        "dra-driver-nvidia-gpu",
        "nvidia-dra-driver-gpu",
        {"gpuResourcesEnabledOverride": True},
    )
    outputs = [
        ("gpu-operator", ComponentOutput(charts=(gpu,))),
        ("dra", ComponentOutput(charts=(dra,), after=("gpu-operator",))),
    ]
    learned = learn_from_charts("argocd", "1.34", outputs, shared_charts)
    units = order_units(learned.outputs)
    apps = [argocd.application(_cluster_stub(), u) for u in units]
    objects = ObjectSet()
    for app in apps:
        objects.add("c1", "1.34", f"c1/apps/application-{app['metadata']['name']}.yaml", app)
    messages = [f.message for f in check_ordering(objects)]
    duplicates = sorted(m for m in messages if "CustomResourceDefinition" in m)
    assert duplicates == [
        f"CustomResourceDefinition {crd}.resource.nvidia.com is installed by Application c1-gpu-operator "
        "(chart gpu-operator) and by Application c1-dra (chart dra-driver-nvidia-gpu) (expected one unit "
        "to own each CRD: leave it out of one of the charts, e.g. with skipCrds)"
        for crd in ("computedomaincliques", "computedomains")
    ]


def _cluster_stub() -> Any:
    from types import SimpleNamespace

    gitops = SimpleNamespace(
        repoURL="https://git.example/p.git", revision="main", path="generated", namespace=None
    )
    return SimpleNamespace(
        name="c1",
        engine="argocd",
        platform=SimpleNamespace(spec=SimpleNamespace(gitops=gitops)),
        cluster=SimpleNamespace(
            spec=SimpleNamespace(gitops=SimpleNamespace(destination="https://c1.example"))
        ),
    )


def test_release_render_is_cached_by_digest(shared_charts: Path) -> None:
    release = Release(
        "kueue", "oci://registry.k8s.io/kueue/charts", "kueue", "0.19.2", "kueue", "kueue-system"
    )
    first = render_releases([release], "1.34", shared_charts)
    again = render_releases([release, release], "1.34", shared_charts)
    assert again[0].objects == again[1].objects == first[0].objects


def test_the_example_compiles_with_every_chart_rendered(tmp_path: Path, shared_charts: Path) -> None:
    """With the charts rendered, ordering runs on render-derived CRD ownership: each CRD has one
    owner (the DRA release skips the ComputeDomain CRDs gpu-operator installs) and every custom
    resource syncs after it."""
    from tests.compile.helpers import compile_cli
    from tests.conftest import EXAMPLE_OVERLAYS, EXAMPLE_SPEC

    result = compile_cli(
        "--spec",
        str(EXAMPLE_SPEC),
        "--overlays",
        str(EXAMPLE_OVERLAYS),
        "--out",
        str(tmp_path / "out"),
        "--charts",
        str(shared_charts),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "charts rendered from" in result.stdout
    app = (
        tmp_path / "out" / "prod-us-east" / "apps" / "application-prod-us-east-gpu-operator.yaml"
    ).read_text()
    assert "computedomains.resource.nvidia.com" in app  # platformc.dev/crds
