"""The charts stage of a compile: render every chart of one cluster from the chart cache, check the
values against it and let what the charts install replace what the components declared.

This is the I/O (real `helm template`) that the pure core (compiler/core.py) does not do: the
pipeline hands `charts_stage(charts_dir)` to build_cluster, which calls it after the overlays."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from compiler.charts.facts import learn_from_charts
from compiler.charts.hydrate import hydrate, refuse_render_time_values, render_time_values
from compiler.charts.values_check import check_component_values
from compiler.cluster_model import ClusterModel
from compiler.components.base import ComponentOutput
from compiler.errors import PlatformcError

Outputs = list[tuple[str, ComponentOutput]]
ChartsStage = Callable[[ClusterModel, Outputs], Outputs]


def apply_charts(cluster: ClusterModel, outputs: Outputs, charts_dir: Path) -> Outputs:
    """The outputs once the rendered charts are known: values checked, CRDs and created custom
    resources learnt from the render, and (gitops.render: hydrated) the charts' objects in place of
    their HelmReleases / Applications."""
    dead = check_component_values(outputs, charts_dir)
    if dead:
        raise PlatformcError("values the charts do not read:\n  " + "\n  ".join(dead))
    learned = learn_from_charts(cluster.engine, cluster.kubernetes_version, outputs, charts_dir)
    if cluster.platform.spec.gitops.render != "hydrated":
        return learned.outputs
    refuse_render_time_values(render_time_values(learned, cluster.kubernetes_version, charts_dir))
    return hydrate(learned.outputs, learned)


def charts_stage(charts_dir: Path) -> ChartsStage:
    return partial(apply_charts, charts_dir=charts_dir)
