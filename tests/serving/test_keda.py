"""Autoscaling: KServe's HPA for CPU, KEDA for concurrency, request rate and Prometheus queries.

KServe v0.20.0: reconcilers/hpa/hpa_reconciler.go getHPAMetrics builds Resource metrics only
(cpu, memory), so other signals need the KEDA class; reconcilers/autoscaler/autoscaler_reconciler.go
picks the reconciler by the serving.kserve.io/autoscalerClass annotation;
reconcilers/keda/keda_reconciler.go createKedaScaledObject/getKedaMetrics turns
predictor.autoScaling External metrics into a keda.sh/v1alpha1 ScaledObject named after the
predictor Deployment (trigger type = backend, metadata serverAddress/query/threshold,
minReplicaCount = minReplicas, maxReplicaCount = maxReplicas); inferenceservice/controller.go only
watches ScaledObjects if their CRD exists when the controller starts. KEDA v2.20.2: the keda chart
(../shared/charts/keda-2.20.2.tgz) and its CRD schema (../shared/schemas/crds/keda.sh).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compiler.charts.render import RenderRequest, chart_archive, render
from compiler.components import keda
from compiler.pipeline import ClusterBuild
from compiler.verify.pod_security import evaluate
from tests.ai.conftest import objects
from tests.conftest import schema_errors

AUTOSCALER_CLASS = "serving.kserve.io/autoscalerClass"


def kserve_scaled_object(isvc: dict[str, Any]) -> dict[str, Any]:
    """The ScaledObject KServe v0.20's keda_reconciler.go creates for the stable predictor."""
    predictor = isvc["spec"]["predictor"]
    name = f"{isvc['metadata']['name']}-predictor"
    triggers = []
    for metric in predictor["autoScaling"]["metrics"]:
        assert metric["type"] == "External"
        external = metric["external"]
        triggers.append(
            {
                "type": external["metric"]["backend"],
                "metadata": {
                    "serverAddress": external["metric"]["serverAddress"],
                    "query": external["metric"]["query"],
                    "threshold": external["target"]["value"],
                },
            }
        )
    minimum = predictor.get("minReplicas", 1)
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": name, "namespace": isvc["metadata"]["namespace"]},
        "spec": {
            "scaleTargetRef": {"name": name},
            "triggers": triggers,
            "minReplicaCount": minimum,
            "maxReplicaCount": max(predictor.get("maxReplicas", 0), minimum),
        },
    }


def keda_isvcs(build: ClusterBuild) -> list[dict[str, Any]]:
    return [
        o
        for o in objects(build, "InferenceService")
        if o["metadata"]["annotations"][AUTOSCALER_CLASS] == "keda"
    ]


def test_keda_is_installed_only_where_a_serving_path_needs_it(
    example_builds: dict[str, ClusterBuild], synthetic_builds
) -> None:
    for build in [*example_builds.values(), *synthetic_builds.values()]:
        units = {u.name: u for u in build.units}
        if keda_isvcs(build):
            assert "keda" in units
            (chart,) = units["keda"].charts
            assert (chart.chart, chart.version) == ("keda", "2.20.2")
            # KEDA (and its CRDs) before the KServe controller, and so before serving.
            assert "keda" in units["kserve"].depends_on
            assert units["keda"].wave < units["kserve"].wave < units["serving"].wave
        else:
            assert "keda" not in units
            assert "keda" not in units["kserve"].depends_on
    assert keda_isvcs(example_builds["prod-us-east"]) and not keda_isvcs(example_builds["staging-eu"])


def test_scaled_objects_kserve_creates_validate(
    example_builds: dict[str, ClusterBuild], synthetic_builds
) -> None:
    checked = {}
    for build in [*example_builds.values(), *synthetic_builds.values()]:
        for isvc in keda_isvcs(build):
            scaled = kserve_scaled_object(isvc)
            assert schema_errors(scaled, build.model.kubernetes_version) == []
            checked[isvc["metadata"]["name"]] = scaled
    # Scale to zero through KEDA: the example's summarizer.
    summarizer = checked["summarizer"]["spec"]
    assert summarizer["minReplicaCount"] == 0 and summarizer["maxReplicaCount"] == 3
    (trigger,) = summarizer["triggers"]
    assert trigger["type"] == "prometheus" and trigger["metadata"]["threshold"] == "5"
    assert 'destination_service_name="summarizer-predictor"' in trigger["metadata"]["query"]
    assert (
        trigger["metadata"]["serverAddress"] == "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
    )
    chat = checked["chat-llm"]["spec"]["triggers"][0]["metadata"]
    assert chat["threshold"] == "16" and "vllm:num_requests_running" in chat["query"]


def test_cpu_paths_use_kserves_hpa(example_builds: dict[str, ClusterBuild]) -> None:
    (isvc,) = objects(example_builds["staging-eu"], "InferenceService")
    assert isvc["metadata"]["annotations"][AUTOSCALER_CLASS] == "hpa"
    assert isvc["spec"]["predictor"]["autoScaling"] == {
        "metrics": [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
            }
        ]
    }


def test_keda_chart_renders_and_its_pods_pass_the_namespace_level(
    example_builds: dict[str, ClusterBuild], shared_charts: Path
) -> None:
    build = example_builds["prod-us-east"]
    output = keda.COMPONENT.build(build.model)
    (chart,) = output.charts
    rendered = render(
        RenderRequest(
            chart_archive(shared_charts, chart.chart, chart.version),
            chart.release,
            chart.namespace,
            dict(chart.values),
            build.model.kubernetes_version,
        )
    )
    crds = {
        o["spec"]["names"]["kind"]: o["spec"]["group"]
        for o in rendered
        if o["kind"] == "CustomResourceDefinition"
    }
    assert crds["ScaledObject"] == "keda.sh" and set(crds.values()) <= chart.crd_groups
    deployments = [o for o in rendered if o["kind"] == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} >= {
        "keda-operator",
        "keda-operator-metrics-apiserver",
    }
    (namespace,) = output.objects
    level = namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
    for deployment in deployments:
        template = deployment["spec"]["template"]
        assert evaluate(template["metadata"], template["spec"], level) == [], deployment["metadata"]["name"]
