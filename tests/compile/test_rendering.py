"""The generated trees are what Argo CD / Flux and the API server accept: real kustomize renders
every folder, and every object passes its strict Kubernetes or upstream CRD schema."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from compiler.validate import validate_tree
from tests.conftest import EXAMPLE_GENERATED, tool


def _cluster_folders() -> list[Path]:
    return sorted(p for p in EXAMPLE_GENERATED.iterdir() if (p / "platformc-cluster.json").is_file())


def test_example_has_both_engines_and_both_gpu_allocations() -> None:
    infos = [yaml.safe_load((p / "platformc-cluster.json").read_text()) for p in _cluster_folders()]
    assert {i["engine"] for i in infos} == {"argocd", "flux"}
    assert len(infos) >= 2


@pytest.mark.parametrize("cluster", _cluster_folders(), ids=lambda p: p.name)
def test_every_cluster_folder_renders_with_real_kustomize(cluster: Path) -> None:
    kubectl = tool("kubectl")
    result = subprocess.run([kubectl, "kustomize", str(cluster)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    rendered = [d for d in yaml.safe_load_all(result.stdout) if d]
    on_disk = [p for p in cluster.rglob("*.yaml") if p.name != "kustomization.yaml"]
    assert len(rendered) == len(on_disk), "kustomize must render every object file exactly once"


@pytest.mark.parametrize("cluster", _cluster_folders(), ids=lambda p: p.name)
def test_every_folder_has_a_kustomization_listing_all_its_entries(cluster: Path) -> None:
    for folder in [cluster, *(p for p in cluster.rglob("*") if p.is_dir())]:
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
        entries = sorted(
            p.name
            for p in folder.iterdir()
            if p.is_dir() or (p.suffix == ".yaml" and p.name != "kustomization.yaml")
        )
        assert kustomization["resources"] == entries, folder


def test_every_object_passes_strict_kubernetes_or_crd_schema(crd_schemas: Path) -> None:
    report = validate_tree(EXAMPLE_GENERATED, schema_dirs=[crd_schemas])
    assert [f.format() for f in report.findings] == []
    kinds = set()
    for path in EXAMPLE_GENERATED.rglob("*.yaml"):
        if path.name != "kustomization.yaml":
            kinds.add(yaml.safe_load(path.read_text())["kind"])
    # Core kinds and the GitOps engines' custom resources were all checked, none skipped.
    assert {
        "Namespace",
        "NetworkPolicy",
        "ResourceQuota",
        "Application",
        "AppProject",
        "Kustomization",
        "GitRepository",
    } <= kinds
    assert report.objects == sum(
        1 for p in EXAMPLE_GENERATED.rglob("*.yaml") if p.name != "kustomization.yaml"
    )


def test_one_object_per_file_named_kind_name_with_kubernetes_key_order() -> None:
    for path in EXAMPLE_GENERATED.rglob("*.yaml"):
        if path.name == "kustomization.yaml":
            continue
        docs = list(yaml.safe_load_all(path.read_text()))
        assert len(docs) == 1, path
        obj = docs[0]
        assert path.name == f"{obj['kind']}-{obj['metadata']['name']}.yaml".lower()
        keys = list(obj)
        assert keys[:3] == ["apiVersion", "kind", "metadata"], path
        if "spec" in obj:
            assert keys[3] == "spec", path
        assert next(iter(obj["metadata"])) == "name"
