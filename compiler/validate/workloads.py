"""Where pods hide inside objects: pod specs and containers of workload kinds.

Several checks (privileged containers, image tags, GPU limits, claim references) need
every container an object will run, wherever the kind nests its pod template. One table
here keeps them in agreement.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from .checks import ClusterObjects, Entry, ObjectSet

Path = tuple[str | int, ...]

# (group, kind) -> path of the PodSpec inside the object
POD_SPEC_PATHS: dict[tuple[str, str], Path] = {
    ("", "Pod"): ("spec",),
    ("", "ReplicationController"): ("spec", "template", "spec"),
    ("", "PodTemplate"): ("template", "spec"),
    ("apps", "Deployment"): ("spec", "template", "spec"),
    ("apps", "DaemonSet"): ("spec", "template", "spec"),
    ("apps", "StatefulSet"): ("spec", "template", "spec"),
    ("apps", "ReplicaSet"): ("spec", "template", "spec"),
    ("batch", "Job"): ("spec", "template", "spec"),
    ("batch", "CronJob"): ("spec", "jobTemplate", "spec", "template", "spec"),
    # KServe runtimes carry a PodSpec-like spec with the serving containers.
    ("serving.kserve.io", "ServingRuntime"): ("spec",),
    ("serving.kserve.io", "ClusterServingRuntime"): ("spec",),
}
KSERVE = "serving.kserve.io"
WORKLOAD_KINDS = frozenset({*POD_SPEC_PATHS, (KSERVE, "InferenceService")})  # what pod_specs looks into
INFERENCE_COMPONENTS = ("predictor", "transformer", "explainer")
# Keys of a KServe component that are single containers rather than lists of them.
KSERVE_CONTAINER_KEYS = (
    "model",
    "huggingface",
    "lightgbm",
    "onnx",
    "paddle",
    "pmml",
    "pytorch",
    "sklearn",
    "tensorflow",
    "triton",
    "xgboost",
)
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


class PodSpec(NamedTuple):
    path: Path
    spec: dict[str, Any]


class Container(NamedTuple):
    path: Path
    container: dict[str, Any]
    pod: PodSpec


def _at(obj: Any, path: Path) -> Any:
    for part in path:
        if isinstance(part, int):
            if not isinstance(obj, list) or part >= len(obj):
                return None
        elif not isinstance(obj, dict):
            return None
        obj = obj[part] if isinstance(part, int) else obj.get(part)
    return obj


def pod_specs(entry: Entry) -> Iterator[PodSpec]:
    """Every pod spec the object describes (InferenceService: one per component)."""
    path = POD_SPEC_PATHS.get((entry.group, entry.kind))
    if path is not None:
        spec = _at(entry.obj, path)
        if isinstance(spec, dict):
            yield PodSpec(path, spec)
    elif entry.group == KSERVE and entry.kind == "InferenceService":
        for component in INFERENCE_COMPONENTS:
            spec = _at(entry.obj, ("spec", component))
            if isinstance(spec, dict):
                yield PodSpec(("spec", component), spec)


def containers(entry: Entry, pods: Iterable[PodSpec] | None = None) -> Iterator[Container]:
    """Every container of every pod spec (of `pods`, when pod_specs(entry) is known), with its JSON
    path parts."""
    for pod in pod_specs(entry) if pods is None else pods:
        for key in CONTAINER_LISTS:
            items = pod.spec.get(key)
            if isinstance(items, list):
                for index, item in enumerate(items):
                    if isinstance(item, dict):
                        yield Container((*pod.path, key, index), item, pod)
        if entry.group == KSERVE and entry.kind == "InferenceService":
            for key in KSERVE_CONTAINER_KEYS:
                item = pod.spec.get(key)
                if isinstance(item, dict):
                    yield Container((*pod.path, key), item, pod)


class Workload(NamedTuple):
    """An object that describes pods, with its pod specs and their containers."""

    entry: Entry
    pods: tuple[PodSpec, ...]
    containers: tuple[Container, ...]


def workloads(cluster: ClusterObjects) -> list[Workload]:
    """The cluster's objects of kinds that describe pods, in arrival order, each with its pod specs
    and containers: worked out once per validation run (checks run after every object is in), since
    several checks look at every container and most objects of a tree hold none."""
    cached = cluster.__dict__.get("_workloads")
    if cached is None or cached[0] != len(cluster.entries):
        found = []
        for entry in cluster.of_kinds(WORKLOAD_KINDS):
            pods = tuple(pod_specs(entry))
            found.append(Workload(entry, pods, tuple(containers(entry, pods))))
        cached = cluster.__dict__["_workloads"] = (len(cluster.entries), found)
    return cached[1]


def all_workloads(objects: ObjectSet) -> Iterator[Workload]:
    """workloads() of every cluster, in the order the set iterates its objects."""
    for name in sorted(objects.clusters):
        yield from workloads(objects.clusters[name])


def resources(container: dict[str, Any], which: str) -> dict[str, Any]:
    res = container.get("resources")
    value = res.get(which) if isinstance(res, dict) else None
    return value if isinstance(value, dict) else {}
