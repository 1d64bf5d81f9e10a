"""Kueue (kueue.x-k8s.io/v1beta2): a ResourceFlavor per GPU flavor on the cluster plus a CPU
flavor, the cluster's Cohort, one ClusterQueue per team with its quotas, a LocalQueue in each
team namespace and the WorkloadPriorityClasses low / normal / high.

On dra clusters the Kueue Configuration maps each flavor's DeviceClass to a logical resource
(deviceClassMappings), so ResourceClaimTemplate device counts are charged to the same quota.
"""

from __future__ import annotations

from typing import Any

from compiler.cluster_model import ClusterModel, TeamOnCluster
from compiler.components.base import (
    Chart,
    Component,
    ComponentOutput,
    CrdRelease,
    KubeObject,
    VersionPin,
    config_yaml,
    obj,
    pod_security_namespace,
)
from compiler.components.gpu_common import chart_version, node_labels, queue_resource, tolerations
from compiler.gpu_allocation import kueue_flavor_quota
from compiler.naming import (
    CPU_FLAVOR_NAME,
    KUEUE_NAMESPACE,
    LOCAL_QUEUE_NAME,
    PRIORITY_CLASSES,
    cluster_queue_name,
    device_class_name,
    resource_flavor_name,
)

API = "kueue.x-k8s.io/v1beta2"
CHART = Chart(
    "oci://registry.k8s.io/kueue/charts",
    "kueue",
    crd_groups=frozenset({"kueue.x-k8s.io"}),
    uses_crd_groups=frozenset({"monitoring.coreos.com"}),  # the chart's metrics ServiceMonitor
)
FAIR_SHARING_WEIGHT = {"low": "1", "normal": "2", "high": "4"}
# controllerManagerConfigYaml defaults of the kueue 0.19.2 chart (charts/kueue/values.yaml).
GROUP_KIND_CONCURRENCY = {
    "ClusterQueue.kueue.x-k8s.io": 5,
    "Job.batch": 5,
    "LocalQueue.kueue.x-k8s.io": 5,
    "Pod": 5,
    "ResourceFlavor.kueue.x-k8s.io": 1,
    "Workload.kueue.x-k8s.io": 10,
}
# Batch frameworks only. Serving stays outside Kueue: with `deployment`, `pod`, `statefulset` or
# `leaderworkerset` enabled, Kueue v0.19.2's webhooks label every such object in a namespace with a
# LocalQueue `default` (LocalQueueDefaulting) and queue it, so KServe's predictor Deployments would
# wait for and be preempted by batch quota. A disabled integration gets a no-op webhook.
SERVING_INTEGRATIONS = frozenset(
    {"deployment", "pod", "statefulset", "leaderworkerset.x-k8s.io/leaderworkerset"}
)
INTEGRATIONS = [
    "batch/job",
    "jobset.x-k8s.io/jobset",
    "kubeflow.org/pytorchjob",
    "ray.io/raycluster",
    "ray.io/rayjob",
    "trainer.kubeflow.org/trainjob",
]


def manager_config(cluster: ClusterModel) -> str:
    """The chart's controllerManagerConfigYaml: its defaults plus fair sharing and, on dra
    clusters, the DeviceClass → quota resource mappings."""
    config: dict[str, Any] = {
        "apiVersion": "config.kueue.x-k8s.io/v1beta2",
        "kind": "Configuration",
        "health": {"healthProbeBindAddress": ":8081"},
        # Gates kueue_cluster_queue_resource_usage and kueue_cluster_queue_nominal_quota, which
        # the queue and cost panels read.
        "metrics": {"bindAddress": ":8443", "enableClusterQueueResources": True},
        "webhook": {"port": 9443},
        "leaderElection": {"leaderElect": True, "resourceName": "c1f6bfd2.kueue.x-k8s.io"},
        # The chart's defaults: a config without them runs every controller with concurrency 1.
        "controller": {"groupKindConcurrency": dict(GROUP_KIND_CONCURRENCY)},
        "clientConnection": {"qps": 300, "burst": 500},
        "integrations": {"frameworks": INTEGRATIONS},
        # Only objects that name a queue are Kueue's (the default; explicit so it cannot drift).
        "manageJobsWithoutQueueName": False,
        # Present = enabled in v1beta2; ClusterQueue fairSharing.weight then divides borrowing.
        "fairSharing": {"preemptionStrategies": ["LessThanOrEqualToFinalShare", "LessThanInitialShare"]},
    }
    if cluster.dra and cluster.flavors:
        # KueueDRAIntegration is beta and on by default in v0.19; set explicitly so a changed
        # default cannot silently stop GPU claims from counting.
        config["featureGates"] = {"KueueDRAIntegration": True}
        config["resources"] = {
            "deviceClassMappings": [
                {"name": queue_resource(cluster, f), "deviceClassNames": [device_class_name(f)]}
                for f in cluster.flavors
            ]
        }
    return config_yaml(config)


def chart_values(cluster: ClusterModel) -> dict[str, Any]:
    """enablePrometheus: the chart's ServiceMonitor (off by default) is what feeds every queue
    panel and the pending-too-long alert."""
    return {
        "enablePrometheus": True,
        "metrics": {"prometheusNamespace": cluster.monitoring_namespace},
        "managerConfig": {"controllerManagerConfigYaml": manager_config(cluster)},
    }


