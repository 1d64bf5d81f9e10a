"""Mutation tests: one edit to a compiled example tree, one finding on the right object and field.

Each case copies the example tree (platform-spec/ compiled with the stand-in AI stack, see
ai_fixture.py), changes one file, validates the copy with the shared CRD schemas and
expects an error with a given check, object and JSON path.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.validate import SchemaRegistry, validate_tree

A = "prod-us-east"  # Argo CD, Kubernetes 1.34 (DRA)
F = "staging-eu"  # Flux, Kubernetes 1.33
WAVE = "$.metadata.annotations['argocd.argoproj.io/sync-wave']"
Doc = dict[str, Any]


@dataclass(frozen=True)
class Mutation:
    name: str
    apply: Callable[[Path], None]
    expect: tuple[str, str, str | None, str, str]  # check, kind, namespace, name, JSON path


def edit(rel: str, change: Callable[[Doc], None]) -> Callable[[Path], None]:
    def apply(tree: Path) -> None:
        path = tree / rel
        doc = yaml.safe_load(path.read_text())
        change(doc)
        path.write_text(yaml.safe_dump(doc, sort_keys=False))

    return apply


def delete(rel: str) -> Callable[[Path], None]:
    def apply(tree: Path) -> None:
        (tree / rel).unlink()

    return apply


def add(rel: str, doc: Doc) -> Callable[[Path], None]:
    def apply(tree: Path) -> None:
        (tree / rel).write_text(yaml.safe_dump(doc, sort_keys=False))

    return apply


def move(rel: str, to: str) -> Callable[[Path], None]:
    def apply(tree: Path) -> None:
        (tree / to).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).rename(tree / to)

    return apply


def move_to_namespace(rel: str, namespace: str) -> Callable[[Path], None]:
    """Set metadata.namespace and move the file to the folder of that namespace, as an edit would."""

    def apply(tree: Path) -> None:
        src = tree / rel
        doc = yaml.safe_load(src.read_text())
        doc["metadata"]["namespace"] = namespace
        dst = src.parent.parent / namespace / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(yaml.safe_dump(doc, sort_keys=False))
        src.unlink()

    return apply


def setter(*path: str | int, value: Any) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        node: Any = doc
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return change


def drop(*path: str | int) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        node: Any = doc
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return change


def rename_key(*path: str, new: str) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        node: Any = doc
        for part in path[:-1]:
            node = node[part]
        node[new] = node.pop(path[-1])

    return change


def container(**fields: Any) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        doc["spec"]["template"]["spec"]["containers"][0].update(fields)

    return change


AI_CFG = f"{A}/components/fixture-ai-config"
AI = f"{A}/components/fixture-ai"
F_CFG = f"{F}/components/fixture-ai-config"
F_AI = f"{F}/components/fixture-ai"
NET = f"{A}/components/network/ai-research"
TEN = f"{A}/components/tenancy"
GUARD = f"{A}/components/guardrails"
PARAMS = f"{A}/components/guard-params"
C0 = "$.spec.template.spec.containers[0]"

SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "db-password", "namespace": "ai-research"},
    "stringData": {"password": "hunter2"},
}
# Cilium is not part of the platform: no chart in the tree installs cilium.io CRDs.
CILIUM_POLICY = {
    "apiVersion": "cilium.io/v2",
    "kind": "CiliumNetworkPolicy",
    "metadata": {"name": "l7-allow", "namespace": "ai-research"},
    "spec": {"endpointSelector": {}},
}


def same_wave_as_chart(tree: Path) -> None:
    """Give the real Kueue config Application the wave of the Application with the kueue chart."""
    chart_app = yaml.safe_load((tree / f"{A}/apps/application-prod-us-east-kueue.yaml").read_text())
    wave = chart_app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
    edit(
        f"{A}/apps/application-prod-us-east-kueue-config.yaml",
        setter("metadata", "annotations", "argocd.argoproj.io/sync-wave", value=wave),
    )(tree)


MUTATIONS = [
    # --- schema: fields, types, versions
    Mutation(
        "typo'd field in a ClusterQueue",
        edit(
            f"{AI_CFG}/clusterqueue-fixture-ai-research.yaml",
            rename_key("spec", "cohortName", new="cohortNmae"),
        ),
        ("schema", "ClusterQueue", None, "fixture-ai-research", "$.spec.cohortNmae"),
    ),
    Mutation(
        "wrong type in an InferenceService",
        edit(
            f"{AI_CFG}/ai-research/inferenceservice-fixture-chat.yaml",
            setter("spec", "predictor", "minReplicas", value="one"),
        ),
        ("schema", "InferenceService", "ai-research", "fixture-chat", "$.spec.predictor.minReplicas"),
    ),
    Mutation(
        "unknown field in a NetworkPolicy",
        edit(f"{NET}/networkpolicy-allow-dns.yaml", rename_key("spec", "podSelector", new="podSelectr")),
        ("schema", "NetworkPolicy", "ai-research", "allow-dns", "$.spec.podSelectr"),
    ),
    Mutation(
        "wrong apiVersion",
        edit(
            f"{AI_CFG}/ai-research/localqueue-fixture.yaml", setter("apiVersion", value="kueue.x-k8s.io/v1")
        ),
        ("missing-schema", "LocalQueue", "ai-research", "fixture", "$"),
    ),
    Mutation(
        "wrong type in a Deployment",
        edit(f"{AI}/ai-research/deployment-fixture-worker.yaml", setter("spec", "replicas", value="two")),
        ("schema", "Deployment", "ai-research", "fixture-worker", "$.spec.replicas"),
    ),
    Mutation(
        "unknown field in a ResourceQuota",
        edit(f"{TEN}/ai-research/resourcequota-ai-research.yaml", rename_key("spec", "hard", new="hrad")),
        ("schema", "ResourceQuota", "ai-research", "ai-research", "$.spec.hrad"),
    ),
    Mutation(
        "copied object (duplicate identity)",
        lambda t: shutil.copy(
            t / f"{NET}/networkpolicy-allow-dns.yaml", t / f"{NET}/networkpolicy-copy.yaml"
        ),
        ("duplicate", "NetworkPolicy", "ai-research", "allow-dns", "$.metadata.name"),
    ),
    # --- references
    Mutation(
        "LocalQueue pointing nowhere",
        edit(f"{AI_CFG}/ai-research/localqueue-fixture.yaml", setter("spec", "clusterQueue", value="nope")),
        ("reference", "LocalQueue", "ai-research", "fixture", "$.spec.clusterQueue"),
    ),
    Mutation(
        "ClusterQueue flavor that does not exist",
        edit(
            f"{AI_CFG}/clusterqueue-fixture-ai-research.yaml",
            lambda d: d["spec"]["resourceGroups"][0]["flavors"][0].update(name="a100"),
        ),
        (
            "reference",
            "ClusterQueue",
            None,
            "fixture-ai-research",
            "$.spec.resourceGroups[0].flavors[0].name",
        ),
    ),
    Mutation(
        "ResourceFlavor deleted",
        delete(f"{AI_CFG}/resourceflavor-fixture-h100.yaml"),
        (
            "reference",
            "ClusterQueue",
            None,
            "fixture-ai-research",
            "$.spec.resourceGroups[0].flavors[0].name",
        ),
    ),
    Mutation(
        "Cohort deleted",
        delete(f"{AI_CFG}/cohort-fixture-pool.yaml"),
        ("reference", "ClusterQueue", None, "fixture-ai-research", "$.spec.cohortName"),
    ),
    Mutation(
        "Cohort parent that does not exist",
        edit(f"{AI_CFG}/cohort-fixture-pool.yaml", setter("spec", "parentName", value="org")),
        ("reference", "Cohort", None, "fixture-pool", "$.spec.parentName"),
    ),
    Mutation(
        "InferenceService runtime that does not exist",
        edit(
            f"{AI_CFG}/ai-research/inferenceservice-fixture-chat.yaml",
            setter("spec", "predictor", "model", "runtime", value="vllm-custom"),
        ),
        ("reference", "InferenceService", "ai-research", "fixture-chat", "$.spec.predictor.model.runtime"),
    ),
    Mutation(
        "ResourceClaimTemplate naming an unknown DeviceClass",
        edit(
            f"{AI}/ai-research/resourceclaimtemplate-fixture-gpu.yaml",
            lambda d: d["spec"]["spec"]["devices"]["requests"][0]["exactly"].update(
                deviceClassName="gpu-b200"
            ),
        ),
        (
            "reference",
            "ResourceClaimTemplate",
            "ai-research",
            "fixture-gpu",
            "$.spec.spec.devices.requests[0].exactly.deviceClassName",
        ),
    ),
    Mutation(
        "DeviceClass deleted",
        delete(f"{A}/components/dra/deviceclass-gpu-h100.yaml"),
        (
            "reference",
            "ResourceClaimTemplate",
            "ai-research",
            "fixture-gpu",
            "$.spec.spec.devices.requests[0].exactly.deviceClassName",
        ),
    ),
    Mutation(
        "pod claim naming a template that does not exist",
        edit(
            f"{AI}/ai-research/deployment-fixture-worker.yaml",
            lambda d: d["spec"]["template"]["spec"]["resourceClaims"][0].update(
                resourceClaimTemplateName="gpux"
            ),
        ),
        (
            "reference",
            "Deployment",
            "ai-research",
            "fixture-worker",
            "$.spec.template.spec.resourceClaims[0].resourceClaimTemplateName",
        ),
    ),
    Mutation(
        "container claim not declared by the pod",
        edit(
            f"{AI}/ai-research/deployment-fixture-worker.yaml",
            container(resources={"claims": [{"name": "gpu2"}]}),
        ),
        ("reference", "Deployment", "ai-research", "fixture-worker", f"{C0}.resources.claims[0].name"),
    ),
    Mutation(
        "Application path to a folder that does not exist",
        edit(
            f"{A}/apps/application-prod-us-east-tenancy.yaml",
            setter("spec", "source", "path", value="generated/prod-us-east/components/tenancyy"),
        ),
        ("reference", "Application", "argocd", "prod-us-east-tenancy", "$.spec.source.path"),
    ),
    Mutation(
        "Application path outside the cluster's tree",
        edit(
            f"{A}/apps/application-prod-us-east-network.yaml",
            setter("spec", "source", "path", value="generated/staging/components/network"),
        ),
        ("reference", "Application", "argocd", "prod-us-east-network", "$.spec.source.path"),
    ),
    Mutation(
        "Application project that does not exist",
        edit(
            f"{A}/apps/application-prod-us-east-network.yaml",
            setter("spec", "project", value="prod-us-east-platfrom"),
        ),
        ("reference", "Application", "argocd", "prod-us-east-network", "$.spec.project"),
    ),
    Mutation(
        "NetworkPolicy in a namespace nobody creates",
        move_to_namespace(
            f"{A}/components/network/ml-platform/networkpolicy-default-deny-egress.yaml", "ml-platfrom"
        ),
        ("reference", "NetworkPolicy", "ml-platfrom", "default-deny-egress", "$.metadata.namespace"),
    ),
    Mutation(
        "Application destination namespace that nobody creates",
        edit(
            f"{A}/apps/application-prod-us-east-kueue.yaml",
            setter("spec", "destination", "namespace", value="kueue-sytem"),
        ),
        ("reference", "Application", "argocd", "prod-us-east-kueue", "$.spec.destination.namespace"),
    ),
    Mutation(
        "HelmRelease targetNamespace that nobody creates",
        edit(
            f"{F}/components/gpu-operator/flux-system/helmrelease-gpu-operator.yaml",
            setter("spec", "targetNamespace", value="gpu-operater"),
        ),
        ("reference", "HelmRelease", "flux-system", "gpu-operator", "$.spec.targetNamespace"),
    ),
    Mutation(
        "dependsOn an unknown Kustomization",
        edit(
            f"{F}/apps/kustomization-fixture-ai-config.yaml",
            setter("spec", "dependsOn", 1, "name", value="tenancyy"),
        ),
        ("reference", "Kustomization", "flux-system", "fixture-ai-config", "$.spec.dependsOn[1].name"),
    ),
    Mutation(
        "Kustomization path to a folder that does not exist",
        edit(
            f"{F}/apps/kustomization-network.yaml",
            setter("spec", "path", value="./generated/staging-eu/components/netwrk"),
        ),
        ("reference", "Kustomization", "flux-system", "network", "$.spec.path"),
    ),
    Mutation(
        "Kustomization sourceRef to a missing GitRepository",
        edit(f"{F}/apps/kustomization-network.yaml", setter("spec", "sourceRef", "name", value="platfrom")),
        ("reference", "Kustomization", "flux-system", "network", "$.spec.sourceRef.name"),
    ),
    Mutation(
        "HelmRelease chartRef to a missing OCIRepository",
        edit(
            f"{F_AI}/flux-system/helmrelease-fixture-kueue.yaml",
            setter("spec", "chartRef", "name", value="no-such-repo"),
        ),
        ("reference", "HelmRelease", "flux-system", "fixture-kueue", "$.spec.chartRef.name"),
    ),
    # --- ordering
    Mutation(
        "custom resources moved into the wave of their CRD's chart",
        same_wave_as_chart,
        ("ordering", "Application", "argocd", "prod-us-east-kueue-config", WAVE),
    ),
    Mutation(
        "custom resources moved into an earlier wave than their CRD's chart",
        edit(
            f"{A}/apps/application-prod-us-east-fixture-ai-config.yaml",
            setter("metadata", "annotations", "argocd.argoproj.io/sync-wave", value="-1"),
        ),
        ("ordering", "Application", "argocd", "prod-us-east-fixture-ai-config", WAVE),
    ),
    Mutation(
        "custom resource file moved into a unit synced before its chart",
        move(f"{AI_CFG}/cohort-fixture-pool.yaml", f"{TEN}/cohort-fixture-pool.yaml"),
        ("ordering", "Application", "argocd", "prod-us-east-tenancy", WAVE),
    ),
    Mutation(
        "Flux Kustomization whose dependsOn lost the chart unit",
        edit(
            f"{F}/apps/kustomization-fixture-ai-config.yaml",
            setter("spec", "dependsOn", value=[{"name": "tenancy"}]),
        ),
        ("ordering", "Kustomization", "flux-system", "fixture-ai-config", "$.spec.dependsOn"),
    ),
    Mutation(
        "chart that creates ServiceMonitors synced in the same wave as the Prometheus Operator chart",
        edit(
            f"{A}/apps/application-prod-us-east-gpu-operator.yaml",
            setter("metadata", "annotations", "argocd.argoproj.io/sync-wave", value="0"),
        ),
        ("ordering", "Application", "argocd", "prod-us-east-gpu-operator", WAVE),
    ),
    Mutation(
        "KServe controller chart no longer waits for cert-manager (Flux)",
        edit(
            f"{F}/apps/kustomization-kserve.yaml",
            setter("spec", "dependsOn", value=[{"name": "kserve-crds"}]),
        ),
        ("ordering", "Kustomization", "flux-system", "kserve", "$.spec.dependsOn"),
    ),
    Mutation(
        "custom resource of a group no chart installs",
        add(f"{NET}/ciliumnetworkpolicy-l7-allow.yaml", CILIUM_POLICY),
        ("ordering", "CiliumNetworkPolicy", "ai-research", "l7-allow", "$.apiVersion"),
    ),
    Mutation(
        "sync-wave that is not a number",
        edit(
            f"{A}/apps/application-prod-us-east-network.yaml",
            setter("metadata", "annotations", "argocd.argoproj.io/sync-wave", value="early"),
        ),
        ("ordering", "Application", "argocd", "prod-us-east-network", WAVE),
    ),
    # --- security baseline
    Mutation(
        "missing default-deny ingress (file deleted)",
        delete(f"{NET}/networkpolicy-default-deny-ingress.yaml"),
        ("PSB001", "Namespace", None, "ai-research", "$"),
    ),
    Mutation(
        "default-deny egress that allows everything",
        edit(f"{NET}/networkpolicy-default-deny-egress.yaml", setter("spec", "egress", value=[{}])),
        ("PSB001", "Namespace", None, "ai-research", "$"),
    ),
    Mutation(
        "removed PSA label",
        edit(
            f"{TEN}/namespace-ai-research.yaml",
            drop("metadata", "labels", "pod-security.kubernetes.io/enforce"),
        ),
        (
            "PSB002",
            "Namespace",
            None,
            "ai-research",
            "$.metadata.labels['pod-security.kubernetes.io/enforce']",
        ),
    ),
    Mutation(
        "team namespace made privileged",
        edit(
            f"{TEN}/namespace-ai-research.yaml",
            setter("metadata", "labels", "pod-security.kubernetes.io/enforce", value="privileged"),
        ),
        (
            "PSB002",
            "Namespace",
            None,
            "ai-research",
            "$.metadata.labels['pod-security.kubernetes.io/enforce']",
        ),
    ),
    Mutation(
        "removed ResourceQuota",
        delete(f"{TEN}/ai-research/resourcequota-ai-research.yaml"),
        ("PSB003", "Namespace", None, "ai-research", "$"),
    ),
    Mutation(
        "removed LimitRange",
        delete(f"{TEN}/ai-research/limitrange-defaults.yaml"),
        ("PSB004", "Namespace", None, "ai-research", "$"),
    ),
    Mutation(
        "privileged container in a team namespace",
        edit(
            f"{AI}/ai-research/deployment-fixture-worker.yaml",
            container(securityContext={"privileged": True}),
        ),
        ("PSB005", "Deployment", "ai-research", "fixture-worker", f"{C0}.securityContext.privileged"),
    ),
    Mutation(
        "privileged model container in an InferenceService",
        edit(
            f"{AI_CFG}/ai-research/inferenceservice-fixture-chat.yaml",
            lambda d: d["spec"]["predictor"]["model"].update(securityContext={"privileged": True}),
        ),
        (
            "PSB005",
            "InferenceService",
            "ai-research",
            "fixture-chat",
            "$.spec.predictor.model.securityContext.privileged",
        ),
    ),
    Mutation(
        "Secret with data (file added)",
        add(f"{TEN}/ai-research/secret-db-password.yaml", SECRET),
        ("PSB006", "Secret", "ai-research", "db-password", "$.stringData"),
    ),
    Mutation(
        "GPU requested without a limit",
        edit(
            f"{F_AI}/ai-research/deployment-fixture-worker.yaml",
            container(resources={"requests": {"nvidia.com/gpu": "1"}}),
        ),
        ("PSB007", "Deployment", "ai-research", "fixture-worker", f"{C0}.resources.limits"),
    ),
    Mutation(
        "GPU node selector without GPU limits",
        edit(
            f"{F_AI}/ai-research/deployment-fixture-worker.yaml",
            container(resources={"limits": {"cpu": "1"}}),
        ),
        (
            "PSB007",
            "Deployment",
            "ai-research",
            "fixture-worker",
            "$.spec.template.spec.nodeSelector['nvidia.com/gpu.product']",
        ),
    ),
    Mutation(
        ":latest image",
        edit(
            f"{AI}/ai-research/deployment-fixture-worker.yaml", container(image="ghcr.io/acme/trainer:latest")
        ),
        ("PSB008", "Deployment", "ai-research", "fixture-worker", f"{C0}.image"),
    ),
    Mutation(
        "image without a tag",
        edit(
            f"{F_AI}/ai-research/deployment-fixture-worker.yaml",
            container(image="registry:5000/acme/trainer"),
        ),
        ("PSB008", "Deployment", "ai-research", "fixture-worker", f"{C0}.image"),
    ),
    # Guardrails (compiler/validate/admission.py).
    Mutation(
        "admission policy field typo",
        edit(
            f"{GUARD}/validatingadmissionpolicy-platformc-host-access-pods.yaml",
            lambda d: d["spec"]["variables"][1].update(
                expression=d["spec"]["variables"][1]["expression"].replace(".volumes", ".volumez")
            ),
        ),
        ("cel", "ValidatingAdmissionPolicy", None, "platformc-host-access-pods", "$.spec"),
    ),
    Mutation(
        "DeviceClass selector typo",
        edit(
            f"{A}/components/dra/deviceclass-gpu-h100.yaml",
            lambda d: d["spec"]["selectors"][0]["cel"].update(
                expression=d["spec"]["selectors"][0]["cel"]["expression"].replace("attributes", "attribute")
            ),
        ),
        ("cel", "DeviceClass", None, "gpu-h100", "$.spec.selectors[0].cel.expression"),
    ),
    Mutation(
        "guardrail params deleted",
        delete(f"{PARAMS}/ai-research/configmap-platformc-guardrails.yaml"),
        (
            "params",
            "ValidatingAdmissionPolicyBinding",
            None,
            "platformc-host-access-pods-deny",
            "$.spec.paramRef",
        ),
    ),
    Mutation(
        "guardrail params synced with the bindings",
        move(
            f"{PARAMS}/ai-research/configmap-platformc-guardrails.yaml",
            f"{GUARD}/configmap-platformc-guardrails.yaml",
        ),
        (
            "params",
            "ValidatingAdmissionPolicyBinding",
            None,
            "platformc-host-access-pods-deny",
            "$.spec.paramRef",
        ),
    ),
    Mutation(
        "workload the tree's own guardrails refuse",
        edit(
            f"{AI}/ai-research/deployment-fixture-worker.yaml",
            lambda d: d["spec"]["template"]["spec"].update(hostNetwork=True),
        ),
        ("admission", "Deployment", "ai-research", "fixture-worker", "$"),
    ),
]


@pytest.fixture(scope="module")
def shared_registry(crds_dir: Path) -> SchemaRegistry:
    return SchemaRegistry([crds_dir])


def test_unmutated_tree_passes(example_tree: Path, shared_registry: SchemaRegistry) -> None:
    report = validate_tree(example_tree, registry=shared_registry)
    assert [f.format() for f in report.sorted()] == []
    assert report.objects > 100


def test_mutations_are_distinct_and_many() -> None:
    assert len({m.name for m in MUTATIONS}) == len(MUTATIONS) >= 30


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.name for m in MUTATIONS])
def test_mutation_is_caught(
    mutation: Mutation, example_tree: Path, tmp_path: Path, shared_registry: SchemaRegistry
) -> None:
    tree = tmp_path / "generated"
    shutil.copytree(example_tree, tree)
    mutation.apply(tree)
    report = validate_tree(tree, registry=shared_registry)
    found = {(f.check, f.kind, f.namespace, f.name, f.path) for f in report.errors}
    assert mutation.expect in found, "\n".join(f.format() for f in report.errors)
