"""The typed spec: one pydantic model per document kind, unknown fields forbidden.

Field names follow ../shared/DESIGN.md. Models check shape and local value rules;
rules that need several documents live in spec/checks.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model

from compiler.registry_table import TABLE
from compiler.spec.field_docs import document_models, reachable_models
from compiler.spec.policies import Budget, LabelKey, Policies
from compiler.spec.quantity import QUANTITY_PATTERN
from compiler.spec.types import (
    ChartVersion,
    Cidr,
    FiniteCost,
    GitRevision,
    GitURL,
    GroupName,
    HttpsURL,
    LabelValue,
    PlainText,
    QualifiedName,
    RepoPath,
    Subdomain,
)

API_VERSION = "platformc.dev/v1alpha1"

DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
# Label values (cost centres end up as namespace labels).
LABEL_VALUE_PATTERN = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
K8S_VERSION_PATTERN = r"^1\.[0-9]{2}$"

DnsLabel = Annotated[str, Field(pattern=DNS_LABEL_PATTERN, max_length=63)]


def _number_to_str(value: object) -> object:
    # `cpu: 256` is as natural in YAML as `cpu: "256"`; both mean the quantity "256".
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


Quantity = Annotated[str, BeforeValidator(_number_to_str), Field(pattern=QUANTITY_PATTERN, max_length=32)]
KubernetesVersion = Annotated[str, Field(pattern=K8S_VERSION_PATTERN)]

# Version pins and their defaults are declared by the components (VersionPin in their
# descriptors); this is the copy generated from the registry.
DEFAULT_COMPONENT_VERSIONS: dict[str, str] = dict(TABLE.version_pins)


class Strict(BaseModel):
    # Schemas are built on first use, after document_models (below) has written the field docs:
    # built at class creation, each was built again to take the docs (~70 ms on every start).
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class Metadata(Strict):
    name: DnsLabel
    labels: dict[QualifiedName, LabelValue] = Field(default_factory=dict)


# --- Platform ---------------------------------------------------------------------------------


class PlatformGitOps(Strict):
    engine: Literal["argocd", "flux"] = "argocd"
    repoURL: GitURL
    revision: GitRevision = "main"
    path: RepoPath = "generated"
    namespace: DnsLabel | None = Field(
        default=None, description="namespace of the GitOps engine (argocd / flux-system by default)"
    )
    render: Literal["helm", "hydrated"] = Field(
        default="helm",
        description="helm: the engine renders each chart; hydrated: platformc writes the rendered objects",
    )


if TYPE_CHECKING:

    class ComponentVersions(Strict):
        """One optional `str` field per component version pin (read as `versions.<field>`)."""

        def __getattr__(self, name: str) -> str: ...

else:
    # One field per VersionPin of the registry, so a new component's pin needs no edit here.
    ComponentVersions = create_model(
        "ComponentVersions",
        __base__=Strict,
        **{name: (ChartVersion, default) for name, default in DEFAULT_COMPONENT_VERSIONS.items()},
    )


class Alerts(Strict):
    """Thresholds of the generated alerts that the spec does not otherwise imply (see README)."""

    idleGpuMinutes: int = Field(default=60, ge=5, description="minutes a GPU bound to a pod may idle")
    idleGpuUtilPercent: int = Field(default=5, ge=1, le=100, description="utilisation under which GPUs idle")
    queuePendingMinutes: int = Field(default=30, ge=5, description="minutes a queue may admit nothing")


class AllowedSecret(Strict):
    """A secret-scan finding that is not a secret, by the fingerprint its error message gives."""

    fingerprint: str = Field(pattern=r"^[0-9a-f]{12}$")
    reason: str = Field(min_length=1, max_length=500)


class SecretScan(Strict):
    allow: list[AllowedSecret] = Field(default_factory=list)


# --- Model stores -----------------------------------------------------------------------------

STORAGE_URI_PATTERN = r"^(s3|gs|pvc|hf|https?|oci)://.+"
StorageUri = Annotated[PlainText, Field(pattern=STORAGE_URI_PATTERN)]
CIDR_PATTERN = r"^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$"
STORE_URI_PATTERN = r"^(s3|gs|hf|https?)://.+"
HOST_PATTERN = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"


class StoreEndpoint(Strict):
    """Where the store answers: the egress NetworkPolicy allows exactly cidr:port."""

    host: str = Field(pattern=HOST_PATTERN, max_length=253)
    port: int = Field(ge=1, le=65535)
    cidr: str = Field(pattern=CIDR_PATTERN)
    useHttps: bool = True


class ModelStore(Strict):
    name: DnsLabel
    uriPrefix: str = Field(pattern=STORE_URI_PATTERN, description="storageUris under it use this store")
    endpoint: StoreEndpoint
    region: str | None = Field(default=None, pattern=r"^[a-z0-9-]+$")
    credentialsSecret: DnsLabel | None = Field(
        default=None, description="name of a Secret in each team namespace (never its values)"
    )
    teams: list[DnsLabel] = Field(min_length=1, description="teams whose serving paths may use the store")


class PlatformSpec(Strict):
    gitops: PlatformGitOps
    kubernetesVersion: KubernetesVersion = "1.34"
    components: ComponentVersions = Field(default_factory=ComponentVersions)
    dashboards: Literal["configmap", "grafana-operator"] = "configmap"
    monitoringNamespace: DnsLabel = "monitoring"
    alerts: Alerts = Field(default_factory=Alerts)
    secretScan: SecretScan = Field(default_factory=SecretScan)
    modelStores: list[ModelStore] = Field(default_factory=list)
    policies: Policies = Field(default_factory=Policies)


# --- GPUFlavor --------------------------------------------------------------------------------


class ExclusiveSharing(Strict):
    mode: Literal["exclusive"]


class MigSharing(Strict):
    mode: Literal["mig"]
    migProfile: str = Field(pattern=r"^[0-9]g\.[0-9]+gb(\+me)?$")


class TimeSlicingSharing(Strict):
    mode: Literal["time-slicing"]
    replicas: int = Field(ge=2, le=64)


Sharing = Annotated[ExclusiveSharing | MigSharing | TimeSlicingSharing, Field(discriminator="mode")]


class GPUFlavorSpec(Strict):
    product: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][-A-Za-z0-9_.]*$", max_length=63)
    memory: Quantity
    hourlyCost: FiniteCost
    sharing: Sharing = ExclusiveSharing(mode="exclusive")


# --- Cluster ----------------------------------------------------------------------------------


class Taint(Strict):
    key: QualifiedName
    value: LabelValue | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"


class NodePool(Strict):
    name: DnsLabel
    flavor: DnsLabel
    nodes: int = Field(ge=0)
    gpusPerNode: int = Field(ge=1, le=16)
    taints: list[Taint] = Field(
        default_factory=lambda: [Taint(key="nvidia.com/gpu", value="present", effect="NoSchedule")]
    )
    labels: dict[QualifiedName, LabelValue] = Field(default_factory=dict)


class ClusterGitOps(Strict):
    engine: Literal["argocd", "flux"] | None = None
    destination: HttpsURL | None = Field(default=None, description="Argo CD destination server URL")


class Ingress(Strict):
    domain: Subdomain
    gatewayNamespace: DnsLabel = "istio-ingress"
    gateway: DnsLabel = Field(
        default="ingress-gateway", description="Gateway API Gateway the serving HTTPRoutes attach to"
    )


class ClusterSpec(Strict):
    environment: DnsLabel
    kubernetesVersion: KubernetesVersion | None = None
    gitops: ClusterGitOps = Field(default_factory=ClusterGitOps)
    gpuAllocation: Literal["dra", "device-plugin"] = "device-plugin"
    cohort: DnsLabel
    nodePools: list[NodePool] = Field(default_factory=list)
    ingress: Ingress | None = None


# --- Team -------------------------------------------------------------------------------------


class GPUQuota(Strict):
    flavor: DnsLabel
    quota: int = Field(ge=0)
    borrowingLimit: int | None = Field(default=None, ge=0)
    lendingLimit: int | None = Field(default=None, ge=0)


class TeamCluster(Strict):
    cluster: DnsLabel
    cpu: Quantity
    memory: Quantity
    gpus: list[GPUQuota] = Field(default_factory=list)


class TeamSpec(Strict):
    costCenter: str = Field(pattern=LABEL_VALUE_PATTERN, min_length=1, max_length=63)
    owners: list[GroupName] = Field(min_length=1)
    members: list[GroupName] = Field(default_factory=list)
    priority: Literal["low", "normal", "high"] = "normal"
    allowIngressFrom: list[DnsLabel] = Field(default_factory=list)
    allowEgressTo: list[Cidr] = Field(
        default_factory=list, description="CIDRs the team's pods may reach (model stores, APIs)"
    )
    podSecurity: Literal["restricted", "baseline"] = "restricted"
    clusters: list[TeamCluster] = Field(min_length=1)
    policies: Policies | None = None
    budget: Budget | None = None


# --- ServingPath ------------------------------------------------------------------------------


class Model(Strict):
    format: str = Field(min_length=1)
    storageUri: StorageUri
    runtime: str | None = None


class GPURequest(Strict):
    flavor: DnsLabel
    count: int = Field(ge=1, le=16)


class Replicas(Strict):
    min: int = Field(ge=0)
    max: int = Field(ge=1)


class Canary(Strict):
    storageUri: StorageUri
    trafficPercent: int


class ServingResources(Strict):
    """Per replica; each field left out is derived from the GPU flavor (README: Serving)."""

    cpu: Quantity | None = None
    memory: Quantity | None = Field(default=None, description="for the server process, /dev/shm excluded")
    sharedMemory: Quantity | None = Field(default=None, description="size of /dev/shm (memory-backed)")


class Autoscaling(Strict):
    metric: Literal["cpu", "concurrency", "requestRate", "prometheus"]
    target: float = Field(
        gt=0, description="per replica: CPU %, in-flight requests, requests/s or the query's value"
    )
    query: str | None = Field(default=None, description="PromQL whose value KEDA divides by target")


class SLO(Strict):
    p95LatencyMs: int = Field(gt=0)
    maxErrorRatio: float = Field(gt=0, lt=1)


class ServingPathSpec(Strict):
    team: DnsLabel
    clusters: list[DnsLabel] = Field(min_length=1)
    model: Model
    gpu: GPURequest
    replicas: Replicas = Field(default_factory=lambda: Replicas(min=1, max=1))
    canary: Canary | None = None
    resources: ServingResources = Field(default_factory=ServingResources)
    autoscaling: Autoscaling | None = None
    allowFrom: list[DnsLabel] = Field(default_factory=list)
    slo: SLO | None = None
    labels: dict[LabelKey, Annotated[str, Field(pattern=LABEL_VALUE_PATTERN, max_length=63)]] = Field(
        default_factory=dict, description="labels of the InferenceService (owner, model version, ...)"
    )


# --- Documents --------------------------------------------------------------------------------


class Document(Strict):
    apiVersion: Literal["platformc.dev/v1alpha1"]
    metadata: Metadata


class Platform(Document):
    kind: Literal["Platform"]
    spec: PlatformSpec


class GPUFlavor(Document):
    kind: Literal["GPUFlavor"]
    spec: GPUFlavorSpec


class Cluster(Document):
    kind: Literal["Cluster"]
    spec: ClusterSpec


class Team(Document):
    kind: Literal["Team"]
    spec: TeamSpec


class ServingPath(Document):
    kind: Literal["ServingPath"]
    spec: ServingPathSpec


DOCUMENT_KINDS: dict[str, type[Document]] = {
    "Platform": Platform,
    "GPUFlavor": GPUFlavor,
    "Cluster": Cluster,
    "Team": Team,
    "ServingPath": ServingPath,
}


# Descriptions, units and examples of every field live in one table (field_docs.py), so the
# JSON Schema for editors and the README reference come from the same words.
document_models(reachable_models(DOCUMENT_KINDS.values()))
