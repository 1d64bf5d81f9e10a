"""DRA selectors against ResourceSlice devices, as the scheduler evaluates them.

Source: k8s.io/dynamic-resource-allocation/cel/compile.go (the `device` variable; an
attribute without a domain belongs to the driver's domain; an unknown domain is an empty
map) and resource.k8s.io/v1 DeviceClass spec.selectors[].cel.expression.
"""

from __future__ import annotations

import pytest

from compiler.cel import CelError, device_class_matches, selector_matches

H100 = {
    "name": "gpu-0",
    "attributes": {
        "productName": {"string": "NVIDIA H100 80GB HBM3"},
        "type": {"string": "gpu"},
        "cudaComputeCapability": {"version": "9.0.0"},
        "resource.kubernetes.io/pcieRoot": {"string": "pci0000:00"},
    },
    "capacity": {"memory": {"value": "80Gi"}},
}
DRIVER = "gpu.nvidia.com"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('device.driver == "gpu.nvidia.com"', True),
        ('device.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA H100")', True),
        ('device.attributes["gpu.nvidia.com"].productName == "NVIDIA A100"', False),
        ('device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("40Gi")) >= 0', True),
        ('device.capacity["gpu.nvidia.com"].memory.isLessThan(quantity("80Gi"))', False),
        ('device.attributes["resource.kubernetes.io"].pcieRoot == "pci0000:00"', True),
        ('!("productName" in device.attributes["other.example.com"])', True),
    ],
)
def test_selectors(expression: str, expected: bool) -> None:
    assert selector_matches(expression, DRIVER, H100) is expected


def test_missing_attribute_is_an_error() -> None:
    with pytest.raises(CelError):
        selector_matches('device.attributes["gpu.nvidia.com"].nosuch == "x"', DRIVER, H100)


def test_device_class_needs_all_selectors() -> None:
    device_class = {
        "apiVersion": "resource.k8s.io/v1",
        "kind": "DeviceClass",
        "metadata": {"name": "h100"},
        "spec": {
            "selectors": [
                {"cel": {"expression": 'device.driver == "gpu.nvidia.com"'}},
                {"cel": {"expression": 'device.attributes["gpu.nvidia.com"].productName.contains("H100")'}},
            ]
        },
    }
    assert device_class_matches(device_class, DRIVER, H100)
    a100 = {**H100, "attributes": {**H100["attributes"], "productName": {"string": "NVIDIA A100-SXM4-80GB"}}}
    assert not device_class_matches(device_class, DRIVER, a100)
    assert not device_class_matches(device_class, "other.example.com", H100)
