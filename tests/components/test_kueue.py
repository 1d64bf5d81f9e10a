"""kueue: flavors, the cluster's Cohort, a ClusterQueue and LocalQueue per team, priorities."""

from __future__ import annotations

import yaml

from compiler.components import kueue
from tests.components.objects import named, names
from tests.components.synth import cluster


def test_cluster_queue_has_the_team_quota_in_the_cohort() -> None:
    queue = named(kueue.build(cluster(quota=8, borrowing=2, lending=3)), "ClusterQueue", "research")["spec"]
    assert queue["cohortName"] == "pool"
    gpu_group = queue["resourceGroups"][1]
    assert gpu_group["coveredResources"] == ["nvidia.com/gpu"]
    assert gpu_group["flavors"] == [
        {
            "name": "gpu",
            "resources": [
                {"name": "nvidia.com/gpu", "nominalQuota": 8, "borrowingLimit": 2, "lendingLimit": 3}
            ],
        }
    ]


def test_priorities_queues_and_cohort() -> None:
    output = kueue.build(cluster())
    assert {n: named(output, "WorkloadPriorityClass", n)["value"] for n in ("low", "normal", "high")} == {
        "low": 100,
        "normal": 1000,
        "high": 10000,
    }
    assert names(output, "LocalQueue", "research") == ["default"]
    assert names(output, "Cohort") == ["pool"]
    assert names(output, "ResourceFlavor") == ["default-cpu", "gpu"]


def test_dra_clusters_map_the_device_class_to_the_quota_resource() -> None:
    """Kueue's deviceClassMappings (Configuration.resources, kueue apis/config/v1beta2
    configuration_types.go) charge claim-template devices to the ClusterQueue resource."""
    (chart,) = kueue.build(cluster(allocation="dra")).charts
    config = yaml.safe_load(chart.values["managerConfig"]["controllerManagerConfigYaml"])
    assert config["resources"]["deviceClassMappings"] == [
        {"name": "gpu-gpu.deviceclass.resource.k8s.io/devices", "deviceClassNames": ["gpu-gpu"]}
    ]
    assert chart.version == "0.19.2"
