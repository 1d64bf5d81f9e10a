"""The embedded CRD schemas: generated from the upstream CRDs by the catalog conversion."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from compiler.crdschemas import generate
from compiler.crdschemas.convert import convert_schema, crd_documents
from compiler.crdschemas.embedded import BUNDLE, EmbeddedSchemas, provenance
from compiler.crdschemas.sources import all_sources
from compiler.validate import SchemaRegistry

# ../shared holds kedacore/keda's config/crd/bases at v2.20.2; the keda component installs the
# chart (kedacore/charts v2.20.2), whose CRD templates differ for these two (bounds on the scaling
# formula fields, a required port protocol): the embedded ones are the chart's, which the cluster gets.
KEDA_FROM_THE_CHART = {"keda.sh/scaledobject_v1alpha1.json", "keda.sh/scaledjob_v1alpha1.json"}


def test_generator_reproduces_shared_schemas_and_the_committed_bundle(
    shared_charts: Path, shared_crd_schemas: Path, tmp_path: Path
) -> None:
    """Every file the generator makes from the pinned chart archives (../shared/charts, rendered
    with real `helm template --include-crds`) is byte-identical to the same file in
    ../shared/schemas/crds (converted by datreeio/CRDs-catalog Utilities/openapi2jsonschema.py,
    SOURCES.md), and the committed bundle is exactly what the generator writes."""
    files = generate.collect(shared_charts, shared_crd_schemas, None)
    overlapping = [name for name in files if (shared_crd_schemas / name).is_file()]
    assert len(overlapping) >= 45
    for name in overlapping:
        ours, theirs = files[name][0], (shared_crd_schemas / name).read_text()
        if name in KEDA_FROM_THE_CHART:
            assert ours != theirs, f"{name} now matches ../shared: drop it from KEDA_FROM_THE_CHART"
            continue
        assert ours == theirs, name
    bundle = tmp_path / "embedded.zip"
    generate.write_bundle(files, bundle, tmp_path / "PROVENANCE.md")
    assert bundle.read_bytes() == BUNDLE.read_bytes(), "run `python3 -m compiler.crdschemas.generate`"
    assert (tmp_path / "PROVENANCE.md").read_text() == (BUNDLE.parent / "PROVENANCE.md").read_text()


def test_conversion_follows_the_catalog_rules() -> None:
    """openapi2jsonschema.py (datreeio/CRDs-catalog): nested objects with properties are closed,
    the root is not, int-or-string becomes oneOf string|integer, lists are not walked for
    additionalProperties, and the text is json.dumps(indent=2) plus a newline."""
    schema = {
        "type": "object",
        "properties": {
            "spec": {"type": "object", "properties": {"port": {"format": "int-or-string", "x": 1}}},
            "open": {"type": "object", "properties": {}, "additionalProperties": True},
            "anyOf": [{"type": "object", "properties": {"a": {"type": "string"}}}],
        },
    }
    out = json.loads(convert_schema(schema))
    assert "additionalProperties" not in out
    assert out["properties"]["spec"]["additionalProperties"] is False
    assert out["properties"]["spec"]["properties"]["port"] == {
        "oneOf": [{"type": "string"}, {"type": "integer"}]
    }
    assert out["properties"]["open"]["additionalProperties"] is True
    assert "additionalProperties" not in out["properties"]["anyOf"][0]
    assert convert_schema(schema).endswith("}\n")


def test_value_tag_and_list_documents_are_read() -> None:
    """kube-prometheus-stack's CRDs use the YAML `=` tag (pyyaml issue 89) that the catalog
    script reads as a string; a `kind: List` of CRDs is unwrapped."""
    text = (
        "kind: List\nitems:\n- kind: CustomResourceDefinition\n  spec: {group: g.io}\n"
        "---\nkind: CustomResourceDefinition\nspec:\n  default: !!value =\n"
    )
    docs = crd_documents(text)
    assert [d["spec"] for d in docs] == [{"group": "g.io"}, {"default": "="}]


def test_bundle_covers_every_kind_the_components_install_at_the_pins() -> None:
    """Each source's provenance row names the upstream repo, tag and where the bytes came from."""
    rows = provenance()
    by_component = {row["component"] for row in rows}
    assert by_component == {source.name for source in all_sources()}
    for row in rows:
        assert row["project"] and row["tag"] and row["via"], row
    names = {row["file"] for row in rows}
    for needed in (
        "kueue.x-k8s.io/clusterqueue_v1beta2.json",
        "serving.kserve.io/inferenceservice_v1beta1.json",
        "nvidia.com/clusterpolicy_v1.json",
        "resource.nvidia.com/computedomain_v1beta1.json",
        "cert-manager.io/certificate_v1.json",
        "monitoring.coreos.com/prometheusrule_v1.json",
        "grafana.integreatly.org/grafanadashboard_v1beta1.json",
        "argoproj.io/application_v1alpha1.json",
        "helm.toolkit.fluxcd.io/helmrelease_v2.json",
        "gateway.networking.k8s.io/httproute_v1.json",
        "keda.sh/scaledobject_v1alpha1.json",
    ):
        assert needed in names
    with zipfile.ZipFile(BUNDLE) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_LZMA}


def test_registry_rejects_unknown_field_with_embedded_schema_only() -> None:
    """With no schema folder at all, a ClusterQueue typo is caught by the embedded Kueue schema."""
    registry = SchemaRegistry([], [EmbeddedSchemas()])
    queue = {
        "apiVersion": "kueue.x-k8s.io/v1beta2",
        "kind": "ClusterQueue",
        "metadata": {"name": "q"},
        "spec": {"namespaceSelector": {}, "cohortt": "x"},
    }
    [finding] = registry.validate(queue, "1.34")
    assert 'unknown field "cohortt"' in finding.message


def test_overridden_component_drops_its_embedded_schemas() -> None:
    registry = SchemaRegistry([], [EmbeddedSchemas(exclude=["kueue"])])
    queue = {"apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "ClusterQueue", "metadata": {"name": "q"}}
    [finding] = registry.validate(queue, "1.34")
    assert finding.check == "missing-schema"


# Kinds a component emits whose CRDs are not embedded yet, and why.
NOT_EMBEDDED = {
    # policy-controller chart 0.10.6 ships v0.13.1; no archive of it (or of that release's CRDs)
    # is available offline to generate from (../shared/schemas/crds holds v0.15.1).
    ("policy.sigstore.dev", "ClusterImagePolicy", "v1beta1"),
}


def test_every_kind_a_component_emits_is_embedded() -> None:
    """A registered component's custom resources validate on a fresh clone (issue 15, item 1)."""
    from compiler.components import COMPONENTS

    files = {row["file"] for row in provenance()}
    emitted = {target for component in COMPONENTS for target in component.emits}
    missing = {t for t in emitted if f"{t[0]}/{t[1].lower()}_{t[2]}.json" not in files}
    assert missing == NOT_EMBEDDED
