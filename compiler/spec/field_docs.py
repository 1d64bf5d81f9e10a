"""What every spec field means, in what unit, with an example: one table, read in three places.

`document_models` writes each entry into its pydantic field (description, examples), so
`platformc spec-schema` carries it and yaml-language-server shows it on hover;
`compiler/spec/reference.py` generates the README's spec reference tables from the same models;
tests/spec/test_field_docs.py fails when a field has no entry or the README drifts.
Keys are `Model.field`; `*.field` covers the document envelope every kind shares.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldDoc:
    meaning: str
    example: Any
    unit: str = ""

    def description(self) -> str:
        return f"{self.meaning} (unit: {self.unit})" if self.unit else self.meaning


D = FieldDoc
DOCS: dict[str, FieldDoc] = {
    # --- every document
    "*.apiVersion": D("API version of the platformc spec", "platformc.dev/v1alpha1"),
    "*.kind": D("document kind: Platform, GPUFlavor, Cluster, Team or ServingPath", "Team"),
    "*.metadata": D("name (a DNS-1123 label) and optional labels", {"name": "ml-platform"}),
    "*.spec": D("the document's settings (tables below)", {}),
    "Metadata.name": D("name, unique per kind; a DNS-1123 label (≤ 63, lowercase)", "ml-platform"),
    "Metadata.labels": D("labels of the spec document itself (not copied to objects)", {"owner": "ai-infra"}),
    # --- Platform
    "PlatformSpec.gitops": D("where the GitOps engines read the generated trees", {"repoURL": "https://…"}),
    "PlatformGitOps.engine": D("`argocd` or `flux`; the default for every Cluster", "argocd"),
    "PlatformGitOps.repoURL": D("Git repository the engines read", "https://github.com/acme/ai-platform.git"),
    "PlatformGitOps.revision": D("branch (or tag) the engines follow", "main"),
    "PlatformGitOps.path": D("folder of the generated trees inside the repository", "generated"),
    "PlatformGitOps.namespace": D(
        "namespace of the GitOps engine (default `argocd` / `flux-system`)", "argocd"
    ),
    "PlatformGitOps.render": D(
        "`helm`: the engine renders each chart; `hydrated`: platformc writes the charts' rendered objects "
        "(see Charts)",
        "hydrated",
    ),
    "PlatformSpec.kubernetesVersion": D(
        "default Kubernetes minor version of the clusters, quoted", "1.34", "Kubernetes minor version"
    ),
    "PlatformSpec.components": D("version pins of the installed components", {"kueue": "v0.19.2"}),
    "ComponentVersions.gpuOperator": D("NVIDIA GPU Operator chart version", "v26.7.0", "release tag"),
    "ComponentVersions.draDriver": D("NVIDIA DRA driver chart version", "v0.4.1", "release tag"),
    "ComponentVersions.kueue": D("Kueue chart version", "v0.19.2", "release tag"),
    "ComponentVersions.certManager": D("cert-manager chart version", "v1.19.1", "release tag"),
    "ComponentVersions.kserve": D("KServe chart version", "v0.20.0", "release tag"),
    "ComponentVersions.keda": D("KEDA chart version", "2.20.2", "chart version"),
    "PlatformSpec.dashboards": D("`configmap` (Grafana sidecar) or `grafana-operator`", "configmap"),
    "PlatformSpec.monitoringNamespace": D(
        "namespace of Prometheus and Grafana (scrapes are allowed from it)", "monitoring"
    ),
    "PlatformSpec.alerts": D(
        "thresholds of the generated alerts (see Dashboards and alerts)", {"idleGpuMinutes": 30}
    ),
    "Alerts.idleGpuMinutes": D("how long a GPU bound to a pod may idle before an alert", 60, "minutes"),
    "Alerts.idleGpuUtilPercent": D("utilisation under which a GPU counts as idle", 5, "percent"),
    "Alerts.queuePendingMinutes": D("how long a queue may admit nothing before an alert", 30, "minutes"),
    "PlatformSpec.secretScan": D("secret-scan findings that are not secrets (see Security)", {"allow": []}),
    "SecretScan.allow": D(
        "findings to allow, by the fingerprint their error gives", [{"fingerprint": "3f2a9c0d1e4b"}]
    ),
    "AllowedSecret.fingerprint": D("fingerprint from the secret-scan error (12 hex digits)", "3f2a9c0d1e4b"),
    "AllowedSecret.reason": D("why the value is not a secret", "build id, not a credential"),
    "PlatformSpec.modelStores": D(
        "where serving paths download models from, and which teams may (see kserve)", []
    ),
    "ModelStore.name": D("name of the store (a DNS-1123 label)", "models-s3"),
    "ModelStore.uriPrefix": D("storageUris under this prefix use this store", "s3://models/"),
    "ModelStore.endpoint": D("the store's network endpoint", {"host": "minio.storage.svc", "port": 9000}),
    "ModelStore.region": D("S3 region", "eu-west-1"),
    "ModelStore.credentialsSecret": D(
        "name of a Secret in each team namespace holding the keys (never its values)", "s3-credentials"
    ),
    "ModelStore.teams": D("teams whose serving paths may use the store", ["ml-platform"]),
    "StoreEndpoint.host": D("host name or IP address of the store", "minio.storage.svc"),
    "StoreEndpoint.port": D("TCP port of the store", 9000, "TCP port"),
    "StoreEndpoint.cidr": D("addresses the serving pods may reach the store at", "10.20.0.0/16", "CIDR"),
    "StoreEndpoint.useHttps": D("whether the store speaks TLS", True),
    # --- GPUFlavor
    "GPUFlavorSpec.product": D("node label `nvidia.com/gpu.product` of the GPU", "NVIDIA-H100-80GB-HBM3"),
    "GPUFlavorSpec.memory": D("memory of one GPU", "80Gi", "Kubernetes quantity"),
    "GPUFlavorSpec.hourlyCost": D(
        "cost of one GPU-hour (of one slice for MIG / time-slicing)", 3.5, "USD per GPU-hour"
    ),
    "GPUFlavorSpec.sharing": D(
        "`{mode: exclusive}`, `{mode: mig, migProfile}` or `{mode: time-slicing, replicas}`",
        {"mode": "mig", "migProfile": "1g.10gb"},
    ),
    "ExclusiveSharing.mode": D("one pod per GPU", "exclusive"),
    "MigSharing.mode": D("Multi-Instance GPU slices", "mig"),
    "MigSharing.migProfile": D("MIG profile every GPU of the flavor is split into", "1g.10gb"),
    "TimeSlicingSharing.mode": D("time-sliced sharing of whole GPUs", "time-slicing"),
    "TimeSlicingSharing.replicas": D("pods sharing one GPU", 4, "pods per GPU"),
    # --- Cluster
    "ClusterSpec.environment": D("environment; selects `overlays/environments/<env>/`", "prod"),
    "ClusterSpec.kubernetesVersion": D(
        "Kubernetes minor version, quoted (default: the Platform's)", "1.34", "Kubernetes minor version"
    ),
    "ClusterSpec.gitops": D(
        "engine and destination for this cluster (default: the Platform's)", {"engine": "flux"}
    ),
    "ClusterGitOps.engine": D("`argocd` or `flux` (default: the Platform's)", "flux"),
    "ClusterGitOps.destination": D(
        "Argo CD destination server URL (required for argocd)", "https://kubernetes.default.svc"
    ),
    "ClusterSpec.gpuAllocation": D("`dra` (needs Kubernetes ≥ 1.34) or `device-plugin`", "dra"),
    "ClusterSpec.cohort": D("Kueue cohort of every team queue on the cluster", "prod-gpus"),
    "ClusterSpec.nodePools": D("the cluster's GPU node pools", [{"name": "h100", "flavor": "h100"}]),
    "NodePool.name": D("name of the node pool", "h100-a"),
    "NodePool.flavor": D("GPUFlavor of its GPUs", "h100"),
    "NodePool.nodes": D("number of nodes", 4, "nodes"),
    "NodePool.gpusPerNode": D("GPUs per node", 8, "GPUs"),
    "NodePool.taints": D(
        "taints of the pool's nodes (default `nvidia.com/gpu=present:NoSchedule`)",
        [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}],
    ),
    "NodePool.labels": D("labels of the pool's nodes", {"pool": "h100-a"}),
    "Taint.key": D("taint key", "nvidia.com/gpu"),
    "Taint.value": D("taint value", "present"),
    "Taint.effect": D("`NoSchedule`, `PreferNoSchedule` or `NoExecute`", "NoSchedule"),
    "ClusterSpec.ingress": D(
        "Gateway API entry for serving hosts `<path>.<team>.<domain>`", {"domain": "ai.example.com"}
    ),
    "Ingress.domain": D("DNS domain of the serving hosts", "ai.example.com"),
    "Ingress.gatewayNamespace": D("namespace of the Gateway", "istio-ingress"),
    "Ingress.gateway": D("Gateway API Gateway the serving HTTPRoutes attach to", "ingress-gateway"),
    # --- Team
    "TeamSpec.costCenter": D("label value on every team object", "CC-4711"),
    "TeamSpec.owners": D(
        "identity-provider groups bound to `platformc-team-owner` and the AppProject role `owners`",
        ["ml-admins"],
    ),
    "TeamSpec.members": D(
        "identity-provider groups bound to `platformc-team-member` and the AppProject role `members`",
        ["ml-engineers"],
    ),
    "TeamSpec.priority": D("`low`, `normal` or `high` (Kueue workload priority)", "high"),
    "TeamSpec.allowIngressFrom": D("teams whose pods may connect to this team's pods", ["app-frontend"]),
    "TeamSpec.allowEgressTo": D(
        "addresses this team's pods may reach (APIs; model stores come from `modelStores`)",
        ["203.0.113.0/24"],
        "CIDR",
    ),
    "TeamSpec.podSecurity": D("Pod Security level enforced in the namespace", "restricted"),
    "TeamSpec.clusters": D("the clusters the team runs on, with its quotas there", [{"cluster": "prod"}]),
    "TeamCluster.cluster": D("cluster name", "prod-us-east"),
    "TeamCluster.cpu": D("CPU quota of the team namespace", "256", "Kubernetes quantity (cores)"),
    "TeamCluster.memory": D("memory quota of the team namespace", "1Ti", "Kubernetes quantity (bytes)"),
    "TeamCluster.gpus": D("GPU quotas per flavor", [{"flavor": "h100", "quota": 8}]),
    "GPUQuota.flavor": D("GPUFlavor of the quota", "h100"),
    "GPUQuota.quota": D("nominal quota", 8, "GPUs (MIG slices / time-slices for shared flavors)"),
    "GPUQuota.borrowingLimit": D(
        "how much more the team may borrow from its cohort (none when unset)", 4, "GPUs"
    ),
    "GPUQuota.lendingLimit": D("how much of its quota the team may lend (all when unset)", 2, "GPUs"),
    # --- ServingPath
    "ServingPathSpec.team": D("team that owns and pays for the serving path", "ml-platform"),
    "ServingPathSpec.clusters": D("clusters it is served on", ["prod-us-east"]),
    "ServingPathSpec.model": D("the model to serve", {"format": "huggingface", "storageUri": "s3://…"}),
    "Model.format": D("model format; picks the KServe runtime", "huggingface"),
    "Model.storageUri": D("where the model is downloaded from", "s3://models/llama-3-8b/"),
    "Model.runtime": D("KServe ServingRuntime to use (default: by format)", "kserve-huggingfaceserver"),
    "ServingPathSpec.gpu": D("GPUs per replica", {"flavor": "h100", "count": 1}),
    "GPURequest.flavor": D("GPUFlavor of the replicas' GPUs", "h100"),
    "GPURequest.count": D("GPUs per replica", 1, "GPUs"),
    "ServingPathSpec.replicas": D("replica range; min 0 scales to zero", {"min": 1, "max": 4}),
    "Replicas.min": D(
        "fewest replicas; 0 scales to zero (needs autoscaling metric requestRate or prometheus)",
        1,
        "replicas",
    ),
    "Replicas.max": D("most replicas", 4, "replicas"),
    "ServingPathSpec.canary": D("a second model that gets a share of the traffic", {"trafficPercent": 10}),
    "Canary.storageUri": D("where the canary model is downloaded from", "s3://models/llama-3-8b-v2/"),
    "Canary.trafficPercent": D("share of requests an HTTPRoute sends to the canary (1..99)", 10, "percent"),
    "ServingPathSpec.resources": D(
        "CPU and memory per replica; each left out is derived from the flavor (see kserve)", {"cpu": "8"}
    ),
    "ServingResources.cpu": D("CPU request per replica", "8", "Kubernetes quantity (cores)"),
    "ServingResources.memory": D(
        "memory of the server process, /dev/shm excluded", "64Gi", "Kubernetes quantity"
    ),
    "ServingResources.sharedMemory": D("size of /dev/shm (memory-backed)", "16Gi", "Kubernetes quantity"),
    "ServingPathSpec.autoscaling": D(
        "what the replica count follows (default: CPU 80 %)", {"metric": "concurrency"}
    ),
    "Autoscaling.metric": D("`cpu`, `concurrency`, `requestRate` or `prometheus`", "concurrency"),
    "Autoscaling.target": D(
        "value per replica: CPU %, in-flight requests, requests/s or the query's value",
        4,
        "per replica, in the metric's unit",
    ),
    "Autoscaling.query": D(
        "PromQL whose value KEDA divides by `target` (metric prometheus)", "sum(rate(x[1m]))"
    ),
    "ServingPathSpec.allowFrom": D(
        "teams that may call it (the ingress gateway always may)", ["app-frontend"]
    ),
    "ServingPathSpec.slo": D("service level objective: alerts and dashboard lines", {"p95LatencyMs": 500}),
    "SLO.p95LatencyMs": D("95th-percentile latency objective", 500, "milliseconds"),
    "SLO.maxErrorRatio": D("largest share of failed requests", 0.01, "ratio 0..1"),
    # --- guardrails (Platform.spec.policies, Team.spec.policies, Team.spec.budget; see Guardrails)
    "ComponentVersions.policyController": D(
        "sigstore policy-controller chart version (installed only when imageSignatures is set)",
        "0.15.1",
        "chart version",
    ),
    "PlatformSpec.policies": D(
        "guardrail rules for every team namespace, each with a mode", {"gpuLimits": {"mode": "deny"}}
    ),
    "TeamSpec.policies": D(
        "per-rule overrides of Platform.spec.policies; `mode: off` drops a rule",
        {"hostAccess": {"mode": "off"}},
    ),
    "TeamSpec.budget": D("monthly GPU budget: overall or per cluster", {"monthlyUSD": 20000}),
    "ServingPathSpec.labels": D(
        "labels of the InferenceService (the team's required labels go here)", {"owner": "ml-platform"}
    ),
    "*.mode": D("`deny`, `warn` or `audit` (ValidatingAdmissionPolicy validationActions)", "deny"),
    "Policies.trustedRegistries": D(
        "images only from these registry prefixes", {"registries": ["ghcr.io/acme/"]}
    ),
    "TrustedRegistries.registries": D("trusted image prefixes", ["registry.acme.internal/"]),
    "Policies.requiredLabels": D("labels every workload must carry", {"labels": ["owner"]}),
    "RequiredLabels.labels": D("label keys every workload carries", ["owner", "cost-center"]),
    "RequiredLabels.serving": D("label keys InferenceServices carry too", ["model-version"]),
    "Policies.gpuAccess": D(
        "GPUs only through the platform's DeviceClasses or the flavor's resource name", {"mode": "deny"}
    ),
    "Policies.gpuLimits": D("containers asking for GPUs set explicit limits", {"mode": "deny"}),
    "Policies.largestGpuRequest": D(
        "warn when one workload asks for more than this share of the team's quota", {"fractionOfQuota": 0.5}
    ),
    "LargestGpuRequest.fractionOfQuota": D("largest single GPU request", 0.5, "fraction of quota"),
    "Policies.priorityClasses": D("PriorityClasses team workloads may use", {"allowed": ["batch-low"]}),
    "PriorityClasses.allowed": D("allowed PriorityClass names", ["platformc-online-serving"]),
    "Policies.hostAccess": D("no hostPath volumes or hostNetwork in team namespaces", {"mode": "deny"}),
    "Policies.servingRollback": D(
        "InferenceServices keep a rollback target: a canary or a previous model version label",
        {"mode": "warn"},
    ),
    "ServingRollback.label": D(
        "label recording the previous model version", "platformc.dev/rollback-model-version"
    ),
    "Policies.imageSignatures": D(
        "require sigstore signatures (sigstore policy-controller ClusterImagePolicy)",
        {"images": ["ghcr.io/acme/**"]},
    ),
    "ImageSignatures.images": D("image globs the signature rule covers", ["registry.acme.internal/**"]),
    "ImageSignatures.keyless": D("accepted keyless identities", [{"issuer": "https://…", "subject": "…"}]),
    "ImageSignatures.publicKey": D("PEM public key (cosign sign --key)", "-----BEGIN PUBLIC KEY-----…"),
    "KeylessIdentity.issuer": D(
        "OIDC issuer of the signing identity", "https://token.actions.githubusercontent.com"
    ),
    "KeylessIdentity.subject": D(
        "subject of the signing identity", "https://github.com/acme/models/.github/…"
    ),
    "Budget.monthlyUSD": D("overall monthly GPU budget", 20000, "USD per month"),
    "Budget.clusters": D("monthly GPU budget per cluster", {"prod-us-east": 15000}, "USD per month"),
}


def models_in(annotation: Any) -> tuple[list[type[Any]], bool]:
    """Pydantic models inside an annotation (through Optional, unions, Annotated, lists) and
    whether it is a list."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return models_in(typing.get_args(annotation)[0])
    if origin is list:
        inner, _ = models_in(typing.get_args(annotation)[0])
        return inner, True
    if origin in (typing.Union, types.UnionType):
        found: list[type[Any]] = []
        many = False
        for arg in typing.get_args(annotation):
            inner, is_list = models_in(arg)
            found += inner
            many = many or is_list
        return found, many
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return [annotation], False
    return [], False


