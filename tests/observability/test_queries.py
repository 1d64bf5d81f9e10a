"""Every PromQL expression in the committed tree parses, reads only catalogued metrics, and the
example's teams, ClusterQueues and serving paths each appear in a panel or a rule."""

from __future__ import annotations

from compiler.cluster_model import cluster_models
from compiler.naming import cluster_queue_name, inference_service_name
from compiler.observability.catalog import CATALOG, RECORDING_PREFIX
from compiler.observability.promql import metric_names
from compiler.spec.build import load_platform

from .conftest import GENERATED, ROOT, all_exprs, label_matchers, load_objects


def recorded_names(objects) -> set[str]:
    return {
        rule["record"]
        for _, obj in objects
        if obj["kind"] == "PrometheusRule"
        for group in obj["spec"]["groups"]
        for rule in group["rules"]
        if "record" in rule
    }


def test_tree_has_dashboards_and_rules(generated_objects):
    exprs = all_exprs(generated_objects)
    assert any("panel" in where for _, where, _ in exprs)
    assert any("rule" in where for _, where, _ in exprs)


def test_every_expression_parses(generated_objects):
    failures = []
    for path, where, expr in all_exprs(generated_objects):
        try:
            metric_names(expr)
        except ValueError as error:
            failures.append(f"{path}: {where}: {error}: {expr}")
    assert not failures, "\n".join(failures)


def test_queries_use_only_catalogued_metrics(generated_objects):
    recorded = recorded_names(generated_objects)
    assert all(name.startswith(RECORDING_PREFIX) for name in recorded)
    unknown = [
        f"{path}: {where}: {name}"
        for path, where, expr in all_exprs(generated_objects)
        for name in sorted(metric_names(expr))
        if name not in CATALOG and name not in recorded
    ]
    assert not unknown, "metrics missing from compiler/observability/catalog.py:\n" + "\n".join(unknown)


def test_recording_rules_read_only_catalogued_metrics(generated_objects):
    # A recording rule may read another one, but the chain must bottom out in the catalogue.
    recorded = recorded_names(generated_objects)
    for _, obj in generated_objects:
        if obj["kind"] != "PrometheusRule":
            continue
        for group in obj["spec"]["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    assert metric_names(rule["expr"]) <= set(CATALOG) | recorded, rule


def test_every_team_queue_and_serving_path_is_observed():
    model = load_platform(ROOT / "platform-spec")
    for cluster in cluster_models(model):
        objects = load_objects(GENERATED / cluster.name)
        selected = set().union(*(label_matchers(expr) for _, _, expr in all_exprs(objects)))
        missing = []
        for team in cluster.teams:
            if ("exported_namespace", team.namespace) not in selected:
                missing.append(f"team namespace {team.namespace}")
            if ("cluster_queue", cluster_queue_name(team.name)) not in selected:
                missing.append(f"ClusterQueue {cluster_queue_name(team.name)}")
        for path in cluster.serving_paths:
            if ("inference_service", inference_service_name(path.metadata.name)) not in selected:
                missing.append(f"ServingPath {path.metadata.name}")
        assert not missing, f"{cluster.name}: not on any dashboard or rule: {missing}"
        assert cluster.teams and cluster.serving_paths  # the example exercises both


def test_readme_documents_every_catalogued_metric():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Dashboards and alerts", 1)[1]
    missing = [name for name in CATALOG if f"| `{name}` |" not in section]
    assert not missing, f"README metric catalogue lacks {missing}"
