"""Whether NetworkPolicies let a pod open a connection to an IP address outside the cluster.

The semantics of networking.k8s.io/v1 NetworkPolicy (kubernetes.io/docs/concepts/services-
networking/network-policies/, and the API reference of NetworkPolicySpec): a pod is isolated for
egress when a policy in its namespace selects it with Egress among its policyTypes (policyTypes
defaults to Ingress, plus Egress when the policy has egress rules); an isolated pod may connect
where at least one egress rule of one selecting policy admits the destination and port. A rule
without `to` admits every destination, without `ports` every port; an external address matches
only ipBlock peers (pod and namespace selectors select pods, not external addresses).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _types(spec: Mapping[str, Any]) -> list[str]:
    if "policyTypes" in spec:
        return list(spec["policyTypes"])
    return ["Ingress", "Egress"] if "egress" in spec else ["Ingress"]


def _port_matches(ports: list[Mapping[str, Any]] | None, protocol: str, port: int) -> bool:
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        if "port" not in entry:
            return True
        start = entry["port"]
        if not isinstance(start, int):
            continue  # named ports name container ports, never an external port
        if start <= port <= entry.get("endPort", start):
            return True
    return False


def _peer_matches(peers: list[Mapping[str, Any]] | None, address: str) -> bool:
    if peers is None:
        return True
    ip = ipaddress.ip_address(address)
    for peer in peers:
        block = peer.get("ipBlock")
        if block is None:
            continue
        if ip in ipaddress.ip_network(block["cidr"]) and not any(
            ip in ipaddress.ip_network(e) for e in block.get("except", [])
        ):
            return True
    return False


def egress_allowed(
    policies: Iterable[Mapping[str, Any]],
    namespace: str,
    pod_labels: Mapping[str, str],
    address: str,
    port: int,
    protocol: str = "TCP",
) -> bool:
    selecting = [
        p
        for p in policies
        if p["kind"] == "NetworkPolicy"
        and p["metadata"].get("namespace") == namespace
        and "Egress" in _types(p["spec"])
        and selector_matches(p["spec"].get("podSelector") or {}, pod_labels)
    ]
    if not selecting:
        return True
    return any(
        _peer_matches(rule.get("to"), address) and _port_matches(rule.get("ports"), protocol, port)
        for policy in selecting
        for rule in policy["spec"].get("egress") or []
    )


def _source_matches(
    peers: list[Mapping[str, Any]] | None,
    namespace: str,
    source_namespace: str,
    source_labels: Mapping[str, str],
) -> bool:
    if peers is None:
        return True
    ns_labels = {"kubernetes.io/metadata.name": source_namespace}
    for peer in peers:
        if "ipBlock" in peer:
            continue  # cluster pods are matched by selectors, not by IP, here
        ns_selector = peer.get("namespaceSelector")
        pod_selector = peer.get("podSelector")
        in_namespace = (
            selector_matches(ns_selector, ns_labels)
            if ns_selector is not None
            else source_namespace == namespace
        )
        if in_namespace and selector_matches(pod_selector or {}, source_labels):
            return True
    return False


def ingress_allowed(
    policies: Iterable[Mapping[str, Any]],
    namespace: str,
    pod_labels: Mapping[str, str],
    source_namespace: str,
    port: int,
    source_labels: Mapping[str, str] | None = None,
    protocol: str = "TCP",
) -> bool:
    """Whether a pod in source_namespace may connect to port on a pod with pod_labels in namespace."""
    selecting = [
        p
        for p in policies
        if p["kind"] == "NetworkPolicy"
        and p["metadata"].get("namespace") == namespace
        and "Ingress" in _types(p["spec"])
        and selector_matches(p["spec"].get("podSelector") or {}, pod_labels)
    ]
    if not selecting:
        return True
    return any(
        _source_matches(rule.get("from"), namespace, source_namespace, source_labels or {})
        and _port_matches(rule.get("ports"), protocol, port)
        for policy in selecting
        for rule in policy["spec"].get("ingress") or []
    )
