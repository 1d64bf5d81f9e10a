"""Teams cannot remove their own isolation, and deleting the root does not take the CRDs
(issue 13, item 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compiler.naming import SERVING_PRIORITY_CLASS
from compiler.pipeline import ClusterBuild
from tests.ai.charts import of_kind, render_helm_chart
from tests.ai.conftest import objects

WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection", "*"}
# What the platform sets in a team namespace and a team must not change (group, resource).
GUARDRAILS = [
    ("networking.k8s.io", "networkpolicies"),
    ("", "resourcequotas"),
    ("", "limitranges"),
    ("kueue.x-k8s.io", "localqueues"),
    ("kueue.x-k8s.io", "workloads"),
    ("kueue.x-k8s.io", "clusterqueues"),
    ("scheduling.k8s.io", "priorityclasses"),
]
# Kubernetes v1.34 plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go: the built-in
# admin and edit ClusterRoles grant Write on networking.k8s.io networkpolicies and aggregate
# every ClusterRole labelled aggregate-to-admin/-edit; a binding to them cannot be bounded here.
BUILT_IN_AGGREGATED = {"admin", "edit", "cluster-admin"}


def allows(rules: list[dict[str, Any]], group: str, resource: str, verb: str) -> bool:
    """RBAC rule matching (k8s.io/component-helpers/auth/rbac/validation: RuleAllows), wildcards included."""
    for rule in rules:
        if (
            ({"*", group} & set(rule.get("apiGroups", [])))
            and ({"*", resource} & set(rule.get("resources", [])))
            and ({"*", verb} & set(rule.get("verbs", [])))
        ):
            return True
    return False


def _team_roles(build: ClusterBuild) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    roles = {o["metadata"]["name"]: o for o in objects(build, "ClusterRole")}
    result = []
    for team in build.model.teams:
        bindings = [b for b in objects(build, "RoleBinding") if b["metadata"]["namespace"] == team.namespace]
        assert bindings, team.name
        for binding in bindings:
            ref = binding["roleRef"]
            assert ref["name"] not in BUILT_IN_AGGREGATED, f"{team.name}: bound to built-in {ref['name']}"
            assert ref["kind"] == "ClusterRole" and ref["name"] in roles, ref
            result.append((team.name, binding, roles[ref["name"]]))
    return result


def test_team_roles_cannot_write_the_guardrails(example_builds):
    """The roles team groups get grant no write on NetworkPolicy, ResourceQuota, LimitRange,
    Kueue objects or PriorityClass, do not aggregate, and cannot escalate; they still let a team
    run its work (pods, Jobs, InferenceServices, ResourceClaims)."""
    for build in example_builds.values():
        for team, binding, role in _team_roles(build):
            assert "aggregationRule" not in role, role["metadata"]["name"]
            rules = role["rules"]
            for group, resource in GUARDRAILS:
                for verb in WRITE_VERBS - {"*"}:
                    assert not allows(rules, group, resource, verb), (team, group, resource, verb)
            for group, resource in [
                ("rbac.authorization.k8s.io", "roles"),
                ("rbac.authorization.k8s.io", "clusterroles"),
            ]:
                assert not allows(rules, group, resource, "escalate") and not allows(
                    rules, group, resource, "bind"
                )
            for group, resource in [
                ("", "pods"),
                ("batch", "jobs"),
                ("serving.kserve.io", "inferenceservices"),
                ("resource.k8s.io", "resourceclaims"),
            ]:
                assert allows(rules, group, resource, "create"), (team, binding["metadata"]["name"], resource)
            assert allows(rules, "networking.k8s.io", "networkpolicies", "get")


def _scope_matches(selector: dict[str, Any], pod: dict[str, Any]) -> bool:
    """kubernetes v1.34 pkg/quota/v1/evaluator/core/pods.go (podMatchesScopeFunc): the
    PriorityClass scope with Exists matches pods that name a priority class."""
    name = pod["spec"].get("priorityClassName", "")
    for expr in selector["matchExpressions"]:
        assert expr["scopeName"] == "PriorityClass"
        if expr["operator"] == "Exists" and not name:
            return False
        if expr["operator"] == "In" and name not in expr["values"]:
            return False
        if expr["operator"] == "NotIn" and name in expr["values"]:
            return False
    return True


def _admitted(quotas: list[dict[str, Any]], pod: dict[str, Any]) -> bool:
    for quota in quotas:
        spec = quota["spec"]
        if "scopeSelector" in spec and not _scope_matches(spec["scopeSelector"], pod):
            continue
        if spec["hard"].get("pods") == "0":
            return False
    return True


def test_team_pods_cannot_take_a_priority_class(example_builds):
    """A pod naming system-node-critical (or any PriorityClass but the platform's online-serving
    class its predictors use) in a team namespace is refused by quota; the team's ordinary pods
    and its predictors are not. The predictors really use that class."""
    for build in example_builds.values():
        for isvc in objects(build, "InferenceService"):
            assert isvc["spec"]["predictor"]["priorityClassName"] == SERVING_PRIORITY_CLASS
        for team in build.model.teams:
            quotas = [
                q for q in objects(build, "ResourceQuota") if q["metadata"]["namespace"] == team.namespace
            ]
            plain = {"spec": {"containers": [{"name": "c"}]}}
            critical = {"spec": {"priorityClassName": "system-node-critical", "containers": [{"name": "c"}]}}
            serving = {"spec": {"priorityClassName": SERVING_PRIORITY_CLASS, "containers": [{"name": "c"}]}}
            assert _admitted(quotas, plain), team.name
            assert _admitted(quotas, serving), team.name
            assert not _admitted(quotas, critical), team.name


def test_team_app_projects_are_usable_and_bounded(example_builds):
    """argoproj/argo-cd docs/user-guide/projects.md: sourceRepos limits where a project's
    Applications come from; spec.roles[].groups binds project roles to SSO groups (policies
    `p, proj:<project>:<role>, applications, <action>, <project>/*, allow`). The root
    Application lives in its own project, not in `default` (any repo, any destination)."""
    build = example_builds["prod-us-east"]
    repo = build.model.platform.spec.gitops.repoURL
    projects = {o["metadata"]["name"]: o for o in objects(build, "AppProject")}
    for team in build.model.teams:
        project = projects[f"{build.model.name}-{team.name}"]["spec"]
        assert project["sourceRepos"] == [repo]
        roles = {r["name"]: r for r in project["roles"]}
        assert set(roles["owners"]["groups"]) == set(team.team.spec.owners)
        if team.team.spec.members:
            assert set(roles["members"]["groups"]) == set(team.team.spec.members)
        for role in roles.values():
            assert all(p.startswith(f"p, proj:{build.model.name}-{team.name}:") for p in role["policies"])
        blacklisted = {(k["group"], k["kind"]) for k in project["namespaceResourceBlacklist"]}
        assert {
            ("networking.k8s.io", "NetworkPolicy"),
            ("", "ResourceQuota"),
            ("", "LimitRange"),
        } <= blacklisted
        assert ("kueue.x-k8s.io", "*") in blacklisted
    root = next(o for o in objects(build, "Application") if o["metadata"]["name"].endswith("-root"))
    assert root["spec"]["project"] != "default"
    root_project = projects[root["spec"]["project"]]["spec"]
    assert root_project["sourceRepos"] == [repo]
    placed = {(f, o["kind"], o["metadata"]["name"]) for f, o in build.placed}
    assert ("bootstrap", "AppProject", root["spec"]["project"]) in placed


def _renders_crds(charts_dir: Path, build: ClusterBuild, chart, include: bool) -> bool:
    rendered = render_helm_chart(charts_dir, chart, build.model.kubernetes_version, include)
    return bool(of_kind(rendered, "CustomResourceDefinition"))


def test_deleting_the_root_leaves_the_crds(shared_charts: Path, example_builds):
    """argoproj/argo-cd docs/user-guide/app_deletion.md: an Application with
    resources-finalizer.argocd.argoproj.io deletes what it synced when it is deleted, and the
    root (app of apps) deletes its child Applications; a CRD deleted takes every custom resource
    of it. fluxcd/kustomize-controller docs/spec/v1/kustomizations.md: objects annotated
    kustomize.toolkit.fluxcd.io/prune: disabled are never garbage-collected, and a pruned
    HelmRelease is uninstalled, which deletes CRDs rendered from templates (kserve-crd, kueue).
    So every unit whose charts render CRDs is protected: no finalizer (Argo CD), prune
    disabled on the HelmRelease (Flux). Checked on the charts rendered with real Helm."""
    protected = 0
    for build in example_builds.values():
        for unit in build.units:
            for chart in unit.charts:
                if build.model.engine == "argocd":
                    app = next(
                        o
                        for o in objects(build, "Application")
                        if o["metadata"]["name"] == f"{build.model.name}-{unit.name}"
                    )
                    if _renders_crds(shared_charts, build, chart, not chart.skip_crds):
                        assert not app["metadata"].get("finalizers"), app["metadata"]["name"]
                        protected += 1
                else:
                    release = next(
                        o for o in objects(build, "HelmRelease") if o["metadata"]["name"] == chart.release
                    )
                    include = release["spec"]["install"]["crds"] != "Skip"
                    if _renders_crds(shared_charts, build, chart, include):
                        annotations = release["metadata"].get("annotations", {})
                        assert annotations.get("kustomize.toolkit.fluxcd.io/prune") == "disabled", (
                            chart.release
                        )
                        protected += 1
    assert protected >= 8  # kserve-crd, kueue, gpu-operator, kube-prometheus-stack, cert-manager on both
