"""GitOps facts the engines depend on (issue 13, items 10-12)."""

from __future__ import annotations

import tarfile
from pathlib import Path

import yaml

from compiler.components import monitoring
from compiler.packaging.argocd import WAVE
from tests.ai.charts import component_chart, of_kind, render_helm_chart
from tests.ai.conftest import EXAMPLE_SPEC, objects


def _chart_yaml_version(archive: Path, chart: str) -> str:
    with tarfile.open(archive) as tar:
        member = tar.extractfile(f"{chart}/Chart.yaml")
        assert member is not None
        return str(yaml.safe_load(member.read())["version"])


def test_grafana_operator_pin_is_the_published_chart_tag(shared_charts: Path):
    """grafana/grafana-operator v5.24.0 .github/workflows/release.yaml packages the chart with the
    tag's leading v stripped, so the OCI tag Flux's OCIRepository resolves is the Chart.yaml
    version (../shared/charts/SOURCES.md: 'publishes chart version 5.24.0')."""
    chart, version = monitoring.GRAFANA_OPERATOR.chart, monitoring.GRAFANA_OPERATOR_VERSION
    assert version == _chart_yaml_version(shared_charts / f"{chart}-5.24.0.tgz", chart)


def _webhook_groups(rendered: list[dict]) -> set[str]:
    """API groups a chart's admission webhooks with failurePolicy Fail must admit."""
    groups = set()
    for config in rendered:
        if config.get("kind") not in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
            continue
        for hook in config["webhooks"]:
            if hook.get("failurePolicy", "Fail") == "Fail":
                groups |= {g for rule in hook.get("rules", []) for g in rule["apiGroups"] if g}
    return groups


def _unit_order(build) -> dict[str, tuple[int, tuple[str, ...]]]:
    if build.model.engine == "argocd":
        return {
            o["metadata"]["labels"]["platformc.dev/unit"]: (int(o["metadata"]["annotations"][WAVE]), ())
            for o in objects(build, "Application")
            if "platformc.dev/unit" in o["metadata"]["labels"]
        }
    return {
        o["metadata"]["name"]: (0, tuple(d["name"] for d in o["spec"].get("dependsOn", [])))
        for o in objects(build, "Kustomization")
    }


def test_runtime_configs_sync_after_the_kserve_webhook(shared_charts: Path, example_builds):
    """kserve/kserve v0.20.0 charts/kserve-resources/templates/webhookconfiguration.yaml: a
    ValidatingWebhookConfiguration with failurePolicy Fail for clusterservingruntimes, served
    by the controller the same chart installs; charts/kserve-runtime-configs creates
    ClusterServingRuntimes. Applied before the webhook answers, the API server refuses them, so
    on both engines the runtime configs sync in a later unit (Argo CD wave, Flux dependsOn)."""
    for build in example_builds.values():
        resources = component_chart(build, "kserve-resources")
        gated = _webhook_groups(render_helm_chart(shared_charts, resources, build.model.kubernetes_version))
        assert "serving.kserve.io" in gated
        assert resources.webhook_groups == gated
        runtimes = component_chart(build, "kserve-runtime-configs")
        created = render_helm_chart(shared_charts, runtimes, build.model.kubernetes_version)
        assert of_kind(created, "ClusterServingRuntime")
        unit_of = {c.release: u.name for u in build.units for c in u.charts}
        webhook_unit, runtime_unit = unit_of["kserve-resources"], unit_of["kserve-runtime-configs"]
        assert webhook_unit != runtime_unit
        order = _unit_order(build)
        if build.model.engine == "argocd":
            assert order[runtime_unit][0] > order[webhook_unit][0]
        else:
            assert webhook_unit in order[runtime_unit][1]


