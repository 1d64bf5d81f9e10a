"""Each values key platformc sets has its intended effect in the chart, rendered with real Helm
from ../shared/charts for the example platform (prod-us-east: Argo CD, DRA, Kubernetes 1.34;
staging-eu: Flux, device plugin, 1.33)."""

from __future__ import annotations

import json
from typing import Any

import yaml

from compiler.components.kserve import DEPLOYMENT_MODE
from compiler.naming import (
    DEVICE_PLUGIN_CONFIG_MAP,
    DEVICE_PLUGIN_DEFAULT_CONFIG,
    MIG_CONFIG_MAP,
    device_class_name,
)
from compiler.pipeline import ClusterBuild
from tests.charts.conftest import Rendered, of_kind

CLUSTERS = ("prod-us-east", "staging-eu")


def one(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = of_kind(objects, kind, name)
    assert len(found) == 1, (kind, name, [o["metadata"]["name"] for o in found])
    return found[0]


def cluster_policy(rendered: dict[str, Rendered], cluster: str) -> dict[str, Any]:
    return one(rendered[cluster]["gpu-operator"], "ClusterPolicy")["spec"]


def test_mig_strategy_and_mig_manager_config(example_rendered: dict[str, Rendered]) -> None:
    """gpu-operator v26.7.0 templates/clusterpolicy.yaml: `mig.strategy` and
    `migManager.config.{name,default}` go into the ClusterPolicy the operator acts on. Both clusters
    have a MIG flavor next to whole GPUs, so the strategy is mixed and mig-manager reads the
    platformc ConfigMap, defaulting to all-disabled on nodes without a MIG label."""
    for cluster in CLUSTERS:
        spec = cluster_policy(example_rendered, cluster)
        assert spec["mig"]["strategy"] == "mixed"
        assert spec["migManager"]["enabled"] is True
        assert spec["migManager"]["config"] == {"name": MIG_CONFIG_MAP, "default": "all-disabled"}


def test_device_plugin_is_off_on_dra_clusters(example_rendered: dict[str, Rendered]) -> None:
    """gpu-operator v26.7.0 templates/clusterpolicy.yaml `devicePlugin.enabled`: the DRA driver
    advertises the GPUs on dra clusters; elsewhere the device plugin reads platformc's time-slicing
    ConfigMap (`devicePlugin.config`)."""
    assert cluster_policy(example_rendered, "prod-us-east")["devicePlugin"]["enabled"] is False
    staging = cluster_policy(example_rendered, "staging-eu")["devicePlugin"]
    assert staging["enabled"] is True
    assert staging["config"] == {"name": DEVICE_PLUGIN_CONFIG_MAP, "default": DEVICE_PLUGIN_DEFAULT_CONFIG}


def test_dcgm_exporter_service_monitor(example_rendered: dict[str, Rendered]) -> None:
    """gpu-operator v26.7.0 templates/clusterpolicy.yaml copies `dcgmExporter.serviceMonitor` into
    the ClusterPolicy; the operator's controller then creates the ServiceMonitor (so the chart's
    unit is declared to use monitoring.coreos.com although no template renders one)."""
    for cluster in CLUSTERS:
        assert cluster_policy(example_rendered, cluster)["dcgmExporter"]["serviceMonitor"]["enabled"] is True
        assert not of_kind(example_rendered[cluster]["gpu-operator"], "ServiceMonitor")


def test_dra_driver_values(example_rendered: dict[str, Rendered]) -> None:
    """dra-driver-nvidia-gpu 0.4.1 templates/kubeletplugin.yaml: `nvidiaDriverRoot` is where the
    GPU Operator's driver container puts the driver; `resources.computeDomains.enabled: false`
    leaves out the compute-domain DeviceClasses (templates/deviceclass-compute-domain-*.yaml)."""
    objects = example_rendered["prod-us-east"]["dra"]
    plugin = one(objects, "DaemonSet")
    env = {
        e["name"]: e.get("value")
        for c in plugin["spec"]["template"]["spec"]["containers"]
        for e in c.get("env", [])
    }
    assert env.get("NVIDIA_DRIVER_ROOT") == "/run/nvidia/driver"
    classes = {o["metadata"]["name"] for o in of_kind(objects, "DeviceClass")}
    assert "gpu.nvidia.com" in classes and not any("compute-domain" in c for c in classes)


def test_kueue_manager_config(
    example_rendered: dict[str, Rendered], example_builds: dict[str, ClusterBuild]
) -> None:
    """kueue 0.19.2 templates/manager/manager-config.yaml writes `managerConfig.controllerManagerConfigYaml`
    verbatim as controller_manager_config.yaml of ConfigMap kueue-manager-config: fair sharing
    everywhere, and on the dra cluster the DeviceClass → quota resource mappings."""
    for cluster in CLUSTERS:
        config_map = one(example_rendered[cluster]["kueue"], "ConfigMap", "kueue-manager-config")
        config = yaml.safe_load(config_map["data"]["controller_manager_config.yaml"])
        assert config["kind"] == "Configuration"
        assert config["fairSharing"]["preemptionStrategies"] == [
            "LessThanOrEqualToFinalShare",
            "LessThanInitialShare",
        ]
        dra = config.get("resources", {}).get("deviceClassMappings")
        if cluster == "prod-us-east":
            assert config["featureGates"] == {"KueueDRAIntegration": True}
            flavors = example_builds[cluster].model.flavors
            assert {n for m in dra for n in m["deviceClassNames"]} == {device_class_name(f) for f in flavors}
        else:
            assert dra is None


def test_kserve_deployment_mode_and_domain(example_rendered: dict[str, Rendered]) -> None:
    """kserve-resources v0.20.0 templates/configmap.yaml: `kserve.controller.deploymentMode` is the
    `deploy.defaultDeploymentMode` of ConfigMap inferenceservice-config, and `gateway.domain` /
    `domainTemplate` its `ingress` section."""
    for cluster, domain in (("prod-us-east", "prod.acme.internal"), ("staging-eu", "staging.acme.internal")):
        config = one(example_rendered[cluster]["kserve"], "ConfigMap", "inferenceservice-config")["data"]
        assert json.loads(config["deploy"])["defaultDeploymentMode"] == DEPLOYMENT_MODE
        ingress = json.loads(config["ingress"])
        assert ingress["ingressDomain"] == domain
        assert ingress["domainTemplate"] == "{{ .Name }}.{{ .Namespace }}.{{ .IngressDomain }}"


def test_kserve_runtime_configs_install_the_serving_runtimes(example_rendered: dict[str, Rendered]) -> None:
    """kserve-runtime-configs v0.20.0 templates/: `kserve.servingruntime.enabled` renders the
    ClusterServingRuntimes the InferenceServices' model formats resolve to."""
    runtimes = {
        o["metadata"]["name"]
        for o in of_kind(example_rendered["prod-us-east"]["runtimes"], "ClusterServingRuntime")
    }
    assert "kserve-huggingfaceserver" in runtimes


def test_grafana_sidecar_label_and_namespace(example_rendered: dict[str, Rendered]) -> None:
    """kube-prometheus-stack 88.0.0 vendors grafana 12.10.0, whose templates/_pod.tpl gives the
    dashboards sidecar LABEL / LABEL_VALUE / NAMESPACE from `grafana.sidecar.dashboards.*`: it
    loads every ConfigMap labelled grafana_dashboard=1 in any namespace (the dashboards platformc
    writes to the monitoring namespace)."""
    for cluster in CLUSTERS:
        grafana = one(example_rendered[cluster]["monitoring"], "Deployment", "kube-prometheus-stack-grafana")
        (sidecar,) = [
            c
            for c in grafana["spec"]["template"]["spec"]["containers"]
            if c["name"] == "grafana-sc-dashboard"
        ]
        env = {e["name"]: e.get("value") for e in sidecar["env"]}
        assert (env["LABEL"], env["LABEL_VALUE"], env["NAMESPACE"]) == ("grafana_dashboard", "1", "ALL")


def test_prometheus_selects_every_monitor_and_rule(example_rendered: dict[str, Rendered]) -> None:
    """kube-prometheus-stack 88.0.0 templates/prometheus/prometheus.yaml: with the
    `*SelectorNilUsesHelmValues: false` values the selectors are empty (select all), so the
    PodMonitors and PrometheusRules platformc writes are picked up without the release label."""
    for cluster in CLUSTERS:
        spec = one(example_rendered[cluster]["monitoring"], "Prometheus")["spec"]
        assert spec["serviceMonitorSelector"] == spec["podMonitorSelector"] == spec["ruleSelector"] == {}


def test_cert_manager_installs_its_crds(example_rendered: dict[str, Rendered]) -> None:
    """cert-manager v1.19.1 templates/crd-*.yaml render only with `crds.enabled: true`."""
    crds = {
        o["metadata"]["name"]
        for o in of_kind(example_rendered["prod-us-east"]["cert-manager"], "CustomResourceDefinition")
    }
    assert {"certificates.cert-manager.io", "issuers.cert-manager.io"} <= crds
