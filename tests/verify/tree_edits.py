"""Edits of the compiled example tree for verify's tests: the repairs that stand in for the serving
and GPU fixes until they land (each is a no-op once the tree already has what it adds), and helpers
to find, add and remove objects."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from compiler.naming import device_plugin_config_name, mig_config_name
from compiler.spec.build import load_platform
from compiler.validate.tree import discover_clusters, iter_tree
from compiler.verify.cluster import load_cluster
from compiler.verify.findings import Finding
from compiler.verify.nodes import CONTRACT_FILE
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


# --- repairs: what the serving and GPU issues will generate ---------------------------------------


def repair(cluster: str, pairs: Pairs) -> None:
    for isvc in objects(pairs, "InferenceService"):
        sc = isvc["spec"]["predictor"].setdefault("securityContext", {})
        sc.setdefault("runAsNonRoot", True)
        sc.setdefault("seccompProfile", {"type": "RuntimeDefault"})
        for name in ("nodeSelector",):
            sel = isvc["spec"]["predictor"].get(name) or {}
            _shared_product(pairs, sel)
        for canary in isvc["spec"].get("canary") or ():
            _shared_product(pairs, (canary.get("predictor") or {}).get("nodeSelector") or {})
        _ensure_route(cluster, pairs, isvc)
    for rf in objects(pairs, "ResourceFlavor"):
        _shared_product(pairs, (rf.get("spec") or {}).get("nodeLabels") or {})
    config, write = kueue_config(pairs)
    frameworks = config.setdefault("integrations", {}).setdefault("frameworks", [])
    frameworks[:] = [
        f
        for f in frameworks
        if f not in ("deployment", "pod", "statefulset", "leaderworkerset.x-k8s.io/leaderworkerset")
    ]
    write(config)
    for rb in objects(pairs, "RoleBinding"):
        if rb["roleRef"].get("name") in ("admin", "edit") and rb["metadata"].get("namespace") in _teams(
            pairs
        ):
            rb["roleRef"]["name"] = "view"
    for team in _teams(pairs):
        add(
            pairs,
            cluster,
            "network",
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": "verify-repair-model-store", "namespace": team},
                "spec": {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [
                        {
                            "to": [{"ipBlock": {"cidr": "203.0.113.10/32"}}],
                            "ports": [{"port": 443, "protocol": "TCP"}],
                        }
                    ],
                },
            },
        )
    classes = [o["metadata"]["name"] for o in objects(pairs, "DeviceClass")] + [
        "gpu.nvidia.com",
        "mig.nvidia.com",
        "vfio.gpu.nvidia.com",
    ]
    for rq in objects(pairs, "ResourceQuota"):
        if rq["metadata"].get("namespace") in _teams(pairs):
            for cls in classes:
                rq["spec"]["hard"].setdefault(f"{cls}.deviceclass.resource.k8s.io/devices", "0")
    for app in objects(pairs, "Application"):
        if app["metadata"].get("labels", {}).get("platformc.dev/unit") == "dra":
            app["spec"]["sources"][0].setdefault("helm", {})["skipCrds"] = True
    if any(True for _ in objects(pairs, "Application")) and not any(
        True for _ in objects(pairs, "ConfigMap", "argocd-cm")
    ):
        pairs.append(
            (
                f"{cluster}/bootstrap/configmap-argocd-cm.yaml",
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "argocd-cm", "namespace": "argocd"},
                    "data": {
                        "resource.customizations.health.argoproj.io_Application": "hs = {}\nreturn hs\n"
                    },
                },
            )
        )


def _teams(pairs: Pairs) -> set[str]:
    return {
        o["metadata"]["name"]
        for o in objects(pairs, "Namespace")
        if "platformc.dev/team" in o["metadata"].get("labels", {})
    }


def _shared_product(pairs: Pairs, selector: dict[str, str]) -> None:
    """GFD labels time-sliced nodes <product>-SHARED; select that."""
    if "nvidia.com/device-plugin.config" in selector and not selector.get(
        "nvidia.com/gpu.product", ""
    ).endswith("-SHARED"):
        selector["nvidia.com/gpu.product"] += "-SHARED"


def _ensure_route(cluster: str, pairs: Pairs, isvc: dict[str, Any]) -> None:
    ns, name = isvc["metadata"]["namespace"], isvc["metadata"]["name"]
    canaries = isvc["spec"].get("canary") or []
    if not canaries or any(
        f"{name}-canary-predictor" in json.dumps(r) for r in objects(pairs, "HTTPRoute", namespace=ns)
    ):
        return
    pct = canaries[0]["trafficPercent"]
    add(
        pairs,
        cluster,
        "serving",
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "rules": [
                    {
                        "backendRefs": [
                            {"name": f"{name}-predictor", "port": 80, "weight": 100 - pct},
                            {"name": f"{name}-canary-predictor", "port": 80, "weight": pct},
                        ]
                    }
                ]
            },
        },
    )


def contract(cluster: str) -> dict[str, Any]:
    """The node-pool contract the GPU issue asks for: the spec's pools with the labels the GPU stack
    needs from provisioning (mig.config for MIG pools, device-plugin.config for time-sliced ones)."""
    model = load_platform(EXAMPLE_SPEC)
    spec = model.clusters[cluster].spec
    pools = []
    for p in spec.nodePools:
        flavor = model.flavors[p.flavor].spec
        labels = dict(p.labels)
        if flavor.sharing.mode == "mig":
            labels["nvidia.com/mig.config"] = mig_config_name(p.flavor)
        elif flavor.sharing.mode == "time-slicing" and spec.gpuAllocation == "device-plugin":
            labels["nvidia.com/device-plugin.config"] = device_plugin_config_name(p.flavor)
        pools.append(
            {
                "name": p.name,
                "flavor": p.flavor,
                "nodes": p.nodes,
                "gpusPerNode": p.gpusPerNode,
                "product": flavor.product,
                "sharing": flavor.sharing.model_dump(),
                "labels": labels,
                "taints": [t.model_dump(exclude_none=True) for t in p.taints],
            }
        )
    return {"pools": pools}


def verify_pairs(
    cluster: str, pairs: Pairs, workdir: Path, node_contract: dict[str, Any] | None
) -> list[Finding]:
    info = next(c for c in discover_clusters(EXAMPLE_GENERATED, []) if c.name == cluster)
    directory = workdir / cluster
    directory.mkdir(parents=True, exist_ok=True)
    contract_path = directory / CONTRACT_FILE
    if node_contract is not None:
        contract_path.write_text(json.dumps(node_contract), encoding="utf-8")
    elif contract_path.exists():
        contract_path.unlink()
    sim = load_cluster(
        cluster,
        info.kubernetes_version,
        info.engine or "argocd",
        directory,
        pairs,
        SHARED_CHARTS,
        EXAMPLE_SPEC,
    )
    return verify_cluster(sim, EXAMPLE_SPEC).findings
