"""platformc diff on real Git histories: impact numbers and the exact set of changed objects."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import git
import pytest
import yaml

from compiler import synthetic
from compiler.review.gitrev import RevisionSpecErrors
from compiler.review.render import MARKER, render_markdown
from compiler.review.run import review
from tests.review.conftest import cli, commit_all, compiled_files_at, make_repo

SUPPORT = ("kustomization.yaml", "platformc-cluster.json", "node-pools.json", "node-pools.md")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def expected_objects(repo: git.Repo, base: str, tmp: Path) -> set[tuple[str, str]]:
    """(change, path) of every object file that differs, from two independent full compiles."""
    old = compiled_files_at(repo, base, tmp / "old")
    new = compiled_files_at(repo, "HEAD", tmp / "new")
    found = {("added", p) for p in new.keys() - old.keys()}
    found |= {("removed", p) for p in old.keys() - new.keys()}
    found |= {("changed", p) for p in new.keys() & old.keys() if new[p] != old[p]}
    return {(c, p) for c, p in found if p.rsplit("/", 1)[-1] not in SUPPORT}


def reviewed(repo: git.Repo, base: str) -> tuple[list[str], set[tuple[str, str]]]:
    spec = Path(repo.working_tree_dir) / "platform-spec"
    result = review(spec, spec.parent / "overlays", base)
    return list(result.impact.lines()), {(o.change, o.path) for o in result.objects.objects}


@pytest.fixture
def repo(tmp_path: Path) -> git.Repo:
    return make_repo(tmp_path / "repo")


def test_quota_change(repo: git.Repo, tmp_path: Path) -> None:
    root = Path(repo.working_tree_dir)
    edit(
        root / "platform-spec/teams/ai-research.yaml",
        "{flavor: h100, quota: 8, borrowingLimit: 4}",
        "{flavor: h100, quota: 16, borrowingLimit: 4}",
    )
    edit(
        root / "platform-spec/clusters/prod-us-east.yaml", "flavor: h100, nodes: 2", "flavor: h100, nodes: 3"
    )
    commit_all(repo, "more h100 for ai-research")
    lines, objects = reviewed(repo, "HEAD~1")
    assert "ai-research on prod-us-east: h100 quota 8 → 16 (+8), monthly cost +$23,944.00" in lines
    assert "prod-us-east: h100 capacity 16 → 24 (+8)" in lines
    assert not any("borrowingLimit" in line for line in lines)
    assert objects == expected_objects(repo, "HEAD~1", tmp_path)
    assert (
        "changed",
        "prod-us-east/components/tenancy/ai-research/resourcequota-ai-research.yaml",
    ) in objects
    assert all(path.startswith("prod-us-east/") for _, path in objects)


def test_node_pool_contract_change_is_an_impact_line(repo: git.Repo, tmp_path: Path) -> None:
    """A pool label is part of the node-pool contract (node-pools.json): nothing in the GitOps
    tree can relabel nodes, so the reviewer is told someone must."""
    root = Path(repo.working_tree_dir)
    edit(
        root / "platform-spec/clusters/prod-us-east.yaml",
        "{name: h100-pool, flavor: h100, nodes: 2, gpusPerNode: 8}",
        "{name: h100-pool, flavor: h100, nodes: 2, gpusPerNode: 8, labels: {acme.com/rack: r7}}",
    )
    commit_all(repo, "h100 pool moves to rack r7")
    result = review(root / "platform-spec", root / "overlays", "HEAD~1")
    pools = result.impact.section("Node pools")
    assert [i.text for i in pools] == [
        "prod-us-east: node pool h100-pool labels nvidia.com/mig.config=all-disabled → "
        "acme.com/rack=r7, nvidia.com/mig.config=all-disabled: relabel the pool's nodes "
        "(node-pools.json), or its GPUs stay unscheduled"
    ]
    assert pools[0].severity == "warning"
    old = compiled_files_at(repo, "HEAD~1", tmp_path / "old")
    new = compiled_files_at(repo, "HEAD", tmp_path / "new")
    assert old["prod-us-east/node-pools.json"] != new["prod-us-east/node-pools.json"]
    pools_after = {p["name"]: p for p in json.loads(new["prod-us-east/node-pools.json"])["pools"]}
    assert pools_after["h100-pool"]["labels"]["acme.com/rack"] == "r7"


def test_team_added(repo: git.Repo, tmp_path: Path) -> None:
    root = Path(repo.working_tree_dir)
    (root / "platform-spec/teams/data-eng.yaml").write_text(
        "apiVersion: platformc.dev/v1alpha1\nkind: Team\nmetadata: {name: data-eng}\nspec:\n"
        "  costCenter: CC-4000\n  owners: [data-eng-admins]\n  allowIngressFrom: [app-frontend]\n"
        "  clusters:\n    - cluster: staging-eu\n      cpu: '16'\n      memory: 64Gi\n"
        "      gpus: [{flavor: a100-mig-1g10gb, quota: 14}]\n"
    )
    commit_all(repo, "data-eng joins")
    result = review(root / "platform-spec", root / "overlays", "HEAD~1")
    lines = list(result.impact.lines())
    assert any(line.startswith("team data-eng added (clusters: staging-eu") for line in lines)
    assert "data-eng on staging-eu: a100-mig-1g10gb quota 0 → 14 (+14), monthly cost +$4,599.00" in lines
    assert "data-eng: allowIngressFrom + app-frontend" not in lines  # a new team is reported once, as added
    assert result.impact.team_costs["data-eng"].delta == pytest.approx(4599.0)
    assert result.impact.total_cost.delta == pytest.approx(4599.0)
    objects = {(o.change, o.path) for o in result.objects.objects}
    assert objects == expected_objects(repo, "HEAD~1", tmp_path)
    # Existing objects change only where they aggregate over teams (cluster dashboards, alert
    # rules, and the guardrail bindings, which list the team namespaces of each mode).
    changed = sorted(p for c, p in objects if c == "changed")
    assert all("/monitoring" in p or "/guardrails/" in p for p in changed), changed
    assert ("added", "staging-eu/components/tenancy/data-eng/namespace-data-eng.yaml") in objects or any(
        p.endswith("namespace-data-eng.yaml") for _, p in objects
    )


def test_cluster_removed(repo: git.Repo, tmp_path: Path) -> None:
    root = Path(repo.working_tree_dir)
    (root / "platform-spec/clusters/staging-eu.yaml").unlink()
    (root / "platform-spec/serving/embeddings.yaml").unlink()
    for team in ("ai-research", "app-frontend", "ml-platform"):
        path = root / f"platform-spec/teams/{team}.yaml"
        text = path.read_text()
        path.write_text(text[: text.index("    - cluster: staging-eu")])
    commit_all(repo, "retire staging-eu")
    lines, objects = reviewed(repo, "HEAD~1")
    assert any(line.startswith("cluster staging-eu removed") for line in lines)
    assert "ai-research on staging-eu: l40s-shared quota 16 → 0 (-16), monthly cost -$4,088.00" in lines
    assert "serving path embeddings removed" in " ".join(lines)
    assert objects == expected_objects(repo, "HEAD~1", tmp_path)
    assert {path.split("/")[0] for _, path in objects} == {"staging-eu"}
    assert {c for c, _ in objects} == {"removed"}


def test_serving_path_with_canary_added(repo: git.Repo, tmp_path: Path) -> None:
    root = Path(repo.working_tree_dir)
    (root / "platform-spec/serving/translator.yaml").write_text(
        "apiVersion: platformc.dev/v1alpha1\nkind: ServingPath\nmetadata: {name: translator}\nspec:\n"
        "  team: ml-platform\n  clusters: [prod-us-east]\n"
        "  model: {format: huggingface, storageUri: 's3://models/sum-v1'}\n"
        "  gpu: {flavor: h100, count: 1}\n  replicas: {min: 1, max: 2}\n"
        "  canary: {storageUri: 's3://models/sum-v2', trafficPercent: 20}\n  allowFrom: [app-frontend]\n"
        # The example's requiredLabels policy.
        "  labels: {owner: ml-platform-admins, platformc.dev/model-version: sum-v1}\n"
    )
    commit_all(repo, "translator with a canary")
    lines, objects = reviewed(repo, "HEAD~1")
    assert (
        "serving path translator added (team ml-platform; on prod-us-east; h100 x 1 per replica; "
        "replicas 1-2; canary 20% → s3://models/sum-v2)" in lines
    )
    assert "translator: callable from app-frontend" in lines
    assert objects == expected_objects(repo, "HEAD~1", tmp_path)


def test_canary_share_and_security_changes(repo: git.Repo) -> None:
    root = Path(repo.working_tree_dir)
    edit(root / "platform-spec/serving/chat-llm.yaml", "trafficPercent: 10", "trafficPercent: 50")
    edit(
        root / "platform-spec/teams/app-frontend.yaml",
        "priority: normal",
        "priority: normal\n  podSecurity: baseline",
    )
    edit(
        root / "platform-spec/teams/ai-research.yaml",
        "priority: high",
        "priority: high\n  allowEgressTo: [0.0.0.0/0]",
    )
    result = review(root / "platform-spec", root / "overlays", "HEAD")  # uncommitted: the working tree
    lines = list(result.impact.lines())
    assert "chat-llm: canary 10% → 50%" in lines
    assert "app-frontend: podSecurity restricted → baseline (weaker)" in lines
    assert "ai-research: allowEgressTo + 0.0.0.0/0" in lines
    warnings = {w.text for w in result.impact.warnings}
    assert "app-frontend: podSecurity restricted → baseline (weaker)" in warnings
    assert "ai-research: allowEgressTo now includes the whole internet" in warnings
    assert repo.is_dirty()  # diff read the working tree and left it as it was
    assert repo.git.status("--porcelain").count("\n") == 2


def test_default_base_is_merge_base_with_main(repo: git.Repo) -> None:
    root = Path(repo.working_tree_dir)
    repo.git.checkout("-q", "-b", "feature")
    edit(root / "platform-spec/serving/chat-llm.yaml", "trafficPercent: 10", "trafficPercent: 30")
    commit_all(repo, "feature: canary 30%")
    repo.git.checkout("-q", "main")
    edit(root / "platform-spec/teams/ml-platform.yaml", "priority: low", "priority: high")
    commit_all(repo, "main moves on")
    repo.git.checkout("-q", "feature")
    result = cli(root, "diff")
    assert result.exit_code == 0, result.output
    assert "chat-llm: canary 10% → 30%" in result.stdout
    assert "ml-platform: priority" not in result.stdout  # main's later change is not this branch's
    assert "\x1b[" not in result.stdout  # colour on a terminal only


def test_exit_code_and_json(repo: git.Repo) -> None:
    root = Path(repo.working_tree_dir)
    unchanged = cli(root, "diff", "--base", "HEAD", "--exit-code")
    assert unchanged.exit_code == 0
    assert "no generated object changes" in unchanged.stdout
    edit(
        root / "platform-spec/teams/ai-research.yaml", "{flavor: h100, quota: 8,", "{flavor: h100, quota: 6,"
    )
    changed = cli(root, "diff", "--base", "HEAD", "--exit-code")
    assert changed.exit_code == 1
    data = json.loads(cli(root, "diff", "--base", "HEAD", "--format", "json").stdout)
    items = [i for i in data["impact"]["items"] if i["section"] == "GPU quota"]
    assert items == [
        {
            "section": "GPU quota",
            "subject": "ai-research",
            "severity": "info",
            "text": "ai-research on prod-us-east: h100 quota 8 → 6 (-2), monthly cost -$5,986.00",
            "team": "ai-research",
            "cluster": "prod-us-east",
            "flavor": "h100",
            "before": 8,
            "after": 6,
            "monthlyCostChange": -5986.0,
        }
    ]
    assert data["summary"]["changed"] == len([o for o in data["objects"] if o["change"] == "changed"]) > 0
    assert all(o["diff"].startswith("--- a/") for o in data["objects"] if o["change"] == "changed")


def test_invalid_spec_at_base_is_a_clear_error(repo: git.Repo) -> None:
    root = Path(repo.working_tree_dir)
    edit(root / "platform-spec/teams/ml-platform.yaml", "priority: low", "priority: low\n  colour: blue")
    commit_all(repo, "broken")
    edit(root / "platform-spec/teams/ml-platform.yaml", "  colour: blue\n", "")
    with pytest.raises(RevisionSpecErrors):
        review(root / "platform-spec", root / "overlays", "HEAD")
    result = cli(root, "diff", "--base", "HEAD")
    assert result.exit_code == 1
    assert re.search(
        r"HEAD:platform-spec/teams/ml-platform\.yaml:\d+:\d+: unknown field 'spec.colour'", result.stderr
    )
    assert "the spec at HEAD is invalid" in result.stderr
    # and invalid now (valid at base):
    edit(root / "platform-spec/teams/ml-platform.yaml", "priority: low", "priority: lowest")
    now = cli(root, "diff", "--base", "HEAD~1")
    assert now.exit_code == 1
    assert "platform-spec/teams/ml-platform.yaml" in now.stderr and "working tree" in now.stderr


def test_unknown_base_revision(repo: git.Repo) -> None:
    result = cli(Path(repo.working_tree_dir), "diff", "--base", "no-such-branch")
    assert result.exit_code == 1
    assert "unknown revision 'no-such-branch'" in result.stderr


def test_markdown_of_a_20_cluster_change_respects_the_cap(tmp_path: Path) -> None:
    root = tmp_path / "big"
    synthetic.write_synthetic_spec(root / "platform-spec", 20, 12, 0, clusters_per_team=None)
    repo = make_repo(root, spec=None)
    synthetic.write_synthetic_spec(
        root / "platform-spec", 20, 12, 0, clusters_per_team=None, quota_bonus={"team-003": 5, "team-007": 1}
    )
    before = yaml.safe_load_all((root / "platform-spec/team.yaml").read_text())
    team = next(d for d in before if d["metadata"]["name"] == "team-003")
    entry = next(e for e in team["spec"]["clusters"] if e["cluster"] == "cluster-019")
    flavor = entry["gpus"][0]["flavor"]
    quota = entry["gpus"][0]["quota"]
    cost = synthetic.FLAVORS[flavor]["hourlyCost"] * 5 * 730
    result = review(root / "platform-spec", root / "overlays", "HEAD")
    assert len(result.objects.clusters) == 20
    total = len(result.objects.objects)
    cap = 12_000
    md = render_markdown(result, max_bytes=cap)
    assert len(md.encode()) <= cap
    assert md.startswith(MARKER)
    assert (
        f"team-003 on cluster-019: {flavor} quota {quota - 5} → {quota} (+5), monthly cost +${cost:,.2f}"
        in md
    )
    note = re.search(r"Cut to fit 12,000 bytes: left out (.*)\. Run", md)
    assert note, md[-800:]
    listed = len(re.findall(r"^- `[~+-]` ", md, re.MULTILINE))
    cut = re.search(r"(\d+) object\(s\)", note[1])
    cut_objects = int(cut[1]) if cut else 0
    assert listed + cut_objects == total
    assert md.count("<details>") == md.count("</details>") >= 1
    full = render_markdown(result, max_bytes=10_000_000)
    assert "Cut to fit" not in full and len(re.findall(r"^- `[~+-]` ", full, re.MULTILINE)) == total
    assert repo.head.commit.message.startswith("initial")


def test_text_output_groups_by_cluster_and_unit(repo: git.Repo) -> None:
    root = Path(repo.working_tree_dir)
    edit(
        root / "platform-spec/teams/ai-research.yaml", "{flavor: h100, quota: 8,", "{flavor: h100, quota: 6,"
    )
    out = cli(root, "diff", "--base", "HEAD").stdout
    assert (
        out.index("prod-us-east\n")
        < out.index("  tenancy\n")
        < out.index("~ ResourceQuota ai-research/ai-research")
    )
    assert "-    gpu-h100.deviceclass.resource.k8s.io/devices: '12'" in out
    assert subprocess.run(
        ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True
    ).stdout.strip()


def test_quota_change_over_the_budget(repo: git.Repo) -> None:
    """ai-research's budget is 50,000 USD a month, 45,000 of it on prod-us-east; 8 more H100s
    commit 66,284 USD there and 70,372 USD in all."""
    root = Path(repo.working_tree_dir)
    edit(
        root / "platform-spec/teams/ai-research.yaml",
        "{flavor: h100, quota: 8, borrowingLimit: 4}",
        "{flavor: h100, quota: 16, borrowingLimit: 4}",
    )
    edit(
        root / "platform-spec/clusters/prod-us-east.yaml", "flavor: h100, nodes: 2", "flavor: h100, nodes: 3"
    )
    edit(root / "platform-spec/teams/app-frontend.yaml", "prod-us-east: 15000", "prod-us-east: 9000")
    commit_all(repo, "more h100 for ai-research, less budget for app-frontend")
    lines, _ = reviewed(repo, "HEAD~1")
    assert [line for line in lines if "budget" in line] == [
        "team ai-research: committed GPU quota across all clusters now costs $70,372.00 a month, more than "
        "its budget of $50,000.00",
        "team ai-research: committed GPU quota on prod-us-east now costs $66,284.00 a month, more than its "
        "budget of $45,000.00",
        "team app-frontend: committed GPU quota on prod-us-east now costs $11,972.00 a month, more than its "
        "budget of $9,000.00",
    ]
