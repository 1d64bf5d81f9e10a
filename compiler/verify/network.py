"""Reachability from every NetworkPolicy of the cluster (tree and charts), per the Kubernetes
NetworkPolicy semantics (kubernetes.io/docs/concepts/services-networking/network-policies;
k8s.io/api networking/v1 types.go): a pod is isolated for a direction when a policy of its namespace
selects it with that policyType; then a connection needs an allowing rule in the source's egress
AND the destination's ingress. Peers: podSelector (policy's namespace), namespaceSelector (+
podSelector), ipBlock (cidr minus except); ports by number, range (endPort) or container port name.

Endpoints: one representative pod per workload, a client pod in every team namespace, kube-dns in
kube-system, the API server, the ingress gateway, Prometheus, the model stores and an arbitrary
internet address. Intended flows come from the spec (intents.py) and from what the workloads need
(DNS for all, model download and gateway/monitoring ingress for serving, the API server for
platform controllers); every other cross-namespace flow in the matrix is expected to be denied.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from compiler.verify.context import VerifyContext
from compiler.verify.kserve_pods import SOURCE_URI_ANNOTATION
from compiler.verify.selectors import label_selector_matches

POD_CIDR = ipaddress.ip_network("10.244.0.0/16")
API_SERVER_IP = "172.20.0.1"  # the control plane's address (outside the pod network)
INTERNET_IP = "198.51.100.77"  # an arbitrary public address (TEST-NET-2)
PUBLIC_STORE_IP = "203.0.113.10"  # a public object store endpoint (TEST-NET-3)
DEFAULT_STORE_HOSTS = {"s3": "s3.amazonaws.com", "gs": "storage.googleapis.com", "hf": "huggingface.co"}


@dataclass
class Endpoint:
    name: str
    namespace: str | None  # None: outside the pod network
    labels: Mapping[str, str]
    ip: str
    ports: Mapping[str, int] = field(default_factory=dict)  # named container ports
    workload: str | None = None  # workload ref, for outcomes


@dataclass(frozen=True)
class Flow:
    src: Endpoint
    dst: Endpoint
    port: int
    protocol: str
    intended: bool
    why: str


class Policies:
    """The NetworkPolicies of a cluster, and what they allow between two endpoints."""

    def __init__(
        self, policies: Iterable[Mapping[str, Any]], namespaces: Iterable[Mapping[str, Any]] = ()
    ) -> None:
        """`namespaces`: the cluster's Namespace objects (their labels, plus the
        kubernetes.io/metadata.name label the API server sets on every namespace)."""
        self.by_ns: dict[str, list[Mapping[str, Any]]] = {}
        for p in policies:
            self.by_ns.setdefault(p["metadata"].get("namespace", "default"), []).append(p)
        self.ns_labels = {
            ns["metadata"]["name"]: {
                **(ns["metadata"].get("labels") or {}),
                "kubernetes.io/metadata.name": ns["metadata"]["name"],
            }
            for ns in namespaces
        }
        # (id(endpoint), direction) -> (endpoint, policies selecting it): an endpoint is in many flows.
        self._selected: dict[tuple[int, str], tuple[Endpoint, list[Mapping[str, Any]]]] = {}

    def _selecting(self, ep: Endpoint, direction: str) -> list[Mapping[str, Any]]:
        key = (id(ep), direction)
        if key not in self._selected:
            self._selected[key] = (ep, self._select(ep, direction))  # ep kept: its id stays unique
        return self._selected[key][1]

    def _select(self, ep: Endpoint, direction: str) -> list[Mapping[str, Any]]:
        out = []
        for p in self.by_ns.get(ep.namespace or "", ()):
            spec = p.get("spec") or {}
            types = spec.get("policyTypes") or (["Ingress", "Egress"] if "egress" in spec else ["Ingress"])
            if direction in types and label_selector_matches(spec.get("podSelector") or {}, ep.labels):
                out.append(p)
        return out

    def _peer(self, peer: Mapping[str, Any], other: Endpoint, policy_ns: str) -> bool:
        if "ipBlock" in peer:
            block = peer["ipBlock"]
            ip = _address(other.ip)
            if ip not in _network(block["cidr"]):
                return False
            return not any(ip in _network(e) for e in block.get("except") or ())
        if other.namespace is None:
            return False
        if "namespaceSelector" in peer:
            # A namespace outside the tree (the gateway's) still has its kubernetes.io/metadata.name label.
            labels = self.ns_labels.get(other.namespace) or {"kubernetes.io/metadata.name": other.namespace}
            if not label_selector_matches(peer["namespaceSelector"], labels):
                return False
        elif other.namespace != policy_ns:
            return False
        return label_selector_matches(peer.get("podSelector") or {}, other.labels)

    @staticmethod
    def _port(entries: list[Mapping[str, Any]] | None, dst: Endpoint, port: int, protocol: str) -> bool:
        if not entries:
            return True
        for e in entries:
            if e.get("protocol", "TCP") != protocol:
                continue
            want = e.get("port")
            if want is None:
                return True
            if isinstance(want, str):
                want = dst.ports.get(want)
            if want is not None and int(want) <= port <= int(e.get("endPort", want)):
                return True
        return False

    def allows(
        self, direction: str, ep: Endpoint, other: Endpoint, dst: Endpoint, port: int, protocol: str
    ) -> bool:
        """Does `ep`'s namespace let traffic in `direction` between ep and other (dst names the port)?"""
        if ep.namespace is None:
            return True
        selecting = self._selecting(ep, direction)
        if not selecting:
            return True
        key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
        for p in selecting:
            for rule in (p.get("spec") or {}).get(key) or ():
                peers = rule.get(peers_key)
                if (not peers or any(self._peer(peer, other, ep.namespace) for peer in peers)) and self._port(
                    rule.get("ports"), dst, port, protocol
                ):
                    return True
        return False

    def flow_allowed(self, f: Flow) -> tuple[bool, str]:
        if not self.allows("Egress", f.src, f.dst, f.dst, f.port, f.protocol):
            return False, f"egress of {f.src.namespace} denies it"
        if not self.allows("Ingress", f.dst, f.src, f.dst, f.port, f.protocol):
            return False, f"ingress of {f.dst.namespace} denies it"
        return True, "allowed"


