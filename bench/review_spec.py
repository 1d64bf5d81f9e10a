"""A synthetic platform spec of any size, for the diff benchmark and the review tests."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

API = "platformc.dev/v1alpha1"
TEAM_QUOTA = 4


def _doc(kind: str, name: str, spec: dict) -> dict:
    return {"apiVersion": API, "kind": kind, "metadata": {"name": name}, "spec": spec}


def cluster_name(i: int) -> str:
    return f"cluster-{i:02d}"


def team_name(i: int) -> str:
    return f"team-{i:03d}"


def write_spec(
    spec_dir: Path, clusters: int, teams: int, serving_paths: int = 0, quotas: Mapping[str, int] | None = None
) -> None:
    """Every team on every cluster with TEAM_QUOTA h100s (or quotas[team]); capacity leaves room to grow."""
    quotas = quotas or {}
    spec_dir.mkdir(parents=True, exist_ok=True)
    platform = _doc(
        "Platform", "synthetic", {"gitops": {"engine": "argocd", "repoURL": "https://git.example/p.git"}}
    )
    flavor = _doc(
        "GPUFlavor",
        "h100",
        {
            "product": "NVIDIA-H100-80GB-HBM3",
            "memory": "80Gi",
            "hourlyCost": 4.1,
            "sharing": {"mode": "exclusive"},
        },
    )
    nodes = max(1, (teams * TEAM_QUOTA * 2) // 8)
    docs = [platform, flavor]
    for c in range(clusters):
        docs.append(
            _doc(
                "Cluster",
                cluster_name(c),
                {
                    "environment": "prod" if c % 2 else "staging",
                    "gitops": {"engine": "argocd", "destination": f"https://{cluster_name(c)}.example"},
                    "cohort": "pool",
                    "nodePools": [{"name": "h100-pool", "flavor": "h100", "nodes": nodes, "gpusPerNode": 8}],
                    "ingress": {"domain": f"{cluster_name(c)}.example"},
                },
            )
        )
    (spec_dir / "platform.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    team_docs = []
    for t in range(teams):
        name = team_name(t)
        entries = [
            {
                "cluster": cluster_name(c),
                "cpu": "16",
                "memory": "64Gi",
                "gpus": [{"flavor": "h100", "quota": quotas.get(name, TEAM_QUOTA), "borrowingLimit": 2}],
            }
            for c in range(clusters)
        ]
        team_docs.append(
            _doc(
                "Team", name, {"costCenter": f"CC-{t:04d}", "owners": [f"{name}-admins"], "clusters": entries}
            )
        )
    (spec_dir / "teams.yaml").write_text(yaml.safe_dump_all(team_docs, sort_keys=False))
    paths = [
        _doc(
            "ServingPath",
            f"model-{s:03d}",
            {
                "team": team_name(s % teams),
                "clusters": [cluster_name(c) for c in range(clusters)],
                "model": {"format": "huggingface", "storageUri": f"s3://models/m{s}"},
                "gpu": {"flavor": "h100", "count": 1},
                "replicas": {"min": 1, "max": 2},
            },
        )
        for s in range(serving_paths)
    ]
    if paths:
        (spec_dir / "serving.yaml").write_text(yaml.safe_dump_all(paths, sort_keys=False))
