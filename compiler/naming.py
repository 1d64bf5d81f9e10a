"""Names that several components must agree on (one place, so references always resolve)."""

from __future__ import annotations


def device_class_name(flavor: str) -> str:
    """DeviceClass of a GPU flavor on dra clusters."""
    return f"gpu-{flavor}"


def dra_quota_key(flavor: str) -> str:
    """ResourceQuota key that counts devices claimed through a DeviceClass (Kubernetes >= 1.34)."""
    return f"{device_class_name(flavor)}.deviceclass.resource.k8s.io/devices"


def cluster_queue_name(team: str) -> str:
    """Kueue ClusterQueue of a team (cluster-scoped; one per team and cluster)."""
    return team


LOCAL_QUEUE_NAME = "default"
CPU_FLAVOR_NAME = "default-cpu"


def resource_flavor_name(flavor: str) -> str:
    return flavor


def inference_service_name(serving_path: str) -> str:
    return serving_path
