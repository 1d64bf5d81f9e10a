"""Spec errors for policies and budgets name the file, line and what was expected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.errors import SpecErrors
from compiler.spec.build import load_platform
from compiler.spec.checks import check_platform
from tests.guardrails.conftest import guardrail_docs


def _errors(tmp_path: Path, docs: list[dict[str, Any]]) -> list[str]:
    (tmp_path / "platform.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    try:
        model = load_platform(tmp_path)
    except SpecErrors as exc:
        return [str(e).replace(str(tmp_path) + "/", "") for e in exc.errors]
    return [str(e).replace(str(tmp_path) + "/", "") for e in check_platform(model)]


def test_valid_policies_and_budget(tmp_path: Path) -> None:
    docs = guardrail_docs()
    docs[4]["spec"]["budget"] = {"monthlyUSD": 50000, "clusters": {"gpu-dp": 20000}}
    assert _errors(tmp_path, docs) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d[0]["spec"]["policies"]["trustedRegistries"].update(registries=[]),
            "trustedRegistries lists no registry (expected image prefixes such as nvcr.io/ or ghcr.io/acme/)",
        ),
        (
            lambda d: d[0]["spec"]["policies"]["largestGpuRequest"].update(mode="block"),
            "invalid value 'block' for 'spec.policies.largestGpuRequest.mode' (expected 'deny', 'warn', 'audit' or 'off')",
        ),
        (
            lambda d: d[5]["spec"].update(policies={"imageSignatures": {"images": ["**"], "publicKey": "x"}}),
            "imageSignatures is cluster-wide (a ClusterImagePolicy); set it in Platform.spec.policies",
        ),
        (
            lambda d: d[4]["spec"].update(budget={"clusters": {"elsewhere": 100}}),
            "team 'research' has no quota on cluster 'elsewhere' (expected one of: gpu-dp, gpu-dra)",
        ),
        (
            lambda d: d[4]["spec"].update(budget={}),
            "budget sets no amount (expected monthlyUSD, clusters: {<cluster>: USD}, or both)",
        ),
        (
            lambda d: d[4]["spec"].update(
                budget={"monthlyUSD": 100, "clusters": {"gpu-dp": 80, "gpu-dra": 40}}
            ),
            "per-cluster budgets add up to 120 USD, more than monthlyUSD 100",
        ),
    ],
    ids=[
        "empty-registries",
        "bad-mode",
        "team-signatures",
        "budget-unknown-cluster",
        "empty-budget",
        "budget-over",
    ],
)
def test_policy_errors(tmp_path: Path, change, expected: str) -> None:
    docs = guardrail_docs()
    change(docs)
    errors = _errors(tmp_path, docs)
    assert any(expected in e for e in errors), errors
    assert all(e.startswith("platform.yaml:") for e in errors), errors


def test_serving_path_without_required_labels(tmp_path: Path) -> None:
    docs = guardrail_docs()
    docs.append(
        {
            "apiVersion": "platformc.dev/v1alpha1",
            "kind": "ServingPath",
            "metadata": {"name": "chat"},
            "spec": {
                "team": "research",
                "clusters": ["gpu-dp"],
                "model": {"format": "huggingface", "storageUri": "s3://m/llama"},
                "gpu": {"flavor": "h100", "count": 1},
                "labels": {"owner": "research-admins"},
            },
        }
    )
    errors = _errors(tmp_path, docs)
    lines = (tmp_path / "platform.yaml").read_text().splitlines()
    labels_line = lines.index("  labels:", lines.index("kind: ServingPath")) + 1
    assert [e for e in errors if "requiredLabels" in e] == [
        f"platform.yaml:{labels_line}:3: the InferenceService would be refused: policy requiredLabels (deny) needs "
        "label(s) model-version (expected them in spec.labels)"
    ]
