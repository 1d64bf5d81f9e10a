"""Names that several components must agree on (one place, so references always resolve)."""

from __future__ import annotations


def device_class_name(flavor: str) -> str:
    """DeviceClass of a GPU flavor on dra clusters."""
    return f"gpu-{flavor}"


def device_class_quota_key(device_class: str) -> str:
    """ResourceQuota key that counts devices claimed through a DeviceClass (Kubernetes >= 1.34)."""
    return f"{device_class}.deviceclass.resource.k8s.io/devices"


def dra_quota_key(flavor: str) -> str:
    """ResourceQuota key of a flavor's DeviceClass."""
    return device_class_quota_key(device_class_name(flavor))


def cluster_queue_name(team: str) -> str:
    """Kueue ClusterQueue of a team (cluster-scoped; one per team and cluster)."""
    return team


LOCAL_QUEUE_NAME = "default"
CPU_FLAVOR_NAME = "default-cpu"


def resource_flavor_name(flavor: str) -> str:
    return flavor


def inference_service_name(serving_path: str) -> str:
    return serving_path


# --- AI stack (gpu-operator, dra, kueue, kserve) ------------------------------------------------

GPU_OPERATOR_NAMESPACE = "gpu-operator"
DRA_DRIVER_NAMESPACE = "dra-driver-nvidia-gpu"
KUEUE_NAMESPACE = "kueue-system"
KSERVE_NAMESPACE = "kserve"

MIG_CONFIG_MAP = "platformc-mig-parted-config"  # mig-manager's custom config (key config.yaml)
DEVICE_PLUGIN_CONFIG_MAP = "platformc-device-plugin-config"  # one key per time-sliced flavor
DEVICE_PLUGIN_DEFAULT_CONFIG = "default"

MIG_CONFIG_LABEL = "nvidia.com/mig.config"
DEVICE_PLUGIN_CONFIG_LABEL = "nvidia.com/device-plugin.config"
GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"

DRA_DRIVER_NAME = "gpu.nvidia.com"
DRA_CLAIM_REQUEST = "gpu"  # request name inside every claim template, and the pod's claim name


def mig_config_name(flavor: str) -> str:
    """mig-parted config a MIG flavor's nodes select with the nvidia.com/mig.config label."""
    return flavor


def device_plugin_config_name(flavor: str) -> str:
    """Device-plugin config key a time-sliced flavor's nodes select with nvidia.com/device-plugin.config."""
    return flavor


def claim_template_name(flavor: str, count: int) -> str:
    """ResourceClaimTemplate in a team namespace for `count` devices of a flavor."""
    return f"{flavor}-{count}"


def serving_policy_name(serving_path: str) -> str:
    return f"allow-serving-{serving_path}"


def serving_egress_policy_name(team: str, serving_path: str) -> str:
    return f"allow-egress-to-serving-{team}-{serving_path}"


PRIORITY_CLASSES = {"low": 100, "normal": 1000, "high": 10000}


# --- Serving (KServe v0.20 Standard mode) -------------------------------------------------------

SERVING_PRIORITY_CLASS = "platformc-online-serving"
CANARY_PREDICTOR_NAME = "canary"  # canary[].predictor.name: KServe names its Deployment/Service by it


def predictor_service_name(inference_service: str) -> str:
    """KServe v0.20 constants.PredictorServiceName: Deployment and Service `<isvc>-predictor`."""
    return f"{inference_service}-predictor"


def canary_service_name(inference_service: str) -> str:
    """KServe v0.20 constants.PredictorServiceName(name, canary.predictor.name)."""
    return f"{inference_service}-{CANARY_PREDICTOR_NAME}-predictor"


def model_store_account_name(store: str) -> str:
    """ServiceAccount in a team namespace whose credentials KServe's storage initializer uses."""
    return f"model-store-{store}"


def model_store_policy_name(store: str) -> str:
    return f"allow-egress-model-store-{store}"


def serving_route_name(serving_path: str) -> str:
    return serving_path
