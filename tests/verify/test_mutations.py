"""Mutation suite: single realistic edits of the compiled example tree, each caught by exactly the
intended verify rule, naming the object.

The base is the compiled example tree (generated/) as it is, with the node-pool contract compile
wrote for it. The first test proves that base clean, so every finding of a mutation is the
mutation's.

Upstream sources are named on each rule (compiler/verify/findings.py) and in the modules:
Pod Security (kubernetes/pod-security-admission policy/), LimitRanger and ResourceQuota
(kubernetes/kubernetes plugin/pkg/admission), Kueue v0.19.2 (jobframework defaults, flavorassigner),
the DRA driver v0.4.1 (cmd/gpu-kubelet-plugin/deviceinfo.go, mig.go), the scheduler's node affinity
and taint plugins, NetworkPolicy semantics, the RBAC bootstrap roles, KServe v0.20.0 (predictor.go).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.verify.tree_edits import (
    Pairs,
    add,
    application,
    contract,
    example_pairs,
    kueue_config,
    objects,
    one,
    remove,
    verify_pairs,
)

PROD, STAGING = "prod-us-east", "staging-eu"


@functools.cache
def example(cluster: str) -> tuple[tuple[str, dict], ...]:
    return tuple(example_pairs(cluster))


def run(cluster: str, edit: Callable[[Pairs], None] | None) -> list:
    import copy

    pairs = copy.deepcopy(list(example(cluster)))
    if edit is not None:
        edit(pairs)
    return verify_pairs(cluster, pairs, contract(cluster))


@pytest.mark.parametrize("cluster", [PROD, STAGING])
def test_example_is_clean(cluster: str, shared_charts: Path) -> None:
    findings = run(cluster, None)
    assert [f.format() for f in findings] == []


# --- the edits ------------------------------------------------------------------------------------


def drop_predictor_seccomp(p: Pairs) -> None:
    del one(p, "InferenceService", "chat-llm", "ai-research")["spec"]["predictor"]["securityContext"][
        "seccompProfile"
    ]


def deviceclass_unknown_product(p: Pairs) -> None:
    cls = one(p, "DeviceClass", "gpu-h100")
    expr = cls["spec"]["selectors"][0]["cel"]["expression"]
    cls["spec"]["selectors"][0]["cel"]["expression"] = expr.replace(
        "NVIDIA-H100-80GB-HBM3", "NVIDIA-H200-141GB-HBM3e"
    )


def deviceclass_any_gpu(p: Pairs) -> None:
    one(p, "DeviceClass", "gpu-h100")["spec"]["selectors"][0]["cel"]["expression"] = (
        'device.driver == "gpu.nvidia.com"'
    )


def claim_larger_than_node(p: Pairs) -> None:
    one(p, "ResourceClaimTemplate", "h100-1", "ai-research")["spec"]["spec"]["devices"]["requests"][0][
        "exactly"
    ]["count"] = 9


def remove_dns_allow(p: Pairs) -> None:
    remove(p, "NetworkPolicy", "allow-dns", "ml-platform")


def bind_group_to_edit(p: Pairs) -> None:
    add(
        p,
        PROD,
        "tenancy",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "devs-edit", "namespace": "ai-research"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
            "subjects": [
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "ai-research-devs"}
            ],
        },
    )


def kueue_deployment_integration(p: Pairs) -> None:
    config, write = kueue_config(p)
    config["integrations"]["frameworks"].append("deployment")
    write(config)


def canary_weights_not_100(p: Pairs) -> None:
    route = next(objects(p, "HTTPRoute", namespace="ai-research"))
    route["spec"]["rules"][0]["backendRefs"][0]["weight"] = 80


def crd_in_two_units(p: Pairs) -> None:
    add(
        p,
        PROD,
        "kueue-config",
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "localqueues.kueue.x-k8s.io"},
            "spec": {
                "group": "kueue.x-k8s.io",
                "names": {"kind": "LocalQueue", "plural": "localqueues"},
                "scope": "Namespaced",
                "versions": [{"name": "v1beta2", "served": True, "storage": True}],
            },
        },
    )


def quota_below_one_replica(p: Pairs) -> None:
    one(p, "ResourceQuota", "ai-research", "ai-research")["spec"]["hard"]["requests.memory"] = "1536Mi"


def limit_range_max_below_limit(p: Pairs) -> None:
    one(p, "LimitRange", "defaults", "app-frontend")["spec"]["limits"][0]["max"] = {"cpu": "1"}


def policy_denies_deployments(p: Pairs) -> None:
    add(
        p,
        PROD,
        "overlays",
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": "require-owner-label"},
            "spec": {
                "failurePolicy": "Fail",
                "matchConstraints": {
                    "resourceRules": [
                        {
                            "apiGroups": ["apps"],
                            "apiVersions": ["v1"],
                            "operations": ["CREATE"],
                            "resources": ["deployments"],
                        }
                    ]
                },
                "validations": [
                    {
                        "expression": "has(object.metadata.labels) && 'acme.com/owner' in object.metadata.labels",
                        "message": "Deployments need an acme.com/owner label",
                    }
                ],
            },
        },
    )
    add(
        p,
        PROD,
        "overlays",
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": "require-owner-label"},
            "spec": {
                "policyName": "require-owner-label",
                "validationActions": ["Deny"],
                "matchResources": {
                    "namespaceSelector": {"matchLabels": {"platformc.dev/team": "ai-research"}}
                },
            },
        },
    )


def remove_local_queue(p: Pairs) -> None:
    remove(p, "LocalQueue", "default", "ml-platform")


def cluster_queue_without_h100(p: Pairs) -> None:
    cq = one(p, "ClusterQueue", "ml-platform")
    for group in cq["spec"]["resourceGroups"]:
        for flavor in group["flavors"]:
            for res in flavor["resources"]:
                if flavor["name"] == "h100":
                    res["nominalQuota"] = 0
                    res["borrowingLimit"] = 0


def drop_predictor_tolerations(p: Pairs) -> None:
    del one(p, "InferenceService", "chat-llm", "ai-research")["spec"]["predictor"]["tolerations"]


def predictor_selects_missing_product(p: Pairs) -> None:
    isvc = one(p, "InferenceService", "chat-llm", "ai-research")
    isvc["spec"]["predictor"]["nodeSelector"]["nvidia.com/gpu.product"] = "NVIDIA-H100-NVL"


def mig_config_renamed(p: Pairs) -> None:
    cm = one(p, "ConfigMap", "platformc-mig-parted-config", "gpu-operator")
    cm["data"]["config.yaml"] = cm["data"]["config.yaml"].replace("a100-mig-1g10gb:", "a100-1g10gb:")


def remove_gateway_allow(p: Pairs) -> None:
    remove(p, "NetworkPolicy", "allow-serving-chat-llm", "ai-research")


def remove_monitoring_scrape(p: Pairs) -> None:
    remove(p, "NetworkPolicy", "allow-monitoring-scrape", "ai-research")


def allow_all_ingress(p: Pairs) -> None:
    add(
        p,
        PROD,
        "network",
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "allow-all-namespaces", "namespace": "ai-research"},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"namespaceSelector": {}}]}],
            },
        },
    )
    add(
        p,
        PROD,
        "network",
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "allow-all-egress", "namespace": "ml-platform"},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [{"to": [{"namespaceSelector": {}}]}],
            },
        },
    )


def allow_internet_egress(p: Pairs) -> None:
    add(
        p,
        PROD,
        "network",
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "allow-internet", "namespace": "ml-platform"},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}],
            },
        },
    )


def remove_model_store_egress(p: Pairs) -> None:
    for np in list(objects(p, "NetworkPolicy", namespace="ai-research")):
        if any("ipBlock" in peer for rule in np["spec"].get("egress") or () for peer in rule.get("to") or ()):
            remove(p, "NetworkPolicy", np["metadata"]["name"], "ai-research")


def serving_same_wave_as_kserve(p: Pairs) -> None:
    wave = application(p, "kserve")["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
    application(p, "serving")["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] = wave


def remove_health_customization(p: Pairs) -> None:
    remove(p, "ConfigMap", "argocd-cm", "argocd")


def uncap_team_device_class(p: Pairs) -> None:
    """The gpuAccess policy lets the team claim through gpu-h100; only its quota line counts them.
    (The driver's own classes are capped at 0 by ResourceQuota no-other-gpus and refused by the
    policy, so dropping one of those two alone is no bypass.)"""
    del one(p, "ResourceQuota", "ai-research", "ai-research")["spec"]["hard"][
        "gpu-h100.deviceclass.resource.k8s.io/devices"
    ]


def unknown_runtime(p: Pairs) -> None:
    one(p, "InferenceService", "chat-llm", "ai-research")["spec"]["predictor"]["model"]["runtime"] = (
        "kserve-nosuchserver"
    )


def kubelet_plugin_without_tolerations(p: Pairs) -> None:
    application(p, "dra")["spec"]["sources"][0]["helm"]["valuesObject"]["kubeletPlugin"]["tolerations"] = []


def time_sliced_selector_without_shared(p: Pairs) -> None:
    sel = one(p, "InferenceService", "embeddings", "app-frontend")["spec"]["predictor"]["nodeSelector"]
    sel["nvidia.com/gpu.product"] = sel["nvidia.com/gpu.product"].removesuffix("-SHARED")


def resource_flavor_without_shared(p: Pairs) -> None:
    labels = one(p, "ResourceFlavor", "l40s-shared")["spec"]["nodeLabels"]
    labels["nvidia.com/gpu.product"] = labels["nvidia.com/gpu.product"].removesuffix("-SHARED")


def privileged_batch_namespace(p: Pairs) -> None:
    """A chart workload moved into a restricted team namespace (kube-state-metrics lacks seccomp)."""
    ns = one(p, "Namespace", "monitoring")
    ns["metadata"].setdefault("labels", {})["pod-security.kubernetes.io/enforce"] = "restricted"


@dataclass(frozen=True)
class Mutation:
    id: str
    cluster: str
    edit: Callable[[Pairs], None]
    rule: str
    object: str  # the object every finding names (prefix)


MUTATIONS = [
    Mutation(
        "drop-predictor-seccomp",
        PROD,
        drop_predictor_seccomp,
        "admission.pod-security",
        "InferenceService/ai-research/chat-llm",
    ),
    Mutation(
        "deviceclass-unknown-product",
        PROD,
        deviceclass_unknown_product,
        "dra.class-selects-nothing",
        "DeviceClass/gpu-h100",
    ),
    Mutation(
        "deviceclass-any-gpu",
        PROD,
        deviceclass_any_gpu,
        "dra.class-selects-other-flavor",
        "DeviceClass/gpu-h100",
    ),
    Mutation(
        "claim-larger-than-node",
        PROD,
        claim_larger_than_node,
        "dra.claim-unsatisfiable",
        "Job/ai-research/verify-batch-h100",
    ),
    Mutation("remove-dns-allow", PROD, remove_dns_allow, "network.intended-flow-denied", "Job/ml-platform/"),
    Mutation(
        "bind-group-to-edit",
        PROD,
        bind_group_to_edit,
        "rbac.team-writes-isolation",
        "RoleBinding/ai-research/devs-edit",
    ),
    Mutation(
        "kueue-deployment-integration",
        PROD,
        kueue_deployment_integration,
        "kueue.manages-serving",
        "InferenceService/ai-research/chat-llm",
    ),
    Mutation(
        "canary-weights-not-100",
        PROD,
        canary_weights_not_100,
        "serving.canary-traffic",
        "HTTPRoute/ai-research/",
    ),
    Mutation(
        "crd-in-two-units",
        PROD,
        crd_in_two_units,
        "gitops.crd-two-units",
        "CustomResourceDefinition/localqueues.kueue.x-k8s.io",
    ),
    Mutation(
        "quota-below-one-replica",
        PROD,
        quota_below_one_replica,
        "admission.resource-quota",
        "InferenceService/ai-research/chat-llm",
    ),
    Mutation(
        "limit-range-max-below-limit",
        PROD,
        limit_range_max_below_limit,
        "admission.limit-range",
        "Job/app-frontend/verify-batch-h100",
    ),
    Mutation(
        "policy-denies-deployments",
        PROD,
        policy_denies_deployments,
        "admission.validating-policy",
        "InferenceService/ai-research/chat-llm",
    ),
    Mutation("remove-local-queue", PROD, remove_local_queue, "kueue.inadmissible", "Job/ml-platform/"),
    Mutation(
        "cluster-queue-without-h100",
        PROD,
        cluster_queue_without_h100,
        "kueue.inadmissible",
        "Job/ml-platform/verify-batch-h100",
    ),
    Mutation(
        "drop-predictor-tolerations",
        PROD,
        drop_predictor_tolerations,
        "scheduling.taint-toleration",
        "InferenceService/ai-research/chat-llm",
    ),
    Mutation(
        "predictor-missing-product",
        PROD,
        predictor_selects_missing_product,
        "scheduling.node-affinity",
        "InferenceService/ai-research/chat-llm",
    ),
    Mutation(
        "mig-config-renamed", PROD, mig_config_renamed, "gpu.mig-unpartitioned", "NodePool/a100-mig-pool"
    ),
    Mutation(
        "remove-gateway-allow",
        PROD,
        remove_gateway_allow,
        "network.intended-flow-denied",
        "InferenceService/ai-research/chat-llm",
    ),
    Mutation(
        "remove-monitoring-scrape",
        PROD,
        remove_monitoring_scrape,
        "network.intended-flow-denied",
        "InferenceService/ai-research/chat-llm",
    ),
    Mutation(
        "allow-all-ingress",
        PROD,
        allow_all_ingress,
        "network.unintended-flow-allowed",
        "InferenceService/ai-research/chat-llm",
    ),
    Mutation(
        "allow-internet-egress",
        PROD,
        allow_internet_egress,
        "network.unintended-flow-allowed",
        "Job/ml-platform/",
    ),
    Mutation(
        "remove-model-store-egress",
        PROD,
        remove_model_store_egress,
        "network.model-store-unreachable",
        "InferenceService/ai-research/chat-llm",
    ),
    Mutation(
        "serving-same-wave-as-kserve",
        PROD,
        serving_same_wave_as_kserve,
        "gitops.webhook-after-objects",
        "InferenceService/ai-research/chat-llm",
    ),
    Mutation(
        "remove-health-customization",
        PROD,
        remove_health_customization,
        "gitops.wave-not-gated",
        "ConfigMap/argocd/argocd-cm",
    ),
    Mutation(
        "uncap-team-device-class", PROD, uncap_team_device_class, "dra.quota-bypass", "Namespace/ai-research"
    ),
    Mutation(
        "unknown-runtime",
        PROD,
        unknown_runtime,
        "serving.model-invalid",
        "InferenceService/ai-research/chat-llm",
    ),
    Mutation(
        "kubelet-plugin-without-tolerations",
        PROD,
        kubelet_plugin_without_tolerations,
        "scheduling.taint-toleration",
        "DaemonSet/dra-driver-nvidia-gpu/",
    ),
    Mutation(
        "time-sliced-selector-without-shared",
        STAGING,
        time_sliced_selector_without_shared,
        "scheduling.node-affinity",
        "InferenceService/app-frontend/embeddings",
    ),
    Mutation(
        "resource-flavor-without-shared",
        STAGING,
        resource_flavor_without_shared,
        "scheduling.node-affinity",
        "Job/",
    ),
    Mutation(
        "restricted-monitoring-namespace",
        STAGING,
        privileged_batch_namespace,
        "admission.pod-security",
        "DaemonSet/monitoring/",
    ),
]


def test_suite_is_large_enough() -> None:
    assert len(MUTATIONS) >= 25
    assert len({m.id for m in MUTATIONS}) == len(MUTATIONS)


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.id for m in MUTATIONS])
def test_mutation_is_caught_by_its_rule(mutation: Mutation, shared_charts: Path) -> None:
    findings = run(mutation.cluster, mutation.edit)
    assert findings, f"{mutation.id}: not caught"
    assert {f.rule for f in findings} == {mutation.rule}, [f.format() for f in findings]
    assert any(f.object.startswith(mutation.object) for f in findings), [f.format() for f in findings]
    assert all(f.source and f.record()["fix"] for f in findings)
