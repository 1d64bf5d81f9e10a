"""Verify's rules (stable ids, each with its upstream source and the usual fix) and findings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rule:
    id: str
    area: str  # admission | scheduling | network | rbac | gitops | serving
    title: str
    source: str  # the upstream file or document the behaviour comes from
    fix: str


_RULES = (
    Rule(
        "admission.pod-security",
        "admission",
        "Pod Security admission rejects the pod at its namespace's enforce level",
        "kubernetes.io/docs/concepts/security/pod-security-standards; kubernetes/pod-security-admission "
        "policy/check_<rule>.go",
        "set the pod/container securityContext fields the rule names (in the InferenceService, the chart "
        "values or the Job template)",
    ),
    Rule(
        "admission.limit-range",
        "admission",
        "LimitRanger rejects the container after defaulting (min/max/ratio)",
        "kubernetes/kubernetes plugin/pkg/admission/limitranger/admission.go",
        "raise the LimitRange max (or lower the request/limit) so the defaulted container fits",
    ),
    Rule(
        "admission.resource-quota",
        "admission",
        "ResourceQuota rejects the pod: one replica's requests exceed what the quota allows",
        "kubernetes/kubernetes pkg/quota/v1/evaluator/core/pods.go, plugin/pkg/admission/resourcequota",
        "raise the team's quota for the resource, or lower the workload's requests",
    ),
    Rule(
        "admission.validating-policy",
        "admission",
        "a ValidatingAdmissionPolicy in the tree denies the object",
        "kubernetes/kubernetes staging/src/k8s.io/apiserver/pkg/admission/plugin/policy/validating",
        "change the object to satisfy the policy, or narrow the policy's binding",
    ),
    Rule(
        "kueue.manages-serving",
        "admission",
        "Kueue manages (queues, suspends and may preempt) a serving workload",
        "kubernetes-sigs/kueue v0.19.2 pkg/controller/jobs/deployment/deployment_webhook.go, "
        "pkg/controller/jobs/pod/pod_webhook.go (managedJobsNamespaceSelector, default LocalQueue)",
        "keep serving out of Kueue: drop the deployment/pod integrations, exclude serving namespaces from "
        "managedJobsNamespaceSelector, or do not name a serving namespace's LocalQueue `default`",
    ),
    Rule(
        "kueue.not-managed",
        "admission",
        "a batch Job is not managed by Kueue (it would bypass team quotas)",
        "kubernetes-sigs/kueue v0.19.2 pkg/controller/jobframework/webhook (queue-name label, "
        "integrations.frameworks batch/job)",
        "enable the batch/job integration and give the namespace a LocalQueue",
    ),
    Rule(
        "kueue.inadmissible",
        "admission",
        "Kueue can never admit the team's representative job: no flavor of its ClusterQueue fits",
        "kubernetes-sigs/kueue v0.19.2 pkg/scheduler/flavorassigner/flavorassigner.go",
        "give the ClusterQueue nominal quota (or borrowing) for the flavor, and a LocalQueue pointing at it",
    ),
    Rule(
        "scheduling.node-affinity",
        "scheduling",
        "no simulated node matches the pod's nodeSelector / required node affinity",
        "kubernetes/kubernetes pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go",
        "select the labels the nodes really carry (GPU feature discovery renames time-sliced products "
        "to <product>-SHARED)",
    ),
    Rule(
        "scheduling.taint-toleration",
        "scheduling",
        "every node that matches the pod has a taint the pod does not tolerate",
        "kubernetes/kubernetes pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go",
        "add tolerations for the node pool's taints",
    ),
    Rule(
        "scheduling.insufficient-resources",
        "scheduling",
        "no matching node has the allocatable CPU, memory or extended resources one pod requests",
        "kubernetes/kubernetes pkg/scheduler/framework/plugins/noderesources/fit.go",
        "request less per pod, or use a node pool with more allocatable resources",
    ),
    Rule(
        "gpu.mig-unpartitioned",
        "scheduling",
        "MIG nodes are never partitioned: their nvidia.com/mig.config names no mig-parted config",
        "NVIDIA/gpu-operator v26.7.0 controllers/nodelabeling_controller.go (unlabelled MIG nodes get "
        "all-disabled), NVIDIA/mig-parted",
        "label the pool's nodes nvidia.com/mig.config=<config> (node-pool contract) with a config present "
        "in the mig-parted ConfigMap",
    ),
    Rule(
        "dra.class-selects-nothing",
        "scheduling",
        "a DeviceClass's CEL selectors match no device any ResourceSlice publishes",
        "kubernetes-sigs/dra-driver-nvidia-gpu v0.4.1 cmd/gpu-kubelet-plugin/deviceinfo.go, mig.go; "
        "kubernetes/kubernetes staging/src/k8s.io/dynamic-resource-allocation/structured",
        "select the attributes the driver publishes (productName with spaces, type gpu|mig, profile)",
    ),
    Rule(
        "dra.class-selects-other-flavor",
        "scheduling",
        "a flavor's DeviceClass also selects devices of another flavor",
        "kubernetes-sigs/dra-driver-nvidia-gpu v0.4.1 cmd/gpu-kubelet-plugin/deviceinfo.go, mig.go",
        "constrain the selector by type, productName and (MIG) profile",
    ),
    Rule(
        "dra.claim-unsatisfiable",
        "scheduling",
        "no single node publishes enough devices of the class for the claim",
        "kubernetes/kubernetes staging/src/k8s.io/dynamic-resource-allocation/structured/allocator.go",
        "request at most the devices one node has",
    ),
    Rule(
        "dra.quota-bypass",
        "admission",
        "a team may claim devices through a DeviceClass its ResourceQuota does not cap",
        "kubernetes/kubernetes pkg/quota/v1/evaluator/core/resource_claims.go "
        "(<class>.deviceclass.resource.k8s.io/devices); dra-driver-nvidia-gpu chart DeviceClasses",
        "set <class>.deviceclass.resource.k8s.io/devices: 0 in every team quota for each class the team "
        "may not use, or deny it with an admission policy",
    ),
    Rule(
        "network.intended-flow-denied",
        "network",
        "a flow the spec intends is denied by the NetworkPolicies",
        "kubernetes.io/docs/concepts/services-networking/network-policies (policies are additive allows "
        "per direction; both the source's egress and the destination's ingress must allow)",
        "add the allow NetworkPolicy for the flow (both directions)",
    ),
    Rule(
        "network.unintended-flow-allowed",
        "network",
        "a flow the spec does not intend is allowed by the NetworkPolicies",
        "kubernetes.io/docs/concepts/services-networking/network-policies",
        "narrow or remove the NetworkPolicy that allows it",
    ),
    Rule(
        "network.model-store-unreachable",
        "network",
        "the storage initializer cannot reach the model store its storageUri names",
        "kserve/kserve v0.20.0 pkg/webhook/admission/pod/storage_initializer_injector.go, "
        "python/kserve/kserve/storage/storage.py (S3: AWS_ENDPOINT_URL / s3.amazonaws.com:443)",
        "declare the model store and allow the team's egress to its endpoint",
    ),
    Rule(
        "rbac.team-writes-isolation",
        "rbac",
        "a team group can write an object that keeps the team isolated",
        "kubernetes/kubernetes plugin/pkg/auth/authorizer/rbac/bootstrappolicy/testdata/cluster-roles.yaml "
        "(admin/edit aggregate networkpolicies, resourcequotas...)",
        "bind team groups to a role without write access to these resources (not admin/edit)",
    ),
    Rule(
        "gitops.crd-two-units",
        "gitops",
        "a CRD is installed by two units (they fight over its schema)",
        "Argo CD / Flux: one owner per object (argocd app.kubernetes.io/instance tracking, Flux inventory)",
        "install the CRD from one unit only (skip it in the other chart's values)",
    ),
    Rule(
        "gitops.webhook-after-objects",
        "gitops",
        "objects that pass through an admission webhook sync before the webhook's service exists",
        "Argo CD sync waves (argo-cd docs user-guide/sync-waves); Flux Kustomization dependsOn",
        "order the unit with the webhook before the units whose objects it admits",
    ),
    Rule(
        "gitops.wave-not-gated",
        "gitops",
        "Argo CD waves of Applications are not gated: no Application health customization",
        "argo-cd docs operator-manual/health.md#argocd-app (removed from the defaults in Argo CD 1.8)",
        "add resource.customizations.health.argoproj.io_Application to argocd-cm",
    ),
    Rule(
        "serving.canary-traffic",
        "serving",
        "the canary does not get the traffic share the spec asks for",
        "kserve/kserve v0.20.0 pkg/controller/v1beta1/inferenceservice/components/predictor.go "
        "(canary = own Deployment and Service); gateway-api HTTPRoute backendRefs weights",
        "route the host through an HTTPRoute with weights 100-p / p to <isvc>-predictor and "
        "<isvc>-<canary>-predictor",
    ),
    Rule(
        "serving.model-invalid",
        "serving",
        "KServe cannot build pods for the InferenceService",
        "kserve/kserve v0.20.0 pkg/controller/v1beta1/inferenceservice/components/predictor.go",
        "reference an installed runtime that serves the model format",
    ),
)
RULES: dict[str, Rule] = {r.id: r for r in _RULES}


@dataclass(frozen=True)
class Finding:
    cluster: str
    rule: str
    object: str  # Kind/namespace/name (or Kind/name)
    message: str
    fix: str = ""

    @property
    def source(self) -> str:
        return RULES[self.rule].source

    def record(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "rule": self.rule,
            "object": self.object,
            "message": self.message,
            "source": self.source,
            "fix": self.fix or RULES[self.rule].fix,
        }

    def format(self) -> str:
        return f"{self.cluster}: {self.object}: [{self.rule}] {self.message} (source: {self.source})"


def ref(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{obj.get('kind')}/{ns}/{meta.get('name')}" if ns else f"{obj.get('kind')}/{meta.get('name')}"
