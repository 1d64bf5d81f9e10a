"""Monitoring: the Prometheus/Grafana stack plus dashboards and alert rules derived from the spec.

kube-prometheus-stack installs Prometheus Operator (CRDs monitoring.coreos.com), Prometheus,
Alertmanager, Grafana with its dashboard sidecar and kube-state-metrics. With
`Platform.spec.dashboards: grafana-operator` the grafana-operator chart is added and dashboards
become GrafanaDashboard objects for a Grafana instance that points at the stack's Grafana.
Custom resources of both charts land in `monitoring-config`, which packaging orders after them.
"""

from __future__ import annotations

from typing import Any

from compiler.cluster_model import ClusterModel
from compiler.components.base import (
    Chart,
    Component,
    ComponentOutput,
    CrdRelease,
    HelmChart,
    KubeObject,
    obj,
    pod_security_namespace,
)
from compiler.observability import dashboards, rules
from compiler.observability.dashboards import dashboard_json
from compiler.observability.queries import serving_targets

# kube-prometheus-stack 88.0.0 ships Prometheus Operator v0.93.0, the release whose CRDs
# ../shared/schemas/crds/monitoring.coreos.com holds (SOURCES.md).
PROMETHEUS_STACK = Chart(
    "https://prometheus-community.github.io/helm-charts",
    "kube-prometheus-stack",
    crd_groups=frozenset({"monitoring.coreos.com"}),
)
PROMETHEUS_STACK_VERSION = "88.0.0"
# grafana-operator v5.24.0: its CRDs are the grafana.integreatly.org schemas in SOURCES.md. Its
# release workflow publishes the OCI chart as 5.24.0 (the tag's v stripped), the tag Flux resolves.
GRAFANA_OPERATOR = Chart(
    "oci://ghcr.io/grafana/helm-charts", "grafana-operator", crd_groups=frozenset({"grafana.integreatly.org"})
)
GRAFANA_OPERATOR_VERSION = "5.24.0"
STACK_RELEASE = "kube-prometheus-stack"
GRAFANA_ADMIN_SECRET = f"{STACK_RELEASE}-grafana"  # the Secret with admin-user / admin-password
MIG_NODE_LABELS = ("nvidia.com/mig.config", "nvidia.com/mig.config.state")
DASHBOARD_LABEL = {"grafana_dashboard": "1"}
GRAFANA_INSTANCE_LABEL = {"platformc.dev/grafana": "platform"}
DASHBOARD_FOLDER = "platformc"
MONITORING = "monitoring.coreos.com/v1"
GRAFANA_API = "grafana.integreatly.org/v1beta1"
KSERVE_ISVC_LABEL = "serving.kserve.io/inferenceservice"
KSERVE_METRICS_PORT = 8080  # prometheus.kserve.io/port of the kserve-huggingfaceserver runtime
ENVOY_METRICS_PORT = 15090  # Istio proxies' Prometheus endpoint


PROMETHEUS_PORT = 9090


def prometheus_url(cluster: ClusterModel) -> str:
    """The stack's Prometheus Service: kube-prometheus-stack names it `<release>-prometheus`."""
    return f"http://{STACK_RELEASE}-prometheus.{cluster.monitoring_namespace}.svc:{PROMETHEUS_PORT}"


