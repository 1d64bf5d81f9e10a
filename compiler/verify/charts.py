"""The charts a generated tree installs, rendered with real Helm as its GitOps engine would
(compiler/charts/releases.py reads the Applications / HelmReleases and renders with the cluster's
served API versions), with each namespaced object placed in its release namespace as Helm does."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from compiler.charts.releases import Release, releases_in_objects, render_releases


def _cluster_scoped_custom_kinds(objects: Iterable[dict[str, Any]]) -> set[str]:
    """Custom kinds whose CRD says `scope: Cluster`."""
    return {
        o["spec"]["names"]["kind"]
        for o in objects
        if o.get("kind") == "CustomResourceDefinition" and (o.get("spec") or {}).get("scope") == "Cluster"
    }


def render_tree_charts(
    placed: Iterable[tuple[str, dict[str, Any]]], kubernetes_version: str, charts_dir: Path
) -> list[tuple[Release, list[dict[str, Any]]]]:
    """Each release of the tree with its rendered objects, namespaces filled in."""
    rendered = render_releases(releases_in_objects(placed), kubernetes_version, charts_dir)
    all_objects = [o for r in rendered for o in r.objects]
    cluster_scoped = _cluster_scoped_custom_kinds(all_objects) | CLUSTER_SCOPED_BUILTIN
    out = []
    for r in rendered:
        objects = [dict(o) for o in r.objects]
        for obj in objects:
            meta = obj.setdefault("metadata", {})
            if obj.get("kind") not in cluster_scoped and not meta.get("namespace"):
                obj["metadata"] = {**meta, "namespace": r.release.namespace}
        out.append((r.release, objects))
    return out


# Built-in cluster-scoped kinds (k8s.io/api: no namespace in their ObjectMeta scope).
CLUSTER_SCOPED_BUILTIN = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "CustomResourceDefinition",
        "ClusterRole",
        "ClusterRoleBinding",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
        "PriorityClass",
        "StorageClass",
        "RuntimeClass",
        "DeviceClass",
        "ResourceSlice",
        "APIService",
        "CSIDriver",
        "CSINode",
        "IngressClass",
        "VolumeAttachment",
        "CertificateSigningRequest",
        "FlowSchema",
        "PriorityLevelConfiguration",
    }
)
