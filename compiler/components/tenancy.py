"""Team tenancy: namespace, quotas, limits and access for every team on the cluster."""

from __future__ import annotations

from compiler.cluster_model import ClusterModel, TeamOnCluster
from compiler.components.base import Component, ComponentOutput, KubeObject, obj
from compiler.gpu_allocation import quota_key, reach
from compiler.naming import SERVING_PRIORITY_CLASS, device_class_quota_key
from compiler.spec.policies import PriorityClasses, effective_rule

RBAC = "rbac.authorization.k8s.io/v1"
READ = ["get", "list", "watch"]
WRITE = [*READ, "create", "update", "patch", "delete", "deletecollection"]
OWNER_ROLE = "platformc-team-owner"
MEMBER_ROLE = "platformc-team-member"

# What a team member may do in the team namespace. Not the built-in admin/edit ClusterRoles:
# they aggregate write on NetworkPolicies (Kubernetes bootstrappolicy/policy.go) and whatever
# charts label aggregate-to-edit, so a team could add an allow-all policy. The guardrails the
# platform sets (NetworkPolicy, ResourceQuota, LimitRange, Kueue objects) are read-only here.
MEMBER_RULES: list[tuple[str, tuple[str, ...], list[str]]] = [
    ("", ("configmaps", "persistentvolumeclaims", "pods", "secrets", "serviceaccounts", "services"), WRITE),
    ("", ("pods/attach", "pods/exec", "pods/portforward"), ["create", "get"]),
    (
        "",
        ("endpoints", "events", "limitranges", "namespaces", "pods/log", "pods/status", "resourcequotas"),
        READ,
    ),
    (
        "apps",
        ("deployments", "deployments/scale", "replicasets", "statefulsets", "statefulsets/scale"),
        WRITE,
    ),
    ("autoscaling", ("horizontalpodautoscalers",), WRITE),
    ("batch", ("cronjobs", "jobs"), WRITE),
    ("policy", ("poddisruptionbudgets",), WRITE),
    ("networking.k8s.io", ("ingresses",), WRITE),
    ("networking.k8s.io", ("networkpolicies",), READ),
    ("discovery.k8s.io", ("endpointslices",), READ),
    ("resource.k8s.io", ("resourceclaims", "resourceclaimtemplates"), WRITE),
    (
        "serving.kserve.io",
        ("inferencegraphs", "inferenceservices", "servingruntimes", "trainedmodels"),
        WRITE,
    ),
    ("kueue.x-k8s.io", ("localqueues", "workloads"), READ),
    # The workload kinds the Kueue integrations admit (components/kueue.py INTEGRATIONS).
    ("jobset.x-k8s.io", ("jobsets",), WRITE),
    ("kubeflow.org", ("pytorchjobs",), WRITE),
    ("leaderworkerset.x-k8s.io", ("leaderworkersets",), WRITE),
    ("ray.io", ("rayclusters", "rayjobs"), WRITE),
    ("trainer.kubeflow.org", ("trainjobs",), WRITE),
    ("monitoring.coreos.com", ("podmonitors", "servicemonitors"), WRITE),
]
# Owners also manage access inside the namespace; RBAC's escalation check keeps them from binding
# anything they do not hold themselves.
OWNER_RULES = [*MEMBER_RULES, ("rbac.authorization.k8s.io", ("rolebindings", "roles"), WRITE)]


def team_role(name: str, rules: list[tuple[str, tuple[str, ...], list[str]]]) -> KubeObject:
    return obj(
        RBAC,
        "ClusterRole",
        name,
        rules=[{"apiGroups": [g], "resources": sorted(r), "verbs": list(v)} for g, r, v in rules],
    )


# Container defaults for pods that set no resources; requests stay small so bin-packing works.
DEFAULT_LIMITS = {"cpu": "2", "memory": "4Gi"}
DEFAULT_REQUESTS = {"cpu": "100m", "memory": "256Mi"}


def namespace(cluster: ClusterModel, team: TeamOnCluster) -> KubeObject:
    level = team.team.spec.podSecurity
    psa_version = f"v{cluster.kubernetes_version}"
    labels = {
        **team.labels,
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/enforce-version": psa_version,
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
    }
    return obj("v1", "Namespace", team.namespace, labels=labels)


def flavor_quota_keys(cluster: ClusterModel) -> dict[str, str]:
    """Each flavor's key in a namespace ResourceQuota's `hard` (gpu_allocation.quota_key)."""
    return {f: quota_key(cluster.allocation, f, cluster.gpu_resource(f)) for f in cluster.flavors}


def gpu_quota(
    cluster: ClusterModel, team: TeamOnCluster, keys_of: dict[str, str] | None = None
) -> dict[str, int]:
    """GPU hard limits: each flavor's reach (quota plus borrowingLimit, no borrowing when it is
    absent, never above the cluster's capacity), under the key the allocation mode counts.
    `keys_of`: flavor_quota_keys(cluster), which a caller asking for every team passes."""
    keys_of = flavor_quota_keys(cluster) if keys_of is None else keys_of
    hard: dict[str, int] = {}
    for quota in team.entry.gpus:
        key = keys_of[quota.flavor]
        hard[key] = hard.get(key, 0) + reach(quota, cluster.capacity[quota.flavor])
    return hard


