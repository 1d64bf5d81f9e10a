"""Network isolation: default-deny per team namespace plus the allows the spec implies.

Policies come in pairs where traffic crosses namespaces: an ingress allow in the
receiving namespace and an egress allow in the sending one, because both namespaces
deny by default.
"""

from __future__ import annotations

from typing import Any

from compiler.cluster_model import ClusterModel, TeamOnCluster
from compiler.components.base import Component, ComponentOutput, KubeObject, obj

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def namespace_peer(namespace: str, pod_labels: dict[str, str] | None = None) -> dict[str, Any]:
    peer: dict[str, Any] = {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: namespace}}}
    if pod_labels:
        peer["podSelector"] = {"matchLabels": pod_labels}
    return peer


def network_policy(team: TeamOnCluster, name: str, spec: dict[str, Any]) -> KubeObject:
    return obj("networking.k8s.io/v1", "NetworkPolicy", name, team.namespace, labels=team.labels, spec=spec)


def ingress_allowed_by(cluster: ClusterModel) -> dict[str, list[str]]:
    """Team name → the teams on the cluster that allow ingress from it (sorted)."""
    allowing: dict[str, list[str]] = {}
    for t in cluster.teams:
        for source in set(t.team.spec.allowIngressFrom):
            allowing.setdefault(source, []).append(t.name)
    return {source: sorted(targets) for source, targets in allowing.items()}


def team_policies(
    cluster: ClusterModel, team: TeamOnCluster, allowing: dict[str, list[str]] | None = None
) -> list[KubeObject]:
    """`allowing` is ingress_allowed_by(cluster), when the caller has it (once per cluster, not per team)."""
    if allowing is None:
        allowing = ingress_allowed_by(cluster)
    everything: dict[str, Any] = {}
    policies = [
        network_policy(team, "default-deny-ingress", {"podSelector": everything, "policyTypes": ["Ingress"]}),
        network_policy(team, "default-deny-egress", {"podSelector": everything, "policyTypes": ["Egress"]}),
        network_policy(
            team,
            "allow-dns",
            {
                "podSelector": everything,
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [namespace_peer("kube-system", {"k8s-app": "kube-dns"})],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            },
        ),
        network_policy(
            team,
            "allow-same-namespace",
            {
                "podSelector": everything,
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": everything}]}],
                "egress": [{"to": [{"podSelector": everything}]}],
            },
        ),
        network_policy(
            team,
            "allow-monitoring-scrape",
            {
                "podSelector": everything,
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [namespace_peer(cluster.monitoring_namespace)]}],
            },
        ),
    ]
    for source in sorted(s for s in set(team.team.spec.allowIngressFrom) if cluster.team(s) is not None):
        policies.append(
            network_policy(
                team,
                f"allow-ingress-from-{source}",
                {
                    "podSelector": everything,
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": [namespace_peer(source)]}],
                },
            )
        )
    for target in allowing.get(team.name, []):
        policies.append(
            network_policy(
                team,
                f"allow-egress-to-{target}",
                {
                    "podSelector": everything,
                    "policyTypes": ["Egress"],
                    "egress": [{"to": [namespace_peer(target)]}],
                },
            )
        )
    if team.team.spec.allowEgressTo:
        blocks = [{"ipBlock": {"cidr": cidr}} for cidr in sorted(set(team.team.spec.allowEgressTo))]
        policies.append(
            network_policy(
                team,
                "allow-egress-external",
                {"podSelector": everything, "policyTypes": ["Egress"], "egress": [{"to": blocks}]},
            )
        )
    return policies


def build(cluster: ClusterModel) -> ComponentOutput:
    allowing = ingress_allowed_by(cluster)
    return ComponentOutput(
        objects=tuple(p for team in cluster.teams for p in team_policies(cluster, team, allowing))
    )


COMPONENT = Component("network", build)
