"""Cross-object references: every name an object points at resolves within its cluster's tree.

The API server accepts dangling references (a LocalQueue naming a ClusterQueue that does
not exist is stored happily) and the failure only shows at run time: workloads that never
admit, a model that never serves, an Application that syncs nothing. These checks catch
them in review. All findings use check id "reference".

Decisions:
- ClusterQueue `cohortName` must name a Cohort in the tree. Kueue would create the cohort
  implicitly, but platformc always emits the Cohort object (so its fair-sharing settings
  are reviewed), so a missing one means the tree was edited inconsistently.
- Things other charts provide count as present: the ClusterServingRuntimes the KServe chart
  installs and the DeviceClasses the NVIDIA DRA driver creates.
- A namespace an object lives in (or an Application / HelmRelease deploys into) must be a
  Namespace in the same tree, one every cluster has, or the GitOps engine's own namespace.
  The engine namespace is configurable (Cluster.gitopsNamespace), so it is read from the tree:
  wherever its Applications / Kustomizations live. Argo CD's apply would otherwise fail with
  "namespaces not found", Flux's with a dry-run error, only once the unit syncs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .checks import ClusterObjects, Entry, ObjectSet
from .findings import Finding
from .gitops import ARGO_GROUP, HELM_GROUP, KUSTOMIZE_GROUP, SOURCE_GROUP, layout
from .schemas import json_path
from .workloads import KSERVE, workloads

CHECK = "reference"
KUEUE = "kueue.x-k8s.io"
DRA = "resource.k8s.io"

# ClusterServingRuntimes installed with KServe v0.20 (charts/kserve-runtime-configs and
# config/runtimes upstream); an InferenceService may name these without defining them.
KSERVE_RUNTIMES = frozenset(
    {
        "kserve-huggingfaceserver",
        "kserve-huggingfaceserver-multinode",
        "kserve-lgbserver",
        "kserve-mlserver",
        "kserve-paddleserver",
        "kserve-pmmlserver",
        "kserve-sklearnserver",
        "kserve-tensorflow-serving",
        "kserve-torchserve",
        "kserve-tritonserver",
        "kserve-xgbserver",
    }
)
# DeviceClasses the NVIDIA DRA driver (dra-driver-nvidia-gpu) creates itself.
DRA_DRIVER_DEVICE_CLASSES = frozenset(
    {
        "gpu.nvidia.com",
        "mig.nvidia.com",
        "vfio.gpu.nvidia.com",
        "compute-domain-daemon.nvidia.com",
        "compute-domain-default-channel.nvidia.com",
    }
)
# Flux source kinds a HelmRelease or Kustomization may point at.
FLUX_SOURCE_KINDS = frozenset(
    {"GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Bucket", "ExternalArtifact"}
)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _name(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _missing(entry: Entry, path: list[str | int], message: str) -> Finding:
    return entry.finding(CHECK, json_path(path), message)


def check_kueue_references(objects: ObjectSet) -> Iterator[Finding]:
    """LocalQueue → ClusterQueue, ClusterQueue → ResourceFlavor and Cohort, Cohort → parent Cohort."""
    for cluster in objects.clusters.values():
        for lq in cluster.of_kind(KUEUE, "LocalQueue"):
            target = _name(_dict(lq.obj.get("spec")).get("clusterQueue"))
            if target and cluster.get(KUEUE, "ClusterQueue", target) is None:
                yield _missing(
                    lq,
                    ["spec", "clusterQueue"],
                    f"ClusterQueue {target!r} does not exist in this cluster's tree",
                )
        for cq in cluster.of_kind(KUEUE, "ClusterQueue"):
            spec = _dict(cq.obj.get("spec"))
            for g, group in enumerate(_list(spec.get("resourceGroups"))):
                for f, flavor in enumerate(_list(_dict(group).get("flavors"))):
                    name = _name(_dict(flavor).get("name"))
                    if name and cluster.get(KUEUE, "ResourceFlavor", name) is None:
                        yield _missing(
                            cq,
                            ["spec", "resourceGroups", g, "flavors", f, "name"],
                            f"ResourceFlavor {name!r} does not exist in this cluster's tree",
                        )
            cohort = _name(spec.get("cohortName"))
            if cohort and cluster.get(KUEUE, "Cohort", cohort) is None:
                yield _missing(
                    cq, ["spec", "cohortName"], f"Cohort {cohort!r} does not exist in this cluster's tree"
                )
        for cohort_entry in cluster.of_kind(KUEUE, "Cohort"):
            parent = _name(_dict(cohort_entry.obj.get("spec")).get("parentName"))
            if parent and cluster.get(KUEUE, "Cohort", parent) is None:
                yield _missing(
                    cohort_entry,
                    ["spec", "parentName"],
                    f"Cohort {parent!r} does not exist in this cluster's tree",
                )


def check_serving_references(objects: ObjectSet) -> Iterator[Finding]:
    """InferenceService runtime → ServingRuntime (same namespace), ClusterServingRuntime or a KServe one."""
    for cluster in objects.clusters.values():
        for isvc in cluster.of_kind(KSERVE, "InferenceService"):
            model = _dict(_dict(_dict(isvc.obj.get("spec")).get("predictor")).get("model"))
            runtime = _name(model.get("runtime"))
            if (
                runtime
                and runtime not in KSERVE_RUNTIMES
                and cluster.get(KSERVE, "ServingRuntime", runtime, isvc.namespace) is None
                and cluster.get(KSERVE, "ClusterServingRuntime", runtime) is None
            ):
                yield _missing(
                    isvc,
                    ["spec", "predictor", "model", "runtime"],
                    f"serving runtime {runtime!r} is neither a ServingRuntime in namespace {isvc.namespace}, "
                    f"a ClusterServingRuntime in this tree, nor one KServe installs "
                    f"({', '.join(sorted(KSERVE_RUNTIMES))})",
                )


def _device_requests(entry: Entry) -> Iterator[tuple[list[str | int], str]]:
    """(path, deviceClassName) of every device request of a ResourceClaim(Template); the path is
    built only for a class that is not a driver's (the only ones a finding names)."""
    base = ["spec", "spec"] if entry.kind == "ResourceClaimTemplate" else ["spec"]
    spec: Any = entry.obj
    for part in base:
        spec = spec.get(part) if isinstance(spec, dict) else None
    devices = spec.get("devices") if isinstance(spec, dict) else None
    requests = devices.get("requests") if isinstance(devices, dict) else None
    for r, request in enumerate(requests if isinstance(requests, list) else ()):
        if not isinstance(request, dict):
            continue
        exactly = request.get("exactly")
        name = _name(exactly.get("deviceClassName")) if isinstance(exactly, dict) else None
        if name and name not in DRA_DRIVER_DEVICE_CLASSES:
            yield [*base, "devices", "requests", r, "exactly", "deviceClassName"], name
        for s, sub in enumerate(_list(request.get("firstAvailable"))):
            name = _name(_dict(sub).get("deviceClassName"))
            if name and name not in DRA_DRIVER_DEVICE_CLASSES:
                yield [*base, "devices", "requests", r, "firstAvailable", s, "deviceClassName"], name


