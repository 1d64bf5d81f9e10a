"""Guardrails in the spec: Platform.spec.policies, Team.spec.policies and Team.spec.budget.

Every rule has a mode (deny | warn | audit, or off to switch it off for a team). A team's
entry for a rule changes only the fields it sets, so `trustedRegistries: {mode: warn}`
relaxes the platform's rule for that team and keeps the platform's registries.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Mode = Literal["deny", "warn", "audit", "off"]
# A label key: optional DNS-subdomain prefix, then a name (as Kubernetes validates it).
LabelKey = Annotated[
    str,
    Field(
        pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
        r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$",
        max_length=317,
    ),
]
# An image reference prefix: registry host[:port], then optional path ("nvcr.io/", "ghcr.io/acme/").
RegistryPrefix = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]+)?(/[-a-z0-9._/]*)?$")]
NameList = list[Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", max_length=253)]]


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

    mode: Mode = "deny"


class TrustedRegistries(_Rule):
    """Every container image comes from one of these registry prefixes."""

    registries: list[RegistryPrefix] = Field(default_factory=list)


class RequiredLabels(_Rule):
    """Labels every workload carries; `serving` adds labels InferenceServices need."""

    labels: list[LabelKey] = Field(default_factory=list)
    serving: list[LabelKey] = Field(default_factory=list)


class GpuAccess(_Rule):
    """GPUs only through the platform's DeviceClasses and claim templates or the flavor's resource."""


class GpuLimits(_Rule):
    """A container that uses GPUs states how many in resources.limits."""


class LargestGpuRequest(_Rule):
    """One workload asking for more than this share of the team's GPU quota at once is flagged."""

    mode: Mode = "warn"
    fractionOfQuota: float = Field(default=0.5, gt=0, le=1)


class PriorityClasses(_Rule):
    """PriorityClasses (spec.priorityClassName) a team may use; Kueue WorkloadPriorityClasses
    up to the team's own priority are always allowed, higher ones never."""

    allowed: NameList = Field(default_factory=list)


class HostAccess(_Rule):
    """No hostPath volumes and no hostNetwork in team namespaces."""


class ServingRollback(_Rule):
    """An InferenceService keeps a way back: a canary, or the previous model version in a label."""

    mode: Mode = "warn"
    label: LabelKey = "platformc.dev/rollback-model-version"


class KeylessIdentity(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

    issuer: str = Field(min_length=1)
    subject: str = Field(min_length=1)


class ImageSignatures(BaseModel):
    """Images matching `images` must be signed (sigstore policy-controller ClusterImagePolicy)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

    mode: Literal["enforce", "warn"] = "enforce"
    images: list[str] = Field(min_length=1, description="image globs, e.g. registry.acme.internal/**")
    keyless: list[KeylessIdentity] = Field(default_factory=list)
    publicKey: str | None = Field(default=None, description="PEM public key (cosign sign --key)")


class Policies(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

    trustedRegistries: TrustedRegistries | None = None
    requiredLabels: RequiredLabels | None = None
    gpuAccess: GpuAccess | None = None
    gpuLimits: GpuLimits | None = None
    largestGpuRequest: LargestGpuRequest | None = None
    priorityClasses: PriorityClasses | None = None
    hostAccess: HostAccess | None = None
    servingRollback: ServingRollback | None = None
    imageSignatures: ImageSignatures | None = None


RULES: tuple[str, ...] = (
    "trustedRegistries",
    "requiredLabels",
    "gpuAccess",
    "gpuLimits",
    "largestGpuRequest",
    "priorityClasses",
    "hostAccess",
    "servingRollback",
)


def effective_rule(platform: Policies, team: Policies | None, rule: str) -> _Rule | None:
    """The rule as it applies to one team: the platform's, with the fields the team set on top."""
    base = getattr(platform, rule)
    override = getattr(team, rule) if team is not None else None
    if override is None:
        found = base
    elif base is None:
        found = override
    else:
        found = base.model_copy(update={k: getattr(override, k) for k in override.model_fields_set})
    if found is None or found.mode == "off":
        return None
    return found


class Budget(BaseModel):
    """Monthly GPU budget in USD: overall (split over clusters by committed cost) or per cluster."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

    monthlyUSD: float | None = Field(default=None, gt=0)
    clusters: dict[str, float] = Field(default_factory=dict, description="cluster name → monthly USD")
