"""Fixtures for the AI stack tests: the example platform, small hand-made specs, builds."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.cluster_model import cluster_models
from compiler.pipeline import ClusterBuild, build_cluster
from compiler.spec.build import load_platform

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SPEC = ROOT / "platform-spec"
API = "platformc.dev/v1alpha1"


def build_all(spec_dir: Path) -> dict[str, ClusterBuild]:
    return {c.name: build_cluster(c) for c in cluster_models(load_platform(spec_dir))}


def objects(build: ClusterBuild, kind: str | None = None) -> list[dict[str, Any]]:
    return [o for _, o in build.placed if kind is None or o["kind"] == kind]


@pytest.fixture(scope="session")
def example_builds() -> dict[str, ClusterBuild]:
    return build_all(EXAMPLE_SPEC)


def _doc(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API, "kind": kind, "metadata": {"name": name}, "spec": spec}


def mini_docs(allocation: str = "dra", *, quota: int = 16, borrowing: int | None = 8) -> list[dict[str, Any]]:
    """One cluster, flavors h100 (32 GPUs), a100-mig-1g10gb (2 nodes x 8 x 7) and, on
    device-plugin clusters, l40s-shared (time-slicing 4); one team, one serving path."""
    flavors = {
        "h100": {"product": "NVIDIA-H100-80GB-HBM3", "memory": "80Gi", "hourlyCost": 4.1},
        "a100-mig-1g10gb": {
            "product": "NVIDIA-A100-SXM4-80GB",
            "memory": "10Gi",
            "hourlyCost": 0.45,
            "sharing": {"mode": "mig", "migProfile": "1g.10gb"},
        },
        "l40s-shared": {
            "product": "NVIDIA-L40S",
            "memory": "48Gi",
            "hourlyCost": 0.35,
            "sharing": {"mode": "time-slicing", "replicas": 6},
        },
    }
    pools = [
        {"name": "h100-pool", "flavor": "h100", "nodes": 4, "gpusPerNode": 8},
        {
            "name": "mig-pool",
            "flavor": "a100-mig-1g10gb",
            "nodes": 2,
            "gpusPerNode": 8,
            "taints": [{"key": "dedicated", "value": "mig", "effect": "NoSchedule"}],
        },
    ]
    h100: dict[str, Any] = {"flavor": "h100", "quota": quota}
    if borrowing is not None:
        h100["borrowingLimit"] = borrowing
    gpus = [h100, {"flavor": "a100-mig-1g10gb", "quota": 56, "lendingLimit": 7}]
    if allocation == "device-plugin":
        pools.append({"name": "l40s-pool", "flavor": "l40s-shared", "nodes": 1, "gpusPerNode": 4})
        gpus.append({"flavor": "l40s-shared", "quota": 24})
    cluster = {
        "environment": "prod",
        "kubernetesVersion": "1.34" if allocation == "dra" else "1.33",
        "gitops": {"engine": "flux"},
        "gpuAllocation": allocation,
        "cohort": "pool-a",
        "nodePools": pools,
        "ingress": {"domain": "c1.example.com"},
    }
    return [
        _doc(
            "Platform",
            "p",
            {
                "gitops": {"engine": "flux", "repoURL": "https://git.example.com/p.git"},
                "modelStores": [
                    {
                        "name": "m",
                        "uriPrefix": "s3://m/",
                        "endpoint": {"host": "minio.store.example.com", "port": 9000, "cidr": "10.9.0.0/24"},
                        "teams": ["research", "web"],
                    }
                ],
            },
        ),
        *(_doc("GPUFlavor", n, s) for n, s in flavors.items()),
        _doc("Cluster", "c1", cluster),
        _doc(
            "Team",
            "research",
            {
                "costCenter": "CC-1",
                "owners": ["research-admins"],
                "priority": "high",
                "clusters": [{"cluster": "c1", "cpu": "64", "memory": "256Gi", "gpus": gpus}],
            },
        ),
        _doc(
            "Team",
            "web",
            {
                "costCenter": "CC-2",
                "owners": ["web-admins"],
                "clusters": [{"cluster": "c1", "cpu": "8", "memory": "32Gi"}],
            },
        ),
        _doc(
            "ServingPath",
            "chat",
            {
                "team": "research",
                "clusters": ["c1"],
                "model": {
                    "format": "huggingface",
                    "storageUri": "s3://m/chat",
                    "runtime": "kserve-huggingfaceserver",
                },
                "gpu": {"flavor": "h100", "count": 2},
                "resources": {"cpu": "8", "memory": "32Gi", "sharedMemory": "8Gi"},
                "replicas": {"min": 1, "max": 3},
                "canary": {"storageUri": "s3://m/chat-v2", "trafficPercent": 20},
                "allowFrom": ["web"],
            },
        ),
    ]


WriteSpec = Callable[[list[dict[str, Any]]], Path]


@pytest.fixture
def write_spec(tmp_path: Path) -> WriteSpec:
    def write(docs: list[dict[str, Any]]) -> Path:
        spec = tmp_path / "spec"
        if spec.exists():
            shutil.rmtree(spec)
        spec.mkdir()
        for i, doc in enumerate(docs):
            (spec / f"{i:02d}-{doc['kind'].lower()}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        return spec

    return write
