"""A small platform as Python objects, with the knobs component tests turn (`cluster(**overrides)`).

Everything is compiled in memory through compiler.synth: no spec folder, no output folder.
"""

from __future__ import annotations

from typing import Any

import yaml

from compiler.cluster_model import ClusterModel, cluster_models
from compiler.synth import load

API = "platformc.dev/v1alpha1"


def documents(
    *,
    cluster_name: str = "c1",
    team_name: str = "research",
    engine: str = "argocd",
    allocation: str = "device-plugin",
    kubernetes_version: str = "1.34",
    sharing: dict[str, Any] | None = None,
    nodes: int = 2,
    gpus_per_node: int = 8,
    quota: int = 8,
    borrowing: int | None = None,
    lending: int | None = None,
    serving_count: int | None = None,
    dashboards: str = "configmap",
    team: dict[str, Any] | None = None,
    serving: dict[str, Any] | None = None,
    more_teams: dict[str, dict[str, Any]] | None = None,
    policies: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One cluster with one GPU flavor `gpu` (nodes × gpus_per_node GPUs, `sharing` as in the
    GPUFlavor spec), one team with `quota` of it, and optionally a serving path whose replicas
    need `serving_count` GPUs (`serving` adds ServingPath spec fields). `team` adds Team spec
    fields to that team; `more_teams` adds CPU-only teams (name → extra Team spec fields);
    `policies` is the Platform's spec.policies."""

    def doc(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        return {"apiVersion": API, "kind": kind, "metadata": {"name": name}, "spec": spec}

    gpu: dict[str, Any] = {"flavor": "gpu", "quota": quota}
    if borrowing is not None:
        gpu["borrowingLimit"] = borrowing
    if lending is not None:
        gpu["lendingLimit"] = lending
    flavor: dict[str, Any] = {"product": "NVIDIA-A100-SXM4-80GB", "memory": "80Gi", "hourlyCost": 2.5}
    if sharing is not None:
        flavor["sharing"] = sharing
    docs = [
        doc(
            "Platform",
            "test",
            {
                "gitops": {"engine": engine, "repoURL": "https://git.example.com/platform.git"},
                "kubernetesVersion": kubernetes_version,
                "dashboards": dashboards,
                "modelStores": [
                    {
                        "name": "hub",
                        "uriPrefix": "hf://acme/",
                        "endpoint": {"host": "hf-mirror.example.com", "port": 443, "cidr": "10.30.0.0/16"},
                        "teams": [team_name],
                    }
                ],
                **({"policies": policies} if policies is not None else {}),
            },
        ),
        doc("GPUFlavor", "gpu", flavor),
        doc(
            "Cluster",
            cluster_name,
            {
                "environment": "test",
                "cohort": "pool",
                "gpuAllocation": allocation,
                "gitops": {"destination": "https://kubernetes.default.svc"} if engine == "argocd" else {},
                "ingress": {"domain": "apps.example.com"},
                "nodePools": [{"name": "gpu", "flavor": "gpu", "nodes": nodes, "gpusPerNode": gpus_per_node}],
            },
        ),
        doc(
            "Team",
            team_name,
            {
                "costCenter": "CC-1",
                "owners": ["team-owners"],
                "clusters": [{"cluster": cluster_name, "cpu": "64", "memory": "256Gi", "gpus": [gpu]}],
                **(team or {}),
            },
        ),
    ]
    for name, extra in (more_teams or {}).items():
        spec = {"costCenter": "CC-2", "owners": [f"{name}-owners"], **extra}
        spec["clusters"] = [{"cluster": cluster_name, "cpu": "8", "memory": "32Gi"}]
        docs.append(doc("Team", name, spec))
    if serving_count is not None:
        docs.append(
            doc(
                "ServingPath",
                "chat",
                {
                    "team": team_name,
                    "clusters": [cluster_name],
                    "model": {"format": "huggingface", "storageUri": "hf://acme/chat"},
                    "gpu": {"flavor": "gpu", "count": serving_count},
                    "resources": {"cpu": "1", "memory": "8Gi", "sharedMemory": "1Gi"},
                    **(serving or {}),
                },
            )
        )
    return docs


def spec_texts(**overrides: Any) -> dict[str, str]:
    """The same platform as YAML texts, one per document."""
    return {f"{d['kind'].lower()}.yaml": yaml.safe_dump(d, sort_keys=False) for d in documents(**overrides)}


SPEC_TEXTS = spec_texts()


def cluster(**overrides: Any) -> ClusterModel:
    """The one cluster's model, checked like `platformc compile` checks a spec."""
    (model,) = cluster_models(load(documents(**overrides)))
    return model
