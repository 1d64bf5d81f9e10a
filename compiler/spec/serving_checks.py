"""Checks that a serving path can run once synced: its model is in a store the team may reach,
its replicas fit the team's quota, and its autoscaler can do what the spec asks.

Same error style as spec/checks.py: what is wrong (expected …) at the line to change.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from decimal import Decimal

import promql_parser

from compiler.errors import SpecError
from compiler.naming import canary_service_name, inference_service_name, model_store_policy_name
from compiler.spec.model import PlatformModel
from compiler.spec.models import ServingPath
from compiler.spec.quantity import parse_quantity
from compiler.spec.serving import (
    KEDA_METRICS,
    SCALE_FROM_ZERO_METRICS,
    format_bytes,
    format_cpu,
    holds,
    matching_store,
    max_pods,
    needs_store,
    replica_resources,
)

NAME_MAX = 63


def check_model_stores(model: PlatformModel) -> Iterator[SpecError]:
    platform = model.platform.metadata.name
    seen: set[str] = set()
    for i, store in enumerate(model.platform.spec.modelStores):
        at = ("spec", "modelStores", i)
        longest = model_store_policy_name(store.name)
        if len(longest) > NAME_MAX:
            yield SpecError(
                model.locate("Platform", platform, (*at, "name")),
                f"model store name '{store.name}' is too long: its egress NetworkPolicy would be "
                f"'{longest}' ({len(longest)} characters; expected a store name of at most "
                f"{NAME_MAX - len(model_store_policy_name(''))} characters)",
            )
        if store.name in seen:
            yield SpecError(
                model.locate("Platform", platform, (*at, "name")),
                f"duplicate model store '{store.name}' (expected unique modelStores names)",
            )
        seen.add(store.name)
        try:
            ipaddress.ip_network(store.endpoint.cidr, strict=True)
        except ValueError as exc:
            yield SpecError(
                model.locate("Platform", platform, (*at, "endpoint", "cidr")),
                f"model store '{store.name}' endpoint cidr is not a network: {exc} "
                "(expected an IPv4 CIDR whose host bits are zero, such as 10.20.0.0/16)",
            )
        for t, team in enumerate(store.teams):
            if team not in model.teams:
                yield SpecError(
                    model.locate("Platform", platform, (*at, "teams", t)),
                    f"model store '{store.name}' names unknown team '{team}' "
                    f"(expected one of: {', '.join(model.teams)})",
                )


def _uris(path: ServingPath) -> list[tuple[tuple[str, ...], str]]:
    uris: list[tuple[tuple[str, ...], str]] = [(("spec", "model", "storageUri"), path.spec.model.storageUri)]
    if path.spec.canary is not None:
        uris.append((("spec", "canary", "storageUri"), path.spec.canary.storageUri))
    return uris


def check_serving_stores(model: PlatformModel) -> Iterator[SpecError]:
    stores = model.platform.spec.modelStores
    for name, path in model.serving_paths.items():
        team = path.spec.team
        if team not in model.teams:  # check_serving_paths reports the unknown team
            continue
        for at, uri in _uris(path):
            if not needs_store(uri) or matching_store(stores, uri, team) is not None:
                continue
            holders = [s.name for s in stores if holds(s, uri)]
            usable = [f"{s.uriPrefix} ({s.name})" for s in stores if team in s.teams]
            if holders:
                reason = f"model store(s) {', '.join(holders)} hold it but do not list team '{team}'"
                expected = f"'{team}' in the store's teams"
            else:
                reason = f"it is in no model store team '{team}' may use"
                expected = f"a URI under {', '.join(usable) or 'a Platform.spec.modelStores uriPrefix'}"
            yield SpecError(
                model.locate("ServingPath", name, at),
                f"storageUri '{uri}' cannot be downloaded: {reason}, so its egress stays denied "
                f"(expected {expected})",
            )


def check_serving_autoscaling(model: PlatformModel) -> Iterator[SpecError]:
    for name, path in model.serving_paths.items():
        spec = path.spec
        canary_service = canary_service_name(inference_service_name(name))
        if spec.canary is not None and len(canary_service) > NAME_MAX:
            yield SpecError(
                model.locate("ServingPath", name, ("spec", "canary"), key=True),
                f"serving path name '{name}' is too long for a canary: KServe names the canary Service "
                f"'{canary_service}' ({len(canary_service)} characters; expected a name of at most "
                f"{NAME_MAX - len(canary_service_name(''))} characters with a canary)",
            )
        scaling = spec.autoscaling
        metric = scaling.metric if scaling else "cpu"
        if spec.replicas.min == 0 and metric not in SCALE_FROM_ZERO_METRICS:
            yield SpecError(
                model.locate("ServingPath", name, ("spec", "replicas", "min")),
                "replicas.min 0 (scale to zero) needs KEDA and a signal that exists while no replica "
                f"runs, but autoscaling.metric is {metric} (expected autoscaling.metric requestRate or "
                "prometheus, or replicas.min >= 1)",
            )
        elif spec.replicas.min == 0 and spec.canary is not None:
            yield SpecError(
                model.locate("ServingPath", name, ("spec", "replicas", "min")),
                "replicas.min 0 leaves the canary without replicas: KServe v0.20 runs at most "
                "replicas.min canary replicas (expected replicas.min >= 1 while a canary is set)",
            )
        if scaling is None:
            continue
        at = ("spec", "autoscaling")
        if scaling.metric == "prometheus" and not scaling.query:
            yield SpecError(
                model.locate("ServingPath", name, (*at, "metric")),
                "autoscaling.metric prometheus needs a query (expected autoscaling.query: a PromQL "
                "expression whose value KEDA divides by target)",
            )
        elif scaling.metric != "prometheus" and scaling.query is not None:
            yield SpecError(
                model.locate("ServingPath", name, (*at, "query")),
                f"autoscaling.query is only read with metric prometheus, not {scaling.metric} "
                "(expected no query, or metric: prometheus)",
            )
        elif scaling.query is not None:
            try:
                promql_parser.parse(scaling.query)
            except ValueError as exc:
                yield SpecError(
                    model.locate("ServingPath", name, (*at, "query")),
                    f"autoscaling.query is not valid PromQL: {exc} (expected a PromQL expression)",
                )
        percent = 1 <= scaling.target <= 100 and scaling.target == int(scaling.target)
        if scaling.metric == "cpu" and not percent:
            yield SpecError(
                model.locate("ServingPath", name, (*at, "target")),
                f"autoscaling.target {scaling.target:g} is not a CPU utilisation percentage "
                "(expected an integer 1..100 with metric cpu)",
            )
        if scaling.metric in KEDA_METRICS and spec.replicas.min == spec.replicas.max:
            yield SpecError(
                model.locate("ServingPath", name, (*at, "metric")),
                f"autoscaling by {scaling.metric} with replicas.min = replicas.max "
                f"= {spec.replicas.max} cannot change anything "
                "(expected replicas.max > replicas.min, or no autoscaling)",
            )


def check_serving_quota(model: PlatformModel) -> Iterator[SpecError]:
    """At replicas.max (plus canary replicas) a team's serving pods fit its namespace ResourceQuota,
    which admits pods by requests.cpu and requests.memory (memory + /dev/shm per replica)."""
    paths_of: dict[str, list[tuple[str, ServingPath]]] = {}
    for name, path in model.serving_paths.items():  # in name order, as the spec keeps them
        paths_of.setdefault(path.spec.team, []).append((name, path))
    for cluster_name in model.clusters:
        for team_name, team in model.teams.items():
            entry = next((e for e in team.spec.clusters if e.cluster == cluster_name), None)
            if entry is None:
                continue
            cpu = memory = Decimal(0)
            for name, path in paths_of.get(team_name, ()):
                flavor = model.flavors.get(path.spec.gpu.flavor)
                if cluster_name not in path.spec.clusters or flavor is None:
                    continue
                per = replica_resources(path, flavor)
                pods = max_pods(path)
                cpu += per.cpu * pods
                memory += per.pod_memory * pods
                over = []
                if cpu > parse_quantity(entry.cpu):
                    over.append(f"cpu {format_cpu(cpu)} > {entry.cpu}")
                if memory > parse_quantity(entry.memory):
                    over.append(f"memory {format_bytes(memory)} > {entry.memory}")
                if over:
                    yield SpecError(
                        model.locate("ServingPath", name, ("spec", "replicas", "max")),
                        f"serving paths of team '{team_name}' on cluster '{cluster_name}' need "
                        f"{', '.join(over)} at replicas.max (with '{name}': {pods} pods of cpu "
                        f"{format_cpu(per.cpu)}, memory {format_bytes(per.pod_memory)} incl. /dev/shm), "
                        "over the namespace ResourceQuota (expected fewer replicas, smaller "
                        "spec.resources, or a larger team quota)",
                    )
                    break


SERVING_CHECKS = (check_model_stores, check_serving_stores, check_serving_autoscaling, check_serving_quota)