@functools.lru_cache(maxsize=4096)
def _address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(ip)


@functools.lru_cache(maxsize=4096)
def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(cidr, strict=False)


def _ports(pod: Mapping[str, Any]) -> dict[str, int]:
    return {
        p["name"]: int(p["containerPort"])
        for c in (pod.get("spec") or {}).get("containers") or ()
        for p in c.get("ports") or ()
        if p.get("name")
    }


def _store(ctx: VerifyContext, uri: str) -> tuple[str, str, int]:
    """(host, ip, port) the storage initializer connects to for a storageUri."""
    for store in ctx.intents.model_stores:
        if uri.startswith(store["uriPrefix"]):
            net = ipaddress.ip_network(store["cidr"], strict=False)
            return (
                store["host"],
                str(net.network_address + min(10, net.num_addresses - 1)),
                int(store["port"]),
            )
    parsed = urlparse(uri)
    host = DEFAULT_STORE_HOSTS.get(parsed.scheme) or parsed.hostname or ""
    try:
        return host, str(ipaddress.ip_address(host)), 443
    except ValueError:
        return host, PUBLIC_STORE_IP, 443


def build_flows(ctx: VerifyContext) -> list[Flow]:
    ips = (str(ip) for ip in POD_CIDR.hosts())
    dns = Endpoint("kube-dns", "kube-system", {"k8s-app": "kube-dns"}, next(ips), {"dns": 53, "dns-tcp": 53})
    api = Endpoint("kube-apiserver", None, {}, API_SERVER_IP)
    internet = Endpoint("internet", None, {}, INTERNET_IP)
    mon_ns = ctx.intents.monitoring_namespace
    prometheus = Endpoint("prometheus", mon_ns, {"app.kubernetes.io/name": "prometheus"}, next(ips))
    gateway = (
        Endpoint(
            "ingress-gateway",
            ctx.intents.gateway_namespace,
            {"app": "istio-ingressgateway", "istio": "ingressgateway"},
            next(ips),
        )
        if ctx.intents.gateway_namespace
        else None
    )
    namespaces = ctx.cluster.namespaces()
    teams = sorted(
        n for n, ns in namespaces.items() if "platformc.dev/team" in (ns["metadata"].get("labels") or {})
    )
    clients = {t: Endpoint(f"{t}/client", t, {}, next(ips)) for t in teams}
    flows: list[Flow] = []
    for w in ctx.workloads:
        if w.kind == "DaemonSet":
            continue
        ep = Endpoint(
            w.ref, w.namespace, w.pod["metadata"].get("labels") or {}, next(ips), _ports(w.pod), w.ref
        )
        flows += [Flow(ep, dns, 53, proto, True, "DNS") for proto in ("UDP", "TCP")]
        in_team = w.namespace in clients
        if w.role == "platform":
            flows.append(Flow(ep, api, 443, "TCP", True, "controller → API server"))
            continue
        if in_team:
            flows.append(Flow(ep, api, 443, "TCP", False, "team pod → API server"))
            flows.append(Flow(ep, internet, 443, "TCP", False, "team pod → internet"))
        if w.role != "serving":
            continue
        uri = (w.pod["metadata"].get("annotations") or {}).get(SOURCE_URI_ANNOTATION)
        if uri and not uri.startswith("pvc://"):
            host, ip, port = _store(ctx, uri)
            flows.append(
                Flow(
                    ep,
                    Endpoint(f"model-store:{host}", None, {}, ip),
                    port,
                    "TCP",
                    True,
                    f"model download {uri}",
                )
            )
        isvc = w.owner.rsplit("/", 1)[-1]
        if gateway:
            flows.append(Flow(gateway, ep, 8080, "TCP", True, "gateway → predictor"))
        flows.append(Flow(prometheus, ep, 8080, "TCP", True, "monitoring scrape"))
        callers = ctx.intents.serving_allow_from.get(
            (w.namespace, isvc), frozenset()
        ) | ctx.intents.team_ingress_from.get(w.namespace, frozenset())
        for team, client in clients.items():
            if team != w.namespace:
                flows.append(Flow(client, ep, 8080, "TCP", team in callers, f"{team} → {isvc}"))
    return flows


