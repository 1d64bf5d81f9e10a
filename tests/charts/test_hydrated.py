"""gitops.render: hydrated — the example platform with every chart's rendered objects in the tree
(prod-us-east: Argo CD, DRA; staging-eu: Flux, device plugin)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.pipeline import compile_model, merged_tree
from compiler.review.objects import diff_trees
from compiler.spec.build import load_platform
from compiler.validate import SchemaRegistry, validate_tree
from tests.compile.helpers import compile_cli, snapshot
from tests.conftest import EXAMPLE_OVERLAYS, EXAMPLE_SPEC, tool


def hydrated_spec(root: Path) -> Path:
    spec = root / "platform-spec"
    shutil.copytree(EXAMPLE_SPEC, spec)
    platform = spec / "platform.yaml"
    platform.write_text(
        platform.read_text().replace("    path: generated\n", "    path: generated\n    render: hydrated\n")
    )
    return spec


@pytest.fixture(scope="module")
def hydrated(tmp_path_factory: pytest.TempPathFactory, shared_charts: Path) -> Path:
    """The hydrated example compiled with the CLI (validated against the upstream CRD schemas)."""
    root = tmp_path_factory.mktemp("hydrated")
    spec = hydrated_spec(root)
    result = compile_cli(
        "--spec",
        str(spec),
        "--overlays",
        str(EXAMPLE_OVERLAYS),
        "--out",
        str(root / "generated"),
        "--charts",
        str(shared_charts),
        cwd=root,
    )
    assert result.returncode == 0, result.stderr
    return root


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def test_two_compiles_are_byte_identical(hydrated: Path, shared_charts: Path) -> None:
    again = hydrated / "again"
    result = compile_cli(
        "--spec",
        str(hydrated / "platform-spec"),
        "--overlays",
        str(EXAMPLE_OVERLAYS),
        "--out",
        str(again),
        "--charts",
        str(shared_charts),
        cwd=hydrated,
    )
    assert result.returncode == 0, result.stderr
    assert snapshot(again) == snapshot(hydrated / "generated")
    shutil.rmtree(again)


def test_engines_sync_folders_not_charts(hydrated: Path) -> None:
    """No chart source, HelmRelease or Helm repository is left: the engines apply plain files."""
    tree = hydrated / "generated"
    for app in (tree / "prod-us-east" / "apps").glob("application-*.yaml"):
        spec = load(app)["spec"]
        sources = spec.get("sources") or [spec["source"]]
        assert all("chart" not in s and s.get("path") for s in sources), app.name
    assert not list(tree.rglob("helmrelease-*.yaml")) and not list(tree.rglob("helmrepository-*.yaml"))
    deployments = {p.name for p in (tree / "staging-eu" / "components" / "kueue").rglob("deployment-*.yaml")}
    assert deployments == {"deployment-kueue-controller-manager.yaml"}


def test_crds_sync_in_their_own_unit_first(hydrated: Path) -> None:
    """kueue 0.19.2 ships its CRDs as templates; hydrated they sit in kueue-crds, which syncs before
    the controller (kueue), which syncs before the ClusterQueues (kueue-config)."""
    apps = hydrated / "generated" / "prod-us-east" / "apps"
    wave = {
        unit: int(
            load(apps / f"application-prod-us-east-{unit}.yaml")["metadata"]["annotations"][
                "argocd.argoproj.io/sync-wave"
            ]
        )
        for unit in ("kueue-crds", "kueue", "kueue-config", "monitoring-crds", "monitoring-config")
    }
    assert wave["kueue-crds"] < wave["kueue"] < wave["kueue-config"]
    assert wave["monitoring-crds"] < wave["monitoring-config"]
    crds = hydrated / "generated" / "prod-us-east" / "components" / "kueue-crds"
    assert (crds / "customresourcedefinition-clusterqueues.kueue.x-k8s.io.yaml").is_file()
    flux = hydrated / "generated" / "staging-eu" / "apps"
    assert {"name": "kueue-crds"} in load(flux / "kustomization-kueue.yaml")["spec"]["dependsOn"]
    assert {"name": "kueue"} in load(flux / "kustomization-kueue-config.yaml")["spec"]["dependsOn"]


def test_kustomize_renders_every_cluster_folder(hydrated: Path) -> None:
    for cluster in ("prod-us-east", "staging-eu"):
        crds = list((hydrated / "generated" / cluster).rglob("customresourcedefinition-*.yaml"))
        proc = subprocess.run(
            [tool("kubectl"), "kustomize", str(hydrated / "generated" / cluster)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.count("\nkind: CustomResourceDefinition\n") == len(crds) > 30


def test_every_object_validates_strictly(hydrated: Path, crd_schemas: Path) -> None:
    """Against the upstream CRD schemas plus the CRDs the hydrated tree installs itself (Prometheus,
    Alertmanager, cert-manager's Issuer and Certificate): no missing schema is tolerated."""
    tree = hydrated / "generated"
    report = validate_tree(tree, allow_missing_schemas=False, registry=SchemaRegistry([crd_schemas, tree]))
    assert report.ok, [f.format() for f in report.errors][:5]
    assert report.objects > 800


def test_no_secret_values_are_written(hydrated: Path) -> None:
    """kube-prometheus-stack 88.0.0 renders a random Grafana admin password (grafana
    templates/secret.yaml) and the Alertmanager config Secret unless told to use existing ones."""
    tree = hydrated / "generated"
    assert not [p for p in tree.rglob("secret-*.yaml") if load(p).get("data") or load(p).get("stringData")]
    grafana = load(
        tree
        / "staging-eu"
        / "components"
        / "monitoring"
        / "monitoring"
        / "deployment-kube-prometheus-stack-grafana.yaml"
    )
    env = {e["name"]: e for c in grafana["spec"]["template"]["spec"]["containers"] for e in c.get("env", [])}
    assert (
        env["GF_SECURITY_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"]
        == "kube-prometheus-stack-grafana"
    )


def test_a_values_change_shows_as_changed_rendered_objects(hydrated: Path, shared_charts: Path) -> None:
    """A new ingress domain changes kserve-resources' values (kserve.controller.gateway.domain);
    the diff names the rendered object it lands in: ConfigMap kserve/inferenceservice-config."""
    spec = hydrated / "platform-spec"

    def tree() -> dict[str, bytes]:
        model = load_platform(spec)
        return merged_tree(
            compile_model(model, ["staging-eu"], overlays_dir=EXAMPLE_OVERLAYS, charts_dir=shared_charts)
        )

    before = tree()
    cluster = spec / "clusters" / "staging-eu.yaml"
    original = cluster.read_text()
    cluster.write_text(original.replace("domain: staging.acme.internal", "domain: staging.acme.example"))
    try:
        after = tree()
    finally:
        cluster.write_text(original)
    changed = [(c.unit, c.label) for c in diff_trees(before, after).objects if c.change == "changed"]
    assert ("kserve", "ConfigMap kserve/inferenceservice-config") in changed


def test_hydrated_without_charts_is_refused(tmp_path: Path) -> None:
    spec = hydrated_spec(tmp_path)
    result = compile_cli(
        "--spec", str(spec), "--overlays", str(EXAMPLE_OVERLAYS), "--out", str(tmp_path / "out"), cwd=tmp_path
    )
    assert result.returncode == 1
    assert "gitops.render: hydrated" in result.stderr and "platformc charts pull" in result.stderr
    assert not (tmp_path / "out").exists()


def test_rbac_names_with_colons_are_written_inside_their_folder(hydrated: Path) -> None:
    """cert-manager v1.19.1 deploy/charts/cert-manager/templates/rbac.yaml names a ClusterRole
    `<fullname>-controller-approve:cert-manager-io`; hydrated output writes it as a file below the
    cluster folder (RBAC names are path segments, so ':' is allowed for RBAC kinds only)."""
    generated = (hydrated / "generated").resolve()
    written = sorted(generated.rglob("clusterrole-cert-manager-controller-approve:cert-manager-io.yaml"))
    assert written, "cert-manager's approve:cert-manager-io ClusterRole was not written"
    for path in written:
        assert path.resolve().is_relative_to(generated)
        assert load(path)["metadata"]["name"] == "cert-manager-controller-approve:cert-manager-io"


def test_custom_resources_wait_for_the_webhook_that_admits_them(hydrated: Path) -> None:
    """kserve-resources' ValidatingWebhookConfiguration (failurePolicy Fail) admits serving.kserve.io
    objects, so the ClusterServingRuntimes of `runtimes` sync after `kserve`, as they do when the
    charts are not hydrated (packaging/units.py gated_groups); otherwise a first Flux sync races
    the webhook's endpoint and the API server refuses them."""
    runtimes = load(hydrated / "generated" / "staging-eu" / "apps" / "kustomization-runtimes.yaml")
    assert {"name": "kserve"} in runtimes["spec"]["dependsOn"]
