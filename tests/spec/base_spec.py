"""A small valid spec for error tests. Line numbers in expected messages refer to these texts."""

from __future__ import annotations

from pathlib import Path

PLATFORM = """\
apiVersion: platformc.dev/v1alpha1
kind: Platform
metadata:
  name: test-ai
spec:
  gitops:
    engine: argocd
    repoURL: https://git.example.com/platform.git
  kubernetesVersion: "1.34"
  modelStores:
    - name: models
      uriPrefix: s3://models/
      endpoint: {host: s3.example.com, port: 443, cidr: 10.20.0.0/16}
      credentialsSecret: models-s3
      teams: [research]
"""

FLAVORS = """\
apiVersion: platformc.dev/v1alpha1
kind: GPUFlavor
metadata:
  name: h100
spec:
  product: NVIDIA-H100-80GB-HBM3
  memory: 80Gi
  hourlyCost: 4.10
---
apiVersion: platformc.dev/v1alpha1
kind: GPUFlavor
metadata:
  name: a100-mig
spec:
  product: NVIDIA-A100-SXM4-80GB
  memory: 10Gi
  hourlyCost: 0.5
  sharing: {mode: mig, migProfile: 1g.10gb}
"""

CLUSTER = """\
apiVersion: platformc.dev/v1alpha1
kind: Cluster
metadata:
  name: east
spec:
  environment: prod
  gitops: {destination: https://east.example.com}
  gpuAllocation: dra
  cohort: pool
  nodePools:
    - {name: h100-pool, flavor: h100, nodes: 2, gpusPerNode: 8}
    - {name: mig-pool, flavor: a100-mig, nodes: 1, gpusPerNode: 8}
  ingress: {domain: east.example.com}
"""

TEAM = """\
apiVersion: platformc.dev/v1alpha1
kind: Team
metadata:
  name: research
spec:
  costCenter: CC-1
  owners: [research-admins]
  clusters:
    - cluster: east
      cpu: "64"
      memory: 256Gi
      gpus:
        - {flavor: h100, quota: 8, borrowingLimit: 4}
        - {flavor: a100-mig, quota: 28}
"""

SERVING = """\
apiVersion: platformc.dev/v1alpha1
kind: ServingPath
metadata:
  name: chat
spec:
  team: research
  clusters: [east]
  model: {format: huggingface, storageUri: "s3://models/chat", runtime: kserve-huggingfaceserver}
  gpu: {flavor: h100, count: 1}
  replicas: {min: 1, max: 2}
"""

BASE_FILES = {
    "platform.yaml": PLATFORM,
    "flavors.yaml": FLAVORS,
    "clusters/east.yaml": CLUSTER,
    "teams/research.yaml": TEAM,
    "serving/chat.yaml": SERVING,
}


def write_spec(root: Path, overrides: dict[str, str | None] | None = None) -> Path:
    """Write the base spec with some files replaced (text) or removed (None)."""
    files: dict[str, str | None] = {**BASE_FILES, **(overrides or {})}
    for rel, text in files.items():
        if text is None:
            continue
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root
