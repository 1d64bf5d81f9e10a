"""tenancy: a namespace per team with Pod Security labels, its quota, defaults and access."""

from __future__ import annotations

from compiler.components import tenancy
from tests.components.objects import named, names
from tests.components.synth import cluster


def test_namespace_carries_team_cost_and_pod_security_labels() -> None:
    labels = named(tenancy.build(cluster()), "Namespace", "research")["metadata"]["labels"]
    assert labels["platformc.dev/team"] == "research"
    assert labels["platformc.dev/cost-center"] == "CC-1"
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.34"


def test_resource_quota_holds_cpu_memory_and_gpu_reach() -> None:
    # 2 nodes × 8 GPUs; quota 8 + borrowingLimit 4 → 12 GPUs in the namespace.
    hard = named(tenancy.build(cluster(quota=8, borrowing=4)), "ResourceQuota", "research")["spec"]["hard"]
    assert hard == {"requests.cpu": "64", "requests.memory": "256Gi", "requests.nvidia.com/gpu": "12"}


def test_on_dra_clusters_the_quota_counts_devices_of_the_device_class() -> None:
    """Kubernetes >= 1.34 counts claimed devices per DeviceClass in a ResourceQuota as
    `<class>.deviceclass.resource.k8s.io/devices` (kubernetes/kubernetes
    pkg/quota/v1/evaluator/core/resource_claims.go)."""
    hard = named(tenancy.build(cluster(allocation="dra", quota=3)), "ResourceQuota", "research")["spec"][
        "hard"
    ]
    assert hard["gpu-gpu.deviceclass.resource.k8s.io/devices"] == "3"
    assert "requests.nvidia.com/gpu" not in hard


def test_mig_quota_counts_instances_of_the_profile() -> None:
    sharing = {"mode": "mig", "migProfile": "1g.10gb"}
    hard = named(tenancy.build(cluster(sharing=sharing, quota=20)), "ResourceQuota", "research")["spec"][
        "hard"
    ]
    assert hard["requests.nvidia.com/mig-1g.10gb"] == "20"


def test_owners_and_members_bind_the_platform_team_roles() -> None:
    output = tenancy.build(cluster(team={"members": ["research-devs"]}))
    assert names(output, "RoleBinding", "research") == ["members", "owners"]
    owners = named(output, "RoleBinding", "owners")
    assert owners["roleRef"]["name"] == "platformc-team-owner"
    assert owners["subjects"][0]["name"] == "team-owners"
    assert named(output, "RoleBinding", "members")["roleRef"]["name"] == "platformc-team-member"
    defaults = named(output, "LimitRange", "defaults")["spec"]["limits"][0]
    assert defaults["default"] == {"cpu": "2", "memory": "4Gi"}