def resource_flavors(cluster: ClusterModel) -> list[KubeObject]:
    result = [obj(API, "ResourceFlavor", CPU_FLAVOR_NAME, spec={})]
    for name in cluster.flavors:
        spec: dict[str, Any] = {"nodeLabels": node_labels(cluster, name)}
        tols = tolerations(cluster, name)
        if tols:
            spec["tolerations"] = tols
        result.append(obj(API, "ResourceFlavor", resource_flavor_name(name), spec=spec))
    return result


def queue_resources(cluster: ClusterModel) -> dict[str, str]:
    """Each flavor's resource in the queues (gpu_common.queue_resource), for every team at once."""
    return {f: queue_resource(cluster, f) for f in cluster.flavors}


def resource_groups(
    cluster: ClusterModel, team: TeamOnCluster, resources: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """cpu/memory on the CPU flavor; GPU flavors grouped by the resource they provide, because a
    resource (and a flavor) may appear in only one group of a ClusterQueue.
    `resources`: queue_resources(cluster), which a caller asking for every team passes."""
    resources = queue_resources(cluster) if resources is None else resources
    cpu = {
        "name": CPU_FLAVOR_NAME,
        "resources": [
            {"name": "cpu", "nominalQuota": team.entry.cpu},
            {"name": "memory", "nominalQuota": team.entry.memory},
        ],
    }
    groups: list[dict[str, Any]] = [{"coveredResources": ["cpu", "memory"], "flavors": [cpu]}]
    by_resource: dict[str, list[dict[str, Any]]] = {}
    for quota in sorted(team.entry.gpus, key=lambda q: q.flavor):
        if quota.flavor not in resources:
            continue
        resource = resources[quota.flavor]
        flavor = {
            "name": resource_flavor_name(quota.flavor),
            "resources": [kueue_flavor_quota(resource, quota)],
        }
        by_resource.setdefault(resource, []).append(flavor)
    groups += [{"coveredResources": [r], "flavors": by_resource[r]} for r in sorted(by_resource)]
    return groups


def cluster_queue(
    cluster: ClusterModel, team: TeamOnCluster, resources: dict[str, str] | None = None
) -> KubeObject:
    spec = {
        "cohortName": cluster.cluster.spec.cohort,
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": team.namespace}},
        "resourceGroups": resource_groups(cluster, team, resources),
        "preemption": {"reclaimWithinCohort": "Any", "withinClusterQueue": "LowerPriority"},
        "fairSharing": {"weight": FAIR_SHARING_WEIGHT[team.team.spec.priority]},
    }
    return obj(API, "ClusterQueue", cluster_queue_name(team.name), labels=team.labels, spec=spec)


def build(cluster: ClusterModel) -> ComponentOutput:
    chart = CHART.release(
        chart_version(COMPONENT.version_of(cluster)),
        KUEUE_NAMESPACE,
        chart_values(cluster),
    )
    namespace = pod_security_namespace(KUEUE_NAMESPACE, "baseline", warn="restricted")
    objects: list[KubeObject] = [namespace, *resource_flavors(cluster)]
    objects.append(obj(API, "Cohort", cluster.cluster.spec.cohort, spec={}))
    for level, value in PRIORITY_CLASSES.items():
        objects.append(
            obj(API, "WorkloadPriorityClass", level, value=value, description=f"platformc priority {level}")
        )
    resources = queue_resources(cluster)
    for team in cluster.teams:
        objects.append(cluster_queue(cluster, team, resources))
        objects.append(
            obj(
                API,
                "LocalQueue",
                LOCAL_QUEUE_NAME,
                team.namespace,
                labels=team.labels,
                spec={"clusterQueue": cluster_queue_name(team.name)},
            )
        )
    return ComponentOutput(charts=(chart,), objects=tuple(objects))


COMPONENT = Component(
    "kueue",
    build,
    namespaces=(KUEUE_NAMESPACE,),
    version=VersionPin("kueue", "v0.19.2"),
    charts=(CHART,),
    emits=tuple(
        ("kueue.x-k8s.io", kind, "v1beta2")
        for kind in ("ClusterQueue", "LocalQueue", "ResourceFlavor", "WorkloadPriorityClass", "Cohort")
    ),
    crds=(
        CrdRelease(
            "kubernetes-sigs/kueue",
            "8eab68778fc1b52affe165fdf5af29d1e9b4f3cb",
            "https://raw.githubusercontent.com/kubernetes-sigs/kueue/{version}/config/components/crd/bases/{file}",
            tuple(
                f"kueue.x-k8s.io_{plural}.yaml"
                for plural in (
                    "admissionchecks",
                    "clusterqueues",
                    "cohorts",
                    "localqueues",
                    "multikueueclusters",
                    "multikueueconfigs",
                    "provisioningrequestconfigs",
                    "resourceflavors",
                    "topologies",
                    "workloadpriorityclasses",
                    "workloads",
                )
            ),
            chart_archive="kueue-0.19.2.tgz",
            chart_path="charts/kueue",
        ),
    ),
)
