"""What the spec intends the network to allow, read from the spec (not from the tree's policies).

Teams' `allowIngressFrom` and serving paths' `allowFrom` and cluster `ingress.gatewayNamespace`
name the intended cross-namespace flows; the monitoring namespace scrapes every team. Without a
spec, the intents are read from the tree's own labels (team namespaces) and InferenceServices,
and cross-team allowances are unknown (every cross-team flow is then expected to be denied).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Intents:
    team_ingress_from: dict[str, frozenset[str]] = field(default_factory=dict)  # team -> callers
    serving_allow_from: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)  # (team, isvc)
    gateway_namespace: str | None = None
    monitoring_namespace: str = "monitoring"
    egress_cidrs: dict[str, tuple[str, ...]] = field(default_factory=dict)  # team -> allowEgressTo
    model_stores: tuple[dict[str, str], ...] = ()  # uriPrefix, host, port, cidr (Platform.spec.modelStores)
    # What the team's guardrails ask of every workload (policies requiredLabels, trustedRegistries),
    # which a user's batch Job therefore carries: team -> label keys / an allowed image prefix.
    required_labels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    trusted_registry: dict[str, str] = field(default_factory=dict)


def load_spec(spec_dir: Path) -> Any:
    """The typed spec, parsed once per process for an unchanged folder (every cluster reads it)."""
    files = sorted(spec_dir.rglob("*.y*ml"))
    signature = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    return _load_spec(spec_dir.resolve(), signature)


@functools.lru_cache(maxsize=4)
def _load_spec(spec_dir: Path, signature: tuple[tuple[str, int, int], ...]) -> Any:
    from compiler.spec.build import load_platform

    return load_platform(spec_dir)


def load_intents(spec_dir: Path | None, cluster: str) -> Intents:
    from compiler.spec.policies import RequiredLabels, TrustedRegistries, effective_rule

    if spec_dir is None or not spec_dir.is_dir():
        return Intents()
    model = load_spec(spec_dir)
    policies = model.platform.spec.policies
    c = model.clusters.get(cluster)
    teams = {
        name: t for name, t in model.teams.items() if any(tc.cluster == cluster for tc in t.spec.clusters)
    }
    return Intents(
        {name: frozenset(t.spec.allowIngressFrom) for name, t in teams.items()},
        {
            (p.spec.team, name): frozenset(p.spec.allowFrom)
            for name, p in model.serving_paths.items()
            if cluster in p.spec.clusters
        },
        c.spec.ingress.gatewayNamespace if c is not None and c.spec.ingress else None,
        model.platform.spec.monitoringNamespace,
        {name: tuple(t.spec.allowEgressTo) for name, t in teams.items()},
        tuple(
            {
                "uriPrefix": s.uriPrefix,
                "host": s.endpoint.host,
                "port": str(s.endpoint.port),
                "cidr": s.endpoint.cidr,
            }
            for s in getattr(model.platform.spec, "modelStores", ())
        ),
        {
            name: tuple(rule.labels)
            for name, t in teams.items()
            if isinstance(rule := effective_rule(policies, t.spec.policies, "requiredLabels"), RequiredLabels)
        },
        {
            name: rule.registries[0]
            for name, t in teams.items()
            if isinstance(
                rule := effective_rule(policies, t.spec.policies, "trustedRegistries"), TrustedRegistries
            )
            and rule.registries
        },
    )