def resource_quota(
    cluster: ClusterModel, team: TeamOnCluster, keys_of: dict[str, str] | None = None
) -> KubeObject:
    hard: dict[str, str] = {
        "requests.cpu": team.entry.cpu,
        "requests.memory": team.entry.memory,
        **{key: str(value) for key, value in sorted(gpu_quota(cluster, team, keys_of).items())},
    }
    return obj("v1", "ResourceQuota", team.namespace, team.namespace, labels=team.labels, spec={"hard": hard})


def limit_range(team: TeamOnCluster) -> KubeObject:
    limit = {"type": "Container", "default": dict(DEFAULT_LIMITS), "defaultRequest": dict(DEFAULT_REQUESTS)}
    return obj("v1", "LimitRange", "defaults", team.namespace, labels=team.labels, spec={"limits": [limit]})


def role_binding(team: TeamOnCluster, name: str, cluster_role: str, groups: list[str]) -> KubeObject:
    subjects = [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g} for g in sorted(set(groups))
    ]
    return obj(
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        name,
        team.namespace,
        labels=team.labels,
        roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_role},
        subjects=subjects,
    )


# DeviceClasses the DRA driver chart installs itself, without any product filter
# (kubernetes-sigs/dra-driver-nvidia-gpu v0.4.1 templates/deviceclass-{gpu,mig,vfio-gpu}.yaml);
# gpu.nvidia.com also backs the nvidia.com/gpu extended resource (extendedResourceName).
DRIVER_DEVICE_CLASSES = ("gpu.nvidia.com", "mig.nvidia.com", "vfio.gpu.nvidia.com")
DRIVER_EXTENDED_RESOURCE = "nvidia.com/gpu"
DENIED_GPUS_QUOTA = "no-other-gpus"
# PriorityClasses a team's pods may name: the online-serving class of its predictors (serving.py).
ALLOWED_PRIORITY_CLASSES = frozenset({SERVING_PRIORITY_CLASS})


def denied_gpus(
    cluster: ClusterModel, team: TeamOnCluster, keys_of: dict[str, str] | None = None
) -> list[str]:
    """Quota keys a team may not use at all, held at 0: every GPU path around its own quota.

    dra: the driver's generic DeviceClasses (a claim with allocationMode All would take every
    GPU), the extended resource they back, and the DeviceClasses of flavors the team has no quota
    for. device-plugin: the extended resources of flavors the team has no quota for.
    `keys_of`: flavor_quota_keys(cluster), which a caller asking for every team passes.
    """
    keys_of = flavor_quota_keys(cluster) if keys_of is None else keys_of
    keys = set(keys_of.values()) - {keys_of[q.flavor] for q in team.entry.gpus if q.flavor in keys_of}
    if cluster.dra:
        keys |= {device_class_quota_key(c) for c in DRIVER_DEVICE_CLASSES}
        keys.add(f"requests.{DRIVER_EXTENDED_RESOURCE}")
    return sorted(keys)


def denied_gpu_quota(
    cluster: ClusterModel, team: TeamOnCluster, keys_of: dict[str, str] | None = None
) -> KubeObject | None:
    keys = denied_gpus(cluster, team, keys_of)
    if not keys:
        return None
    hard = {key: "0" for key in keys}
    return obj(
        "v1", "ResourceQuota", DENIED_GPUS_QUOTA, team.namespace, labels=team.labels, spec={"hard": hard}
    )


def allowed_priority_classes(cluster: ClusterModel, team: TeamOnCluster) -> list[str]:
    """The serving class plus what the spec's priorityClasses rule allows the team (the guardrail
    policy and this quota agree, so a class the spec allows is not refused by the quota)."""
    rule = effective_rule(cluster.platform.spec.policies, team.team.spec.policies, "priorityClasses")
    extra = rule.allowed if isinstance(rule, PriorityClasses) else []
    return sorted(ALLOWED_PRIORITY_CLASSES | set(extra))


def priority_class_quota(cluster: ClusterModel, team: TeamOnCluster) -> KubeObject:
    """No pod of the team may name a PriorityClass other than the ones the platform allows
    (the online-serving class its predictors use): system-node-critical and the like would
    preempt other teams. A quota of 0 pods for the scope `PriorityClass Exists and NotIn
    [allowed]` refuses them at admission; pods that name none are not in the scope."""
    scope = {
        "matchExpressions": [
            {"scopeName": "PriorityClass", "operator": "Exists"},
            {
                "scopeName": "PriorityClass",
                "operator": "NotIn",
                "values": allowed_priority_classes(cluster, team),
            },
        ]
    }
    return obj(
        "v1",
        "ResourceQuota",
        "no-priority-class",
        team.namespace,
        labels=team.labels,
        spec={"hard": {"pods": "0"}, "scopeSelector": scope},
    )


def build(cluster: ClusterModel) -> ComponentOutput:
    objects: list[KubeObject] = []
    if cluster.teams:
        objects += [team_role(OWNER_ROLE, OWNER_RULES), team_role(MEMBER_ROLE, MEMBER_RULES)]
    keys_of = flavor_quota_keys(cluster)
    for team in cluster.teams:
        objects += [namespace(cluster, team), resource_quota(cluster, team, keys_of), limit_range(team)]
        objects.append(priority_class_quota(cluster, team))
        denied = denied_gpu_quota(cluster, team, keys_of)
        if denied is not None:
            objects.append(denied)
        objects.append(role_binding(team, "owners", OWNER_ROLE, team.team.spec.owners))
        if team.team.spec.members:
            objects.append(role_binding(team, "members", MEMBER_ROLE, team.team.spec.members))
    return ComponentOutput(objects=tuple(objects))


COMPONENT = Component("tenancy", build)
