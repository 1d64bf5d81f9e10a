"""The workloads the spec implies, as pods the API server would receive.

- every InferenceService: the stable and canary predictor pods KServe v0.20 creates (kserve_pods);
- every chart or tree workload (Deployment, StatefulSet, DaemonSet) in its namespace;
- per team and GPU flavor in its ClusterQueue, a representative batch Job that asks for one
  device the way the README tells users: the `kueue.x-k8s.io/queue-name: default` label, and the
  claim template `<flavor>-1` (dra) or a limit of the flavor's resource (device plugin). Its
  container follows the restricted Pod Security profile, as the README's job example does, and it
  meets the team's guardrails as a user must: the labels `requiredLabels` names, an image from the
  first of `trustedRegistries`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compiler.verify.cluster import SimCluster
from compiler.verify.copying import copy_tree
from compiler.verify.intents import Intents
from compiler.verify.kserve_pods import KServeConfig, KServeModelError, inference_service_pods

QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
DEFAULT_QUEUE = "default"
CONTROLLERS = ("Deployment", "StatefulSet", "DaemonSet")


@dataclass
class Workload:
    kind: str  # Deployment | StatefulSet | DaemonSet | Job (the controller the pods come from)
    name: str
    namespace: str
    role: str  # serving | platform | batch
    owner: str  # the object the user wrote: InferenceService/<ns>/<name>, Deployment/<ns>/<name>...
    controller: dict[str, Any]  # the controller object as webhooks (Kueue) see it
    pod: dict[str, Any]  # v1 Pod (metadata + spec)
    replicas: int
    flavor: str | None = None  # batch: the GPU flavor it asks for
    resource: str | None = None  # batch: the quota resource it is charged (Kueue)
    canary_of: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"


def _pod_from_template(template: dict[str, Any], name: str, namespace: str) -> dict[str, Any]:
    meta = copy_tree(template.get("metadata") or {})
    meta.update({"name": name, "namespace": namespace})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": copy_tree(template.get("spec") or {}),
    }


def serving_workloads(cluster: SimCluster, problems: list[tuple[str, str]]) -> list[Workload]:
    isvcs = cluster.of_kind("InferenceService")
    if not isvcs:
        return []
    config = KServeConfig.from_objects(t.obj for t in cluster.objects)
    out = []
    for isvc in isvcs:
        meta = isvc["metadata"]
        owner = f"InferenceService/{meta.get('namespace')}/{meta['name']}"
        try:
            pods = inference_service_pods(isvc, config)
        except KServeModelError as exc:
            problems.append((owner, str(exc)))
            continue
        for p in pods:
            deployment = {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {
                    "name": p.deployment,
                    "namespace": p.namespace,
                    "labels": dict(p.pod["metadata"].get("labels") or {}),
                    "annotations": dict(p.pod["metadata"].get("annotations") or {}),
                },
                "spec": {
                    "replicas": p.replicas,
                    "template": {"metadata": p.pod["metadata"], "spec": p.pod["spec"]},
                },
            }
            out.append(
                Workload(
                    "Deployment",
                    p.deployment,
                    p.namespace,
                    "serving",
                    owner,
                    deployment,
                    p.pod,
                    p.replicas,
                    canary_of=meta["name"] if p.role == "canary" else None,
                )
            )
    return out


def chart_workloads(cluster: SimCluster) -> list[Workload]:
    out = []
    for t in cluster.objects:
        obj = t.obj
        if obj.get("kind") not in CONTROLLERS or not str(obj.get("apiVersion", "")).startswith("apps/"):
            continue
        meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
        ns = meta.get("namespace") or "default"
        replicas = 1 if obj["kind"] == "DaemonSet" else int(spec.get("replicas", 1))
        pod = _pod_from_template(spec.get("template") or {}, meta.get("name", ""), ns)
        out.append(
            Workload(
                obj["kind"],
                meta.get("name", ""),
                ns,
                "platform",
                f"{obj['kind']}/{ns}/{meta.get('name')}",
                obj,
                pod,
                replicas,
            )
        )
    return out


def batch_workloads(cluster: SimCluster, intents: Intents) -> list[Workload]:
    """One representative one-device Job per team namespace and GPU flavor of its ClusterQueue."""
    namespaces = cluster.namespaces()
    teams = sorted(
        n for n, ns in namespaces.items() if "platformc.dev/team" in (ns["metadata"].get("labels") or {})
    )
    out = []
    for team in teams:
        for flavor, resource in team_gpu_flavors(cluster, team):
            job_name = f"verify-batch-{flavor}"
            registry = intents.trusted_registry.get(team, "registry.example/")
            labels = {
                QUEUE_LABEL: DEFAULT_QUEUE,
                **dict.fromkeys(intents.required_labels.get(team, ()), team),
            }
            container: dict[str, Any] = {
                "name": "train",
                "image": registry.rstrip("/") + "/train:latest",
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                    "runAsNonRoot": True,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
            }
            spec: dict[str, Any] = {"restartPolicy": "Never", "containers": [container]}
            if cluster.dra:
                container["resources"] = {"claims": [{"name": "gpu"}]}
                spec["resourceClaims"] = [{"name": "gpu", "resourceClaimTemplateName": f"{flavor}-1"}]
            else:
                container["resources"] = {"limits": {resource: "1"}}
            template = {"metadata": {"labels": dict(labels)}, "spec": spec}
            job = {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {"name": job_name, "namespace": team, "labels": labels},
                "spec": {"template": template},
            }
            pod = _pod_from_template(template, job_name, team)
            out.append(
                Workload(
                    "Job", job_name, team, "batch", f"Job/{team}/{job_name}", job, pod, 1, flavor, resource
                )
            )
    return out


def team_gpu_flavors(cluster: SimCluster, namespace: str) -> list[tuple[str, str]]:
    """(flavor, resource) pairs of the GPU flavors in the ClusterQueue serving a team namespace."""
    from compiler.verify.kueue import cluster_queue_for
    from compiler.verify.selectors import label_selector_matches

    cq = cluster_queue_for(cluster, namespace)
    if cq is None:  # no LocalQueue: the ClusterQueue meant for the namespace (its namespaceSelector)
        labels = cluster.namespaces()[namespace]["metadata"].get("labels") or {}
        cq = next(
            (
                c
                for c in cluster.of_kind("ClusterQueue")
                if (c.get("spec") or {}).get("namespaceSelector")
                and label_selector_matches(c["spec"]["namespaceSelector"], labels)
            ),
            None,
        )
    if cq is None:
        return []
    pairs = []
    for group in (cq.get("spec") or {}).get("resourceGroups") or ():
        for flavor in group.get("flavors") or ():
            for res in flavor.get("resources") or ():
                if res.get("name") not in ("cpu", "memory", "pods", "ephemeral-storage"):
                    pairs.append((flavor["name"], res["name"]))
    return sorted(set(pairs))


def build_workloads(cluster: SimCluster, intents: Intents, problems: list[tuple[str, str]]) -> list[Workload]:
    return [
        *serving_workloads(cluster, problems),
        *chart_workloads(cluster),
        *batch_workloads(cluster, intents),
    ]
