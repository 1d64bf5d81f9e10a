"""GPU sharing that schedules after sync (issue 13, items 1 and 2): the labels Kueue and pods
select are the labels NVIDIA's node agents put on the nodes, for the config platformc ships."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from compiler.naming import DEVICE_PLUGIN_CONFIG_LABEL, GPU_PRODUCT_LABEL, MIG_CONFIG_LABEL
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


def _contract(build) -> dict:
    from compiler.pipeline import cluster_files

    return json.loads(cluster_files(build)["node-pools.json"])


def test_mig_nodes_are_partitioned_through_the_node_pool_contract(shared_charts: Path, example_builds):
    """NVIDIA/gpu-operator v26.7.0 controllers/nodelabeling_controller.go labels an unlabelled
    MIG-capable node nvidia.com/mig.config=<migManager.config.default> only when that default is
    all-disabled, and mig-manager applies the mig-parted config a node's label names from
    migManager.config.name (templates/clusterpolicy.yaml). Nothing else labels nodes, so the
    contract tells the provisioning tool the label, and it names a config platformc ships."""
    for build in example_builds.values():
        contract = _contract(build)
        assert contract["cluster"] == build.model.name
        policy = _cluster_policy(shared_charts, build)["migManager"]
        assert policy["enabled"] is True and policy["config"]["default"] == "all-disabled"
        config_map = next(
            o for o in objects(build, "ConfigMap") if o["metadata"]["name"] == policy["config"]["name"]
        )
        shipped = yaml.safe_load(config_map["data"]["config.yaml"])["mig-configs"]
        pools = {p["name"]: p for p in contract["pools"]}
        mig_pools = [p for p in pools.values() if build.model.flavors[p["flavor"]].spec.sharing.mode == "mig"]
        assert mig_pools, build.model.name
        for pool in pools.values():
            wanted = pool["labels"].get(MIG_CONFIG_LABEL)
            if wanted is not None:
                assert wanted in shipped, (pool["name"], wanted)
        for pool in mig_pools:
            (layout,) = shipped[pool["labels"][MIG_CONFIG_LABEL]]
            assert layout["mig-enabled"] is True
        # What Kueue and the predictors select is what the contract's nodes carry.
        for rf in objects(build, "ResourceFlavor"):
            flavor_pools = [p for p in pools.values() if p["flavor"] == rf["metadata"]["name"]]
            for pool in flavor_pools:
                carried = {**pool["labels"], **pool["discoveredLabels"]}
                assert rf["spec"]["nodeLabels"].items() <= carried.items(), (
                    rf["metadata"]["name"],
                    pool["name"],
                )


def test_committed_tree_has_a_node_pool_contract_per_cluster(example_builds):
    """The contract files are part of each cluster's tree (format: README, Node-pool contract)."""
    from compiler.pipeline import cluster_files

    root = Path(__file__).resolve().parents[2] / "generated"
    for name, build in example_builds.items():
        for file_name, content in cluster_files(build).items():
            assert (root / name / file_name).read_bytes() == content, f"{name}/{file_name}"
        table = (root / name / "node-pools.md").read_text()
        for pool in build.model.cluster.spec.nodePools:
            assert f"| {pool.name} | {pool.flavor} |" in table


def test_mig_claim_templates_are_single_devices(example_builds):
    """One CUDA process uses one MIG instance (NVIDIA MIG user guide, 'CUDA Device Enumeration'):
    claim templates of several MIG devices would hand a pod devices it cannot use together."""
    build = example_builds["prod-us-east"]
    mig = {n for n, f in build.model.flavors.items() if f.spec.sharing.mode == "mig"}
    assert mig
    templates = objects(build, "ResourceClaimTemplate")
    for template in templates:
        (request,) = template["spec"]["spec"]["devices"]["requests"]
        if any(request["exactly"]["deviceClassName"].endswith(m) for m in mig):
            assert request["exactly"]["count"] == 1, template["metadata"]["name"]
    assert any(any(m in t["metadata"]["name"] for m in mig) for t in templates)


def test_example_serves_and_queues_on_both_shared_flavors(example_builds):
    """The example platform uses a MIG flavor on its dra cluster and a time-sliced flavor on its
    device-plugin cluster, each for serving (an InferenceService) and batch (ClusterQueue quota)."""
    for cluster, mode in (("prod-us-east", "mig"), ("staging-eu", "time-slicing")):
        build = example_builds[cluster]
        assert build.model.dra == (mode == "mig")
        flavor = next(n for n, f in build.model.flavors.items() if f.spec.sharing.mode == mode)
        rf = next(o for o in objects(build, "ResourceFlavor") if o["metadata"]["name"] == flavor)
        served = [
            o
            for o in objects(build, "InferenceService")
            if o["spec"]["predictor"]["nodeSelector"] == rf["spec"]["nodeLabels"]
        ]
        assert served, f"{cluster}: nothing serves on {flavor}"
        queued = [
            q
            for q in objects(build, "ClusterQueue")
            for group in q["spec"]["resourceGroups"]
            for f in group["flavors"]
            if f["name"] == flavor and any(r["nominalQuota"] for r in f["resources"])
        ]
        assert queued, f"{cluster}: no team queue has quota on {flavor}"
