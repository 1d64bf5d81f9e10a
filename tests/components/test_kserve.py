"""kserve-crds, kserve and serving: KServe in Standard mode and an InferenceService per serving path."""

from __future__ import annotations

from compiler.components import kserve, serving
from tests.components.objects import named
from tests.components.synth import cluster


def test_crds_then_controller_then_serving() -> None:
    model = cluster()
    assert [c.chart for c in kserve.build_crds(model).charts] == ["kserve-crd"]
    controller = kserve.build_controller(model)
    assert [c.chart for c in controller.charts] == ["kserve-resources"]
    assert controller.after == ("kserve-crds",)
    # The runtimes are their own unit: the controller's webhook must answer before they are accepted.
    assert [c.chart for c in kserve.build_runtimes(model).charts] == ["kserve-runtime-configs"]
    assert controller.charts[0].values["kserve"]["controller"]["deploymentMode"] == "Standard"
    assert controller.charts[0].values["kserve"]["controller"]["gateway"]["domain"] == "apps.example.com"


def test_device_plugin_replica_asks_for_gpus_as_a_limit() -> None:
    isvc = named(serving.build_serving(cluster(serving_count=2)), "InferenceService", "chat")
    predictor = isvc["spec"]["predictor"]
    assert predictor["model"]["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert "resourceClaims" not in predictor


def test_dra_replica_asks_for_gpus_through_the_claim_template() -> None:
    output = serving.build_serving(cluster(allocation="dra", serving_count=2))
    predictor = named(output, "InferenceService", "chat")["spec"]["predictor"]
    assert predictor["resourceClaims"] == [{"name": "gpu", "resourceClaimTemplateName": "gpu-2"}]
    resources = predictor["model"]["resources"]
    assert resources["claims"] == [{"name": "gpu"}]
    assert "nvidia.com/gpu" not in resources.get("limits", {})  # the device plugin is off
    assert output.after == ("kserve", "dra")