def stack_values(cluster: ClusterModel) -> dict[str, Any]:
    select_all = {
        # Without these the operator only picks up objects labelled with the Helm release.
        "ruleSelectorNilUsesHelmValues": False,
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "podMonitorSelectorNilUsesHelmValues": False,
    }
    values: dict[str, Any] = {
        "crds": {"enabled": True},
        "grafana": {
            "sidecar": {
                "dashboards": {
                    "enabled": True,
                    "label": "grafana_dashboard",
                    "labelValue": "1",
                    "searchNamespace": "ALL",
                }
            }
        },
        "prometheus": {"prometheusSpec": select_all},
        # kube_node_labels carries no node label unless allowed: the MIG reconfiguration alert
        # reads mig-manager's nvidia.com/mig.config.state through it.
        "kube-state-metrics": {"metricLabelsAllowlist": [f"nodes=[{','.join(MIG_NODE_LABELS)}]"]},
    }
    if cluster.platform.spec.gitops.render == "hydrated":
        # Rendered objects are committed: no Secret may carry values. Grafana's admin password is
        # random per render unless it comes from an existing Secret (grafana chart admin.existingSecret;
        # same name and keys the chart would create, which the grafana-operator instance reads), and
        # without the chart's config Secret the Prometheus Operator runs Alertmanager on its default
        # configuration (alertmanagerSpec.useExistingSecret).
        values["grafana"]["admin"] = {"existingSecret": GRAFANA_ADMIN_SECRET}
        values["alertmanager"] = {"alertmanagerSpec": {"useExistingSecret": True}}
    return values


def charts(cluster: ClusterModel) -> tuple[HelmChart, ...]:
    namespace = cluster.monitoring_namespace
    result = [PROMETHEUS_STACK.release(PROMETHEUS_STACK_VERSION, namespace, stack_values(cluster))]
    if cluster.platform.spec.dashboards == "grafana-operator":
        result.append(GRAFANA_OPERATOR.release(GRAFANA_OPERATOR_VERSION, namespace))
    return tuple(result)


def namespace(cluster: ClusterModel) -> KubeObject:
    # node-exporter needs host networking and host paths: the namespace must allow privileged pods.
    return pod_security_namespace(
        cluster.monitoring_namespace, "privileged", audit="privileged", warn="privileged"
    )


def pod_monitors(cluster: ClusterModel) -> list[KubeObject]:
    targets = serving_targets(cluster)
    if not targets:
        return []
    ns = cluster.monitoring_namespace
    predictors = obj(
        MONITORING,
        "PodMonitor",
        "kserve-predictors",
        ns,
        spec={
            "namespaceSelector": {"matchNames": sorted({t.namespace for t in targets})},
            "selector": {"matchExpressions": [{"key": KSERVE_ISVC_LABEL, "operator": "Exists"}]},
            "podMetricsEndpoints": [
                {
                    "portNumber": KSERVE_METRICS_PORT,
                    "path": "/metrics",
                    # Model-server metrics carry only model_name; serving queries select by InferenceService.
                    "relabelings": [
                        {
                            "action": "replace",
                            "sourceLabels": [
                                "__meta_kubernetes_pod_label_serving_kserve_io_inferenceservice"
                            ],
                            "targetLabel": "inference_service",
                        }
                    ],
                }
            ],
        },
    )
    result = [predictors]
    ingress = cluster.cluster.spec.ingress
    if ingress is not None:
        result.append(
            obj(
                MONITORING,
                "PodMonitor",
                "ingress-gateway",
                ns,
                spec={
                    "namespaceSelector": {"matchNames": [ingress.gatewayNamespace]},
                    "selector": {},
                    "podMetricsEndpoints": [{"portNumber": ENVOY_METRICS_PORT, "path": "/stats/prometheus"}],
                },
            )
        )
    return result


def dashboard_labels(cluster: ClusterModel) -> dict[str, dict[str, str]]:
    """Labels of each team dashboard by its uid (the cluster dashboard has none)."""
    return {dashboards.dashboard_uid(cluster.name, t.name): t.labels for t in reversed(cluster.teams)}


