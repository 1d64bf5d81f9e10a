"""Guardrails: admission policies that enforce the platform contract in team namespaces.

Two units, so the params exist before any binding reads them (a binding whose params are
missing denies every request in the namespace): `guard-params` holds each team's
params ConfigMap, `guardrails` the ValidatingAdmissionPolicies and bindings and syncs after it.
"""

from __future__ import annotations

from compiler.cluster_model import ClusterModel
from compiler.components.base import Component, ComponentOutput
from compiler.components.guardrails.params import params_config_map
from compiler.components.guardrails.policies import admission_objects, guardrails_enabled


def build_params(cluster: ClusterModel) -> ComponentOutput:
    if not guardrails_enabled(cluster):
        return ComponentOutput()
    return ComponentOutput(objects=tuple(params_config_map(cluster, team) for team in cluster.teams))


def build(cluster: ClusterModel) -> ComponentOutput:
    objects = admission_objects(cluster)
    if not objects:
        return ComponentOutput()
    return ComponentOutput(objects=tuple(objects), after=("guard-params",))


PARAMS_COMPONENT = Component("guard-params", build_params)
COMPONENT = Component("guardrails", build)
