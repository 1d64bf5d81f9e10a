"""Hydrated output (`Platform.spec.gitops.render: hydrated`): each chart's rendered objects become
plain objects of the tree, emitted, ordered, pruned and validated like every other object, and
`platformc diff` shows a chart bump object by object.

A component with charts becomes up to three components, hence sync units:
- `<name>-crds`: the CustomResourceDefinitions its charts render, ahead of everything using them;
- `<name>`: the rest of the render (controllers, webhooks, RBAC…) plus its plain objects;
- `<name>-config`: its custom resources of its own charts' CRDs, after the controller is up.
Whatever used the charts' CRD groups syncs after `<name>`, as it synced after the chart before.

What the engine would do at install time is done here: objects without a namespace get the
release namespace unless cluster-scoped, and Helm test hooks are left out (nothing runs them on a
sync). Other Helm hooks keep their `helm.sh/hook` annotations, which Argo CD maps onto its own
hooks; Flux applies them as plain objects.

A chart that generates values at render time (random passwords, self-signed certificates) cannot
be committed: the second render differs from the first. Such a chart is refused, naming the
objects, unless the component uses the chart's option to take an existing Secret or to let a
controller in the cluster create it (kube-prometheus-stack: grafana.admin.existingSecret).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from compiler.charts.facts import LearnedCluster
from compiler.charts.releases import render_releases
from compiler.components.base import ComponentOutput, KubeObject
from compiler.errors import PlatformcError
from compiler.packaging.units import api_group
from compiler.tree_contract import config_unit

CRDS_SUFFIX = "-crds"
HOOK_ANNOTATION = "helm.sh/hook"
TEST_HOOKS = frozenset({"test", "test-success", "test-failure"})
# Built-in kinds without a namespace (the API server's discovery says so; kubernetes-validate's
# definitions do not carry the scope).
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "APIService",
        "CSIDriver",
        "CSINode",
        "CertificateSigningRequest",
        "ClusterRole",
        "ClusterRoleBinding",
        "ClusterTrustBundle",
        "CustomResourceDefinition",
        "DeviceClass",
        "DeviceTaintRule",
        "FlowSchema",
        "IPAddress",
        "IngressClass",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
        "MutatingWebhookConfiguration",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PriorityClass",
        "PriorityLevelConfiguration",
        "ResourceSlice",
        "RuntimeClass",
        "ServiceCIDR",
        "StorageClass",
        "StorageVersionMigration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
        "VolumeAttachment",
        "VolumeAttributesClass",
    }
)


def crds_unit(component: str) -> str:
    return component + CRDS_SUFFIX


def _is_test_hook(obj: KubeObject) -> bool:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    hooks = str(annotations.get(HOOK_ANNOTATION, ""))
    return bool({h.strip() for h in hooks.split(",")} & TEST_HOOKS)


def with_namespace(obj: KubeObject, namespace: str, cluster_scoped: frozenset[tuple[str, str]]) -> KubeObject:
    """The object as the engine applies it: namespaced objects without one get the release's."""
    kind, group = str(obj.get("kind")), api_group(str(obj.get("apiVersion", "")))
    metadata = obj.get("metadata") or {}
    if metadata.get("namespace") or kind in CLUSTER_SCOPED_KINDS or (group, kind) in cluster_scoped:
        return obj
    return {**obj, "metadata": {**metadata, "namespace": namespace}}


def cluster_scoped_kinds(objects: Iterable[KubeObject]) -> frozenset[tuple[str, str]]:
    """(group, kind) of the cluster-scoped custom resources among rendered CRDs."""
    return frozenset(
        (str(o["spec"]["group"]), str(o["spec"]["names"]["kind"]))
        for o in objects
        if o.get("kind") == "CustomResourceDefinition" and o["spec"].get("scope") == "Cluster"
    )


