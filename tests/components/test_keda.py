"""keda: KEDA installs only on clusters where a serving path scales on a signal KEDA reads."""

from __future__ import annotations

from compiler.components import keda
from tests.components.objects import names
from tests.components.synth import cluster


def test_keda_only_where_a_serving_path_scales_on_a_keda_metric() -> None:
    assert keda.build(cluster(serving_count=1)).charts == ()
    assert (
        keda.build(
            cluster(
                serving_count=1,
                serving={"autoscaling": {"metric": "cpu", "target": 70}, "replicas": {"min": 1, "max": 2}},
            )
        ).charts
        == ()
    )
    output = keda.build(
        cluster(
            serving_count=1,
            serving={"autoscaling": {"metric": "concurrency", "target": 4}, "replicas": {"min": 1, "max": 2}},
        )
    )
    (chart,) = output.charts
    assert (chart.chart, chart.version, chart.namespace) == ("keda", "2.20.2", "keda")
    assert chart.values == {"crds": {"install": True}}
    assert names(output, "Namespace") == ["keda"]