def test_ordering_check_knows_a_webhook_gates_other_charts(tmp_path: Path, crd_schemas: Path):
    """validate's ordering check: a unit whose chart creates serving.kserve.io objects in the same
    wave as kserve-resources (or without dependsOn on it) is reported, although the CRDs come
    earlier: the webhook, not the CRD, is what the API server waits for."""
    from compiler.pipeline import compile_platform
    from compiler.validate.ordering import check_ordering
    from tests.validate.test_crd_ordering import load

    out = tmp_path / "generated"
    compile_platform(EXAMPLE_SPEC, out, schema_dirs=[crd_schemas])
    assert list(check_ordering(load(out))) == []

    app = out / "prod-us-east/apps/application-prod-us-east-runtimes.yaml"
    webhook_app = yaml.safe_load((out / "prod-us-east/apps/application-prod-us-east-kserve.yaml").read_text())
    doc = yaml.safe_load(app.read_text())
    doc["metadata"]["annotations"][WAVE] = webhook_app["metadata"]["annotations"][WAVE]
    app.write_text(yaml.safe_dump(doc))
    kustomization = out / "staging-eu/apps/kustomization-runtimes.yaml"
    doc = yaml.safe_load(kustomization.read_text())
    doc["spec"]["dependsOn"] = [d for d in doc["spec"]["dependsOn"] if d["name"] != "kserve"]
    assert doc["spec"]["dependsOn"], "still after kserve-crds, so only the webhook rule can object"
    kustomization.write_text(yaml.safe_dump(doc))

    findings = [f.format() for f in check_ordering(load(out))]
    assert len(findings) == 2, findings
    assert all("runs the admission webhooks for serving.kserve.io" in f for f in findings)


def _health(script: str, application: dict) -> dict:
    """Run an argocd-cm health script the way Argo CD does: Lua with the object as `obj`."""
    from lupa import LuaRuntime

    lua = LuaRuntime(unpack_returned_tuples=True)

    def to_lua(value):
        if isinstance(value, dict):
            return lua.table_from({k: to_lua(v) for k, v in value.items()})
        return value

    lua.globals().obj = to_lua(application)
    result = lua.execute(script)
    return {"status": result["status"], "message": result["message"]}


def test_argocd_bootstrap_makes_waves_between_applications_gate(example_builds):
    """argoproj/argo-cd docs/operator-manual/health.md ("Argo CD App"): the health assessment of
    argoproj.io/Application was removed in 1.8; app-of-apps sync waves only wait for an earlier
    wave when argocd-cm (labelled app.kubernetes.io/part-of: argocd) has
    resource.customizations.health.argoproj.io_Application. The script runs in a real Lua."""
    build = example_builds["prod-us-east"]
    placed = [
        (folder, o)
        for folder, o in build.placed
        if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "argocd-cm"
    ]
    assert len(placed) == 1
    folder, config = placed[0]
    assert folder == "bootstrap"
    root = next(o for o in objects(build, "Application") if o["metadata"]["name"].endswith("-root"))
    assert config["metadata"]["namespace"] == root["metadata"]["namespace"]
    assert config["metadata"]["labels"]["app.kubernetes.io/part-of"] == "argocd"
    script = config["data"]["resource.customizations.health.argoproj.io_Application"]
    assert _health(script, {"status": {"health": {"status": "Healthy"}}}) == {
        "status": "Healthy",
        "message": "",
    }
    assert _health(script, {"metadata": {"name": "x"}})["status"] == "Progressing"
    degraded = {"status": {"health": {"status": "Degraded", "message": "Deployment kserve-controller"}}}
    assert _health(script, degraded) == {"status": "Degraded", "message": "Deployment kserve-controller"}
    assert not [
        o for o in objects(example_builds["staging-eu"], "ConfigMap") if o["metadata"]["name"] == "argocd-cm"
    ]


def test_validate_reports_waves_without_application_health(tmp_path: Path, crd_schemas: Path):
    """The same fact, checked on a tree: without the argocd-cm entry the waves do not gate."""
    from compiler.pipeline import compile_platform
    from compiler.validate.ordering import check_ordering
    from tests.validate.test_crd_ordering import load

    out = tmp_path / "generated"
    compile_platform(EXAMPLE_SPEC, out, schema_dirs=[crd_schemas])
    (out / "prod-us-east/bootstrap/configmap-argocd-cm.yaml").unlink()
    findings = [f.format() for f in check_ordering(load(out))]
    assert len(findings) == 1, findings
    assert "resource.customizations.health.argoproj.io_Application" in findings[0]
