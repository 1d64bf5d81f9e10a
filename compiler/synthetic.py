"""A synthetic platform spec of any size, valid by construction (for tests and bench/).

`synthetic_texts(clusters, teams, serving_paths)` gives the spec as YAML texts by file name (for
compiler.synth, nothing written); `write_synthetic_spec(dir, ...)` writes them into `dir`:
clusters alternate argocd / flux; two of every three allocate GPUs with dra (Kubernetes 1.34)
and carry exclusive + MIG flavors, the others use the device plugin (1.33) with time-sliced,
MIG and exclusive flavors. Every team joins up to three clusters with quotas that share each
flavor's capacity evenly (so they always fit), and serving paths go to a team's first cluster.
Deterministic: the same arguments give the same files.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

API = "platformc.dev/v1alpha1"
GPUS_PER_NODE = 8
HEADROOM_NODES = 1  # per pool, beyond the teams' shares: room for quota_bonus
FLAVORS: dict[str, dict[str, Any]] = {
    "h100": {
        "product": "NVIDIA-H100-80GB-HBM3",
        "memory": "80Gi",
        "hourlyCost": 4.1,
        "sharing": {"mode": "exclusive"},
    },
    "h200-mig-3g71gb": {
        "product": "NVIDIA-H200",
        "memory": "71Gi",
        "hourlyCost": 2.2,
        "sharing": {"mode": "mig", "migProfile": "3g.71gb"},
    },
    "a100-mig-1g10gb": {
        "product": "NVIDIA-A100-SXM4-80GB",
        "memory": "10Gi",
        "hourlyCost": 0.45,
        "sharing": {"mode": "mig", "migProfile": "1g.10gb"},
    },
    "a100": {
        "product": "NVIDIA-A100-SXM4-80GB",
        "memory": "80Gi",
        "hourlyCost": 2.5,
        "sharing": {"mode": "exclusive"},
    },
    "l40s-shared": {
        "product": "NVIDIA-L40S",
        "memory": "48Gi",
        "hourlyCost": 0.35,
        "sharing": {"mode": "time-slicing", "replicas": 4},
    },
}
UNITS_PER_GPU = {"h100": 1, "h200-mig-3g71gb": 2, "a100-mig-1g10gb": 7, "a100": 1, "l40s-shared": 4}
# The exclusive A100 and the A100 MIG flavor share a product: a node label keeps their pools apart.
POOL_LABELS = {"a100": {"platformc.dev/pool": "a100"}, "a100-mig-1g10gb": {"platformc.dev/pool": "a100-mig"}}


# Every autoscaling signal, in turn (cpu through KServe's HPA, the others through KEDA).
SYNTHETIC_SCALING: list[dict[str, Any]] = [
    {"metric": "cpu", "target": 75},
    {"metric": "concurrency", "target": 8},
    {"metric": "requestRate", "target": 20},
    {"metric": "prometheus", "target": 4, "query": "sum(vllm:num_requests_waiting)"},
]


def _doc(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API, "kind": kind, "metadata": {"name": name}, "spec": spec}


def _is_dra(index: int) -> bool:
    return index % 3 != 2


def _cluster_flavors(index: int) -> list[str]:
    if _is_dra(index):
        return ["h100", "a100-mig-1g10gb"] if index % 2 == 0 else ["h100", "h200-mig-3g71gb"]
    return ["l40s-shared", "a100-mig-1g10gb", "a100"]


def synthetic_texts(
    clusters: int,
    teams: int,
    serving_paths: int,
    *,
    clusters_per_team: int | None = 3,
    quota_bonus: Mapping[str, int] | None = None,
) -> dict[str, str]:
    """A valid spec with the given numbers of clusters, teams and serving paths, one text per kind.

    clusters_per_team=None puts every team on every cluster. quota_bonus adds GPUs to a team's
    quota on each of its clusters and flavors (up to HEADROOM_NODES × 8 units): two specs that
    differ only there differ by one quota line per cluster, as a review of a quota change would.
    """
    bonus = quota_bonus or {}
    cluster_names = [f"cluster-{i:03d}" for i in range(clusters)]
    team_names = [f"team-{j:03d}" for j in range(teams)]
    per_team = clusters if clusters_per_team is None else min(clusters_per_team, clusters)
    membership = {
        t: [cluster_names[(j + k) % clusters] for k in range(per_team)] for j, t in enumerate(team_names)
    }
    members_of = {c: [t for t in team_names if c in membership[t]] for c in cluster_names}

    docs: list[dict[str, Any]] = [
        _doc(
            "Platform",
            "synthetic",
            {
                "gitops": {"engine": "argocd", "repoURL": "https://git.example.com/platform.git"},
                "kubernetesVersion": "1.34",
                "modelStores": [
                    {
                        "name": "models",
                        "uriPrefix": "s3://models/",
                        "endpoint": {"host": "s3.example.com", "port": 443, "cidr": "10.20.0.0/16"},
                        "region": "eu-west-1",
                        "credentialsSecret": "models-s3",
                        "teams": team_names,
                    }
                ],
            },
        )
    ]
    docs += [_doc("GPUFlavor", name, spec) for name, spec in FLAVORS.items()]

    capacity: dict[tuple[str, str], int] = {}
    for i, name in enumerate(cluster_names):
        nodes = max(2, -(-len(members_of[name]) // GPUS_PER_NODE)) + HEADROOM_NODES
        pools = []
        for flavor in _cluster_flavors(i):
            pool: dict[str, Any] = {"name": f"{flavor}-pool", "flavor": flavor, "nodes": nodes}
            pool["gpusPerNode"] = GPUS_PER_NODE
            if flavor in POOL_LABELS:
                pool["labels"] = POOL_LABELS[flavor]
            pools.append(pool)
            capacity[(name, flavor)] = nodes * GPUS_PER_NODE * UNITS_PER_GPU[flavor]
        spec: dict[str, Any] = {
            "environment": "prod" if i % 2 == 0 else "staging",
            "kubernetesVersion": "1.34" if _is_dra(i) else "1.33",
            "gitops": {"engine": "argocd", "destination": f"https://{name}.k8s.example.com"}
            if i % 2 == 0
            else {"engine": "flux"},
            "gpuAllocation": "dra" if _is_dra(i) else "device-plugin",
            "cohort": f"{name}-pool",
            "nodePools": pools,
            "ingress": {"domain": f"{name}.example.com"},
        }
        docs.append(_doc("Cluster", name, spec))

    for j, team in enumerate(team_names):
        entries = []
        for cluster in membership[team]:
            index = cluster_names.index(cluster)
            gpus = []
            for flavor in _cluster_flavors(index):
                shared = capacity[(cluster, flavor)] - HEADROOM_NODES * GPUS_PER_NODE * UNITS_PER_GPU[flavor]
                share = shared // len(members_of[cluster])
                quota: dict[str, Any] = {"flavor": flavor, "quota": share + bonus.get(team, 0)}
                if j % 2 == 0:
                    quota["borrowingLimit"] = share
                else:
                    quota["lendingLimit"] = share // 2
                gpus.append(quota)
            entries.append({"cluster": cluster, "cpu": "512", "memory": "4Ti", "gpus": gpus})
        spec = {
            "costCenter": f"CC-{1000 + j}",
            "owners": [f"{team}-admins"],
            "members": [f"{team}-devs"],
            "priority": ("low", "normal", "high")[j % 3],
            "allowIngressFrom": [team_names[(j + 1) % teams]] if teams > 1 else [],
            "clusters": entries,
        }
        docs.append(_doc("Team", team, spec))

    for k in range(serving_paths):
        j = k % teams
        team = team_names[j]
        cluster = membership[team][0]
        flavor = _cluster_flavors(cluster_names.index(cluster))[k % 2]
        spec = {
            "team": team,
            "clusters": [cluster],
            "model": {
                "format": "huggingface",
                "storageUri": f"s3://models/model-{k:04d}",
                "runtime": "kserve-huggingfaceserver",
            },
            "gpu": {"flavor": flavor, "count": 1},
            "resources": {"cpu": "2", "memory": "16Gi", "sharedMemory": "2Gi"},
            "replicas": {"min": 1 + k % 2, "max": 4},
            "autoscaling": SYNTHETIC_SCALING[k % len(SYNTHETIC_SCALING)],
            "allowFrom": [t for t in membership if cluster in membership[t] and t != team][:2],
            "slo": {"p95LatencyMs": 500, "maxErrorRatio": 0.01},
        }
        if k % 3 == 0:
            spec["canary"] = {"storageUri": f"s3://models/model-{k:04d}-v2", "trafficPercent": 10}
        docs.append(_doc("ServingPath", f"serve-{k:04d}", spec))

    texts: dict[str, str] = {}
    for kind in ("Platform", "GPUFlavor", "Cluster", "Team", "ServingPath"):
        chosen = [d for d in docs if d["kind"] == kind]
        if chosen:  # an empty spec file is an error
            texts[f"{kind.lower()}.yaml"] = yaml.safe_dump_all(
                chosen, sort_keys=False, default_flow_style=False
            )
    return texts


def write_synthetic_spec(
    directory: Path | str,
    clusters: int,
    teams: int,
    serving_paths: int,
    *,
    clusters_per_team: int | None = 3,
    quota_bonus: Mapping[str, int] | None = None,
) -> Path:
    """synthetic_texts written into `directory` (created if needed); returns it."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    texts = synthetic_texts(
        clusters, teams, serving_paths, clusters_per_team=clusters_per_team, quota_bonus=quota_bonus
    )
    for name, text in texts.items():
        (out / name).write_text(text)
    return out


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[2:5]] if len(sys.argv) >= 5 else [3, 6, 6]
    print(write_synthetic_spec(sys.argv[1] if len(sys.argv) > 1 else "synthetic-spec", *args))
