"""`platformc verify`: simulate each cluster folder of a generated tree and check its behaviour."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from compiler.errors import PlatformcError
from compiler.parallel import default_jobs, in_background, map_in_order
from compiler.tree_contract import KUSTOMIZATION_FILES, NODE_POOLS_FILE, ClusterInfo, Tree
from compiler.validate.findings import Finding as TreeFinding
from compiler.validate.tree import discover_clusters, iter_tree
from compiler.validate.yaml_read import load_documents
from compiler.verify.admission import check_admission, check_dra_quota_bypass
from compiler.verify.charts import render_clusters
from compiler.verify.cluster import SimCluster, load_cluster, placed_objects
from compiler.verify.context import VerifyContext
from compiler.verify.findings import RULES, Finding
from compiler.verify.gitops import check_crd_owners, check_health_gate, check_webhook_order
from compiler.verify.intents import Intents, load_intents
from compiler.verify.kueue import KueueConfig
from compiler.verify.network import check_network
from compiler.verify.nodes import NodePoolContract, spec_pools
from compiler.verify.rbac import check_rbac
from compiler.verify.scheduling import check_device_classes, check_gpu_nodes, check_scheduling
from compiler.verify.serving import check_canaries
from compiler.verify.workloads import build_workloads

# Rendered charts kept between runs (keyed by releases, chart archive contents and version).
RENDER_CACHE_DIR = Path(".platformc-cache/verify-renders")


class VerifyInputError(PlatformcError):
    """The tree cannot be simulated (unreadable files, no clusters)."""


@dataclass(frozen=True)
class Row:
    workload: str  # Kind/namespace/name
    role: str
    replicas: int
    admitted: bool
    scheduled: bool | None
    reachable: bool | None
    notes: tuple[str, ...] = ()


@dataclass
class ClusterResult:
    cluster: str
    nodes: int
    pools_source: str
    rows: list[Row] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    flows: int = 0


@dataclass
class VerifyResult:
    clusters: list[ClusterResult]

    @property
    def findings(self) -> list[Finding]:
        return [f for c in self.clusters for f in c.findings]

    @property
    def ok(self) -> bool:
        return not self.findings


def verify_cluster(
    cluster: SimCluster, spec_dir: Path | None, intents: Intents | None = None
) -> ClusterResult:
    problems: list[tuple[str, str]] = []
    if intents is None:
        intents = load_intents(spec_dir, cluster.name)
    ctx = VerifyContext(
        cluster,
        build_workloads(cluster, intents, problems),
        intents,
        KueueConfig.from_cluster(cluster),
    )
    for owner, message in problems:
        ctx.add("serving.model-invalid", owner, message)
    check_gpu_nodes(ctx)
    check_device_classes(ctx)
    check_admission(ctx)
    check_dra_quota_bypass(ctx)
    check_scheduling(ctx)
    matrix = check_network(ctx)
    check_rbac(ctx)
    check_crd_owners(ctx)
    check_webhook_order(ctx)
    check_health_gate(ctx)
    check_canaries(ctx)
    rows = []
    for w in ctx.workloads:
        out = ctx.outcome(w)
        rows.append(
            Row(w.ref, w.role, w.replicas, out.admitted, out.scheduled, out.reachable, tuple(out.notes))
        )
    findings = sorted(set(ctx.findings), key=lambda f: (f.rule, f.object, f.message))
    return ClusterResult(cluster.name, len(cluster.nodes), cluster.pools_source, rows, findings, len(matrix))


@dataclass(frozen=True)
class SpecFacts:
    """What verify reads of the spec for one cluster: the intended flows and the spec's node pools."""

    intents: Intents
    pools: list[NodePoolContract]


def spec_facts(spec_dir: Path | None, clusters: Sequence[str]) -> dict[str, SpecFacts]:
    if spec_dir is None:
        return {name: SpecFacts(Intents(), []) for name in clusters}
    return {name: SpecFacts(load_intents(spec_dir, name), spec_pools(spec_dir, name)) for name in clusters}


def verify_tree(
    out_dir: Path,
    charts_dir: Path,
    clusters: Sequence[str] = (),
    spec_dir: Path | None = None,
    render_cache: Path | None = None,
    jobs: int | None = None,
) -> VerifyResult:
    """Verify every (or each named) cluster folder of `out_dir`.

    The spec is parsed in a forked process while this one reads the tree and renders the charts
    (each distinct render once for all clusters, `jobs` Helm processes at a time); then forked
    workers simulate whole clusters (compiler/parallel.py)."""
    problems: list[TreeFinding] = []
    infos = discover_clusters(out_dir, problems, clusters=list(clusters) or None)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise VerifyInputError("\n".join(p.format() for p in errors))
    if not infos:
        raise VerifyInputError(f"no cluster folders in {out_dir}: run `platformc compile` first")

    def read() -> Loaded:
        trees, contracts = [], []
        for info in infos:
            found: list[TreeFinding] = []
            trees.append([(rel, obj) for _, _, rel, obj in iter_tree(out_dir, found, clusters=[info.name])])
            bad = [p for p in found if p.severity == "error"]
            if bad:
                raise VerifyInputError("\n".join(p.format() for p in bad))
            contract_file = info.directory / NODE_POOLS_FILE
            contracts.append(json.loads(contract_file.read_bytes()) if contract_file.is_file() else None)
        return trees, contracts

    return _verify_loaded(infos, read, charts_dir, spec_dir, render_cache, jobs)


