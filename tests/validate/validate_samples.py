"""Realistic sample objects, as platformc would generate them, for the validation tests."""

from __future__ import annotations

import copy
from typing import Any


def namespace(name: str = "ai-research") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {
                "pod-security.kubernetes.io/enforce": "restricted",
                "platformc.dev/team": name,
            },
        },
    }


def network_policy(ns: str = "ai-research") -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow-dns", "namespace": ns},
        "spec": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}
                    ],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": "dns-tcp"}],
                }
            ],
        },
    }


def resource_quota(ns: str = "ai-research") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "team-quota", "namespace": ns},
        "spec": {"hard": {"requests.cpu": "256", "requests.memory": "2Ti", "requests.nvidia.com/gpu": 16}},
    }


def role_binding(ns: str = "ai-research") -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "owners-admin", "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
        "subjects": [
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "ai-research-admins"}
        ],
    }


def limit_range(ns: str = "ai-research") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "defaults", "namespace": ns},
        "spec": {"limits": [{"type": "Container", "default": {"cpu": "1", "memory": "2Gi"}}]},
    }


def device_class(name: str = "h100") -> dict[str, Any]:
    return {
        "apiVersion": "resource.k8s.io/v1",
        "kind": "DeviceClass",
        "metadata": {"name": name},
        "spec": {
            "selectors": [
                {
                    "cel": {
                        "expression": "device.driver == 'gpu.nvidia.com' && "
                        "device.attributes['gpu.nvidia.com'].productName == 'NVIDIA-H100-80GB-HBM3'"
                    }
                }
            ]
        },
    }


def cluster_queue(name: str = "ai-research") -> dict[str, Any]:
    return {
        "apiVersion": "kueue.x-k8s.io/v1beta2",
        "kind": "ClusterQueue",
        "metadata": {"name": name, "labels": {"platformc.dev/team": name}},
        "spec": {
            "cohortName": "enterprise-ai-pool",
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}},
            "resourceGroups": [
                {
                    "coveredResources": ["cpu", "memory", "nvidia.com/gpu"],
                    "flavors": [
                        {
                            "name": "h100",
                            "resources": [
                                {"name": "cpu", "nominalQuota": "256"},
                                {"name": "memory", "nominalQuota": "2Ti"},
                                {"name": "nvidia.com/gpu", "nominalQuota": 16, "borrowingLimit": 8},
                            ],
                        }
                    ],
                }
            ],
        },
    }


def local_queue(ns: str = "ai-research") -> dict[str, Any]:
    return {
        "apiVersion": "kueue.x-k8s.io/v1beta2",
        "kind": "LocalQueue",
        "metadata": {"name": "default", "namespace": ns},
        "spec": {"clusterQueue": ns},
    }


def core_objects() -> list[dict[str, Any]]:
    return [namespace(), network_policy(), resource_quota(), role_binding(), limit_range()]


def clone(obj: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(obj)
