"""network: every team namespace denies by default; the spec's allows open exactly what it names."""

from __future__ import annotations

from compiler.components import network
from tests.components.objects import named, names
from tests.components.synth import cluster


def test_a_team_namespace_denies_by_default_and_allows_dns_itself_and_scraping() -> None:
    assert names(network.build(cluster()), "NetworkPolicy", "research") == [
        "allow-dns",
        "allow-monitoring-scrape",
        "allow-same-namespace",
        "default-deny-egress",
        "default-deny-ingress",
    ]


def test_allow_ingress_from_opens_both_namespaces() -> None:
    output = network.build(cluster(more_teams={"web": {}}, team={"allowIngressFrom": ["web"]}))
    ingress = named(output, "NetworkPolicy", "allow-ingress-from-web")
    assert ingress["metadata"]["namespace"] == "research"
    assert ingress["spec"]["ingress"][0]["from"][0]["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": "web"}
    }
    egress = named(output, "NetworkPolicy", "allow-egress-to-research")
    assert egress["metadata"]["namespace"] == "web"


def test_allow_egress_to_lists_the_cidrs() -> None:
    output = network.build(cluster(team={"allowEgressTo": ["10.20.0.0/16"]}))
    rule = named(output, "NetworkPolicy", "allow-egress-external")["spec"]["egress"][0]
    assert rule["to"] == [{"ipBlock": {"cidr": "10.20.0.0/16"}}]
