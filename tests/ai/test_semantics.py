"""What a spec line becomes: quotas in ClusterQueues, MIG and time-slicing config, claims vs limits."""

from __future__ import annotations

import yaml

from compiler.naming import dra_quota_key
from tests.ai.conftest import build_all, mini_docs, objects


def one(items: list[dict], name: str) -> dict:
    return next(o for o in items if o["metadata"]["name"] == name)


def gpu_entries(queue: dict) -> dict[str, dict]:
    return {
        f["name"]: r
        for group in queue["spec"]["resourceGroups"]
        for f in group["flavors"]
        for r in f["resources"]
        if r["name"] not in ("cpu", "memory")
    }


def test_quota_and_borrowing_land_in_the_team_cluster_queue(write_spec) -> None:
    for allocation, resource in (("dra", dra_quota_key("h100")), ("device-plugin", "nvidia.com/gpu")):
        build = build_all(write_spec(mini_docs(allocation, quota=16, borrowing=8)))["c1"]
        queue = one(objects(build, "ClusterQueue"), "research")
        assert queue["spec"]["cohortName"] == "pool-a"
        assert gpu_entries(queue)["h100"] == {"name": resource, "nominalQuota": 16, "borrowingLimit": 8}
        assert gpu_entries(queue)["a100-mig-1g10gb"]["lendingLimit"] == 7
        assert [c["metadata"]["name"] for c in objects(build, "Cohort")] == ["pool-a"]


def test_no_borrowing_limit_means_no_borrowing_written_explicitly(write_spec) -> None:
    """Kueue reads an absent borrowingLimit as unlimited borrowing from the cohort
    (kueue apis/kueue/v1beta2 clusterqueue_types.go ResourceQuota.BorrowingLimit: "If null, it
    means that there is no borrowing limit"); platformc's meaning is no borrowing, so it writes 0."""
    build = build_all(write_spec(mini_docs("dra", quota=16, borrowing=None)))["c1"]
    entry = gpu_entries(one(objects(build, "ClusterQueue"), "research"))["h100"]
    assert entry == {"name": dra_quota_key("h100"), "nominalQuota": 16, "borrowingLimit": 0}


def test_a_flavor_sits_in_exactly_one_resource_group(write_spec) -> None:
    build = build_all(write_spec(mini_docs("device-plugin")))["c1"]
    groups = one(objects(build, "ClusterQueue"), "research")["spec"]["resourceGroups"]
    flavors = [f["name"] for g in groups for f in g["flavors"]]
    assert len(flavors) == len(set(flavors))
    covered = {tuple(g["coveredResources"]): [f["name"] for f in g["flavors"]] for g in groups}
    # h100 and the time-sliced l40s share nvidia.com/gpu; the MIG slice is its own resource.
    assert covered[("nvidia.com/gpu",)] == ["h100", "l40s-shared"]
    assert covered[("nvidia.com/mig-1g.10gb",)] == ["a100-mig-1g10gb"]


def test_mig_flavor_yields_mig_resources_and_mig_manager_config(write_spec) -> None:
    build = build_all(write_spec(mini_docs("device-plugin")))["c1"]
    release = one(objects(build, "HelmRelease"), "gpu-operator")["spec"]["values"]
    assert release["mig"]["strategy"] == "mixed"
    assert release["migManager"]["config"]["name"] == "platformc-mig-parted-config"
    config = yaml.safe_load(
        one(objects(build, "ConfigMap"), "platformc-mig-parted-config")["data"]["config.yaml"]
    )
    assert config["mig-configs"]["a100-mig-1g10gb"] == [
        {"devices": "all", "mig-enabled": True, "mig-devices": {"1g.10gb": 7}}
    ]
    flavor = one(objects(build, "ResourceFlavor"), "a100-mig-1g10gb")["spec"]
    assert flavor["nodeLabels"]["nvidia.com/mig.config"] == "a100-mig-1g10gb"
    assert {"key": "dedicated", "operator": "Equal", "value": "mig", "effect": "NoSchedule"} in flavor[
        "tolerations"
    ]


def test_time_slicing_replicas_reach_the_device_plugin(write_spec) -> None:
    build = build_all(write_spec(mini_docs("device-plugin")))["c1"]
    plugin = one(objects(build, "HelmRelease"), "gpu-operator")["spec"]["values"]["devicePlugin"]
    assert plugin["config"] == {
        "create": False,
        "name": "platformc-device-plugin-config",
        "default": "default",
    }
    data = one(objects(build, "ConfigMap"), "platformc-device-plugin-config")["data"]
    sharing = yaml.safe_load(data["l40s-shared"])["sharing"]["timeSlicing"]["resources"]
    assert sharing == [{"name": "nvidia.com/gpu", "replicas": 6}]
    assert "sharing" not in yaml.safe_load(data["default"])


