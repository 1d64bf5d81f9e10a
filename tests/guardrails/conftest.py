"""A small platform with every guardrail on, and admission through its generated policies."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.cel import AdmissionRequest, Decision, admit
from compiler.cluster_model import ClusterModel, cluster_models
from compiler.components import guardrails, tenancy
from compiler.spec.build import load_platform

API = "platformc.dev/v1alpha1"

POLICIES = {
    "trustedRegistries": {"mode": "deny", "registries": ["nvcr.io/nvidia/", "registry.acme.internal"]},
    "requiredLabels": {"mode": "deny", "labels": ["owner"], "serving": ["model-version"]},
    "gpuAccess": {"mode": "deny"},
    "gpuLimits": {"mode": "deny"},
    "largestGpuRequest": {"mode": "warn", "fractionOfQuota": 0.5},
    "priorityClasses": {"mode": "deny", "allowed": ["batch-preemptible"]},
    "hostAccess": {"mode": "deny"},
    "servingRollback": {"mode": "warn"},
}


def _doc(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API, "kind": kind, "metadata": {"name": name}, "spec": spec}


def guardrail_docs(team_policies: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Clusters gpu-dp (device plugin, 1.33) and gpu-dra (DRA, 1.34); teams research (priority
    high, 16 H100 on each cluster) and web (normal, 4 H100)."""
    platform = {
        "gitops": {"engine": "argocd", "repoURL": "https://git.example/platform.git"},
        "policies": copy.deepcopy(POLICIES),
    }
    flavor = {"product": "NVIDIA-H100-80GB-HBM3", "memory": "80Gi", "hourlyCost": 4.0}
    pools = [{"name": "h100", "flavor": "h100", "nodes": 4, "gpusPerNode": 8}]

    def cluster(allocation: str, version: str) -> dict[str, Any]:
        return {
            "environment": "prod",
            "kubernetesVersion": version,
            "gpuAllocation": allocation,
            "gitops": {"destination": "https://kubernetes.default.svc"},
            "cohort": "pool",
            "nodePools": pools,
        }

    def team(priority: str, quota: int) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "costCenter": "CC-1",
            "owners": ["admins"],
            "priority": priority,
            "clusters": [
                {"cluster": c, "cpu": "64", "memory": "256Gi", "gpus": [{"flavor": "h100", "quota": quota}]}
                for c in ("gpu-dp", "gpu-dra")
            ],
        }
        return spec

    web = team("normal", 4)
    if team_policies:
        web["policies"] = team_policies
    return [
        _doc("Platform", "acme", platform),
        _doc("GPUFlavor", "h100", flavor),
        _doc("Cluster", "gpu-dp", cluster("device-plugin", "1.33")),
        _doc("Cluster", "gpu-dra", cluster("dra", "1.34")),
        _doc("Team", "research", team("high", 16)),
        _doc("Team", "web", web),
    ]


def clusters_of(tmp: Path, docs: list[dict[str, Any]]) -> dict[str, ClusterModel]:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "platform.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return {c.name: c for c in cluster_models(load_platform(tmp))}


@pytest.fixture(scope="session")
def guardrail_clusters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ClusterModel]:
    return clusters_of(tmp_path_factory.mktemp("guardrails"), guardrail_docs())


class Admission:
    """The API server's view of one cluster: generated policies, bindings, params, namespaces."""

    def __init__(self, cluster: ClusterModel) -> None:
        built = [*guardrails.build_params(cluster).objects, *guardrails.build(cluster).objects]
        self.policies = [o for o in built if o["kind"] == "ValidatingAdmissionPolicy"]
        self.bindings = [o for o in built if o["kind"] == "ValidatingAdmissionPolicyBinding"]
        self.params = [o for o in built if o["kind"] == "ConfigMap"]
        self.namespaces = {
            o["metadata"]["name"]: o for o in tenancy.build(cluster).objects if o["kind"] == "Namespace"
        }

    def __call__(
        self, obj: dict[str, Any], operation: str = "CREATE", namespace: str | None = None
    ) -> Decision:
        ns = namespace or obj["metadata"]["namespace"]
        namespace_object = self.namespaces.get(
            ns, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
        )
        request = AdmissionRequest(operation, obj, namespace_object=namespace_object)
        return admit(self.policies, self.bindings, request, self.params)


@pytest.fixture(scope="session")
def admission(guardrail_clusters: dict[str, ClusterModel]) -> dict[str, Admission]:
    return {name: Admission(cluster) for name, cluster in guardrail_clusters.items()}