def verify_compiled(
    tree: Tree,
    infos: Sequence[ClusterInfo],
    charts_dir: Path,
    spec_dir: Path | None = None,
    render_cache: Path | None = None,
    jobs: int | None = None,
) -> VerifyResult:
    """Verify a tree compile holds in memory (path -> bytes, as it will be written), before it is
    written: the same simulation as verify_tree on the folder."""

    def read() -> Loaded:
        trees, contracts = [], []
        for info in infos:
            prefix = info.name + "/"
            paths = sorted(p for p in tree if p.startswith(prefix) and p.endswith((".yaml", ".yml")))
            trees.append(
                [
                    (path, obj)
                    for path in paths
                    if path.rsplit("/", 1)[-1] not in KUSTOMIZATION_FILES
                    for obj in load_documents(tree[path])
                    if isinstance(obj, dict)
                ]
            )
            contract = tree.get(prefix + NODE_POOLS_FILE)
            contracts.append(json.loads(contract) if contract is not None else None)
        return trees, contracts

    return _verify_loaded(infos, read, charts_dir, spec_dir, render_cache, jobs)


# Each cluster's (tree file, object) pairs and its node-pool contract (None: the tree has none).
Loaded = tuple[list[list[tuple[str, dict[str, Any]]]], list[dict[str, Any] | None]]


def _verify_loaded(
    infos: Sequence[ClusterInfo],
    read: Callable[[], Loaded],
    charts_dir: Path,
    spec_dir: Path | None,
    render_cache: Path | None,
    jobs: int | None,
) -> VerifyResult:
    """The spec is parsed in a forked process while this one reads the clusters (`read`) and
    renders the charts (each distinct render once for all clusters, `jobs` Helm processes at a
    time); then forked workers simulate whole clusters (compiler/parallel.py)."""
    if spec_dir is not None and not spec_dir.is_dir():
        raise VerifyInputError(
            f"spec folder {spec_dir} not found: verify reads the intended flows (allowFrom, "
            "allowIngressFrom, ingress gateway, model stores) and, without a node-pool contract, the node "
            "pools from the spec; pass --spec DIR"
        )
    jobs = jobs or default_jobs()
    names = [info.name for info in infos]
    facts_later = in_background(partial(spec_facts, spec_dir, names)) if jobs > 1 and spec_dir else None
    error: PlatformcError | None = None
    collecting = gc.isenabled()
    gc.disable()  # reading makes ~10^6 containers and no cycles: collections would only slow it down
    try:
        trees, contracts = read()
        renders = render_clusters(
            [(placed_objects(t), i.kubernetes_version) for t, i in zip(trees, infos, strict=True)],
            charts_dir,
            render_cache,
            jobs,
        )
    except PlatformcError as exc:
        error = exc
    finally:
        if collecting:
            gc.enable()
        # Waited for on every way out, so no spec process outlives the run.
        background = facts_later() if facts_later else None
    # A spec the background process could not read is read again here, to raise its errors.
    facts = background or spec_facts(spec_dir, names)
    if error is not None:
        raise error

    def one(index: int) -> ClusterResult:
        info = infos[index]
        sim = load_cluster(
            info.name,
            info.kubernetes_version,
            info.engine or "argocd",
            contracts[index],
            trees[index],
            charts_dir,
            spec_dir,
            rendered_charts=renders[index],
            pools_from_spec=facts[info.name].pools,
        )
        return verify_cluster(sim, spec_dir, facts[info.name].intents)

    return VerifyResult(map_in_order(one, range(len(infos)), jobs))


def _mark(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "NO")


def format_text(result: VerifyResult, markdown: bool = False) -> str:
    lines: list[str] = []
    for c in result.clusters:
        head = f"## {c.cluster}" if markdown else f"cluster {c.cluster}"
        lines.append(
            f"{head}: {len(c.rows)} workloads, {c.nodes} nodes (pools from the {c.pools_source}), "
            f"{c.flows} flows, {len(c.findings)} findings"
        )
        lines.append("")
        lines.append(
            "| workload | role | replicas | admitted | scheduled | reachable |"
            if markdown
            else f"{'workload':70} {'role':9} {'adm':4} {'sched':5} {'reach':5}"
        )
        if markdown:
            lines.append("|---|---|---|---|---|---|")
        for r in c.rows:
            if markdown:
                lines.append(
                    f"| {r.workload} | {r.role} | {r.replicas} | {_mark(r.admitted)} | "
                    f"{_mark(r.scheduled)} | {_mark(r.reachable)} |"
                )
            else:
                lines.append(
                    f"{r.workload:70} {r.role:9} {_mark(r.admitted):4} {_mark(r.scheduled):5} "
                    f"{_mark(r.reachable):5}"
                )
        lines.append("")
        for f in c.findings:
            rec = f.record()
            if markdown:
                lines.append(
                    f"- **{f.rule}** `{f.object}`: {f.message}  \n  fix: {rec['fix']}  \n  "
                    f"source: {rec['source']}"
                )
            else:
                lines.append(
                    f"{f.object}: [{f.rule}] {f.message}\n    fix: {rec['fix']}\n    source: {rec['source']}"
                )
        lines.append("")
    total = len(result.findings)
    lines.append(
        "verify: no findings"
        if not total
        else f"verify: {total} findings in {sum(1 for c in result.clusters if c.findings)} clusters"
    )
    return "\n".join(lines)


def rule_table() -> list[dict[str, str]]:
    return [{"id": r.id, "area": r.area, "title": r.title, "source": r.source} for r in RULES.values()]
