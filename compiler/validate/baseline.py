"""Security baseline: rules every platformc tree keeps, with stable IDs (PSB001…PSB008).

The table `BASELINE` (ID, rule, rationale) is the documentation; README's "Validation"
section repeats it. Every rule is an error: a tree that breaks one is not merged.
A team namespace is a Namespace labelled `platformc.dev/team`; an operator namespace is
one whose Namespace enforces the `privileged` Pod Security level and has no team label.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from compiler.tree_contract import TEAM_LABEL

from .checks import ClusterObjects, Entry, ObjectSet
from .findings import Finding
from .schemas import json_path
from .workloads import all_workloads, resources, workloads

ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
PSA_LEVELS = ("privileged", "baseline", "restricted")
GPU_PREFIX = "nvidia.com/"

BASELINE: tuple[tuple[str, str, str], ...] = (
    (
        "PSB001",
        "every team namespace has default-deny ingress and egress NetworkPolicies",
        "traffic a team did not ask for is refused; allows are explicit and reviewable",
    ),
    (
        "PSB002",
        "every team namespace carries a Pod Security enforce label (baseline or restricted)",
        "the API server itself rejects pods that escape the container sandbox",
    ),
    (
        "PSB003",
        "every team namespace has a ResourceQuota bounding CPU and memory",
        "one team cannot take the cluster's CPU, memory or GPUs from the others",
    ),
    (
        "PSB004",
        "every team namespace has a LimitRange",
        "pods without resources get defaults, so quotas can admit them and nodes are not overcommitted",
    ),
    (
        "PSB005",
        "no privileged container outside operator namespaces",
        "a privileged container owns its node; only operators (GPU driver, DRA) need that",
    ),
    (
        "PSB006",
        "no Secret object carries data or stringData",
        "secret values never enter Git; they come from a secret store at run time",
    ),
    (
        "PSB007",
        "every GPU workload sets GPU limits or a DRA claim",
        "GPUs are only accounted, isolated and quota-checked when requested explicitly",
    ),
    (
        "PSB008",
        "every image has a tag other than latest, or a digest",
        "what runs is what was reviewed; a moving tag changes it behind Git's back",
    ),
)
BASELINE_IDS = frozenset(rule for rule, _, _ in BASELINE)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _labels(entry: Entry) -> dict[str, Any]:
    return _dict(entry.metadata.get("labels"))


def _namespaces(cluster: ClusterObjects) -> list[Entry]:
    return cluster.of_kind("", "Namespace")


def _team_namespaces(cluster: ClusterObjects) -> list[Entry]:
    return [ns for ns in _namespaces(cluster) if TEAM_LABEL in _labels(ns)]


def _operator_namespaces(cluster: ClusterObjects) -> set[str]:
    return {
        ns.name
        for ns in _namespaces(cluster)
        if _labels(ns).get(ENFORCE_LABEL) == "privileged" and TEAM_LABEL not in _labels(ns)
    }


def check_default_deny(objects: ObjectSet) -> Iterator[Finding]:
    """PSB001. A default-deny policy has an empty podSelector, the direction in policyTypes and no
    rules for it. (Written out in one loop: a tree has thousands of NetworkPolicies.)"""
    for cluster in objects.clusters.values():
        ingress: set[str] = set()  # namespaces with a default-deny ingress policy
        egress: set[str] = set()
        for policy in cluster.kinds.get(("networking.k8s.io", "NetworkPolicy"), ()):
            spec = policy.obj.get("spec")
            if not policy.namespace or not isinstance(spec, dict):
                continue
            selector = spec.get("podSelector")
            if (
                not isinstance(selector, dict)
                or selector.get("matchLabels")
                or selector.get("matchExpressions")
            ):
                continue
            types = spec.get("policyTypes")
            if isinstance(types, list):
                if "Ingress" in types and not spec.get("ingress"):
                    ingress.add(policy.namespace)
                if "Egress" in types and not spec.get("egress"):
                    egress.add(policy.namespace)
        covered = {"Ingress": ingress, "Egress": egress}
        for ns in _team_namespaces(cluster):
            missing = [d for d in ("Ingress", "Egress") if ns.name not in covered[d]]
            if missing:
                yield ns.finding(
                    "PSB001",
                    "$",
                    f"team namespace has no default-deny "
                    f"{' or '.join(m.lower() for m in missing)} NetworkPolicy "
                    f"(expected podSelector {{}}, policyTypes [{', '.join(missing)}] and no rules)",
                )


def check_pod_security_label(objects: ObjectSet) -> Iterator[Finding]:
    """PSB002."""
    path = json_path(["metadata", "labels", ENFORCE_LABEL])
    for cluster in objects.clusters.values():
        for ns in _team_namespaces(cluster):
            level = _labels(ns).get(ENFORCE_LABEL)
            if level is None:
                yield ns.finding("PSB002", path, "team namespace has no Pod Security enforce label")
            elif level not in ("baseline", "restricted"):
                yield ns.finding(
                    "PSB002",
                    path,
                    f"team namespace enforces Pod Security level {level!r} (expected baseline or restricted)",
                )


def _presence(
    objects: ObjectSet, rule: str, kind: str, counts: Callable[[Entry], bool] = lambda _: True, what: str = ""
) -> Iterator[Finding]:
    for cluster in objects.clusters.values():
        present = {e.namespace for e in cluster.of_kind("", kind) if counts(e)}
        for ns in _team_namespaces(cluster):
            if ns.name not in present:
                yield ns.finding(rule, "$", f"team namespace has no {what or kind}")


_COMPUTE = frozenset({"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"})


def _bounds_compute(entry: Entry) -> bool:
    """An unscoped quota with a CPU or memory limit (quotas holding GPUs or pods at 0 do not count)."""
    spec = _dict(entry.obj.get("spec"))
    hard = _dict(spec.get("hard"))
    return not spec.get("scopes") and not spec.get("scopeSelector") and bool(_COMPUTE & hard.keys())


def check_resource_quota(objects: ObjectSet) -> Iterator[Finding]:
    """PSB003."""
    what = "ResourceQuota bounding CPU and memory"
    return _presence(objects, "PSB003", "ResourceQuota", _bounds_compute, what)


def check_limit_range(objects: ObjectSet) -> Iterator[Finding]:
    """PSB004."""
    return _presence(objects, "PSB004", "LimitRange")


def check_privileged(objects: ObjectSet) -> Iterator[Finding]:
    """PSB005."""
    for cluster in objects.clusters.values():
        operators = _operator_namespaces(cluster)
        for workload in workloads(cluster):
            entry = workload.entry
            if entry.namespace in operators:
                continue
            for c in workload.containers:
                if _dict(c.container.get("securityContext")).get("privileged") is True:
                    yield entry.finding(
                        "PSB005",
                        json_path([*c.path, "securityContext", "privileged"]),
                        f"privileged container outside an operator namespace "
                        f"(namespace {entry.namespace or '(cluster-scoped)'} does not enforce 'privileged')",
                    )


def check_secret_data(objects: ObjectSet) -> Iterator[Finding]:
    """PSB006."""
    for name in sorted(objects.clusters):
        for entry in objects.clusters[name].kinds.get(("", "Secret"), ()):
            for field in ("data", "stringData"):
                if entry.obj.get(field):
                    yield entry.finding(
                        "PSB006",
                        f"$.{field}",
                        "Secret carries values in Git (use an external secret store instead)",
                    )


def check_gpu_limits(objects: ObjectSet) -> Iterator[Finding]:
    """PSB007: nvidia.com/* requests need limits; pods aimed at GPU nodes must ask for GPUs."""
    for workload in all_workloads(objects):
        entry = workload.entry
        gpu_pods: set[int] = set()
        for c in workload.containers:
            requests, limits = resources(c.container, "requests"), resources(c.container, "limits")
            if any(k.startswith(GPU_PREFIX) for k in limits) or _dict(c.container.get("resources")).get(
                "claims"
            ):
                gpu_pods.add(id(c.pod.spec))
            for key in sorted(k for k in requests if k.startswith(GPU_PREFIX) and k not in limits):
                yield entry.finding(
                    "PSB007",
                    json_path([*c.path, "resources", "limits"]),
                    f"requests {key} without a limit "
                    "(GPUs are not overcommitted: set limits equal to requests)",
                )
        for pod in workload.pods:
            if id(pod.spec) in gpu_pods or pod.spec.get("resourceClaims"):
                continue
            selector = _dict(pod.spec.get("nodeSelector"))
            gpu_keys = sorted(k for k in selector if isinstance(k, str) and k.startswith(GPU_PREFIX))
            if gpu_keys:
                yield entry.finding(
                    "PSB007",
                    json_path([*pod.path, "nodeSelector", gpu_keys[0]]),
                    "targets GPU nodes but no container sets an nvidia.com/* limit "
                    "and the pod has no resource claim",
                )


def image_problem(image: str) -> str | None:
    """Why an image reference is not pinned, or None when it is (tag other than latest, or digest)."""
    if "@" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image!r} has no tag (pin a version or a digest)"
    if last.rsplit(":", 1)[1] == "latest":
        return f"image {image!r} uses the moving tag latest (pin a version or a digest)"
    return None


def _disabled_runtime(entry: Entry) -> bool:
    """A KServe serving runtime with `spec.disabled: true`: no model is served by it, so its image
    is never pulled (kserve-runtime-configs keeps disabled runtimes as objects)."""
    spec = _dict(entry.obj.get("spec"))
    return (
        entry.group == "serving.kserve.io"
        and entry.kind.endswith("ServingRuntime")
        and spec.get("disabled") is True
    )


def check_image_tags(objects: ObjectSet) -> Iterator[Finding]:
    """PSB008."""
    for workload in all_workloads(objects):
        entry = workload.entry
        if _disabled_runtime(entry):
            continue
        for c in workload.containers:
            image = c.container.get("image")
            if isinstance(image, str) and image:
                problem = image_problem(image)
                if problem:
                    yield entry.finding("PSB008", json_path([*c.path, "image"]), problem)


BASELINE_CHECKS = (
    check_default_deny,
    check_pod_security_label,
    check_resource_quota,
    check_limit_range,
    check_privileged,
    check_secret_data,
    check_gpu_limits,
    check_image_tags,
)
