"""A serving path's model can be downloaded, and only from its store.

KServe v0.20.0: the storage initializer runs as an init container of the predictor pod
(pkg/webhook/admission/pod/storage_initializer_injector.go), so the pod's namespace egress
policies decide whether it reaches the store; it takes credentials from the Secrets listed on the
predictor's ServiceAccount and endpoint settings from the serving.kserve.io/s3-* annotations
(pkg/credentials/service_account_credentials.go, pkg/credentials/s3/utils.go BuildS3EnvVars).
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

from compiler.charts.render import RenderRequest, chart_archive, render
from compiler.components import kserve
from compiler.pipeline import ClusterBuild
from compiler.spec.serving import matching_store
from compiler.verify.network import Endpoint, Policies
from tests.ai.conftest import build_all, mini_docs, objects

ISVC_LABEL = "serving.kserve.io/inferenceservice"


def egress_allowed(
    build: ClusterBuild, namespace: str, labels: dict[str, str], address: str, port: int
) -> bool:
    """The pod's namespace egress policies let it open a TCP connection to an address outside the
    cluster (NetworkPolicy semantics: compiler/verify/network.py)."""
    policies = Policies(objects(build, "NetworkPolicy"), objects(build, "Namespace"))
    pod = Endpoint("pod", namespace, labels, "10.244.1.1")
    outside = Endpoint("store", None, {}, address)
    return policies.allows("Egress", pod, outside, outside, port, "TCP")


def _first_host(cidr: str) -> str:
    return str(next(ipaddress.ip_network(cidr).hosts()))


def _outside(cidr: str) -> str:
    network = ipaddress.ip_network(cidr)
    return str(network.broadcast_address + 1)


def test_example_predictors_reach_exactly_their_store(example_builds: dict[str, ClusterBuild]) -> None:
    checked = 0
    for build in example_builds.values():
        stores = build.model.platform.spec.modelStores
        for isvc in objects(build, "InferenceService"):
            namespace = isvc["metadata"]["namespace"]
            labels = {ISVC_LABEL: isvc["metadata"]["name"]}  # KServe's label on stable and canary pods
            predictors = [isvc["spec"]["predictor"]] + [
                c["predictor"] for c in isvc["spec"].get("canary", [])
            ]
            for predictor in predictors:
                store = matching_store(stores, predictor["model"]["storageUri"], namespace)
                assert store is not None
                host, port = _first_host(store.endpoint.cidr), store.endpoint.port
                assert egress_allowed(build, namespace, labels, host, port)
                assert not egress_allowed(build, namespace, labels, host, port + 1)
                assert not egress_allowed(build, namespace, labels, _outside(store.endpoint.cidr), port)
                assert not egress_allowed(build, namespace, labels, "52.216.0.10", 443)  # public AWS S3
                # The storage initializer authenticates as the store's ServiceAccount.
                account = next(
                    o
                    for o in objects(build, "ServiceAccount")
                    if o["metadata"]["namespace"] == namespace
                    and o["metadata"]["name"] == predictor["serviceAccountName"]
                )
                assert account["secrets"] == [{"name": store.credentialsSecret}]
                assert account["metadata"]["annotations"]["serving.kserve.io/s3-endpoint"] == (
                    f"{store.endpoint.host}:{store.endpoint.port}"
                )
                assert account["metadata"]["annotations"]["serving.kserve.io/s3-region"] == store.region
                checked += 1
    assert checked == 5  # chat-llm + canary, reranker, summarizer, embeddings


def test_a_team_outside_the_store_gets_no_path_to_it(write_spec) -> None:
    docs = mini_docs("dra")
    docs[0]["spec"]["modelStores"][0]["teams"] = ["research"]  # not web
    build = build_all(write_spec(docs))["c1"]
    assert egress_allowed(build, "research", {}, "10.9.0.1", 9000)
    assert not egress_allowed(build, "web", {}, "10.9.0.1", 9000)
    accounts = {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in objects(build, "ServiceAccount")}
    assert ("research", "model-store-m") in accounts and ("web", "model-store-m") not in accounts


def test_secret_values_never_reach_the_output(example_builds: dict[str, ClusterBuild]) -> None:
    """Credentials are named, never copied: no Secret object, no key material in any object."""
    for build in example_builds.values():
        assert not objects(build, "Secret")
        text = repr(objects(build))
        assert "AWS_SECRET_ACCESS_KEY" not in text and "awsSecretAccessKey" not in text


def _credentials_config(build: ClusterBuild, charts: Path) -> dict:
    chart = next(c for c in kserve.COMPONENT.build(build.model).charts if c.chart == "kserve-resources")
    rendered = render(
        RenderRequest(
            chart_archive(charts, chart.chart, chart.version),
            chart.release,
            chart.namespace,
            dict(chart.values),
            build.model.kubernetes_version,
        )
    )
    config = next(
        o for o in rendered if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "inferenceservice-config"
    )
    return json.loads(config["data"]["credentials"])["s3"]


def test_one_s3_endpoint_becomes_kserves_default(
    example_builds: dict[str, ClusterBuild], shared_charts: Path
) -> None:
    """KServe v0.20 BuildS3EnvVars falls back to the inferenceservice-config `credentials.s3`
    (rendered from kserve-resources values storage.s3) when neither the ServiceAccount (workload
    identity) nor the Secret names an endpoint: with one S3 endpoint per cluster it is that one."""
    s3 = _credentials_config(example_builds["prod-us-east"], shared_charts)
    assert s3["s3Endpoint"] == "minio.storage.acme.internal:9000"
    assert (s3["s3UseHttps"], s3["s3VerifySSL"], s3["s3Region"]) == ("1", "1", "us-east-1")


def test_two_s3_endpoints_leave_kserves_default_empty(write_spec, shared_charts: Path) -> None:
    docs = mini_docs("dra")
    stores = docs[0]["spec"]["modelStores"]
    stores.append(
        {
            **stores[0],
            "name": "other",
            "uriPrefix": "s3://other/",
            "endpoint": {**stores[0]["endpoint"], "port": 9001},
        }
    )
    build = build_all(write_spec(docs))["c1"]
    assert _credentials_config(build, shared_charts)["s3Endpoint"] == ""