def check_dra_references(objects: ObjectSet) -> Iterator[Finding]:
    """Claims → DeviceClass; pods → ResourceClaimTemplate/ResourceClaim; containers → pod claims."""
    for cluster in objects.clusters.values():
        for kind in ("ResourceClaimTemplate", "ResourceClaim"):
            for claim in cluster.kinds.get((DRA, kind), ()):
                for path, name in _device_requests(claim):
                    if cluster.get(DRA, "DeviceClass", name) is None:
                        yield _missing(
                            claim,
                            path,
                            f"DeviceClass {name!r} does not exist in this cluster's tree "
                            f"(nor is it one the NVIDIA DRA driver creates)",
                        )
        yield from _pod_claims(cluster)


def _pod_claims(cluster: ClusterObjects) -> Iterator[Finding]:
    for workload in workloads(cluster):
        entry = workload.entry
        for pod in workload.pods:
            declared: set[str] = set()
            for c, claim in enumerate(_list(pod.spec.get("resourceClaims"))):
                claim = _dict(claim)
                if _name(claim.get("name")):
                    declared.add(claim["name"])
                for field, kind in (
                    ("resourceClaimTemplateName", "ResourceClaimTemplate"),
                    ("resourceClaimName", "ResourceClaim"),
                ):
                    target = _name(claim.get(field))
                    if target and cluster.get(DRA, kind, target, entry.namespace) is None:
                        yield _missing(
                            entry,
                            [*pod.path, "resourceClaims", c, field],
                            f"{kind} {target!r} does not exist in namespace {entry.namespace}",
                        )
        for container in workload.containers:
            claims = _list(_dict(container.container.get("resources")).get("claims"))
            if not claims:
                continue
            declared = {
                c["name"]
                for c in _list(container.pod.spec.get("resourceClaims"))
                if isinstance(c, dict) and _name(c.get("name"))
            }
            for i, claim in enumerate(claims):
                name = _name(_dict(claim).get("name"))
                if name and name not in declared:
                    yield _missing(
                        entry,
                        [*container.path, "resources", "claims", i, "name"],
                        f"claim {name!r} is not declared in the pod's resourceClaims",
                    )


