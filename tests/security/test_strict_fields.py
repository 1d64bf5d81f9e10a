"""Issue 16, Found 10: values Kubernetes, Argo CD, Flux or Helm would refuse or misread are errors
at their spec line. Key and value rules are upstream's,
k8s.io/apimachinery/pkg/util/validation/validation.go (IsQualifiedName, IsValidLabelValue,
IsDNS1123Subdomain); CIDRs are checked with Python's ipaddress."""

from __future__ import annotations

import pytest

from tests.security.conftest import Workspace

TEAM = "platform-spec/teams/ai-research.yaml"
PLATFORM = "platform-spec/platform.yaml"
PROD = "platform-spec/clusters/prod-us-east.yaml"
FLAVORS = "platform-spec/flavors.yaml"
SERVING = "platform-spec/serving/chat-llm.yaml"

CASES = [
    (TEAM, "allowIngressFrom: [app-frontend]", "allowEgressTo: [not-a-cidr]", 10, "expected a CIDR"),
    (TEAM, "allowIngressFrom: [app-frontend]", "allowEgressTo: [999.1.1.1/33]", 10, "expected a CIDR"),
    (TEAM, "owners: [ai-research-admins]", 'owners: [""]', 7, "expected a group or user name"),
    (
        PROD,
        "destination: https://prod-us-east.k8s.acme.internal",
        "destination: not a url",
        8,
        "expected a URL",
    ),
    (PROD, "domain: prod.acme.internal", "domain: prod..internal", 14, "DNS-1123 subdomain"),
    (PROD, "domain: prod.acme.internal", "domain: " + "a" * 300, 14, "DNS-1123 subdomain"),
    (
        PROD,
        "{name: h100-pool, flavor: h100, nodes: 2, gpusPerNode: 8}",
        '{name: h100-pool, flavor: h100, nodes: 2, gpusPerNode: 8, labels: {"bad key!": x}}',
        12,
        "expected a key [prefix/]name",
    ),
    (
        PROD,
        "{name: h100-pool, flavor: h100, nodes: 2, gpusPerNode: 8}",
        "{name: h100-pool, flavor: h100, nodes: 2, gpusPerNode: 8, labels: {a: " + "v" * 64 + "}}",
        12,
        "expected a label value",
    ),
    (
        PROD,
        "{name: h100-pool, flavor: h100, nodes: 2, gpusPerNode: 8}",
        '{name: h100-pool, flavor: h100, nodes: 2, gpusPerNode: 8, taints: [{key: "bad key!"}]}',
        12,
        "expected a key [prefix/]name",
    ),
    (PLATFORM, "path: generated", "path: ../../etc", 11, "expected a relative path inside the repository"),
    (
        PLATFORM,
        "path: generated",
        "path: /abs/generated",
        11,
        "expected a relative path inside the repository",
    ),
    (PLATFORM, "revision: main", 'revision: ""', 10, "expected a branch, tag or commit"),
    (PLATFORM, "kueue: v0.19.2", 'kueue: ""', 16, "expected a pinned semantic version"),
    (PLATFORM, "kueue: v0.19.2", 'kueue: "latest; rm -rf /"', 16, "expected a pinned semantic version"),
    (PLATFORM, "path: generated", "path: generated\n    namespace: Bad_NS!", 12, "DNS-1123 label"),
    (PLATFORM, "repoURL: https://github.com/acme/ai-platform.git", "repoURL: not a url", 9, "expected a URL"),
    (FLAVORS, "hourlyCost: 4.10", "hourlyCost: .inf", 9, "hourlyCost"),
    (SERVING, 'storageUri: "s3://models/llama-3.1-8b"', 'storageUri: "s3://models/x\\nevil"', 8, "control"),
    (TEAM, 'cpu: "256"', 'cpu: "' + "9" * 5000 + '"', 16, "too long"),
    (
        PLATFORM,
        "dashboards: configmap",
        "dashboards: configmap\n  monitoringNamespace: kube-system",
        19,
        "reserved",
    ),
]


@pytest.mark.parametrize(
    ("file", "old", "new", "line", "expected"),
    CASES,
    ids=[f"{c[1].split(':')[0]}-{i}" for i, c in enumerate(CASES)],
)
def test_bad_values_are_errors_at_their_spec_line(
    ws: Workspace, file: str, old: str, new: str, line: int, expected: str
) -> None:
    ws.edit(file, old, new)
    result = ws.run("compile")
    assert result.exit_code == 1, result.output
    assert f"{file}:{line}:" in result.output, result.output
    assert expected in result.output, result.output
    assert not (ws.root / "generated").exists()
