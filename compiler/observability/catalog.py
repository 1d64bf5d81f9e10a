"""The metrics the monitoring stack exports and the generated queries may read.

Every dashboard target and rule expression uses only these names plus the recording rules
that rules.py defines (tests/observability enforce it), so a renamed upstream metric shows up
as a failing test here rather than as an empty panel in production.

Label notes
- DCGM exporter (GPU Operator) maps each GPU to the pod using it and labels the series with
  that pod's `namespace`/`pod`/`container`. Prometheus renames them to `exported_namespace`,
  `exported_pod`, `exported_container` because the scrape target's own `namespace`/`pod`
  labels win (ServiceMonitor `honorLabels: false`, the GPU Operator default). A GPU with no
  pod has `exported_pod=""`.
- KServe model-server and vLLM metrics carry only `model_name`; the predictor PodMonitor that
  components/monitoring.py generates adds `namespace` (target label) and `inference_service`
  (from the pod label `serving.kserve.io/inferenceservice`).
- Istio gateway metrics name the KServe raw-deployment predictor Service `<isvc>-predictor`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str
    type: str  # gauge | counter | histogram (the _bucket series)
    source: str
    labels: tuple[str, ...]
    help: str


DCGM = "DCGM exporter (GPU Operator)"
KUEUE = "Kueue controller"
KSERVE = "KServe model server (kserve Python server, huggingfaceserver)"
VLLM = "vLLM engine inside huggingfaceserver"
ISTIO = "Istio ingress gateway (Envoy)"
PROMETHEUS = "Prometheus (per scrape target)"
KUBELET = "kubelet cAdvisor (kube-prometheus-stack)"
KSM = "kube-state-metrics (kube-prometheus-stack)"

_DCGM_LABELS = (
    "gpu",
    "UUID",
    "device",
    "modelName",
    "Hostname",
    "GPU_I_PROFILE",
    "GPU_I_ID",
    "exported_namespace",
    "exported_pod",
    "exported_container",
)

METRICS: tuple[Metric, ...] = (
    Metric("DCGM_FI_DEV_GPU_UTIL", "gauge", DCGM, _DCGM_LABELS, "GPU utilisation in percent (0-100)"),
    Metric(
        "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
        "gauge",
        DCGM,
        _DCGM_LABELS,
        "ratio (0-1) of time the graphics/compute engine was active; reported per MIG instance too "
        "(the GPU Operator runs the exporter with dcp-metrics-included.csv)",
    ),
    Metric("DCGM_FI_DEV_FB_USED", "gauge", DCGM, _DCGM_LABELS, "framebuffer memory used, MiB"),
    Metric("DCGM_FI_DEV_FB_FREE", "gauge", DCGM, _DCGM_LABELS, "framebuffer memory free, MiB"),
    Metric("DCGM_FI_DEV_XID_ERRORS", "gauge", DCGM, _DCGM_LABELS, "value of the last XID error (0 = none)"),
    Metric(
        "kube_node_labels",
        "gauge",
        "kube-state-metrics",
        ("node", "label_nvidia_com_mig_config", "label_nvidia_com_mig_config_state"),
        "node labels kube-state-metrics is allowed to export (metricLabelsAllowlist)",
    ),
    Metric(
        "kube_daemonset_status_number_unavailable",
        "gauge",
        "kube-state-metrics",
        ("namespace", "daemonset"),
        "nodes that should run the DaemonSet's pod but have none available",
    ),
    Metric(
        "gpu_operator_reconciliation_status",
        "gauge",
        "GPU Operator (state-operator-metrics ServiceMonitor)",
        ("job", "namespace"),
        "1 reconciled, 0 operands not ready, -1 ClusterPolicy unavailable, -2 operator error",
    ),
    Metric(
        "up", "gauge", PROMETHEUS, ("job", "instance", "namespace", "pod"), "1 if the last scrape succeeded"
    ),
    Metric(
        "kueue_pending_workloads",
        "gauge",
        KUEUE,
        ("cluster_queue", "status"),
        "pending workloads per ClusterQueue; status active | inadmissible",
    ),
    Metric(
        "kueue_admitted_active_workloads",
        "gauge",
        KUEUE,
        ("cluster_queue",),
        "admitted workloads that are still running",
    ),
    Metric("kueue_admitted_workloads_total", "counter", KUEUE, ("cluster_queue",), "workloads admitted"),
    Metric(
        "kueue_cluster_queue_resource_usage",
        "gauge",
        KUEUE,
        ("cohort", "cluster_queue", "flavor", "resource"),
        "resource quantity in use by admitted workloads",
    ),
    Metric(
        "kueue_cluster_queue_nominal_quota",
        "gauge",
        KUEUE,
        ("cohort", "cluster_queue", "flavor", "resource"),
        "nominal quota per flavor and resource",
    ),
    Metric(
        "request_predict_seconds_bucket",
        "histogram",
        KSERVE,
        ("model_name", "namespace", "inference_service", "le"),
        "predict latency; the KServe server observes it for every v1/v2 predict call",
    ),
    Metric(
        "vllm:e2e_request_latency_seconds_bucket",
        "histogram",
        VLLM,
        ("model_name", "namespace", "inference_service", "le"),
        "end-to-end latency of generation requests (OpenAI endpoints) in the vLLM backend",
    ),
    Metric(
        "vllm:num_requests_running",
        "gauge",
        VLLM,
        ("model_name", "namespace", "pod", "inference_service"),
        "requests the vLLM engine is generating for now (the concurrency autoscaling signal)",
    ),
    Metric(
        "vllm:num_requests_waiting",
        "gauge",
        VLLM,
        ("model_name", "namespace", "pod", "inference_service"),
        "requests queued in the vLLM engine, waiting for KV-cache room",
    ),
    Metric(
        "container_cpu_usage_seconds_total",
        "counter",
        KUBELET,
        ("namespace", "pod", "container"),
        "CPU time a container used (what KServe's CPU HPA measures, via metrics-server)",
    ),
    Metric(
        "kube_deployment_status_replicas_available",
        "gauge",
        KSM,
        ("namespace", "deployment"),
        "available replicas of a Deployment (KServe predictors are Deployments <isvc>-predictor)",
    ),
    Metric(
        "istio_requests_total",
        "counter",
        ISTIO,
        ("reporter", "destination_service_namespace", "destination_service_name", "response_code"),
        "HTTP requests through the gateway by response code",
    ),
)

CATALOG: dict[str, Metric] = {m.name: m for m in METRICS}

# Prefix of every recording rule platformc defines (level:metric:operations naming).
RECORDING_PREFIX = "platformc:"


def is_known(name: str, recorded: set[str]) -> bool:
    return name in CATALOG or name in recorded
