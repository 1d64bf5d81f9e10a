"""The per-object memo of validation (compiler/object_memo.py, stored by compiler/memo_store.py):
an object validated before against the same schemas and Kubernetes version has its schema and CEL
findings from the memo, naming the file it is asked about; anything else validates again, and a
memo file this machine did not seal (planted by a pull request) or that is damaged is not believed.

The CEL findings are the API server's type check of ValidatingAdmissionPolicy expressions
(k8s.io/apiserver/pkg/admission/plugin/policy/validating/typechecking.go), made offline against the
same schemas (compiler/validate/admission.py check_cel)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

import compiler.cel as cel
from compiler.memo_store import load_memo, save_memo
from compiler.object_memo import ObjectMemo
from compiler.tree_contract import MANAGED_BY
from compiler.validate import SchemaRegistry, validate_objects
from compiler.validate.findings import Finding
from tests.conftest import CRD_SCHEMAS

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "team-a"},
    "spec": {
        "replica": 2,  # a typo: the schema says replicas
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
        },
    },
}
CLUSTER_QUEUE = {
    "apiVersion": "kueue.x-k8s.io/v1beta1",
    "kind": "ClusterQueue",
    "metadata": {"name": "team-a"},
    "spec": {"namespaceSelector": {}, "cohort": 7},  # cohort is a string
}


def _on_create(group: str, version: str, resource: str) -> dict[str, Any]:
    """A ValidatingAdmissionPolicy resource rule."""
    return {"apiGroups": [group], "apiVersions": [version], "operations": ["CREATE"], "resources": [resource]}


DEPLOYMENTS = _on_create("apps", "v1", "deployments")
POLICY = {
    "apiVersion": "admissionregistration.k8s.io/v1",
    "kind": "ValidatingAdmissionPolicy",
    "metadata": {"name": "replicas", "labels": dict(MANAGED_BY)},
    "spec": {
        "matchConstraints": {"resourceRules": [DEPLOYMENTS]},
        "validations": [{"expression": "object.spec.replicaz <= 10"}],
    },
}
DEVICE_CLASS = {
    "apiVersion": "resource.k8s.io/v1",
    "kind": "DeviceClass",
    "metadata": {"name": "gpu"},
    "spec": {"selectors": [{"cel": {"expression": "device.driver == "}}]},
}
UNKNOWN = {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "x"}}
OBJECTS = (DEPLOYMENT, CLUSTER_QUEUE, POLICY, DEVICE_CLASS, UNKNOWN)


@pytest.fixture
def schemas(tmp_path: Path) -> Path:
    """A schema folder of the kueue CRDs this test may change."""
    folder = tmp_path / "schemas"
    shutil.copytree(CRD_SCHEMAS / "kueue.x-k8s.io", folder / "kueue.x-k8s.io")
    return folder


@pytest.fixture(autouse=True)
def own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATFORMC_CACHE_KEY_FILE", str(tmp_path / "own-key"))


class Counted:
    """How often a schema was consulted, a policy type-checked and a validator compiled, i.e. how
    often the memo missed."""

    def __init__(self, registry: SchemaRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
        self.validated = 0
        self.policies = 0
        self.compiled = 0
        validate, check_policy = registry.validate, cel.check_policy
        compile_validator = jsonschema_rs.validator_for

        def counted_compile(*args: Any, **kwargs: Any) -> Any:
            self.compiled += 1
            return compile_validator(*args, **kwargs)

        def counted_validate(*args: Any) -> list[Finding]:
            self.validated += 1
            return validate(*args)

        def counted_policy(*args: Any) -> list[str]:
            self.policies += 1
            return check_policy(*args)

        monkeypatch.setattr(registry, "validate", counted_validate)
        monkeypatch.setattr(cel, "check_policy", counted_policy)  # imported where CEL is checked
        monkeypatch.setattr(jsonschema_rs, "validator_for", counted_compile)


def _findings(
    registry: SchemaRegistry, folder: str, memo: ObjectMemo | None = None, version: str = "1.34"
) -> list[Finding]:
    loaded = [
        ("prod", version, f"prod/{folder}/{o['kind'].lower()}-{o['metadata']['name']}.yaml", o)
        for o in OBJECTS
    ]
    report = validate_objects(loaded, registry, allow_missing=True, memo=memo)
    return report.sorted()


def _stored(root: Path, registry: SchemaRegistry, version: str = "1.34") -> ObjectMemo:
    """A memo made by validating OBJECTS, through the sealed file and back."""
    memo = load_memo(root, "prod")
    _findings(registry, "first", memo, version)
    save_memo(root, "prod", memo)
    return load_memo(root, "prod")


def test_a_hit_gives_the_findings_of_a_fresh_run_naming_the_file_asked_about(
    tmp_path: Path, schemas: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memo = _stored(tmp_path / "cache", SchemaRegistry([schemas]))
    assert memo.stored, "the memo file was not read back"
    registry = SchemaRegistry([schemas])
    counted = Counted(registry, monkeypatch)
    hit = _findings(registry, "moved", memo)
    assert (counted.validated, counted.policies) == (0, 0), "the memo was not used"
    # Compiling a validator takes up to 60 ms a kind (InferenceService): a hit needs none.
    assert counted.compiled == 0, "a hit compiled validators it never used"
    fresh = _findings(SchemaRegistry([schemas]), "moved")
    assert hit == fresh
    checks = {f.check for f in fresh}
    assert {"schema", "missing-schema", "cel"} <= checks, fresh
    assert any('unknown field "replica"' in f.message for f in fresh)
    assert any("replicaz" in f.message for f in fresh)
    assert any(f.kind == "DeviceClass" and f.check == "cel" for f in fresh)
    assert all(f.file is None or f.file.startswith("prod/moved/") for f in hit)


def test_another_schema_folder_validates_again(
    tmp_path: Path, schemas: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memo = _stored(tmp_path / "cache", SchemaRegistry([schemas]))
    other = tmp_path / "other"
    other.mkdir()  # no kueue CRDs: the ClusterQueue has no schema there
    registry = SchemaRegistry([other])
    counted = Counted(registry, monkeypatch)
    found = _findings(registry, "first", memo)
    assert counted.validated == len(OBJECTS) and counted.policies == 1
    assert found == _findings(SchemaRegistry([other]), "first")
    assert any(f.kind == "ClusterQueue" and f.check == "missing-schema" for f in found)
    assert found != _findings(SchemaRegistry([schemas]), "first")


def test_a_changed_schema_file_in_the_same_folder_validates_again(tmp_path: Path, schemas: Path) -> None:
    memo = _stored(tmp_path / "cache", SchemaRegistry([schemas]))
    (schemas / "kueue.x-k8s.io" / "clusterqueue_v1beta1.json").unlink()
    found = _findings(SchemaRegistry([schemas]), "first", memo)
    assert found == _findings(SchemaRegistry([schemas]), "first")
    assert any(f.kind == "ClusterQueue" and f.check == "missing-schema" for f in found)


def test_another_kubernetes_version_validates_again(
    tmp_path: Path, schemas: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """resource.k8s.io/v1 is served from Kubernetes 1.34; 1.32 serves DeviceClass as v1beta1 only."""
    memo = _stored(tmp_path / "cache", SchemaRegistry([schemas]), "1.34")
    registry = SchemaRegistry([schemas])
    counted = Counted(registry, monkeypatch)
    found = _findings(registry, "first", memo, "1.32")
    assert counted.validated == len(OBJECTS) and counted.policies == 1
    assert found == _findings(SchemaRegistry([schemas]), "first", version="1.32")
    assert any(f.kind == "DeviceClass" and "1.32" in f.message for f in found)


def _lying_memo(root: Path, registry: SchemaRegistry) -> ObjectMemo:
    """A memo whose every entry says "no findings"."""
    memo = ObjectMemo()
    _findings(registry, "first", memo)
    return ObjectMemo(used=dict.fromkeys(memo.used, ()))


def test_a_memo_planted_under_another_key_is_not_believed(
    tmp_path: Path, schemas: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "cache"
    monkeypatch.setenv("PLATFORMC_CACHE_KEY_FILE", str(tmp_path / "pull-request-key"))
    save_memo(root, "prod", _lying_memo(root, SchemaRegistry([schemas])))
    assert load_memo(root, "prod").stored  # believed where it was sealed
    monkeypatch.setenv("PLATFORMC_CACHE_KEY_FILE", str(tmp_path / "own-key"))
    memo = load_memo(root, "prod")
    assert memo.stored == {}
    found = _findings(SchemaRegistry([schemas]), "first", memo)
    assert found == _findings(SchemaRegistry([schemas]), "first") and found


def test_a_damaged_memo_is_not_believed(tmp_path: Path, schemas: Path) -> None:
    root = tmp_path / "cache"
    save_memo(root, "prod", _lying_memo(root, SchemaRegistry([schemas])))
    (stored,) = (root / "objects").iterdir()
    raw = bytearray(stored.read_bytes())
    raw[-3] ^= 0x01
    stored.write_bytes(bytes(raw))
    memo = load_memo(root, "prod")
    assert memo.stored == {}
    found = _findings(SchemaRegistry([schemas]), "first", memo)
    assert found == _findings(SchemaRegistry([schemas]), "first") and found


def test_an_object_of_another_content_misses() -> None:
    """One digest per object's exact content: a changed field, or the same data in another key order
    (it renders differently), is another entry; the digest is made once per object."""
    memo = ObjectMemo()
    changed = {**CLUSTER_QUEUE, "spec": {"namespaceSelector": {}, "cohort": "all"}}
    reordered = dict(reversed(list(CLUSTER_QUEUE.items())))
    keys = {memo.key(b"schema", o) for o in (CLUSTER_QUEUE, changed, reordered)}
    assert len(keys) == 3
    assert memo.key(b"schema", CLUSTER_QUEUE) != memo.key(b"render", CLUSTER_QUEUE)
    assert memo.key(b"schema", CLUSTER_QUEUE) == ObjectMemo().key(b"schema", dict(CLUSTER_QUEUE))


def test_a_compile_from_the_memo_reports_what_a_compile_without_it_does(tmp_path: Path) -> None:
    """The example with its overlays against a schema folder that lacks every custom resource's
    CRD: many findings (missing schemas, references, baseline). A second compile answers every
    object from the memo and reports the same, file for file."""
    from compiler.components import facts_of
    from compiler.core import merged_report, registered
    from compiler.pipeline import compile_model
    from compiler.spec.build import load_platform
    from tests.conftest import EXAMPLE_OVERLAYS, EXAMPLE_SPEC

    model = load_platform(EXAMPLE_SPEC, facts_of(registered()))
    no_crds = tmp_path / "no-crds"
    no_crds.mkdir()

    def report(memo_root: Path | None) -> list[Finding]:
        compiled = compile_model(
            model,
            overlays_dir=EXAMPLE_OVERLAYS,
            registry=SchemaRegistry([no_crds]),
            jobs=1,
            memo_root=memo_root,
        )
        return merged_report(compiled).sorted()

    without = report(None)
    assert {"missing-schema", "cel"} <= {f.check for f in without}, without
    assert report(tmp_path / "cache") == without  # the memo is made
    assert report(tmp_path / "cache") == without  # and used
    assert load_memo(tmp_path / "cache", next(iter(model.clusters))).stored


def test_files_and_their_digests_from_the_memo_are_those_a_compile_without_it_makes(tmp_path: Path) -> None:
    """The memo keeps each object's rendered bytes with their digest (what the manifest and the
    cluster cache record), so a compile from it neither renders nor hashes them again: both must
    be exactly what rendering and hashing give."""
    from compiler.components import facts_of
    from compiler.core import registered
    from compiler.pipeline import compile_model
    from compiler.spec.build import load_platform
    from compiler.tree_contract import file_digest
    from tests.conftest import EXAMPLE_OVERLAYS, EXAMPLE_SPEC

    model = load_platform(EXAMPLE_SPEC, facts_of(registered()))

    def compiled(memo_root: Path | None) -> list[tuple[dict[str, bytes], dict[str, str]]]:
        done = compile_model(model, overlays_dir=EXAMPLE_OVERLAYS, jobs=1, memo_root=memo_root)
        return [(dict(c.tree), dict(c.digests)) for c in done]

    without = compiled(None)
    for tree, digests in without:
        assert digests == {path: file_digest(content) for path, content in tree.items()}
    compiled(tmp_path / "cache")
    assert compiled(tmp_path / "cache") == without


BROKEN_CRD = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: CiliumNetworkPolicy\n"
CILIUM_RULES = _on_create("cilium.io", "v2", "ciliumnetworkpolicies")
CILIUM_POLICY = {
    **POLICY,
    "metadata": {"name": "cilium", "labels": dict(MANAGED_BY)},
    "spec": {**POLICY["spec"], "matchConstraints": {"resourceRules": [CILIUM_RULES]}},
}


@pytest.mark.parametrize(
    "objects",
    [pytest.param(OBJECTS, id="schema lookup"), pytest.param((DEPLOYMENT, CILIUM_POLICY), id="CEL lookup")],
)
def test_a_schema_file_that_fails_to_load_is_reported_with_the_memo_too(
    tmp_path: Path, schemas: Path, objects: tuple[dict[str, Any], ...]
) -> None:
    """Schema files are read when a kind is looked up; one that fails to load is a schema-source
    warning. An answer from the memo makes the same lookups, so the warning is there too."""
    (schemas / "cilium.yaml").write_text(BROKEN_CRD)

    def found(memo: ObjectMemo | None) -> list[Finding]:
        loaded = [
            ("prod", "1.34", f"prod/a/{o['kind'].lower()}-{o['metadata']['name']}.yaml", o) for o in objects
        ]
        return validate_objects(loaded, SchemaRegistry([schemas]), allow_missing=True, memo=memo).sorted()

    memo = ObjectMemo()
    fresh = found(memo)
    assert any(f.check == "schema-source" and "cilium.yaml" in (f.file or "") for f in fresh), fresh
    assert found(ObjectMemo(stored=dict(memo.used))) == fresh
