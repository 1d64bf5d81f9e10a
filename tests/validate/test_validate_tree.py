"""Validating a generated tree on disk, and in-memory objects before they are written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from compiler.validate import (
    Finding,
    ObjectSet,
    SchemaRegistry,
    check_duplicates,
    validate_objects,
    validate_tree,
)
from tests.validate.validate_samples import (
    cluster_queue,
    device_class,
    local_queue,
    namespace,
    network_policy,
)

# These trees are small hand-made samples for the schema engine; the cross-object checks
# (references, ordering, baseline) have their own tests over complete generated trees.
SCHEMA_ONLY = (check_duplicates,)


def write(path: Path, *docs: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))


def cluster(out: Path, name: str, version: str | None, engine: str = "argocd") -> Path:
    folder = out / name
    folder.mkdir(parents=True)
    if version is not None:
        meta = {"cluster": name, "kubernetesVersion": version, "engine": engine}
        (folder / "platformc-cluster.json").write_text(json.dumps(meta))
    return folder


def make_tree(out: Path) -> None:
    prod = cluster(out, "prod-us-east", "1.34")
    write(prod / "teams" / "ai-research" / "namespace.yaml", namespace())
    write(prod / "teams" / "ai-research" / "networkpolicy-allow-dns.yaml", network_policy())
    write(prod / "kueue" / "clusterqueue-ai-research.yaml", cluster_queue())
    write(prod / "teams" / "ai-research" / "localqueue-default.yaml", local_queue())
    write(prod / "dra" / "deviceclass-h100.yaml", device_class())
    (prod / "teams" / "kustomization.yaml").write_text("resources: [ai-research]\n")
    (prod / "teams" / "ai-research" / "kustomization.yaml").write_text("resources:\n- namespace.yaml\n")
    old = cluster(out, "staging-eu", "1.31")
    write(old / "teams" / "namespace.yaml", namespace())


def test_valid_tree_passes(tmp_path: Path, crds_dir: Path) -> None:
    make_tree(tmp_path)
    # The DeviceClass is only on the 1.34 cluster; the 1.31 cluster would not know it.
    report = validate_tree(tmp_path, [crds_dir], checks=SCHEMA_ONLY)
    assert report.findings == []
    assert report.ok
    assert report.objects == 6
    assert report.clusters == ["prod-us-east", "staging-eu"]


def test_errors_name_file_object_and_field(tmp_path: Path, crds_dir: Path) -> None:
    make_tree(tmp_path)
    bad = network_policy()
    bad["spec"]["bogus"] = 1
    write(tmp_path / "prod-us-east" / "teams" / "ai-research" / "networkpolicy-allow-dns.yaml", bad)
    write(tmp_path / "staging-eu" / "dra" / "deviceclass-h100.yaml", device_class())
    report = validate_tree(tmp_path, [crds_dir], checks=SCHEMA_ONLY)
    assert not report.ok
    assert [f.format() for f in report.errors] == [
        "prod-us-east/teams/ai-research/networkpolicy-allow-dns.yaml: NetworkPolicy ai-research/allow-dns: "
        '$.spec.bogus: unknown field "bogus" [schema]',
        "staging-eu/dra/deviceclass-h100.yaml: DeviceClass h100: Kubernetes 1.31 has no resource.k8s.io/v1 "
        "DeviceClass; it serves resource.k8s.io/v1alpha3 [missing-schema]",
    ]


def test_yaml_syntax_error_has_file_and_line(tmp_path: Path, crds_dir: Path) -> None:
    make_tree(tmp_path)
    broken = tmp_path / "prod-us-east" / "teams" / "ai-research" / "resourcequota.yaml"
    broken.write_text(
        "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: q\n  labels: {a: b\nspec: {}\n"
    )
    report = validate_tree(tmp_path, [crds_dir], checks=SCHEMA_ONLY)
    [finding] = report.errors
    assert finding.check == "yaml"
    assert finding.file == "prod-us-east/teams/ai-research/resourcequota.yaml"
    assert finding.line == 6
    assert finding.format().startswith("prod-us-east/teams/ai-research/resourcequota.yaml:6:")
    # The rest of the tree is still validated.
    assert report.objects == 6


def test_multi_document_files_and_non_objects(tmp_path: Path, crds_dir: Path) -> None:
    prod = cluster(tmp_path, "prod", "1.34")
    (prod / "all.yaml").write_text(
        yaml.safe_dump_all([namespace("a"), None, namespace("b")]) + "---\n- just\n- a list\n"
    )
    report = validate_tree(tmp_path, [crds_dir], checks=SCHEMA_ONLY)
    assert report.objects == 2
    assert [(f.check, f.file) for f in report.errors] == [("object", "prod/all.yaml")]


def test_missing_schema_is_error_or_warning_when_allowed(tmp_path: Path) -> None:
    make_tree(tmp_path)
    # Without the CRD catalog the Kueue objects have no schema.
    strict = validate_tree(tmp_path, [], checks=SCHEMA_ONLY)
    assert {(f.check, f.kind) for f in strict.errors} == {
        ("missing-schema", "ClusterQueue"),
        ("missing-schema", "LocalQueue"),
    }
    assert not strict.ok
    allowed = validate_tree(tmp_path, [], checks=SCHEMA_ONLY, allow_missing_schemas=True)
    assert allowed.ok
    assert allowed.errors == []
    assert {(f.severity, f.check, f.kind) for f in allowed.warnings} == {
        ("warning", "missing-schema", "ClusterQueue"),
        ("warning", "missing-schema", "LocalQueue"),
    }


def test_cluster_without_metadata_file_uses_default_version_and_warns(tmp_path: Path, crds_dir: Path) -> None:
    legacy = cluster(tmp_path, "legacy", None)
    write(legacy / "dra" / "deviceclass.yaml", device_class())
    report = validate_tree(tmp_path, [crds_dir], checks=SCHEMA_ONLY)
    assert report.ok  # default version 1.34 knows resource.k8s.io/v1
    [warning] = report.warnings
    assert (warning.check, warning.file) == ("cluster", "legacy/platformc-cluster.json")
    older = validate_tree(tmp_path, [crds_dir], checks=SCHEMA_ONLY, default_kubernetes_version="1.31")
    assert [f.check for f in older.errors] == ["missing-schema"]


def test_cluster_filter(tmp_path: Path, crds_dir: Path) -> None:
    make_tree(tmp_path)
    report = validate_tree(tmp_path, [crds_dir], checks=SCHEMA_ONLY, clusters=["staging-eu"])
    assert report.clusters == ["staging-eu"]
    assert report.objects == 1
    unknown = validate_tree(tmp_path, [crds_dir], checks=SCHEMA_ONLY, clusters=["nope"])
    assert [f.message for f in unknown.errors] == [f"no cluster 'nope' in {tmp_path}"]


def test_unsupported_cluster_version_is_one_clear_error(tmp_path: Path, crds_dir: Path) -> None:
    old = cluster(tmp_path, "ancient", "1.19")
    write(old / "a.yaml", namespace("a"))
    write(old / "b.yaml", namespace("b"))
    [finding] = validate_tree(tmp_path, [crds_dir], checks=SCHEMA_ONLY).errors
    assert finding.check == "kubernetes-version"
    assert "'1.19' is not supported" in finding.message
    assert "1.34" in finding.message


def test_validate_objects_in_memory_and_duplicates(registry: SchemaRegistry) -> None:
    objects = [
        ("prod", "1.34", "prod/teams/a/namespace.yaml", namespace("a")),
        ("prod", "1.34", "prod/extra/namespace-a.yaml", namespace("a")),
        ("dev", "1.34", "dev/teams/a/namespace.yaml", namespace("a")),  # other cluster: fine
    ]
    report = validate_objects(objects, registry, checks=SCHEMA_ONLY)
    [dup] = report.errors
    assert (dup.check, dup.file, dup.name) == ("duplicate", "prod/teams/a/namespace.yaml", "a")
    assert "prod/extra/namespace-a.yaml" in dup.message


def test_checks_are_pluggable(registry: SchemaRegistry) -> None:
    """A phase-2 style reference check: every LocalQueue needs its ClusterQueue."""

    def local_queue_refs(objects: ObjectSet) -> Iterator[Finding]:
        for cluster_objects in objects.clusters.values():
            for entry in cluster_objects.of_kind("kueue.x-k8s.io", "LocalQueue"):
                target = entry.obj["spec"]["clusterQueue"]
                if cluster_objects.get("kueue.x-k8s.io", "ClusterQueue", target) is None:
                    yield entry.finding("ref", "$.spec.clusterQueue", f"ClusterQueue {target} not found")

    objects = [("prod", "1.34", "prod/lq.yaml", local_queue()), ("prod", "1.34", "prod/ns.yaml", namespace())]
    report = validate_objects(objects, registry, checks=[check_duplicates, local_queue_refs])
    assert [f.format() for f in report.errors] == [
        "prod/lq.yaml: LocalQueue ai-research/default: $.spec.clusterQueue: "
        "ClusterQueue ai-research not found [ref]"
    ]
    objects.append(("prod", "1.34", "prod/cq.yaml", cluster_queue()))
    assert validate_objects(objects, registry, checks=[local_queue_refs]).ok


def test_report_json_is_sorted_and_stable(tmp_path: Path, crds_dir: Path) -> None:
    make_tree(tmp_path)
    for name in ("z.yaml", "a.yaml", "m.yaml"):
        write(
            tmp_path / "prod-us-east" / name,
            {"apiVersion": "example.com/v1", "kind": "W", "metadata": {"name": name}},
        )
    first = validate_tree(tmp_path, [crds_dir], checks=SCHEMA_ONLY).to_json()
    second = validate_tree(tmp_path, [crds_dir], checks=SCHEMA_ONLY).to_json()
    assert first == second
    data = json.loads(first)
    assert [f["file"] for f in data["findings"]] == [
        "prod-us-east/a.yaml",
        "prod-us-east/m.yaml",
        "prod-us-east/z.yaml",
    ]
    assert data["ok"] is False
    assert data["errors"] == 3
