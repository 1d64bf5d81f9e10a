"""The canary really gets its share: a Gateway API HTTPRoute splits the host by weight between the
Services KServe v0.20 creates, and nothing else routes that host.

KServe v0.20.0: pkg/constants/constants.go PredictorServiceName (`<isvc>-predictor`, and
`<isvc>-<canary predictor name>-predictor` for a canary, predictor.go reconcileCanaryDeployments);
reconcilers/service/service_reconciler.go (Service port constants.CommonDefaultHttpPort 80 →
container port 8080); reconcilers/ingress/kube_ingress_reconciler.go (no Ingress when the
ingress config says disableIngressCreation). Gateway API v1 HTTPRoute backendRefs[].weight:
each backend gets weight / sum of weights of the requests.
"""

from __future__ import annotations

import json
from pathlib import Path

from compiler.pipeline import ClusterBuild
from compiler.verify.kserve_pods import inference_service_pods
from compiler.verify.network import Endpoint, Policies
from tests.ai.conftest import objects
from tests.conftest import schema_errors
from tests.serving.conftest import kserve_config


def route(build: ClusterBuild, name: str) -> dict:
    return next(o for o in objects(build, "HTTPRoute") if o["metadata"]["name"] == name)


def test_ten_percent_canary_is_a_90_10_split_to_kserves_services(
    example_builds: dict[str, ClusterBuild], shared_charts: Path
) -> None:
    build = example_builds["prod-us-east"]
    httproute = route(build, "chat-llm")
    assert schema_errors(httproute, build.model.kubernetes_version) == []
    assert httproute["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert httproute["spec"]["parentRefs"] == [
        {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "namespace": "istio-ingress",
            "name": "ingress-gateway",
        }
    ]
    assert httproute["spec"]["hostnames"] == ["chat-llm.ai-research.prod.acme.internal"]
    (rule,) = httproute["spec"]["rules"]
    weights = {b["name"]: b["weight"] for b in rule["backendRefs"]}
    assert weights == {"chat-llm-predictor": 90, "chat-llm-canary-predictor": 10}
    assert {b["port"] for b in rule["backendRefs"]} == {80}
    # The backends are exactly the Deployments (and Services) KServe creates for this InferenceService.
    isvc = next(o for o in objects(build, "InferenceService") if o["metadata"]["name"] == "chat-llm")
    pods = inference_service_pods(isvc, kserve_config(build.model, shared_charts))
    assert sorted(p.deployment for p in pods) == sorted(weights)
    assert {p.deployment: p.traffic_percent for p in pods} == weights


def test_without_a_canary_one_backend(example_builds: dict[str, ClusterBuild]) -> None:
    for cluster, name in (("prod-us-east", "summarizer"), ("staging-eu", "embeddings")):
        build = example_builds[cluster]
        httproute = route(build, name)
        assert schema_errors(httproute, build.model.kubernetes_version) == []
        (rule,) = httproute["spec"]["rules"]
        assert rule["backendRefs"] == [{"name": f"{name}-predictor", "port": 80}]


def test_kserve_creates_no_second_route_for_the_host(
    example_builds: dict[str, ClusterBuild], shared_charts: Path
) -> None:
    """The rendered kserve-resources chart's inferenceservice-config says disableIngressCreation."""
    from compiler.charts.render import RenderRequest, chart_archive, render
    from compiler.components import kserve

    for build in example_builds.values():
        chart = next(c for c in kserve.COMPONENT.build(build.model).charts if c.chart == "kserve-resources")
        rendered = render(
            RenderRequest(
                chart_archive(shared_charts, chart.chart, chart.version),
                chart.release,
                chart.namespace,
                dict(chart.values),
                build.model.kubernetes_version,
            )
        )
        config = next(
            o
            for o in rendered
            if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "inferenceservice-config"
        )
        ingress = json.loads(config["data"]["ingress"])
        assert ingress["disableIngressCreation"] is True
        assert ingress["ingressDomain"] == build.model.cluster.spec.ingress.domain
        assert not objects(build, "Ingress")


def test_gateway_reaches_stable_and_canary_pods(
    example_builds: dict[str, ClusterBuild], shared_charts: Path
) -> None:
    """Only the predictor's ingress side (NetworkPolicy semantics: compiler/verify/network.py)."""
    build = example_builds["prod-us-east"]
    policies = Policies(objects(build, "NetworkPolicy"), objects(build, "Namespace"))
    isvc = next(o for o in objects(build, "InferenceService") if o["metadata"]["name"] == "chat-llm")
    pods = inference_service_pods(isvc, kserve_config(build.model, shared_charts))
    assert len(pods) == 2

    def admits(predictor: Endpoint, caller: str) -> bool:
        client = Endpoint("client", caller, {}, "10.244.9.9")
        return policies.allows("Ingress", predictor, client, predictor, 8080, "TCP")

    for pod in pods:
        predictor = Endpoint("predictor", "ai-research", pod.pod["metadata"]["labels"], "10.244.1.1")
        assert admits(predictor, "istio-ingress")
        assert admits(predictor, "app-frontend")  # allowFrom
        assert not admits(predictor, "ml-platform")
