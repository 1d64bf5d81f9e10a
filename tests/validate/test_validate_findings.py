"""How findings read on a terminal and how reports order them."""

from __future__ import annotations

import json

from compiler.validate import Finding, Report


def test_format_of_each_finding_shape() -> None:
    schema = Finding(
        "error", "schema", "prod/a.yaml", "ClusterQueue", None, "ai", "$.spec.x", 'unknown field "x"'
    )
    assert schema.format() == 'prod/a.yaml: ClusterQueue ai: $.spec.x: unknown field "x" [schema]'
    warning = Finding("warning", "missing-schema", "prod/w.yaml", "Widget", "ns", "w", "$", "no schema")
    assert warning.format() == "prod/w.yaml: Widget ns/w: warning: no schema [missing-schema]"
    yaml_error = Finding(
        "error", "yaml", "prod/b.yaml", "", None, "", "", "YAML syntax error", line=3, column=7
    )
    assert yaml_error.format() == "prod/b.yaml:3:7: YAML syntax error [yaml]"
    no_file = Finding("error", "kubernetes-version", None, "Cluster", None, "old", "", "not supported")
    assert no_file.format() == "Cluster old: not supported [kubernetes-version]"


def test_report_orders_by_file_and_position_and_handles_missing_files() -> None:
    b = Finding("error", "schema", "b.yaml", "K", None, "n", "$.a", "m")
    a2 = Finding("error", "schema", "a.yaml", "K", None, "n", "$.spec.z", "m")
    a1 = Finding("warning", "missing-schema", "a.yaml", "K", None, "n", "$", "m")
    none = Finding("error", "kubernetes-version", None, "Cluster", None, "c", "", "m")
    report = Report([b, a2, none, a1, b], objects=3, clusters=["c"])
    assert report.sorted() == [none, a1, a2, b]  # duplicates dropped
    assert report.errors == [none, a2, b]
    assert report.warnings == [a1]
    assert not report.ok
    data = json.loads(report.to_json())
    assert (data["errors"], data["warnings"], data["objects"]) == (3, 1, 3)
    assert [f["file"] for f in data["findings"]] == [None, "a.yaml", "a.yaml", "b.yaml"]
    assert report.summary() == "3 objects in 1 cluster(s): 3 error(s), 1 warning(s)"
    assert Report([a1]).ok
