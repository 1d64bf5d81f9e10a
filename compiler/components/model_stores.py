"""Model-store access per team namespace: the ServiceAccount KServe's storage initializer reads its
credentials and endpoint from, and the egress NetworkPolicy to exactly the store's endpoint.

KServe v0.20.0 pkg/credentials/service_account_credentials.go: the storage initializer gets the
Secrets listed in the predictor's ServiceAccount (S3 keys → AWS_* env, GCS key file → volume,
https-host → headers); pkg/credentials/s3/utils.go BuildS3EnvVars turns the
serving.kserve.io/s3-* annotations into S3_ENDPOINT, S3_USE_HTTPS, AWS_DEFAULT_REGION, … (read from
the ServiceAccount for workload identity, from the Secret for key pairs: see README).
"""

from __future__ import annotations

from typing import Any

from compiler.cluster_model import ClusterModel, TeamOnCluster
from compiler.components.base import KubeObject, obj
from compiler.components.network import network_policy
from compiler.naming import model_store_account_name, model_store_policy_name
from compiler.spec.models import ModelStore

S3_ANNOTATION = "serving.kserve.io/s3-{}"  # KServe s3.InferenceServiceS3Secret*Annotation


def s3_annotations(store: ModelStore) -> dict[str, str]:
    endpoint = store.endpoint
    annotations = {
        S3_ANNOTATION.format("endpoint"): f"{endpoint.host}:{endpoint.port}",
        S3_ANNOTATION.format("usehttps"): "1" if endpoint.useHttps else "0",
    }
    if endpoint.useHttps:
        annotations[S3_ANNOTATION.format("verifyssl")] = "1"
    if store.region:
        annotations[S3_ANNOTATION.format("region")] = store.region
    return annotations


def cluster_s3_defaults(cluster: ClusterModel) -> dict[str, str] | None:
    """kserve-resources `storage.s3` when every S3 store the cluster's teams use has one endpoint:
    KServe falls back to it (BuildS3EnvVars: annotation, then Secret key, then this config), so
    key-pair Secrets without serving.kserve.io/s3-* annotations still reach the right endpoint."""
    present = {t.name for t in cluster.teams}
    stores = [
        s
        for s in cluster.platform.spec.modelStores
        if s.uriPrefix.startswith("s3://") and present & set(s.teams)
    ]
    settings = {tuple(sorted(s3_annotations(s).items())) for s in stores}
    if len(settings) != 1:
        return None
    (only,) = settings
    annotations = dict(only)
    return {
        "endpoint": annotations[S3_ANNOTATION.format("endpoint")],
        "useHttps": annotations[S3_ANNOTATION.format("usehttps")],
        "verifySSL": annotations.get(S3_ANNOTATION.format("verifyssl"), "0"),
        "region": annotations.get(S3_ANNOTATION.format("region"), ""),
    }


def service_account(team: TeamOnCluster, store: ModelStore) -> KubeObject:
    annotations = s3_annotations(store) if store.uriPrefix.startswith("s3://") else {}
    body: dict[str, Any] = {"automountServiceAccountToken": False}  # model servers need no API access
    if store.credentialsSecret:
        body["secrets"] = [{"name": store.credentialsSecret}]
    return obj(
        "v1",
        "ServiceAccount",
        model_store_account_name(store.name),
        team.namespace,
        labels=team.labels,
        annotations=annotations,
        **body,
    )


def egress_policy(team: TeamOnCluster, store: ModelStore) -> KubeObject:
    endpoint = store.endpoint
    return network_policy(
        team,
        model_store_policy_name(store.name),
        {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"ipBlock": {"cidr": endpoint.cidr}}],
                    "ports": [{"protocol": "TCP", "port": endpoint.port}],
                }
            ],
        },
    )


def store_objects(cluster: ClusterModel) -> list[KubeObject]:
    objects: list[KubeObject] = []
    for team in cluster.teams:
        for store in sorted(cluster.platform.spec.modelStores, key=lambda s: s.name):
            if team.name in store.teams:
                objects += [service_account(team, store), egress_policy(team, store)]
    return objects
