"""ClusterServingRuntimes the KServe install provides (chart kserve-runtime-configs v0.20.0,
files/runtimes/resources.yaml): runtime name → model formats it serves. The first runtime
listing a format with autoSelect is what KServe picks when a serving path names no runtime.
"""

from __future__ import annotations

KSERVE_RUNTIMES: dict[str, tuple[str, ...]] = {
    "kserve-autogluonserver": ("autogluon",),
    "kserve-huggingfaceserver": ("huggingface",),
    "kserve-huggingfaceserver-multinode": ("huggingface",),
    "kserve-lgbserver": ("lightgbm",),
    "kserve-mlserver": ("sklearn", "xgboost", "lightgbm", "mlflow"),
    "kserve-paddleserver": ("paddle",),
    "kserve-pmmlserver": ("pmml",),
    "kserve-predictiveserver": ("sklearn", "xgboost", "lightgbm"),
    "kserve-sklearnserver": ("sklearn",),
    "kserve-tensorflow-serving": ("tensorflow",),
    "kserve-torchserve": ("pytorch",),
    "kserve-tritonserver": ("tensorrt", "tensorflow", "onnx", "pytorch", "triton"),
    "kserve-vllmserver": ("vLLM",),
    "kserve-xgbserver": ("xgboost",),
}


def runtimes_for(model_format: str) -> list[str]:
    return [name for name, formats in KSERVE_RUNTIMES.items() if model_format in formats]
