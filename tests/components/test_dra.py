"""dra: the NVIDIA DRA driver, a DeviceClass per flavor and claim templates sized by reach."""

from __future__ import annotations

from compiler.components import dra
from tests.components.objects import named, names
from tests.components.synth import cluster


def test_nothing_on_device_plugin_clusters() -> None:
    output = dra.build(cluster(allocation="device-plugin"))
    assert (output.charts, output.objects) == ((), ())


def test_driver_chart_version_drops_the_v_of_the_pin() -> None:
    (chart,) = dra.build(cluster(allocation="dra")).charts
    assert (chart.chart, chart.version, chart.namespace) == (
        "dra-driver-nvidia-gpu",
        "0.4.1",
        "dra-driver-nvidia-gpu",
    )


def test_device_class_selects_the_flavor_by_type_and_product() -> None:
    """The driver's ResourceSlices carry the device attributes type and productName (NVML's name,
    blanks and all) under gpu.nvidia.com in v0.4.1; the flavor's product is the GFD label spelling."""
    device_class = named(dra.build(cluster(allocation="dra")), "DeviceClass", "gpu-gpu")
    expression = device_class["spec"]["selectors"][0]["cel"]["expression"]
    assert 'device.attributes["gpu.nvidia.com"].type == "gpu"' in expression
    assert 'productName.replace(" ", "-") == "NVIDIA-A100-SXM4-80GB"' in expression


def test_claim_templates_are_powers_of_two_up_to_reach_plus_serving_counts() -> None:
    # quota 4, no borrowing: reach 4 → 1, 2, 4; a serving path with 3-GPU replicas adds gpu-3.
    assert names(dra.build(cluster(allocation="dra", quota=4)), "ResourceClaimTemplate") == [
        "gpu-1",
        "gpu-2",
        "gpu-4",
    ]
    with_serving = dra.build(cluster(allocation="dra", quota=4, serving_count=3))
    assert names(with_serving, "ResourceClaimTemplate") == ["gpu-1", "gpu-2", "gpu-3", "gpu-4"]
    # borrowingLimit 4 raises reach to 8 → gpu-8 too.
    assert "gpu-8" in names(
        dra.build(cluster(allocation="dra", quota=4, borrowing=4)), "ResourceClaimTemplate"
    )