def reachable_models(roots: Iterable[type[Any]]) -> list[type[Any]]:
    """Every model the roots' fields lead to, nested ones first (the order document_models needs)."""
    seen: list[type[Any]] = []

    def visit(model: type[Any]) -> None:
        if model in seen:
            return
        for info in model.model_fields.values():
            for sub in models_in(info.annotation)[0]:
                visit(sub)
        seen.append(model)

    for root in roots:
        visit(root)
    return seen


def doc_for(model: str, field: str) -> FieldDoc | None:
    return DOCS.get(f"{model}.{field}") or DOCS.get(f"*.{field}")


def undocumented(models: Iterable[type[Any]]) -> list[str]:
    return [f"{m.__name__}.{f}" for m in models for f in m.model_fields if doc_for(m.__name__, f) is None]


def document_models(models: Iterable[type[Any]]) -> None:
    """Write the table into the models' fields (description, examples). A model whose schema is
    built already is rebuilt (nested models first, so that parents embed the documented copies);
    one whose build is deferred builds with the words on first use (the spec models defer: a
    document kind's schema is then built once, nested models inline, when a document is read)."""
    ordered = list(models)
    for model in ordered:
        for name, info in model.model_fields.items():
            doc = doc_for(model.__name__, name)
            if doc is None:
                continue
            info.description = doc.description()
            info.examples = [doc.example]
    for model in ordered:
        if model.__pydantic_complete__:
            model.model_rebuild(force=True)