def check_gitops_references(objects: ObjectSet) -> Iterator[Finding]:
    """Application paths and projects; Flux paths, sources and dependsOn resolve in the tree."""
    for cluster in objects.clusters.values():
        tree = layout(cluster)
        for unit in tree.units:
            for git in unit.paths:
                if git.folder is None:
                    yield unit.entry.finding(
                        CHECK,
                        git.json_path,
                        f"path {git.path!r} does not point into this cluster's tree "
                        f"(expected <gitops path>/{cluster.name}/...)",
                    )
                elif git.folder not in tree.folders:
                    yield unit.entry.finding(
                        CHECK,
                        git.json_path,
                        f"path {git.path!r}: folder {git.folder or '.'!r} "
                        f"does not exist in the tree of {cluster.name}",
                    )
        for app in cluster.of_kind(ARGO_GROUP, "Application"):
            project = _name(_dict(app.obj.get("spec")).get("project"))
            if (
                project
                and project != "default"
                and cluster.get(ARGO_GROUP, "AppProject", project, app.namespace) is None
            ):
                yield _missing(
                    app,
                    ["spec", "project"],
                    f"AppProject {project!r} does not exist in namespace {app.namespace}",
                )
        for ks in cluster.of_kind(KUSTOMIZE_GROUP, "Kustomization"):
            yield from _flux_ref(cluster, ks, ["spec", "sourceRef"])
            yield from _depends_on(cluster, ks, KUSTOMIZE_GROUP, "Kustomization")
        for hr in cluster.of_kind(HELM_GROUP, "HelmRelease"):
            spec = _dict(hr.obj.get("spec"))
            if "chartRef" in spec:
                yield from _flux_ref(cluster, hr, ["spec", "chartRef"])
            if "chart" in spec:
                yield from _flux_ref(cluster, hr, ["spec", "chart", "spec", "sourceRef"])
            yield from _depends_on(cluster, hr, HELM_GROUP, "HelmRelease")


def _flux_ref(cluster: ClusterObjects, entry: Entry, path: list[str]) -> Iterator[Finding]:
    ref: Any = entry.obj
    for part in path:
        ref = _dict(ref).get(part)
    ref = _dict(ref)
    kind, name = _name(ref.get("kind")), _name(ref.get("name"))
    if not kind or not name:
        return  # schema validation reports missing fields
    namespace = _name(ref.get("namespace")) or entry.namespace
    if kind not in FLUX_SOURCE_KINDS:
        yield _missing(
            entry,
            [*path, "kind"],
            f"{kind} is not a Flux source kind ({', '.join(sorted(FLUX_SOURCE_KINDS))})",
        )
    elif cluster.get(SOURCE_GROUP, kind, name, namespace) is None:
        yield _missing(
            entry, [*path, "name"], f"{kind} {namespace}/{name} does not exist in this cluster's tree"
        )


def _depends_on(cluster: ClusterObjects, entry: Entry, group: str, kind: str) -> Iterator[Finding]:
    items = _list(_dict(entry.obj.get("spec")).get("dependsOn"))
    for i, item in enumerate(items):
        name = _name(_dict(item).get("name"))
        namespace = _name(_dict(item).get("namespace")) or entry.namespace
        if name and cluster.get(group, kind, name, namespace) is None:
            yield _missing(
                entry,
                ["spec", "dependsOn", i, "name"],
                f"{kind} {namespace}/{name} does not exist in this cluster's tree",
            )


# Namespaces every Kubernetes cluster has from the start.
BUILTIN_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


def _unknown_namespace(namespace: str, engine: set[str]) -> str:
    return (
        f"namespace {namespace!r} is not created in this cluster's tree "
        f"(expected a Namespace object, one of {', '.join(sorted(BUILTIN_NAMESPACES))}, "
        f"or the GitOps engine's namespace {', '.join(sorted(engine)) or '(none found)'})"
    )


def check_namespace_references(objects: ObjectSet) -> Iterator[Finding]:
    """metadata.namespace, Application destination.namespace, HelmRelease targetNamespace exist."""
    for cluster in objects.clusters.values():
        created = {e.name for e in cluster.of_kind("", "Namespace") if e.name}
        engine = {u.entry.namespace for u in layout(cluster).units if u.entry.namespace}
        known = created | engine | BUILTIN_NAMESPACES
        for entry in cluster.entries:
            if entry.namespace and entry.namespace not in known:
                yield _missing(entry, ["metadata", "namespace"], _unknown_namespace(entry.namespace, engine))
        for app in cluster.of_kind(ARGO_GROUP, "Application"):
            target = _name(_dict(_dict(app.obj.get("spec")).get("destination")).get("namespace"))
            if target and target not in known:
                yield _missing(app, ["spec", "destination", "namespace"], _unknown_namespace(target, engine))
        for hr in cluster.of_kind(HELM_GROUP, "HelmRelease"):
            target = _name(_dict(hr.obj.get("spec")).get("targetNamespace"))
            if target and target not in known:
                yield _missing(hr, ["spec", "targetNamespace"], _unknown_namespace(target, engine))


REFERENCE_CHECKS = (
    check_kueue_references,
    check_serving_references,
    check_dra_references,
    check_gitops_references,
    check_namespace_references,
)
