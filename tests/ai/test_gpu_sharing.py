"""GPU sharing that schedules after sync (issue 13, items 1 and 2): the labels Kueue and pods
select are the labels NVIDIA's node agents put on the nodes, for the config platformc ships."""

from __future__ import annotations

from pathlib import Path

import yaml

from compiler.naming import DEVICE_PLUGIN_CONFIG_LABEL, GPU_PRODUCT_LABEL
from tests.ai.charts import of_kind, render_chart
from tests.ai.conftest import objects


def _cluster_policy(shared_charts: Path, build) -> dict:
    policies = of_kind(render_chart(shared_charts, build, "gpu-operator"), "ClusterPolicy")
    assert len(policies) == 1
    return policies[0]["spec"]


def test_time_sliced_flavor_selects_the_shared_product_label(shared_charts: Path, example_builds):
    """NVIDIA/k8s-device-plugin v0.20.0 internal/lm/resource.go (productLabel): when a
    timeSlicing resource has replicas > 1 and is not renamed, GFD labels the node
    nvidia.com/gpu.product=<product>-SHARED. NVIDIA/gpu-operator v26.7.0
    deployments/gpu-operator/templates/clusterpolicy.yaml passes devicePlugin.config to the
    device plugin and GFD, which pick a key by the nvidia.com/device-plugin.config node label."""
    build = example_builds["staging-eu"]
    assert not build.model.dra
    policy = _cluster_policy(shared_charts, build)
    config_ref = policy["devicePlugin"]["config"]
    assert policy["gfd"]["enabled"] is True
    config_maps = {o["metadata"]["name"]: o for o in objects(build, "ConfigMap")}
    plugin_config = config_maps[config_ref["name"]]["data"]
    assert config_ref["default"] in plugin_config

    flavor = build.model.flavors["l40s-shared"]
    config = yaml.safe_load(plugin_config["l40s-shared"])
    slicing = config["sharing"]["timeSlicing"]
    (resource,) = slicing["resources"]
    shared = resource["replicas"] > 1 and not resource.get("rename") and not slicing.get("renameByDefault")
    assert shared
    gfd_product = flavor.spec.product + "-SHARED"
    # One pod may not take several slices of one GPU believing it has several GPUs.
    assert slicing["failRequestsGreaterThanOne"] is True

    rf = next(o for o in objects(build, "ResourceFlavor") if o["metadata"]["name"] == "l40s-shared")
    assert rf["spec"]["nodeLabels"][GPU_PRODUCT_LABEL] == gfd_product
    assert rf["spec"]["nodeLabels"][DEVICE_PLUGIN_CONFIG_LABEL] == "l40s-shared"
    isvcs = [
        o
        for o in objects(build, "InferenceService")
        if o["spec"]["predictor"]["nodeSelector"].get(DEVICE_PLUGIN_CONFIG_LABEL) == "l40s-shared"
    ]
    assert isvcs, "the example serves on the time-sliced flavor"
    for isvc in isvcs:
        assert isvc["spec"]["predictor"]["nodeSelector"][GPU_PRODUCT_LABEL] == gfd_product
        assert isvc["spec"]["predictor"]["model"]["resources"]["limits"][resource["name"]] == "1"


def test_exclusive_flavors_keep_the_bare_product_label(example_builds):
    """internal/lm/resource.go: without a timeSlicing entry the product label is the bare name."""
    build = example_builds["prod-us-east"]
    rf = next(o for o in objects(build, "ResourceFlavor") if o["metadata"]["name"] == "h100")
    assert rf["spec"]["nodeLabels"][GPU_PRODUCT_LABEL] == "NVIDIA-H100-80GB-HBM3"