def check_network(ctx: VerifyContext) -> list[tuple[Flow, bool, str]]:
    """Evaluate every flow; findings for intended-but-denied and unintended-but-allowed flows."""
    policies = Policies(ctx.cluster.of_kind("NetworkPolicy"), ctx.cluster.namespaces().values())
    owners = {w.ref: w.owner for w in ctx.workloads}
    matrix = []
    for f in build_flows(ctx):
        allowed, reason = policies.flow_allowed(f)
        matrix.append((f, allowed, reason))
        ws = [e.workload for e in (f.src, f.dst) if e.workload]
        for ref in ws:
            out = ctx.outcomes.get(ref)
            if out is not None and f.intended:
                out.reachable = (out.reachable is not False) and allowed
        if f.intended and not allowed:
            owner = next((owners[r] for r in ws if r in owners), f.src.name)
            if f.why.startswith("model download"):
                ctx.add(
                    "network.model-store-unreachable",
                    owner,
                    f"{f.src.name} → {f.dst.name}:{f.port}: {reason} ({f.why})",
                )
            else:
                ctx.add(
                    "network.intended-flow-denied",
                    owner,
                    f"{f.why}: {f.src.name} → {f.dst.name}:{f.port}/{f.protocol} is denied ({reason})",
                )
        elif not f.intended and allowed:
            owner = next((owners[r] for r in ws if r in owners), f.dst.name)
            ctx.add(
                "network.unintended-flow-allowed",
                owner,
                f"{f.why}: {f.src.name} → {f.dst.name}:{f.port}/{f.protocol} is allowed but not intended",
            )
    return matrix
