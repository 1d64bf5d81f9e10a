"""Pod Security Standards, rule by rule.

Upstream: https://kubernetes.io/docs/concepts/security/pod-security-standards/ and
kubernetes/pod-security-admission v0.34.x policy/check_<id>.go (the rule ids below).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from compiler.verify.pod_security import evaluate, namespace_level, rules_for

RESTRICTED_POD: dict[str, Any] = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "initContainers": [
        {
            "name": "init",
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        }
    ],
    "containers": [
        {
            "name": "app",
            "ports": [{"containerPort": 8080}],
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
            },
        }
    ],
    "volumes": [{"name": "data", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "x"}}],
}


def rules(spec: dict[str, Any], level: str = "restricted", meta: dict[str, Any] | None = None) -> list[str]:
    return [f.rule for f in evaluate(meta or {}, spec, level)]


def test_a_compliant_pod_passes_restricted_and_baseline() -> None:
    assert rules(RESTRICTED_POD) == []
    assert rules(RESTRICTED_POD, "baseline") == []


def test_restricted_replaces_the_baseline_rules_it_overrides() -> None:
    """registry.go: a check's OverrideCheckIDs drop the baseline check at restricted."""
    ids = [r.id for r in rules_for("restricted")]
    assert "seccompProfile_restricted" in ids and "seccompProfile_baseline" not in ids
    assert "capabilities_restricted" in ids and "capabilities_baseline" not in ids
    assert "restrictedVolumes" in ids and "hostPathVolumes" not in ids
    assert rules_for("privileged") == ()


def mutate(path: str, value: Any) -> dict[str, Any]:
    spec = copy.deepcopy(RESTRICTED_POD)
    *parents, leaf = path.split(".")
    node: Any = spec
    for p in parents:
        node = node[int(p)] if p.isdigit() else node.setdefault(p, {})
    if value is None:
        node.pop(leaf)
    else:
        node[leaf] = value
    return spec


@pytest.mark.parametrize(
    ("path", "value", "level", "rule"),
    [
        ("hostNetwork", True, "baseline", "hostNamespaces"),
        ("containers.0.securityContext.privileged", True, "baseline", "privileged"),
        ("containers.0.securityContext.capabilities.add", ["SYS_ADMIN"], "baseline", "capabilities_baseline"),
        ("volumes", [{"name": "h", "hostPath": {"path": "/"}}], "baseline", "hostPathVolumes"),
        ("containers.0.ports", [{"containerPort": 80, "hostPort": 80}], "baseline", "hostPorts"),
        ("securityContext.appArmorProfile", {"type": "Unconfined"}, "baseline", "appArmorProfile"),
        ("securityContext.seLinuxOptions", {"type": "spc_t"}, "baseline", "seLinuxOptions"),
        ("containers.0.securityContext.procMount", "Unmasked", "baseline", "procMount"),
        ("securityContext.seccompProfile", {"type": "Unconfined"}, "baseline", "seccompProfile_baseline"),
        ("securityContext.sysctls", [{"name": "kernel.msgmax", "value": "1"}], "baseline", "sysctls"),
        ("securityContext.windowsOptions", {"hostProcess": True}, "baseline", "windowsHostProcess"),
        (
            "containers.0.readinessProbe",
            {"httpGet": {"host": "10.0.0.1", "port": 80}},
            "baseline",
            "hostProbesAndHostLifecycle",
        ),
        ("volumes", [{"name": "n", "nfs": {"server": "s", "path": "/"}}], "restricted", "restrictedVolumes"),
        (
            "containers.0.securityContext.allowPrivilegeEscalation",
            None,
            "restricted",
            "allowPrivilegeEscalation",
        ),
        ("securityContext.runAsNonRoot", None, "restricted", "runAsNonRoot"),
        ("containers.0.securityContext.runAsUser", 0, "restricted", "runAsUser"),
        ("securityContext.seccompProfile", None, "restricted", "seccompProfile_restricted"),
        ("initContainers.0.securityContext.capabilities", None, "restricted", "capabilities_restricted"),
    ],
)
def test_each_rule_fails_alone_on_its_field(path: str, value: Any, level: str, rule: str) -> None:
    """One edit of a compliant pod fails exactly the rule the upstream check of that name owns."""
    assert rules(mutate(path, value), level) == [rule]


def test_sysctls_allowed_set_follows_the_enforce_version() -> None:
    """check_sysctls.go: net.ipv4.tcp_rmem is allowed from v1.32 on."""
    spec = mutate("securityContext.sysctls", [{"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"}])
    assert [f.rule for f in evaluate({}, spec, "baseline", (1, 31))] == ["sysctls"]
    assert evaluate({}, spec, "baseline", (1, 32)) == []


def test_container_level_seccomp_satisfies_restricted_without_pod_level() -> None:
    spec = mutate("securityContext.seccompProfile", None)
    for c in spec["containers"] + spec["initContainers"]:
        c["securityContext"]["seccompProfile"] = {"type": "RuntimeDefault"}
    assert rules(spec) == []
    spec["initContainers"][0]["securityContext"].pop("seccompProfile")
    failures = evaluate({}, spec, "restricted")
    assert [f.rule for f in failures] == ["seccompProfile_restricted"]
    assert '"init"' in failures[0].detail


def test_namespace_level_reads_the_enforce_labels() -> None:
    ns = {
        "metadata": {
            "labels": {
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "v1.34",
            }
        }
    }
    assert namespace_level(ns) == ("restricted", (1, 34))
    assert namespace_level({"metadata": {}})[0] == "privileged"
