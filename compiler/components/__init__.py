"""Platform components. Each is one module with a pure `build(ClusterModel) -> ComponentOutput`.

Adding a component: write the module, then add its COMPONENT to this tuple.
Order here does not decide sync order; packaging derives that from CRD and namespace use.
"""

from __future__ import annotations

from compiler.components import monitoring, network, tenancy
from compiler.components.base import Component

COMPONENTS: tuple[Component, ...] = (
    tenancy.COMPONENT,
    network.COMPONENT,
    monitoring.COMPONENT,
)
