"""Spec errors of the AI stack: file:line, what is wrong, what was expected, nothing compiled."""

from __future__ import annotations

import pytest

from compiler.errors import SpecErrors
from compiler.spec.build import load_platform
from compiler.spec.gpus import mig_profiles
from tests.ai.conftest import mini_docs


def errors_for(write_spec, docs: list[dict]) -> list[str]:
    with pytest.raises(SpecErrors) as caught:
        load_platform(write_spec(docs))
    return [str(e) for e in caught.value.errors]


def serving(docs: list[dict]) -> dict:
    return next(d for d in docs if d["kind"] == "ServingPath")["spec"]


def test_scale_to_zero_is_rejected_at_replicas_min(write_spec) -> None:
    docs = mini_docs("dra")
    serving(docs)["replicas"] = {"min": 0, "max": 2}
    (error,) = errors_for(write_spec, docs)
    assert "-servingpath.yaml:" in error and "replicas.min 0 (scale to zero)" in error
    assert "expected autoscaling.metric requestRate or prometheus, or replicas.min >= 1" in error
    path, line = error.split(":")[0], int(error.split(":")[1])
    with open(path) as source:
        assert "min: 0" in source.read().splitlines()[line - 1]


def test_unknown_runtime_and_wrong_format(write_spec) -> None:
    docs = mini_docs("dra")
    serving(docs)["model"]["runtime"] = "kserve-vllm"
    (error,) = errors_for(write_spec, docs)
    assert "unknown serving runtime 'kserve-vllm'" in error and "kserve-huggingfaceserver" in error
    serving(docs)["model"]["runtime"] = "kserve-sklearnserver"
    (error,) = errors_for(write_spec, docs)
    assert "does not serve model format 'huggingface'" in error
    serving(docs)["model"] = {"format": "caffe", "storageUri": "s3://m/x"}
    (error,) = errors_for(write_spec, docs)
    assert "no serving runtime serves model format 'caffe'" in error


def test_time_slicing_on_a_dra_cluster_is_rejected(write_spec) -> None:
    docs = mini_docs("dra")
    cluster = next(d for d in docs if d["kind"] == "Cluster")["spec"]
    cluster["nodePools"].append({"name": "l40s-pool", "flavor": "l40s-shared", "nodes": 1, "gpusPerNode": 4})
    (error,) = errors_for(write_spec, docs)
    assert "uses time-slicing" in error and "gpuAllocation: device-plugin" in error


def test_time_slicing_needs_two_replicas(write_spec) -> None:
    docs = mini_docs("device-plugin")
    next(d for d in docs if d["metadata"]["name"] == "l40s-shared")["spec"]["sharing"]["replicas"] = 1
    (error,) = errors_for(write_spec, docs)
    assert "sharing.replicas" in error and ">= 2" in error


def test_canary_percent_and_quota_checks_still_hold(write_spec) -> None:
    docs = mini_docs("dra", quota=8, borrowing=4)
    serving(docs)["canary"]["trafficPercent"] = 100
    serving(docs)["gpu"]["count"] = 16
    errors = errors_for(write_spec, docs)
    assert any("trafficPercent 100 is out of range (expected 1..99)" in e for e in errors)
    assert any("needs 16 'h100' GPUs" in e for e in errors)


@pytest.mark.parametrize(
    ("product", "family", "profile", "per_gpu"),
    [
        ("NVIDIA-A100-SXM4-40GB", "A100 40GB", "1g.5gb", 7),
        ("NVIDIA-A100-SXM4-80GB", "A100 80GB", "3g.40gb", 2),
        ("NVIDIA-H100-80GB-HBM3", "H100 80GB", "1g.10gb", 7),
        ("NVIDIA-H100-NVL", "H100 NVL", "2g.24gb", 3),
        ("NVIDIA-H200", "H200", "1g.18gb", 7),
        ("NVIDIA-H200", "H200", "3g.71gb", 2),
        ("NVIDIA-B200", "B200", "1g.23gb", 7),
        ("NVIDIA-B200", "B200", "7g.180gb", 1),
    ],
)
def test_mig_tables(product: str, family: str, profile: str, per_gpu: int) -> None:
    found = mig_profiles(product)
    assert found is not None and found[0] == family and found[1][profile] == per_gpu


def test_mig_profile_of_another_product_is_rejected(write_spec) -> None:
    docs = mini_docs("dra")
    next(d for d in docs if d["metadata"]["name"] == "a100-mig-1g10gb")["spec"]["sharing"]["migProfile"] = (
        "1g.18gb"
    )
    errors = errors_for(write_spec, docs)
    assert any(
        "MIG profile '1g.18gb' does not exist on A100 80GB (expected one of: 1g.10gb" in e for e in errors
    )
