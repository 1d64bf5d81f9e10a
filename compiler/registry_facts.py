"""What the stages before and after the components need to know about the registered components.

The registry (compiler/components/__init__.py) is the source; `facts_of` there derives a
RegistryFacts from it. The spec stage (below the components) and validate (which must not
depend on compile internals) read the copy generated into compiler/registry_table.py by
default; the compile pipeline passes the live registry's facts. A test keeps the two equal.
A leaf module.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

SchemaTarget = tuple[str, str, str]  # (API group, kind, version) whose CRD schema validation needs


@dataclass(frozen=True)
class RegistryFacts:
    units: tuple[str, ...] = ()  # every sync unit name a component may produce
    namespaces: frozenset[str] = frozenset()  # namespaces the components own (teams may not take them)
    version_pins: Mapping[str, str] = field(default_factory=dict)  # Platform.spec.components field → default
    chart_crd_groups: Mapping[str, frozenset[str]] = field(default_factory=dict)  # chart → CRD groups
    schema_targets: tuple[SchemaTarget, ...] = ()  # custom resource kinds the components emit

    def source(self) -> str:
        """This value as the Python module compiler/registry_table.py holds (ruff-formatted)."""

        def strings(values: Iterable[str], indent: str) -> list[str]:
            return [f"{indent}{json.dumps(v)}," for v in values]

        lines = [
            '"""GENERATED from the component registry by `python3 -m compiler.components`: do not edit.',
            "",
            "tests/components/test_registry.py fails while this differs from the registry.",
            '"""',
            "",
            "from compiler.registry_facts import RegistryFacts",
            "",
            "TABLE = RegistryFacts(",
            "    units=(",
            *strings(self.units, " " * 8),
            "    ),",
            "    namespaces=frozenset(",
            "        {",
            *strings(sorted(self.namespaces), " " * 12),
            "        }",
            "    ),",
            "    version_pins={",
            *(f"        {json.dumps(k)}: {json.dumps(v)}," for k, v in self.version_pins.items()),
            "    },",
            "    chart_crd_groups={",
            *(
                f"        {json.dumps(c)}: frozenset({{{', '.join(json.dumps(g) for g in sorted(gs))}}}),"
                for c, gs in self.chart_crd_groups.items()
            ),
            "    },",
            "    schema_targets=(",
            *(f"        ({', '.join(json.dumps(p) for p in t)})," for t in self.schema_targets),
            "    ),",
            ")",
        ]
        return "\n".join(lines) + "\n"
