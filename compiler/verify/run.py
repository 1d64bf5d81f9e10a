"""`platformc verify`: simulate each cluster folder of a generated tree and check its behaviour."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compiler.errors import PlatformcError
from compiler.parallel import map_in_order
from compiler.tree_contract import KUSTOMIZATION_FILES, NODE_POOLS_FILE, ClusterInfo, Tree
from compiler.validate.findings import Finding as TreeFinding
from compiler.validate.tree import ClusterFolder, discover_clusters, iter_tree
from compiler.verify.admission import check_admission, check_dra_quota_bypass
from compiler.verify.cluster import SimCluster, load_cluster
from compiler.verify.context import VerifyContext
from compiler.verify.findings import RULES, Finding
from compiler.verify.gitops import check_crd_owners, check_health_gate, check_webhook_order
from compiler.verify.intents import load_intents, load_spec
from compiler.verify.kueue import KueueConfig
from compiler.verify.network import check_network
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


def verify_cluster(cluster: SimCluster, spec_dir: Path | None) -> ClusterResult:
    problems: list[tuple[str, str]] = []
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


def verify_tree(
    out_dir: Path,
    charts_dir: Path,
    clusters: Sequence[str] = (),
    spec_dir: Path | None = None,
    render_cache: Path | None = None,
    jobs: int | None = None,
) -> VerifyResult:
    """Verify every (or each named) cluster folder of `out_dir`. Clusters are independent, so each
    forked worker reads, renders and simulates whole clusters (compiler/parallel.py)."""
    problems: list[TreeFinding] = []
    infos = discover_clusters(out_dir, problems, clusters=list(clusters) or None)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise VerifyInputError("\n".join(p.format() for p in errors))
    if not infos:
        raise VerifyInputError(f"no cluster folders in {out_dir}: run `platformc compile` first")
    _load_spec_once(spec_dir)

    def one(info: ClusterFolder) -> ClusterResult:
        found: list[TreeFinding] = []
        pairs = [(rel, obj) for _, _, rel, obj in iter_tree(out_dir, found, clusters=[info.name])]
        bad = [p for p in found if p.severity == "error"]
        if bad:
            raise VerifyInputError("\n".join(p.format() for p in bad))
        contract_file = info.directory / NODE_POOLS_FILE
        contract = json.loads(contract_file.read_bytes()) if contract_file.is_file() else None
        sim = load_cluster(
            info.name,
            info.kubernetes_version,
            info.engine or "argocd",
            contract,
            pairs,
            charts_dir,
            spec_dir,
            render_cache,
        )
        return verify_cluster(sim, spec_dir)

    return VerifyResult(map_in_order(one, infos, jobs))


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
    _load_spec_once(spec_dir)

    def one(info: ClusterInfo) -> ClusterResult:
        prefix = info.name + "/"
        pairs: list[tuple[str, dict[str, Any]]] = [
            (path, obj)
            for path in sorted(p for p in tree if p.startswith(prefix) and p.endswith((".yaml", ".yml")))
            if path.rsplit("/", 1)[-1] not in KUSTOMIZATION_FILES
            for obj in yaml.load_all(tree[path], Loader=yaml.CSafeLoader)
            if isinstance(obj, dict)
        ]
        contract_bytes = tree.get(prefix + NODE_POOLS_FILE)
        sim = load_cluster(
            info.name,
            info.kubernetes_version,
            info.engine or "argocd",
            json.loads(contract_bytes) if contract_bytes is not None else None,
            pairs,
            charts_dir,
            spec_dir,
            render_cache,
        )
        return verify_cluster(sim, spec_dir)

    return VerifyResult(map_in_order(one, list(infos), jobs))


def _load_spec_once(spec_dir: Path | None) -> None:
    if spec_dir is None:
        return
    if not spec_dir.is_dir():
        raise VerifyInputError(
            f"spec folder {spec_dir} not found: verify reads the intended flows (allowFrom, "
            "allowIngressFrom, ingress gateway, model stores) and, without a node-pool contract, the node "
            "pools from the spec; pass --spec DIR"
        )
    load_spec(spec_dir)  # parsed (or refused) once, before the workers fork


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
