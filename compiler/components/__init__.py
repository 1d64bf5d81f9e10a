"""Platform components. Each is one module with a pure `build(ClusterModel) -> ComponentOutput`.

Adding a component: write the module, then add its COMPONENT to this tuple.
Order here does not decide sync order; packaging derives that from CRD and namespace use.
"""

from __future__ import annotations

from compiler.components import (
    cert_manager,
    dra,
    gpu_operator,
    guardrails,
    kserve,
    kueue,
    monitoring,
    network,
    policy_controller,
    tenancy,
)
from compiler.components.base import Component

COMPONENTS: tuple[Component, ...] = (
    tenancy.COMPONENT,
    network.COMPONENT,
    gpu_operator.COMPONENT,
    dra.COMPONENT,
    kueue.COMPONENT,
    cert_manager.COMPONENT,
    kserve.CRD_COMPONENT,
    kserve.COMPONENT,
    kserve.SERVING_COMPONENT,
    monitoring.COMPONENT,
    guardrails.PARAMS_COMPONENT,
    guardrails.COMPONENT,
    policy_controller.COMPONENT,
    policy_controller.POLICY_COMPONENT,
)