def dashboard_objects(cluster: ClusterModel) -> list[KubeObject]:
    ns = cluster.monitoring_namespace
    operator = cluster.platform.spec.dashboards == "grafana-operator"
    result: list[KubeObject] = []
    if operator:
        result.append(
            obj(
                GRAFANA_API,
                "Grafana",
                "platform",
                ns,
                labels=GRAFANA_INSTANCE_LABEL,
                spec={
                    "external": {
                        "url": f"http://{STACK_RELEASE}-grafana.{ns}.svc",
                        # References only: the chart generates the admin secret in-cluster.
                        "adminUser": {"name": GRAFANA_ADMIN_SECRET, "key": "admin-user"},
                        "adminPassword": {"name": GRAFANA_ADMIN_SECRET, "key": "admin-password"},
                    }
                },
            )
        )
    team_labels = dashboard_labels(cluster)
    for spec in dashboards.dashboards(cluster):
        body = dashboard_json(spec)
        labels = dict(team_labels.get(spec.uid) or {})
        if operator:
            result.append(
                obj(
                    GRAFANA_API,
                    "GrafanaDashboard",
                    spec.uid,
                    ns,
                    labels=labels,
                    spec={
                        "instanceSelector": {"matchLabels": dict(GRAFANA_INSTANCE_LABEL)},
                        "folder": DASHBOARD_FOLDER,
                        "uid": spec.uid,
                        "json": body,
                    },
                )
            )
        else:
            result.append(
                obj(
                    "v1",
                    "ConfigMap",
                    spec.uid,
                    ns,
                    labels={**labels, **DASHBOARD_LABEL},
                    data={f"{spec.uid}.json": body},
                )
            )
    return result


def build(cluster: ClusterModel) -> ComponentOutput:
    objects = [
        namespace(cluster),
        *pod_monitors(cluster),
        *rules.prometheus_rules(cluster),
        *dashboard_objects(cluster),
    ]
    return ComponentOutput(charts=charts(cluster), objects=tuple(objects))


COMPONENT = Component(
    "monitoring",
    build,
    # Its namespace is Platform.spec.monitoringNamespace; the team checks refuse it separately.
    charts=(PROMETHEUS_STACK, GRAFANA_OPERATOR),
    emits=(
        ("monitoring.coreos.com", "PrometheusRule", "v1"),
        ("monitoring.coreos.com", "PodMonitor", "v1"),
        ("monitoring.coreos.com", "ServiceMonitor", "v1"),
        ("grafana.integreatly.org", "GrafanaDashboard", "v1beta1"),
        ("grafana.integreatly.org", "GrafanaFolder", "v1beta1"),
    ),
    crds=(
        CrdRelease(
            "prometheus-community/helm-charts",
            "b5a2d187",
            "https://raw.githubusercontent.com/prometheus-community/helm-charts/{version}/charts/kube-prometheus-stack/charts/crds/crds/{file}",
            tuple(
                f"crd-{plural}.yaml"
                for plural in (
                    "alertmanagerconfigs",
                    "alertmanagers",
                    "podmonitors",
                    "probes",
                    "prometheusagents",
                    "prometheuses",
                    "prometheusrules",
                    "scrapeconfigs",
                    "servicemonitors",
                    "thanosrulers",
                )
            ),
            chart_archive="kube-prometheus-stack-88.0.0.tgz",
            chart_path="charts/kube-prometheus-stack",
            name="kube-prometheus-stack",
            version="kube-prometheus-stack-88.0.0",
        ),
        CrdRelease(
            "grafana/grafana-operator",
            "065a718a1fe83728d08054c299de7f8577e88f79",
            "https://raw.githubusercontent.com/grafana/grafana-operator/{version}/config/crd/bases/{file}",
            tuple(
                f"grafana.integreatly.org_{plural}.yaml"
                for plural in (
                    "grafanaalertrulegroups",
                    "grafanacontactpoints",
                    "grafanadashboards",
                    "grafanadatasources",
                    "grafanafolders",
                    "grafanalibrarypanels",
                    "grafanamanifests",
                    "grafanamutetimings",
                    "grafananotificationpolicies",
                    "grafananotificationpolicyroutes",
                    "grafananotificationtemplates",
                    "grafanas",
                    "grafanaserviceaccounts",
                )
            ),
            chart_archive="grafana-operator-5.24.0.tgz",
            chart_path="deploy/helm/grafana-operator",
            name="grafana-operator",
            version="v5.24.0",
        ),
    ),
)
