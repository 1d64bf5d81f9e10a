"""Valid-looking specs that would compile to objects Kubernetes, Argo CD or KServe reject."""

from __future__ import annotations

from tests.qa.conftest import Workspace, no_traceback

SUMMARY = "platformc: {n} error(s) in the spec or overlays; nothing was written"


def errors(ws: Workspace) -> list[str]:
    result = ws.compile()
    no_traceback(result)
    assert result.exit_code == 1, result.output
    assert not (ws.root / "generated").exists()
    lines = result.stderr.splitlines()
    assert lines[-1] == SUMMARY.format(n=len(lines) - 1)
    return lines[:-1]


def rename_cluster(ws: Workspace, new: str) -> None:
    for path in sorted((ws.root / "platform-spec").rglob("*.yaml")):
        path.write_text(path.read_text().replace("prod-us-east", new))


def test_argocd_cluster_name_too_long_for_application_names(ws: Workspace) -> None:
    long = "prod-us-east-" + "a" * 31  # 44 characters: '<cluster>-<unit>' would pass 63
    rename_cluster(ws, long)
    assert errors(ws) == [
        f"platform-spec/clusters/prod-us-east.yaml:4:9: cluster name '{long}' has 44 characters, too long "
        "for Argo CD (expected at most 43: Application names are '<cluster>-<unit>', units add up to 20 "
        "characters, and the result must stay within 63)"
    ]


def test_argocd_cluster_name_at_the_limit_compiles(ws: Workspace) -> None:
    rename_cluster(ws, "prod-us-east-" + "a" * 30)  # 43 characters
    (ws.root / "overlays/clusters").rename(ws.root / "cluster-overlays-aside")  # names staging-eu only
    result = ws.compile()
    no_traceback(result)
    assert result.exit_code == 0, result.output
    apps = sorted(p.name for p in (ws.root / "generated").glob("*/apps/application-*.yaml"))
    assert apps and max(len(a.removeprefix("application-").removesuffix(".yaml")) for a in apps) <= 63


def test_team_appproject_name_too_long(ws: Workspace) -> None:
    team = "ml-platform-" + "x" * 50  # 62 characters: valid alone, 75 as '<cluster>-<team>'
    for rel in ("platform-spec/teams/ml-platform.yaml",):
        ws.edit(rel, "name: ml-platform", f"name: {team}")
    # The team's serving path and model-store entry follow the rename.
    ws.edit("platform-spec/serving/summarizer.yaml", "team: ml-platform", f"team: {team}")
    ws.edit("platform-spec/platform.yaml", "app-frontend, ml-platform]", f"app-frontend, {team}]")
    assert errors(ws) == [
        f"platform-spec/teams/ml-platform.yaml:11:16: the Argo CD AppProject 'prod-us-east-{team}' of team "
        f"'{team}' on cluster 'prod-us-east' has 75 characters (expected '<cluster>-<team>' of at most 63: "
        "shorten the team or the cluster name)"
    ]


def test_serving_path_name_too_long_for_kserve(ws: Workspace) -> None:
    name = "chat-llm-" + "x" * 45  # 54 characters
    ws.edit("platform-spec/serving/chat-llm.yaml", "name: chat-llm", f"name: {name}")
    assert errors(ws) == [
        f"platform-spec/serving/chat-llm.yaml:4:9: serving path name '{name}' has 54 characters, too long for "
        f"KServe, which names its Service '{name}-predictor' (expected at most 53 characters)",
        f"platform-spec/serving/chat-llm.yaml:14:3: serving path name '{name}' is too long for a canary: "
        f"KServe names the canary Service '{name}-canary-predictor' (71 characters; expected a name of at "
        "most 46 characters with a canary)",
    ]


def test_serving_path_name_starting_with_a_digit(ws: Workspace) -> None:
    ws.edit("platform-spec/serving/chat-llm.yaml", "name: chat-llm", "name: 1chat")
    assert errors(ws) == [
        "platform-spec/serving/chat-llm.yaml:4:9: serving path name '1chat' starts with a digit, which KServe "
        "rejects: its Service '1chat-predictor' must be a DNS-1035 label (expected a name starting with a letter)"
    ]


def test_replica_larger_than_any_node(ws: Workspace) -> None:
    # 9 h100 GPUs fit the team's quota (8 + borrowing 4) but no node has more than 8.
    ws.edit("platform-spec/serving/chat-llm.yaml", "count: 1", "count: 9")
    assert errors(ws) == [
        "platform-spec/serving/chat-llm.yaml:9:30: one replica needs 9 'h100' GPUs, but a node of cluster "
        "'prod-us-east' has at most 8, so the pod can never be scheduled (expected count <= 8, the largest "
        "node pool's gpusPerNode)"
    ]


def test_team_naming_itself(ws: Workspace) -> None:
    ws.edit(
        "platform-spec/teams/ai-research.yaml",
        "allowIngressFrom: [app-frontend]",
        "allowIngressFrom: [app-frontend, ai-research]",
    )
    ws.edit("platform-spec/serving/chat-llm.yaml", "allowFrom: [app-frontend]", "allowFrom: [ai-research]")
    assert errors(ws) == [
        "platform-spec/serving/chat-llm.yaml:15:15: allowFrom names team 'ai-research', which owns serving path "
        "'chat-llm' (expected other teams: the owning team's namespace may always call it)",
        "platform-spec/teams/ai-research.yaml:10:36: team 'ai-research' lists itself in allowIngressFrom "
        "(expected other teams: traffic inside a team's own namespace is always allowed)",
    ]


def test_name_too_long_says_characters(ws: Workspace) -> None:
    ws.edit("platform-spec/teams/ml-platform.yaml", "name: ml-platform", "name: " + "m" * 64)
    assert errors(ws) == [
        "platform-spec/teams/ml-platform.yaml:4:9: 'metadata.name' is too long: 64 characters (expected at most 63)"
    ]


def test_custom_component_name_leaves_room_for_its_config_unit(ws: Workspace) -> None:
    name = "volcano-" + "v" * 49  # 57 characters: '<name>-config' would be 64
    (ws.root / "overlays/components/volcano").rename(ws.root / f"overlays/components/{name}")
    assert errors(ws) == [
        f"overlays/components/{name}:1:1: invalid custom component name '{name}' (expected a DNS-1123 label "
        "of at most 56 characters: it names the sync units '<name>' and '<name>-config', which are label values)"
    ]
