"""GENERATED from the component registry by `python3 -m compiler.components`: do not edit.

tests/components/test_registry.py fails while this differs from the registry.
"""

from compiler.registry_facts import RegistryFacts

TABLE = RegistryFacts(
    units=(
        "tenancy",
        "tenancy-config",
        "network",
        "network-config",
        "gpu-operator",
        "gpu-operator-config",
        "dra",
        "dra-config",
        "kueue",
        "kueue-config",
        "cert-manager",
        "cert-manager-config",
        "kserve-crds",
        "kserve-crds-config",
        "kserve",
        "kserve-config",
        "keda",
        "keda-config",
        "serving",
        "serving-config",
        "monitoring",
        "monitoring-config",
    ),
    namespaces=frozenset(
        {
            "cert-manager",
            "dra-driver-nvidia-gpu",
            "gpu-operator",
            "keda",
            "kserve",
            "kueue-system",
        }
    ),
    version_pins={
        "gpuOperator": "v26.7.0",
        "draDriver": "v0.4.1",
        "kueue": "v0.19.2",
        "certManager": "v1.19.1",
        "kserve": "v0.20.0",
        "keda": "2.20.2",
    },
    chart_crd_groups={
        "gpu-operator": frozenset({"nfd.k8s-sigs.io", "nvidia.com", "resource.nvidia.com"}),
        "dra-driver-nvidia-gpu": frozenset({"resource.nvidia.com"}),
        "kueue": frozenset({"kueue.x-k8s.io"}),
        "cert-manager": frozenset({"acme.cert-manager.io", "cert-manager.io"}),
        "kserve-crd": frozenset({"serving.kserve.io"}),
        "keda": frozenset({"eventing.keda.sh", "keda.sh"}),
        "kube-prometheus-stack": frozenset({"monitoring.coreos.com"}),
        "grafana-operator": frozenset({"grafana.integreatly.org"}),
    },
    schema_targets=(
        ("nvidia.com", "ClusterPolicy", "v1"),
        ("kueue.x-k8s.io", "ClusterQueue", "v1beta2"),
        ("kueue.x-k8s.io", "LocalQueue", "v1beta2"),
        ("kueue.x-k8s.io", "ResourceFlavor", "v1beta2"),
        ("kueue.x-k8s.io", "WorkloadPriorityClass", "v1beta2"),
        ("kueue.x-k8s.io", "Cohort", "v1beta2"),
        ("serving.kserve.io", "ClusterServingRuntime", "v1alpha1"),
        ("serving.kserve.io", "InferenceService", "v1beta1"),
        ("gateway.networking.k8s.io", "HTTPRoute", "v1"),
        ("monitoring.coreos.com", "PrometheusRule", "v1"),
        ("monitoring.coreos.com", "PodMonitor", "v1"),
        ("monitoring.coreos.com", "ServiceMonitor", "v1"),
        ("grafana.integreatly.org", "GrafanaDashboard", "v1beta1"),
        ("grafana.integreatly.org", "GrafanaFolder", "v1beta1"),
    ),
)
