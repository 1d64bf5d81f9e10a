"""What every check reads and writes: the simulated cluster, its workloads and their outcomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compiler.verify.cluster import SimCluster
from compiler.verify.findings import Finding
from compiler.verify.intents import Intents
from compiler.verify.kueue import KueueConfig
from compiler.verify.workloads import Workload


@dataclass
class Outcome:
    admitted: bool = True
    scheduled: bool | None = None  # None: not tried (not admitted)
    reachable: bool | None = None  # None: the workload has no intended flows
    notes: list[str] = field(default_factory=list)


@dataclass
class VerifyContext:
    cluster: SimCluster
    workloads: list[Workload]
    intents: Intents
    kueue: KueueConfig
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    # pod spec after admission mutation (LimitRange defaults, Kueue flavor injection), by workload ref
    admitted_pods: dict[str, dict[str, Any]] = field(default_factory=dict)
    # DeviceClasses whose problem is reported once at class level (pods using them are not re-reported)
    broken_classes: set[str] = field(default_factory=set)

    def outcome(self, workload: Workload) -> Outcome:
        return self.outcomes.setdefault(workload.ref, Outcome())

    def add(self, rule: str, obj: str, message: str, fix: str = "") -> None:
        self.findings.append(Finding(self.cluster.name, rule, obj, message, fix))