def render_time_values(learned: LearnedCluster, kubernetes_version: str, charts_dir: Path) -> list[str]:
    """Objects whose content changes from one render to the next (compared on a fresh render)."""
    problems = []
    second = render_releases([r for _, r in learned.releases], kubernetes_version, charts_dir, fresh=True)
    for (name, release), again in zip(learned.releases, second, strict=True):
        before = {json.dumps(o, sort_keys=True) for o in learned.rendered[(name, release.release)]}
        changed = sorted(
            f"{o.get('kind')} {o.get('metadata', {}).get('name')}"
            for o in again.objects
            if json.dumps(o, sort_keys=True) not in before
        )
        if changed:
            problems.append(
                f"component '{name}': chart {release.chart} {release.version} generates values at render "
                f"time in {', '.join(changed)} (a random password or self-signed certificate), which a "
                "hydrated tree cannot hold: set the chart's option to use an existing Secret or to let a "
                "controller in the cluster create it, or use gitops.render: helm"
            )
    return problems


def hydrate(
    outputs: Sequence[tuple[str, ComponentOutput]], learned: LearnedCluster
) -> list[tuple[str, ComponentOutput]]:
    """Outputs with every chart replaced by its rendered objects (see the module docstring)."""
    rendered = {key: objs for key, objs in learned.rendered.items()}
    scoped = cluster_scoped_kinds(o for objs in rendered.values() for o in objs)
    provided_by: dict[str, str] = {}  # CRD group → component whose charts install it
    gated_by: dict[str, str] = {}  # API group → component whose charts' admission webhooks admit it
    for name, output in outputs:
        for chart in output.charts:
            provided_by.update(dict.fromkeys(chart.crd_groups, name))
            gated_by.update(dict.fromkeys(chart.webhook_groups, name))
    result: list[tuple[str, ComponentOutput]] = []
    for name, output in outputs:
        if not output.charts:
            result.append((name, _after_providers(name, output, provided_by, gated_by)))
            continue
        own = {g for chart in output.charts for g in chart.crd_groups}
        crds: list[KubeObject] = []
        rest: list[KubeObject] = []
        for chart in output.charts:
            for o in rendered[(name, chart.release)]:
                if _is_test_hook(o):
                    continue
                target = crds if o.get("kind") == "CustomResourceDefinition" else rest
                target.append(with_namespace(o, chart.namespace, scoped))
        plain = [o for o in output.objects if api_group(str(o["apiVersion"])) not in own]
        own_crs = tuple(o for o in output.objects if api_group(str(o["apiVersion"])) in own)
        uses = frozenset().union(*(c.uses_crd_groups for c in output.charts))
        after = tuple(output.after) + tuple(
            sorted(
                {provided_by[g] for g in uses if provided_by.get(g, name) != name}
                | {gated_by[g] for g in uses if gated_by.get(g, name) != name}
            )
        )
        if crds and name.endswith(CRDS_SUFFIX):  # a component that only installs CRDs (kserve-crds)
            rest = crds + rest
        elif crds:
            result.append((crds_unit(name), ComponentOutput(objects=tuple(crds))))
            after += (crds_unit(name),)
        main = ComponentOutput(objects=(*plain, *rest), after=tuple(dict.fromkeys(after)))
        result.append((name, _after_providers(name, main, provided_by, gated_by)))
        if own_crs:
            result.append((config_unit(name), ComponentOutput(objects=own_crs, after=(name,))))
    return result


def _after_providers(
    name: str, output: ComponentOutput, provided_by: dict[str, str], gated_by: dict[str, str]
) -> ComponentOutput:
    """Objects of a group some component's charts install, or whose admission webhooks admit, wait
    for that component's controller (as packaging orders them after a chart's webhook_groups: the
    API server refuses them while a failurePolicy Fail webhook has no endpoint)."""
    groups = {api_group(str(o["apiVersion"])) for o in output.objects}
    wanted = {provided_by[g] for g in groups if g in provided_by} | {
        gated_by[g] for g in groups if g in gated_by
    }
    wanted.discard(name)
    if not wanted - set(output.after):
        return output
    return replace(output, after=tuple(dict.fromkeys((*output.after, *sorted(wanted)))))


def refuse_render_time_values(problems: list[str]) -> None:
    if problems:
        raise PlatformcError("charts that cannot be hydrated:\n  " + "\n  ".join(problems))
