"""The example platform compiled with a stand-in AI stack, for the cross-object check tests.

The real Kueue/KServe/DRA components are in COMPONENTS; this component adds objects they do
not emit (a GPU Deployment with a DRA claim, a Flux HelmRelease per chart on both engines,
explicit operator namespaces) and a second provider of each CRD group, all (shaped after the upstream CRD schemas in ../shared/schemas/crds): two
charts that install CRDs, Kueue and KServe custom resources, DRA objects on Kubernetes
>= 1.34 and a GPU Deployment in a team namespace. Names start with "fixture" so they never
collide with what the real components emit once they land.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import compiler.pipeline as pipeline
from compiler.charts.stage import ChartsStage
from compiler.cluster_model import ClusterModel
from compiler.components import COMPONENTS
from compiler.components.base import Component, ComponentOutput, HelmChart, KubeObject, obj
from compiler.overlays import Overlays

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = REPO_ROOT / "platform-spec"
TEAM_NS = "ai-research"
KUEUE_API = "kueue.x-k8s.io/v1beta2"
KSERVE_API = "serving.kserve.io/v1beta1"
DRA_API = "resource.k8s.io/v1"


def _operator_namespace(name: str) -> KubeObject:
    return obj("v1", "Namespace", name, labels={"pod-security.kubernetes.io/enforce": "privileged"})


def _dra(cluster: ClusterModel) -> bool:
    major, minor = (int(p) for p in cluster.kubernetes_version.split(".")[:2])
    return (major, minor) >= (1, 34)


def _worker(cluster: ClusterModel) -> KubeObject:
    container: dict[str, Any] = {
        "name": "trainer",
        "image": "ghcr.io/acme-ai/trainer:1.4.2",  # a registry the example trusts
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True},
    }
    pod: dict[str, Any] = {"containers": [container]}
    if _dra(cluster):
        container["resources"] = {"claims": [{"name": "gpu"}]}
        pod["resourceClaims"] = [{"name": "gpu", "resourceClaimTemplateName": "fixture-gpu"}]
    else:
        container["resources"] = {"limits": {"nvidia.com/gpu": "1"}}
        pod["nodeSelector"] = {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}
    return obj(
        "apps/v1",
        "Deployment",
        "fixture-worker",
        TEAM_NS,
        labels={"owner": "ai-research-admins"},  # the example's requiredLabels
        spec={
            "replicas": 1,
            "selector": {"matchLabels": {"app": "fixture-worker"}},
            "template": {"metadata": {"labels": {"app": "fixture-worker"}}, "spec": pod},
        },
    )


def build(cluster: ClusterModel) -> ComponentOutput:
    charts = (
        HelmChart(
            "oci://registry.k8s.io/kueue/charts",
            "kueue",
            "0.19.2",
            "fixture-kueue",
            "fixture-kueue",
            crd_groups=frozenset({"kueue.x-k8s.io"}),
        ),
        HelmChart(
            "oci://ghcr.io/kserve/charts",
            "kserve-crd",
            "v0.20.0",
            "fixture-kserve-crd",
            "fixture-kserve",
            crd_groups=frozenset({"serving.kserve.io"}),
        ),
    )
    model: dict[str, Any] = {
        "modelFormat": {"name": "huggingface"},
        "runtime": "kserve-huggingfaceserver",
        "storageUri": "s3://models/llama",
    }
    predictor: dict[str, Any] = {"minReplicas": 1, "maxReplicas": 2, "model": model}
    if _dra(cluster):  # the example's gpuAccess policy: GPUs through the team's claim templates
        model["resources"] = {"claims": [{"name": "gpu"}]}
        predictor["resourceClaims"] = [{"name": "gpu", "resourceClaimTemplateName": "h100-1"}]
    else:
        model["resources"] = {"limits": {"nvidia.com/gpu": "1"}, "requests": {"nvidia.com/gpu": "1"}}
    objects: list[KubeObject] = [
        _operator_namespace("fixture-kueue"),
        _operator_namespace("fixture-kserve"),
        obj(
            KUEUE_API,
            "ResourceFlavor",
            "fixture-h100",
            spec={"nodeLabels": {"nvidia.com/gpu.product": "H100"}},
        ),
        obj(KUEUE_API, "Cohort", "fixture-pool", spec={}),
        obj(
            KUEUE_API,
            "ClusterQueue",
            "fixture-ai-research",
            spec={
                "cohortName": "fixture-pool",
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": TEAM_NS}},
                "resourceGroups": [
                    {
                        "coveredResources": ["cpu", "nvidia.com/gpu"],
                        "flavors": [
                            {
                                "name": "fixture-h100",
                                "resources": [
                                    {"name": "cpu", "nominalQuota": "64"},
                                    {"name": "nvidia.com/gpu", "nominalQuota": 8, "borrowingLimit": 4},
                                ],
                            }
                        ],
                    }
                ],
            },
        ),
        obj(KUEUE_API, "LocalQueue", "fixture", TEAM_NS, spec={"clusterQueue": "fixture-ai-research"}),
        obj(
            KSERVE_API,
            "InferenceService",
            "fixture-chat",
            TEAM_NS,
            # The example's requiredLabels and servingRollback policies.
            labels={
                "owner": "ai-research-admins",
                "platformc.dev/model-version": "llama-3",
                "platformc.dev/rollback-model-version": "llama-2",
            },
            spec={"predictor": predictor},
        ),
        _worker(cluster),
    ]
    if _dra(cluster):
        objects += [
            obj(
                DRA_API,
                "DeviceClass",
                "fixture-h100",
                spec={"selectors": [{"cel": {"expression": "device.driver == 'gpu.nvidia.com'"}}]},
            ),
            obj(
                DRA_API,
                "ResourceClaimTemplate",
                "fixture-gpu",
                TEAM_NS,
                spec={
                    "spec": {
                        "devices": {"requests": [{"name": "gpu", "exactly": {"deviceClassName": "gpu-h100"}}]}
                    }
                },
            ),
        ]
    return ComponentOutput(charts=charts, objects=tuple(objects))


FIXTURE_AI = Component("fixture-ai", build)


def use_components(monkeypatch: pytest.MonkeyPatch, components: Sequence[Component]) -> None:
    """Make compile build clusters with `components` (build_cluster binds COMPONENTS at import)."""
    original = pipeline.build_cluster

    def build_cluster(
        cluster: ClusterModel,
        _: Sequence[Component] = (),
        overlays: Overlays | None = None,
        charts: ChartsStage | None = None,
    ) -> pipeline.ClusterBuild:
        return original(cluster, tuple(components), overlays, charts)

    monkeypatch.setattr(pipeline, "build_cluster", build_cluster)


WITH_AI = (*COMPONENTS, FIXTURE_AI)
