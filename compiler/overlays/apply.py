"""Apply loaded overlays to one cluster's component outputs, before packaging.

Order: built-in components, then custom components, then the layers all →
environments/<env> → clusters/<cluster>. Within a layer its objects are added first and
its patches then run in file order, so a patch sees objects of components, of earlier
layers and of its own layer; a later layer's patch wins on the same field.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field

from compiler.cluster_model import ClusterModel
from compiler.components.base import ComponentOutput, KubeObject
from compiler.errors import SourceLocation
from compiler.kube import group_of, kind_of, name_of, namespace_of
from compiler.overlays.custom_components import render
from compiler.overlays.errors import CLUSTERS, Problems
from compiler.overlays.loader import Overlays
from compiler.overlays.patches import ParsedPatch, apply_patch, unmatched_message

# The sync unit (component name) of plain objects added by overlay layers.
OVERLAYS_COMPONENT = "overlays"

ObjectKey = tuple[str, str, str, str]
# Object identity → the overlay documents, patches and templates that added or changed it, in order.
Provenance = dict[ObjectKey, tuple[SourceLocation, ...]]


@dataclass
class Applied:
    """The outputs with overlays applied, and where each overlay-touched object came from.

    Provenance is kept apart from the objects so that emitted output does not change; compile
    uses it to name the overlay line in validation findings about those objects."""

    outputs: list[tuple[str, ComponentOutput]]
    provenance: Provenance = field(default_factory=dict)


def object_key(obj: KubeObject) -> ObjectKey:
    return group_of(obj), kind_of(obj), namespace_of(obj) or "", name_of(obj)


def _show(key: ObjectKey) -> str:
    _, kind, namespace, name = key
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


class _ClusterObjects:
    """Every object of one cluster by owning component, with a guard against adding one twice."""

    def __init__(self, outputs: Sequence[tuple[str, ComponentOutput]]):
        self.objects: dict[str, list[KubeObject]] = {name: list(out.objects) for name, out in outputs}
        self.owner: dict[ObjectKey, str] = {
            object_key(o): n for n, objs in self.objects.items() for o in objs
        }
        self.provenance: Provenance = {}

    def _record(self, key: ObjectKey, where: SourceLocation) -> None:
        # Patches cannot change an object's identity (apply_patch refuses), so the key is stable.
        self.provenance[key] = (*self.provenance.get(key, ()), where)

    def add(
        self, component: str, obj: KubeObject, where: SourceLocation, cluster: str, problems: Problems
    ) -> None:
        key = object_key(obj)
        if key in self.owner:
            problems.add(
                where,
                f"{_show(key)} already exists on cluster(s) {CLUSTERS}, made by '{self.owner[key]}' "
                "(expected a new object; change an existing one with a kind: Patch)",
                cluster,
            )
            return
        self.owner[key] = component
        self.objects.setdefault(component, []).append(copy.deepcopy(obj))
        self._record(key, where)

    def patch(self, parsed: ParsedPatch, cluster: str, problems: Problems) -> None:
        matched = False
        for objs in self.objects.values():
            for i, obj in enumerate(objs):
                if not parsed.patch.target.matches(obj):
                    continue
                matched = True
                patched, error = apply_patch(parsed, obj)
                if error is not None:
                    problems.add(error.location, error.message, cluster)
                elif patched is not None:
                    objs[i] = patched
                    self._record(object_key(patched), parsed.location)
        if not matched:
            problems.add(parsed.doc.location(("target",)), unmatched_message(parsed.patch.target), cluster)


def apply_overlays(
    cluster: ClusterModel,
    outputs: Sequence[tuple[str, ComponentOutput]],
    overlays: Overlays,
    problems: Problems,
) -> Applied:
    """The outputs with custom components and overlay objects added and patches applied.
    Problems are collected, not raised, so that a run reports those of every cluster at once."""
    state = _ClusterObjects(outputs)
    result = {name: out for name, out in outputs}
    rendered = [(c, render(c, cluster, problems)) for c in overlays.components]
    present = set(result) | {c.name for c, r in rendered if r is not None}
    for component, done in rendered:
        if done is None:
            continue
        output, locations = done
        for obj, where in zip(output.objects, locations, strict=True):
            state.add(component.name, obj, where, cluster.name, problems)
        # An `after` component absent from this cluster imposes no order here.
        after = tuple(a for a in output.after if a in present)
        result[component.name] = ComponentOutput(output.charts, (), after)
    for layer in overlays.for_cluster(cluster):
        for doc, obj in layer.objects:
            state.add(OVERLAYS_COMPONENT, obj, doc.start, cluster.name, problems)
        for parsed in layer.patches:
            state.patch(parsed, cluster.name, problems)
    if OVERLAYS_COMPONENT in state.objects:
        result[OVERLAYS_COMPONENT] = ComponentOutput()
    outputs_after = [
        (name, ComponentOutput(out.charts, tuple(state.objects.get(name, ())), out.after))
        for name, out in result.items()
    ]
    return Applied(outputs_after, state.provenance)