def predictors(isvc: dict) -> list[dict]:
    return [isvc["spec"]["predictor"], *(c["predictor"] for c in isvc["spec"].get("canary", []))]


def test_dra_cluster_serves_with_claims_and_no_gpu_limits(write_spec, example_builds) -> None:
    builds = [build_all(write_spec(mini_docs("dra")))["c1"], example_builds["prod-us-east"]]
    for build in builds:
        isvcs = objects(build, "InferenceService")
        assert isvcs
        templates = {
            (o["metadata"]["namespace"], o["metadata"]["name"])
            for o in objects(build, "ResourceClaimTemplate")
        }
        for isvc in isvcs:
            for predictor in predictors(isvc):
                limits = predictor["model"]["resources"]["limits"]
                assert sorted(limits) == ["cpu", "memory"]  # the GPU comes from the claim alone
                assert predictor["model"]["resources"]["claims"] == [{"name": "gpu"}]
                (claim,) = predictor["resourceClaims"]
                assert (isvc["metadata"]["namespace"], claim["resourceClaimTemplateName"]) in templates
        values = (
            one(objects(build, "Application"), f"{build.model.name}-gpu-operator")
            if build.model.engine == "argocd"
            else one(objects(build, "HelmRelease"), "gpu-operator")
        )
        text = yaml.safe_dump(values)
        assert "enabled: false" in text and "devicePlugin" in text


def test_device_plugin_cluster_serves_with_limits_and_no_claims(write_spec, example_builds) -> None:
    for build in (build_all(write_spec(mini_docs("device-plugin")))["c1"], example_builds["staging-eu"]):
        isvcs = objects(build, "InferenceService")
        assert isvcs and not objects(build, "ResourceClaimTemplate") and not objects(build, "DeviceClass")
        for isvc in isvcs:
            for predictor in predictors(isvc):
                assert "resourceClaims" not in predictor
                assert "claims" not in predictor["model"]["resources"]
                limits = predictor["model"]["resources"]["limits"]
                assert sorted(limits) == ["cpu", "memory", "nvidia.com/gpu"]


def test_dra_claim_templates_and_device_classes(write_spec) -> None:
    build = build_all(write_spec(mini_docs("dra", quota=16, borrowing=8)))["c1"]
    names = sorted(o["metadata"]["name"] for o in objects(build, "ResourceClaimTemplate"))
    # powers of two up to min(quota + borrowing, 8), plus the serving path's count (2)
    assert [n for n in names if n.startswith("h100-")] == ["h100-1", "h100-2", "h100-4", "h100-8"]
    mig = one(objects(build, "DeviceClass"), "gpu-a100-mig-1g10gb")["spec"]["selectors"][0]["cel"][
        "expression"
    ]
    assert 'device.driver == "gpu.nvidia.com"' in mig
    assert '.profile == "1g.10gb"' in mig and '.type == "mig"' in mig
    assert '"NVIDIA-A100-SXM4-80GB"' in mig
    config = one(objects(build, "HelmRelease"), "kueue")["spec"]["values"]["managerConfig"]
    mappings = yaml.safe_load(config["controllerManagerConfigYaml"])["resources"]["deviceClassMappings"]
    assert {"name": dra_quota_key("h100"), "deviceClassNames": ["gpu-h100"]} in mappings


def test_canary_host_and_network(write_spec) -> None:
    build = build_all(write_spec(mini_docs("dra")))["c1"]
    isvc = one(objects(build, "InferenceService"), "chat")
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"
    (canary,) = isvc["spec"]["canary"]
    assert canary["trafficPercent"] == 20 and canary["predictor"]["model"]["storageUri"] == "s3://m/chat-v2"
    assert "minReplicas" not in canary["predictor"] and isvc["spec"]["predictor"]["maxReplicas"] == 3
    assert isvc["metadata"]["labels"]["platformc.dev/cost-center"] == "CC-1"
    controller = one(objects(build, "HelmRelease"), "kserve-resources")["spec"]["values"]["kserve"][
        "controller"
    ]
    assert controller["deploymentMode"] == "Standard"
    assert controller["gateway"] == {
        "domain": "c1.example.com",
        "domainTemplate": "{{ .Name }}.{{ .Namespace }}.{{ .IngressDomain }}",
        "disableIngressCreation": True,
    }
    policies = {
        (o["metadata"]["namespace"], o["metadata"]["name"]): o for o in objects(build, "NetworkPolicy")
    }
    ingress = policies[("research", "allow-serving-chat")]["spec"]["ingress"][0]["from"]
    assert [p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for p in ingress] == [
        "istio-ingress",
        "web",
    ]
    assert ("web", "allow-egress-to-serving-research-chat") in policies
