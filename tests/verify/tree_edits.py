"""Edits of the compiled example tree for verify's tests: helpers to find, add and remove objects,
and to verify an edited copy of one cluster with the node-pool contract compile wrote for it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import yaml

from compiler.tree_contract import NODE_POOLS_FILE
from compiler.validate.tree import discover_clusters, iter_tree
from compiler.verify.cluster import load_cluster
from compiler.verify.findings import Finding
from compiler.verify.run import verify_cluster
from tests.conftest import EXAMPLE_GENERATED, EXAMPLE_SPEC, SHARED_CHARTS

Pairs = list[tuple[str, dict[str, Any]]]
Edit = Callable[[Pairs], None]


def example_pairs(cluster: str) -> Pairs:
    problems: list[Any] = []
    pairs = [(rel, obj) for _, _, rel, obj in iter_tree(EXAMPLE_GENERATED, problems, clusters=[cluster])]
    assert not problems, problems
    return copy.deepcopy(pairs)


def objects(
    pairs: Pairs, kind: str, name: str | None = None, namespace: str | None = None
) -> Iterator[dict[str, Any]]:
    for _, obj in pairs:
        meta = obj.get("metadata") or {}
        if (
            obj.get("kind") == kind
            and name in (None, meta.get("name"))
            and namespace in (None, meta.get("namespace"))
        ):
            yield obj


def one(pairs: Pairs, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    found = list(objects(pairs, kind, name, namespace))
    assert len(found) == 1, f"{kind} {namespace}/{name}: {len(found)} in the tree"
    return found[0]


def remove(pairs: Pairs, kind: str, name: str, namespace: str | None = None) -> None:
    target = one(pairs, kind, name, namespace)
    pairs[:] = [(rel, o) for rel, o in pairs if o is not target]


def add(pairs: Pairs, cluster: str, unit: str, obj: dict[str, Any]) -> None:
    pairs.append((f"{cluster}/components/{unit}/{obj['kind'].lower()}-{obj['metadata']['name']}.yaml", obj))


def application(pairs: Pairs, unit: str) -> dict[str, Any]:
    return next(
        o
        for o in objects(pairs, "Application")
        if o["metadata"].get("labels", {}).get("platformc.dev/unit") == unit
    )


def kueue_config(pairs: Pairs) -> tuple[dict[str, Any], Callable[[dict[str, Any]], None]]:
    """Kueue's Configuration from the kueue release values, and a setter writing it back."""
    app = next(
        (
            o
            for o in objects(pairs, "Application")
            if o["metadata"].get("labels", {}).get("platformc.dev/unit") == "kueue"
        ),
        None,
    )
    if app is not None:
        holder = app["spec"]["sources"][0]["helm"]["valuesObject"]["managerConfig"]
    else:
        holder = one(pairs, "HelmRelease", "kueue")["spec"]["values"]["managerConfig"]
    config = yaml.safe_load(holder["controllerManagerConfigYaml"])

    def write(new: dict[str, Any]) -> None:
        holder["controllerManagerConfigYaml"] = yaml.safe_dump(new, sort_keys=True)

    return config, write


def contract(cluster: str) -> dict[str, Any]:
    """The node-pool contract compile wrote beside the example cluster's folders."""
    return json.loads((EXAMPLE_GENERATED / cluster / NODE_POOLS_FILE).read_text(encoding="utf-8"))


def verify_pairs(cluster: str, pairs: Pairs, node_contract: dict[str, Any] | None) -> list[Finding]:
    info = next(c for c in discover_clusters(EXAMPLE_GENERATED, []) if c.name == cluster)
    sim = load_cluster(
        cluster,
        info.kubernetes_version,
        info.engine or "argocd",
        node_contract,
        pairs,
        SHARED_CHARTS,
        EXAMPLE_SPEC,
    )
    return verify_cluster(sim, EXAMPLE_SPEC).findings
