"""The Pod Security Standards, rule by rule, as Pod Security admission enforces them.

Source: https://kubernetes.io/docs/concepts/security/pod-security-standards/ and the checks of
k8s.io/pod-security-admission (kubernetes/pod-security-admission, tag v0.34.x for Kubernetes
1.34), `policy/check_<id>.go`. Each rule here carries the upstream check id, so a finding names
the rule Pod Security admission would name. Version gates follow each check's
`MinimumVersion` entries for the clusters platformc supports (1.25 and later).

Not modelled: the UserNamespacesPodSecurityStandards feature gate (off by default), which relaxes
runAsNonRoot/runAsUser/procMount for `hostUsers: false` pods.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

Pod = Mapping[str, Any]
Version = tuple[int, int]

LEVELS = ("privileged", "baseline", "restricted")
PSS_DOC = "https://kubernetes.io/docs/concepts/security/pod-security-standards/"
CHECKS_SOURCE = "kubernetes/pod-security-admission policy/check_{id}.go"


@dataclass(frozen=True)
class PSSFailure:
    rule: str  # upstream check id, e.g. "seccompProfile_restricted"
    level: str  # baseline | restricted
    detail: str

    @property
    def source(self) -> str:
        return CHECKS_SOURCE.format(id=self.rule)

    def format(self) -> str:
        return f"{self.rule} ({self.level}): {self.detail}"


@dataclass(frozen=True)
class Rule:
    id: str
    level: str
    check: Callable[[Mapping[str, Any], Pod, Version], list[str]]  # (pod metadata, pod spec) -> details
    overrides: tuple[str, ...] = ()


def containers(spec: Pod) -> Iterator[Mapping[str, Any]]:
    """initContainers, containers and ephemeralContainers, as policy/visitor.go visits them."""
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from spec.get(key) or ()


def _sc(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("securityContext") or {}


def _names(items: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in items)


def _is_windows(spec: Pod) -> bool:
    return (spec.get("os") or {}).get("name") == "windows"


# --- baseline ------------------------------------------------------------------------------------


def host_namespaces(meta: Mapping[str, Any], spec: Pod, v: Version) -> list[str]:
    return [f"{f}=true" for f in ("hostNetwork", "hostPID", "hostIPC") if spec.get(f) is True]


def privileged(meta: Mapping[str, Any], spec: Pod, v: Version) -> list[str]:
    bad = [c.get("name", "") for c in containers(spec) if _sc(c).get("privileged") is True]
    return [f"containers {_names(bad)} must not set securityContext.privileged=true"] if bad else []


BASELINE_CAPABILITIES = frozenset(
    [
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    ]
)


def capabilities_baseline(meta: Mapping[str, Any], spec: Pod, v: Version) -> list[str]:
    out = []
    for c in containers(spec):
        extra = [
            a for a in (_sc(c).get("capabilities") or {}).get("add") or () if a not in BASELINE_CAPABILITIES
        ]
        if extra:
            out.append(f'container "{c.get("name")}" must not include {_names(extra)} in capabilities.add')
    return out


def host_path_volumes(meta: Mapping[str, Any], spec: Pod, v: Version) -> list[str]:
    bad = [vol.get("name", "") for vol in spec.get("volumes") or () if "hostPath" in vol]
    return [f"hostPath volumes {_names(bad)}"] if bad else []


def host_ports(meta: Mapping[str, Any], spec: Pod, v: Version) -> list[str]:
    out = []
    for c in containers(spec):
        ports = [str(p["hostPort"]) for p in c.get("ports") or () if p.get("hostPort")]
        if ports:
            out.append(f'container "{c.get("name")}" uses hostPort {", ".join(ports)}')
    return out


def app_armor_profile(meta: Mapping[str, Any], spec: Pod, v: Version) -> list[str]:
    allowed = {"RuntimeDefault", "Localhost"}
    out = []
    pod_type = (_sc(spec).get("appArmorProfile") or {}).get("type")
    if pod_type is not None and pod_type not in allowed:
        out.append(f"pod must not set appArmorProfile.type={pod_type}")
    for c in containers(spec):
        t = (_sc(c).get("appArmorProfile") or {}).get("type")
        if t is not None and t not in allowed:
            out.append(f'container "{c.get("name")}" must not set appArmorProfile.type={t}')
    for key, value in sorted((meta.get("annotations") or {}).items()):
        if key.startswith("container.apparmor.security.beta.kubernetes.io/") and not (
            not value or value == "runtime/default" or value.startswith("localhost/")
        ):
            out.append(f'annotation {key}="{value}"')
    return out


def se_linux_options(meta: Mapping[str, Any], spec: Pod, v: Version) -> list[str]:
    allowed = {"", "container_t", "container_init_t", "container_kvm_t"}
    if v >= (1, 31):
        allowed.add("container_engine_t")
    out = []
    setters = [("pod", _sc(spec))] + [(f'container "{c.get("name")}"', _sc(c)) for c in containers(spec)]
    for who, sc in setters:
        opts = sc.get("seLinuxOptions") or {}
        if opts.get("type", "") not in allowed:
            out.append(f"{who} must not set seLinuxOptions.type={opts['type']}")
        for field in ("user", "role"):
            if opts.get(field):
                out.append(f"{who} must not set seLinuxOptions.{field}")
    return out


def proc_mount(meta: Mapping[str, Any], spec: Pod, v: Version) -> list[str]:
    bad = [
        c.get("name", "") for c in containers(spec) if _sc(c).get("procMount") not in (None, "", "Default")
    ]
    return [f"containers {_names(bad)} must not set securityContext.procMount"] if bad else []


def _seccomp_type(sc: Mapping[str, Any]) -> str | None:
    profile = sc.get("seccompProfile")
    return None if profile is None else str(profile.get("type", ""))


def seccomp_profile_baseline(meta: Mapping[str, Any], spec: Pod, v: Version) -> list[str]:
    out = []
    setters = [("pod", _sc(spec))] + [(f'container "{c.get("name")}"', _sc(c)) for c in containers(spec)]
    for who, sc in setters:
        t = _seccomp_type(sc)
        if t is not None and t not in ("RuntimeDefault", "Localhost"):
            out.append(f"{who} must not set securityContext.seccompProfile.type={t}")
    return out


SAFE_SYSCTLS: tuple[tuple[Version, frozenset[str]], ...] = (
    (
        (1, 0),
        frozenset(
            [
                "kernel.shm_rmid_forced",
                "net.ipv4.ip_local_port_range",
                "net.ipv4.tcp_syncookies",
                "net.ipv4.ping_group_range",
                "net.ipv4.ip_unprivileged_port_start",
            ]
        ),
    ),
    ((1, 27), frozenset({"net.ipv4.ip_local_reserved_ports"})),
    (
        (1, 29),
        frozenset(
            [
                "net.ipv4.tcp_keepalive_time",
                "net.ipv4.tcp_fin_timeout",
                "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes",
            ]
        ),
    ),
    ((1, 32), frozenset({"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"})),
)


def sysctls(meta: Mapping[str, Any], spec: Pod, v: Version) -> list[str]:
    allowed = set().union(*(names for since, names in SAFE_SYSCTLS if v >= since))
    bad = [s.get("name", "") for s in _sc(spec).get("sysctls") or () if s.get("name") not in allowed]
    return [f"forbidden sysctls {_names(bad)}"] if bad else []


def windows_host_process(meta: Mapping[str, Any], spec: Pod, v: Version) -> list[str]:
    setters = [("pod", _sc(spec))] + [(f'container "{c.get("name")}"', _sc(c)) for c in containers(spec)]
    return [
        f"{who} must not set windowsOptions.hostProcess=true"
        for who, sc in setters
        if (sc.get("windowsOptions") or {}).get("hostProcess") is True
    ]


def host_probes_and_lifecycle(meta: Mapping[str, Any], spec: Pod, v: Version) -> list[str]:
    if v < (1, 34):
        return []
    out = []
    for c in containers(spec):
        handlers = {p: c.get(p) for p in ("livenessProbe", "readinessProbe", "startupProbe")}
        handlers |= {f"lifecycle.{h}": (c.get("lifecycle") or {}).get(h) for h in ("postStart", "preStop")}
        for where, handler in handlers.items():
            for action in ("httpGet", "tcpSocket"):
                if ((handler or {}).get(action) or {}).get("host"):
                    out.append(f'container "{c.get("name")}" sets {where}.{action}.host')
    return out


# --- restricted ----------------------------------------------------------------------------------

RESTRICTED_VOLUME_TYPES = frozenset(
    [
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "image",
        "persistentVolumeClaim",
        "projected",
        "secret",
    ]
)


def restricted_volumes(meta: Mapping[str, Any], spec: Pod, v: Version) -> list[str]:
    bad = [
        f"{vol.get('name')} ({', '.join(sorted(k for k in vol if k != 'name'))})"
        for vol in spec.get("volumes") or ()
        if not any(k in RESTRICTED_VOLUME_TYPES for k in vol)
    ]
    return [f"restricted volume types: {', '.join(bad)}"] if bad else []


def allow_privilege_escalation(meta: Mapping[str, Any], spec: Pod, v: Version) -> list[str]:
    if _is_windows(spec):
        return []
    bad = [c.get("name", "") for c in containers(spec) if _sc(c).get("allowPrivilegeEscalation") is not False]
    return (
        [f"containers {_names(bad)} must set securityContext.allowPrivilegeEscalation=false"] if bad else []
    )


def run_as_non_root(meta: Mapping[str, Any], spec: Pod, v: Version) -> list[str]:
    pod_value = _sc(spec).get("runAsNonRoot")
    out = ["pod must not set securityContext.runAsNonRoot=false"] if pod_value is False else []
    explicit = [c.get("name", "") for c in containers(spec) if _sc(c).get("runAsNonRoot") is False]
    implicit = [
        c.get("name", "")
        for c in containers(spec)
        if _sc(c).get("runAsNonRoot") is None and pod_value is not True
    ]
    if explicit:
        out.append(f"containers {_names(explicit)} must not set securityContext.runAsNonRoot=false")
    if not out and implicit:
        out.append(f"pod or containers {_names(implicit)} must set securityContext.runAsNonRoot=true")
    return out


def run_as_user(meta: Mapping[str, Any], spec: Pod, v: Version) -> list[str]:
    setters = [("pod", _sc(spec))] + [(f'container "{c.get("name")}"', _sc(c)) for c in containers(spec)]
    return [f"{who} must not set runAsUser=0" for who, sc in setters if sc.get("runAsUser") == 0]


def seccomp_profile_restricted(meta: Mapping[str, Any], spec: Pod, v: Version) -> list[str]:
    if _is_windows(spec):
        return []
    valid = ("RuntimeDefault", "Localhost")
    pod_type = _seccomp_type(_sc(spec))
    out = []
    if pod_type is not None and pod_type not in valid:
        out.append(f"pod must not set securityContext.seccompProfile.type={pod_type}")
    pod_set = pod_type in valid
    explicit, implicit = [], []
    for c in containers(spec):
        t = _seccomp_type(_sc(c))
        if t is None:
            if not pod_set:
                implicit.append(c.get("name", ""))
        elif t not in valid:
            explicit.append(c.get("name", ""))
    if explicit:
        out.append(
            f"containers {_names(explicit)} must not set securityContext.seccompProfile.type to {valid}"
        )
    if not out and implicit:
        out.append(
            f"pod or containers {_names(implicit)} must set securityContext.seccompProfile.type to "
            '"RuntimeDefault" or "Localhost"'
        )
    return out


def capabilities_restricted(meta: Mapping[str, Any], spec: Pod, v: Version) -> list[str]:
    if _is_windows(spec):
        return []
    no_drop, bad_add = [], []
    for c in containers(spec):
        caps = _sc(c).get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or ()):
            no_drop.append(c.get("name", ""))
        if any(a != "NET_BIND_SERVICE" for a in caps.get("add") or ()):
            bad_add.append(c.get("name", ""))
    out = []
    if no_drop:
        out.append(f'containers {_names(no_drop)} must set securityContext.capabilities.drop=["ALL"]')
    if bad_add:
        out.append(f'containers {_names(bad_add)} must not add capabilities beyond "NET_BIND_SERVICE"')
    return out


RULES: tuple[Rule, ...] = (
    Rule("hostNamespaces", "baseline", host_namespaces),
    Rule("privileged", "baseline", privileged),
    Rule("capabilities_baseline", "baseline", capabilities_baseline),
    Rule("hostPathVolumes", "baseline", host_path_volumes),
    Rule("hostPorts", "baseline", host_ports),
    Rule("appArmorProfile", "baseline", app_armor_profile),
    Rule("seLinuxOptions", "baseline", se_linux_options),
    Rule("procMount", "baseline", proc_mount),
    Rule("seccompProfile_baseline", "baseline", seccomp_profile_baseline),
    Rule("sysctls", "baseline", sysctls),
    Rule("windowsHostProcess", "baseline", windows_host_process),
    Rule("hostProbesAndHostLifecycle", "baseline", host_probes_and_lifecycle),
    Rule("restrictedVolumes", "restricted", restricted_volumes, overrides=("hostPathVolumes",)),
    Rule("allowPrivilegeEscalation", "restricted", allow_privilege_escalation),
    Rule("runAsNonRoot", "restricted", run_as_non_root),
    Rule("runAsUser", "restricted", run_as_user),
    Rule(
        "seccompProfile_restricted",
        "restricted",
        seccomp_profile_restricted,
        overrides=("seccompProfile_baseline",),
    ),
    Rule(
        "capabilities_restricted", "restricted", capabilities_restricted, overrides=("capabilities_baseline",)
    ),
)


def rules_for(level: str) -> tuple[Rule, ...]:
    if level not in LEVELS:
        raise ValueError(f"unknown Pod Security level {level!r}: expected one of {', '.join(LEVELS)}")
    if level == "privileged":
        return ()
    chosen = [r for r in RULES if r.level == "baseline" or level == "restricted"]
    overridden = {o for r in chosen for o in r.overrides}
    return tuple(r for r in chosen if r.id not in overridden)


def parse_version(text: str | None) -> Version:
    """`v1.34` / `1.34` / `latest` (None) from the namespace's enforce-version label."""
    if not text or text == "latest":
        return (99, 0)
    major, minor = text.lstrip("v").split(".")[:2]
    return (int(major), int(minor))


def evaluate(
    pod_meta: Mapping[str, Any], pod_spec: Pod, level: str, version: Version = (1, 34)
) -> list[PSSFailure]:
    """Every rule of `level` the pod fails, in upstream order."""
    return [
        PSSFailure(rule.id, rule.level, "; ".join(details))
        for rule in rules_for(level)
        if (details := rule.check(pod_meta, pod_spec, version))
    ]


def namespace_level(namespace: Mapping[str, Any] | None) -> tuple[str, Version]:
    """The enforce level and version of a Namespace object (privileged when unlabelled)."""
    labels = ((namespace or {}).get("metadata") or {}).get("labels") or {}
    return (
        labels.get("pod-security.kubernetes.io/enforce", "privileged"),
        parse_version(labels.get("pod-security.kubernetes.io/enforce-version")),
    )
