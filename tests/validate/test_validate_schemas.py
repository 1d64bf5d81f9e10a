"""Schema validation of single objects: built-in kinds and catalog CRDs."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.validate import SchemaRegistry, UnsupportedKubernetesVersion
from tests.validate.validate_samples import (
    clone,
    cluster_queue,
    core_objects,
    device_class,
    local_queue,
    network_policy,
    resource_quota,
)


def paths(findings) -> list[str]:
    return [f.path for f in findings]


@pytest.mark.parametrize("version", ["1.33", "1.34"])
def test_valid_core_objects_pass(registry: SchemaRegistry, version: str) -> None:
    for obj in core_objects():
        assert registry.validate(obj, version, "x.yaml") == [], obj["kind"]


def test_unknown_field_in_network_policy_spec_is_reported_with_its_path(registry: SchemaRegistry) -> None:
    obj = network_policy()
    obj["spec"]["bogus"] = True
    findings = registry.validate(obj, "1.34", "prod/teams/ai-research/netpol.yaml")
    assert len(findings) == 1
    finding = findings[0]
    assert (finding.severity, finding.check, finding.path) == ("error", "schema", "$.spec.bogus")
    assert (finding.kind, finding.namespace, finding.name) == ("NetworkPolicy", "ai-research", "allow-dns")
    assert finding.format() == (
        "prod/teams/ai-research/netpol.yaml: NetworkPolicy ai-research/allow-dns: $.spec.bogus: "
        'unknown field "bogus" [schema]'
    )


def test_typo_gets_a_suggestion(registry: SchemaRegistry) -> None:
    obj = network_policy()
    obj["spec"]["policyType"] = obj["spec"].pop("policyTypes")
    [finding] = registry.validate(obj, "1.34")
    assert finding.path == "$.spec.policyType"
    assert 'did you mean "policyTypes"' in finding.message


def test_wrong_type_is_reported(registry: SchemaRegistry) -> None:
    obj = network_policy()
    obj["spec"]["egress"][0]["ports"][0]["port"] = 53.5  # int-or-string, not a float
    obj["spec"]["policyTypes"] = "Egress"  # must be a list
    findings = registry.validate(obj, "1.34")
    by_path = {f.path: f.message for f in findings}
    assert by_path == {
        "$.spec.egress[0].ports[0].port": "expected integer or string, got number",
        "$.spec.policyTypes": "expected array, got string",
    }


def test_label_keys_with_dots_are_quoted_in_paths(registry: SchemaRegistry) -> None:
    obj = resource_quota()
    obj["metadata"]["labels"] = {"app.kubernetes.io/name": 3}
    [finding] = registry.validate(obj, "1.34")
    assert finding.path == "$.metadata.labels['app.kubernetes.io/name']"
    assert finding.message == "expected string, got integer"


def test_missing_identity_fields_are_reported(registry: SchemaRegistry) -> None:
    obj = resource_quota()
    del obj["metadata"]["name"]
    assert [(f.check, f.path) for f in registry.validate(obj, "1.34")] == [("object", "$.metadata.name")]
    no_kind = {"apiVersion": "v1", "metadata": {"name": "x"}}
    assert [(f.check, f.path) for f in registry.validate(no_kind, "1.34")] == [("object", "$.kind")]


def test_device_class_v1_exists_on_1_34_but_not_on_1_31(registry: SchemaRegistry) -> None:
    assert registry.validate(device_class(), "1.34") == []
    [finding] = registry.validate(device_class(), "1.31")
    assert finding.check == "missing-schema"
    assert finding.severity == "error"
    # Tells the user which versions that Kubernetes release does serve.
    assert "Kubernetes 1.31 has no resource.k8s.io/v1 DeviceClass" in finding.message
    assert "resource.k8s.io/v1alpha3" in finding.message


def test_unsupported_kubernetes_version_lists_supported_ones(registry: SchemaRegistry) -> None:
    with pytest.raises(UnsupportedKubernetesVersion) as info:
        registry.validate(resource_quota(), "1.12")
    assert "1.12" in str(info.value)
    assert "1.34" in str(info.value)
    assert "1.34" in SchemaRegistry.supported_kubernetes_versions()


def test_version_spellings_are_accepted(registry: SchemaRegistry) -> None:
    for spelling in ("1.34", "v1.34", "1.34.2"):
        assert registry.validate(resource_quota(), spelling) == []


def test_valid_kueue_cluster_queue_and_local_queue_pass(registry: SchemaRegistry) -> None:
    assert registry.validate(cluster_queue(), "1.34") == []
    assert registry.validate(local_queue(), "1.34") == []


def test_kueue_cluster_queue_typo_is_caught(registry: SchemaRegistry) -> None:
    obj = clone(cluster_queue())
    resource = obj["spec"]["resourceGroups"][0]["flavors"][0]["resources"][2]
    resource["borowingLimit"] = resource.pop("borrowingLimit")
    [finding] = registry.validate(obj, "1.34", "c/cq.yaml")
    assert finding.path == "$.spec.resourceGroups[0].flavors[0].resources[2].borowingLimit"
    assert finding.message == 'unknown field "borowingLimit" (did you mean "borrowingLimit"?)'


def test_custom_resource_root_and_metadata_are_strict(registry: SchemaRegistry) -> None:
    """The catalog leaves the CRD root open; a top-level or metadata typo must still fail."""
    obj = cluster_queue()
    obj["sepc"] = obj.pop("spec")
    obj["metadata"]["lables"] = obj["metadata"].pop("labels")
    assert sorted(paths(registry.validate(obj, "1.34"))) == ["$.metadata.lables", "$.sepc"]


def test_kueue_v1beta2_field_is_not_accepted_in_v1beta1(registry: SchemaRegistry) -> None:
    obj = cluster_queue()
    obj["apiVersion"] = "kueue.x-k8s.io/v1beta1"
    # v1beta1 has `cohort`, v1beta2 renamed it to `cohortName`.
    assert "$.spec.cohortName" in paths(registry.validate(obj, "1.34"))


def test_unknown_custom_resource_is_missing_schema(registry: SchemaRegistry) -> None:
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    [finding] = registry.validate(obj, "1.34")
    assert (finding.check, finding.severity) == ("missing-schema", "error")
    assert "--schemas" in finding.message


def test_unknown_version_of_known_crd_names_the_known_versions(registry: SchemaRegistry) -> None:
    obj = local_queue()
    obj["apiVersion"] = "kueue.x-k8s.io/v1alpha9"
    [finding] = registry.validate(obj, "1.34")
    assert finding.check == "missing-schema"
    assert "v1beta1, v1beta2" in finding.message


def test_without_schema_dirs_crds_are_missing() -> None:
    [finding] = SchemaRegistry().validate(cluster_queue(), "1.34")
    assert finding.check == "missing-schema"


def test_nonexistent_schema_dir_fails_fast(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="does-not-exist"):
        SchemaRegistry([tmp_path / "does-not-exist"])


def test_catalog_nodes_that_preserve_unknown_fields_stay_open(shared_crd_schemas: Path) -> None:
    """Kyverno foreach preconditions keep unknown fields on the API server; so must we.
    (Kyverno is no platformc component: its schema comes from ../shared/schemas/crds.)"""
    registry = SchemaRegistry([shared_crd_schemas])
    foreach = {
        "list": "request.object.spec.containers",
        "preconditions": {
            "all": [{"key": "{{ element.name }}", "operator": "Equals", "value": "x"}],
            "legacy": 1,
        },
        "deny": {"conditions": {"any": [{"key": "1", "operator": "Equals", "value": "1"}]}},
    }
    policy = {
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": {"name": "gpu-requests"},
        "spec": {
            "rules": [
                {
                    "name": "limit-gpus",
                    "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                    "validate": {"message": "no", "foreach": [foreach]},
                }
            ]
        },
    }
    assert registry.validate(policy, "1.34") == []
    foreach["bogus"] = 1  # the rest of the schema is still strict
    assert paths(registry.validate(policy, "1.34")) == ["$.spec.rules[0].validate.foreach[0].bogus"]
