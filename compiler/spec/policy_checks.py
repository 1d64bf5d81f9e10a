"""Spec checks for guardrails and budgets (Platform.spec.policies, Team.spec.policies/budget)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from compiler.errors import SpecError
from compiler.spec.model import PlatformModel
from compiler.spec.policies import Policies, RequiredLabels, effective_rule


def _rule_contents(model: PlatformModel, kind: str, name: str, policies: Policies) -> Iterator[SpecError]:
    root = ("spec", "policies")
    registries = policies.trustedRegistries
    if registries is not None and "registries" in registries.model_fields_set and not registries.registries:
        yield SpecError(
            model.locate(kind, name, (*root, "trustedRegistries", "registries")),
            "trustedRegistries lists no registry (expected image prefixes such as nvcr.io/ or ghcr.io/acme/)",
        )
    signatures = policies.imageSignatures
    if signatures is not None and not signatures.keyless and not signatures.publicKey:
        yield SpecError(
            model.locate(kind, name, (*root, "imageSignatures")),
            "imageSignatures names no signer (expected keyless identities or a publicKey)",
        )


def check_policies(model: PlatformModel) -> Iterator[SpecError]:
    platform = model.platform
    policies = platform.spec.policies
    yield from _rule_contents(model, "Platform", platform.metadata.name, policies)
    if policies.trustedRegistries is not None and not policies.trustedRegistries.registries:
        yield SpecError(
            model.locate("Platform", platform.metadata.name, ("spec", "policies", "trustedRegistries")),
            "trustedRegistries needs registries (expected image prefixes such as nvcr.io/)",
        )
    labels = policies.requiredLabels
    if labels is not None and not labels.labels and not labels.serving:
        yield SpecError(
            model.locate("Platform", platform.metadata.name, ("spec", "policies", "requiredLabels")),
            "requiredLabels names no label (expected labels and/or serving)",
        )
    for name, team in model.teams.items():
        if team.spec.policies is None:
            continue
        yield from _rule_contents(model, "Team", name, team.spec.policies)
        if team.spec.policies.imageSignatures is not None:
            yield SpecError(
                model.locate("Team", name, ("spec", "policies", "imageSignatures")),
                "imageSignatures is cluster-wide (a ClusterImagePolicy); set it in Platform.spec.policies",
            )


def check_budgets(model: PlatformModel) -> Iterator[SpecError]:
    for name, team in model.teams.items():
        budget = team.spec.budget
        if budget is None:
            continue
        where = ("spec", "budget")
        if budget.monthlyUSD is None and not budget.clusters:
            yield SpecError(
                model.locate("Team", name, where),
                "budget sets no amount (expected monthlyUSD, clusters: {<cluster>: USD}, or both)",
            )
        mine = [entry.cluster for entry in team.spec.clusters]
        for cluster, amount in budget.clusters.items():
            # A position needs a round-trip parse of the file: looked up only for an error.
            at = partial(model.locate, "Team", name, (*where, "clusters", cluster), key=True)
            if cluster not in mine:
                yield SpecError(
                    at(),
                    f"team '{name}' has no quota on cluster '{cluster}' (expected one of: {', '.join(mine)})",
                )
            elif amount <= 0:
                yield SpecError(
                    at(), f"budget for cluster '{cluster}' is {amount} (expected more than 0 USD)"
                )
        if budget.monthlyUSD is not None and budget.clusters:
            total = sum(budget.clusters.values())
            if total > budget.monthlyUSD:
                yield SpecError(
                    model.locate("Team", name, (*where, "clusters")),
                    f"per-cluster budgets add up to {total:g} USD, more than monthlyUSD "
                    f"{budget.monthlyUSD:g} "
                    "(expected the clusters' amounts to fit in the overall budget)",
                )


def check_serving_labels(model: PlatformModel) -> Iterator[SpecError]:
    """A serving path's InferenceService carries the labels its team's requiredLabels rule asks for."""
    platform = model.platform.spec.policies
    for name, path in model.serving_paths.items():
        team = model.teams.get(path.spec.team)
        rule = effective_rule(platform, team.spec.policies if team else None, "requiredLabels")
        if not isinstance(rule, RequiredLabels) or rule.mode != "deny":
            continue
        missing = [k for k in (*rule.labels, *rule.serving) if not path.spec.labels.get(k)]
        if missing:
            where = ("spec", "labels") if path.spec.labels else ("spec",)
            yield SpecError(
                model.locate("ServingPath", name, where, key=bool(path.spec.labels)),
                f"the InferenceService would be refused: policy requiredLabels ({rule.mode}) needs label(s) "
                f"{', '.join(missing)} (expected them in spec.labels)",
            )


POLICY_CHECKS = (check_policies, check_budgets, check_serving_labels)
