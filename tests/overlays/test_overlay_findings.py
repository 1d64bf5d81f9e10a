"""Compile-time validation findings about overlay-made objects name the overlay line they came from,
and an overlay object in a namespace nothing creates stops the compile."""

from __future__ import annotations

from tests.overlays.overlay_helpers import CRD_SCHEMAS

NOTHING_WRITTEN = "nothing was written"


def compile_fails(ws) -> list[str]:
    result = ws.cli("compile", "--out", "generated", "--schemas", str(CRD_SCHEMAS))
    assert result.returncode == 1, result.stderr
    assert NOTHING_WRITTEN in result.stderr.splitlines()[-1]
    assert not (ws.root / "generated").exists()
    return result.stderr.splitlines()[:-1]


def test_overlay_object_in_a_namespace_nobody_creates_fails_compile(ws):
    ws.write(
        "clusters/staging-eu/mirror.yaml",
        """
        # typo: the team namespace is ml-platform
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: package-mirror, namespace: ml-platfrom}
        data: {url: https://mirror.internal}
        """,
    )
    assert compile_fails(ws) == [
        "staging-eu/components/overlays/ml-platfrom/configmap-package-mirror.yaml: "
        "ConfigMap ml-platfrom/package-mirror: $.metadata.namespace: namespace 'ml-platfrom' is not "
        "created in this cluster's tree (expected a Namespace object, one of default, kube-node-lease, "
        "kube-public, kube-system, or the GitOps engine's namespace flux-system) "
        "(from overlays/clusters/staging-eu/mirror.yaml:2:1) [reference]"
    ]


def test_patch_adding_an_unknown_field_is_reported_with_the_patch_line(ws):
    ws.write(
        "environments/staging/egress.yaml",
        """
        # staging only
        apiVersion: platformc.dev/v1alpha1
        kind: Patch
        target: {kind: NetworkPolicy, name: default-deny-egress, namespace: ml-platform}
        merge: {spec: {bogus: 1}}
        """,
    )
    [line] = compile_fails(ws)
    assert line.startswith(
        "staging-eu/components/network/ml-platform/networkpolicy-default-deny-egress.yaml: "
        "NetworkPolicy ml-platform/default-deny-egress: $.spec.bogus: "
    )
    assert line.endswith("(from overlays/environments/staging/egress.yaml:2:1) [schema]")


def test_added_object_with_a_wrong_type_is_reported_with_its_document_line(ws):
    ws.write(
        "all/policies.yaml",
        """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: fine, namespace: ml-platform}
        data: {a: b}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: allow-mirror, namespace: ml-platform}
        spec:
          podSelector: all
        """,
    )
    lines = compile_fails(ws)
    assert len(lines) == 2  # once per cluster
    for cluster, line in zip(("prod-us-east", "staging-eu"), lines, strict=True):
        assert line.startswith(
            f"{cluster}/components/overlays/ml-platform/networkpolicy-allow-mirror.yaml: "
            "NetworkPolicy ml-platform/allow-mirror: $.spec.podSelector: "
        )
        assert line.endswith("(from overlays/all/policies.yaml:6:1) [schema]")


def test_object_added_then_patched_names_every_overlay_line_in_order(ws):
    ws.write(
        "all/mirror.yaml",
        """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: allow-mirror, namespace: ml-platform}
        spec: {podSelector: {}}
        """,
    )
    ws.write(
        "clusters/staging-eu/mirror.yaml",
        """
        apiVersion: platformc.dev/v1alpha1
        kind: Patch
        target: {kind: NetworkPolicy, name: allow-mirror}
        merge: {spec: {policyTypes: Egress}}
        """,
    )
    [line] = compile_fails(ws)
    assert line.startswith("staging-eu/components/overlays/ml-platform/networkpolicy-allow-mirror.yaml: ")
    assert line.endswith(
        "(from overlays/all/mirror.yaml:1:1, overlays/clusters/staging-eu/mirror.yaml:1:1) [schema]"
    )


def test_findings_about_objects_no_overlay_touched_are_unchanged(ws):
    """Provenance goes by object identity: a finding about a component's own object gets none."""
    from compiler.pipeline import build_platform, with_provenance
    from compiler.validate import Finding, Report

    ws.write(
        "clusters/staging-eu/p.yaml",
        """
        apiVersion: platformc.dev/v1alpha1
        kind: Patch
        target: {kind: NetworkPolicy, name: default-deny-egress, namespace: ml-platform}
        merge: {metadata: {annotations: {team: ml}}}
        """,
    )
    build = next(b for b in build_platform(ws.spec, overlays_dir=ws.overlays) if b.model.name == "staging-eu")
    patched = "staging-eu/components/network/ml-platform/networkpolicy-default-deny-egress.yaml"
    untouched = "staging-eu/components/network/ml-platform/networkpolicy-default-deny-ingress.yaml"
    report = Report(
        [
            Finding("error", "schema", f, "NetworkPolicy", "ml-platform", "x", "$", "bad")
            for f in (patched, untouched)
        ]
    )
    messages = {f.file: f.message for f in with_provenance(report, build).findings}
    assert messages == {patched: "bad (from overlays/clusters/staging-eu/p.yaml:1:1)", untouched: "bad"}


def test_custom_component_object_names_its_template_line(ws):
    ws.write(
        "components/mirror/policy.yaml.j2",
        """
        # {{ model.name }} reaches the package mirror
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: allow-mirror, namespace: ml-platform}
        spec: {podSelector: {}, policyTypes: Egress}
        """,
    )
    lines = compile_fails(ws)
    assert [line.split(": ", 1)[0] for line in lines] == [
        "prod-us-east/components/mirror/ml-platform/networkpolicy-allow-mirror.yaml",
        "staging-eu/components/mirror/ml-platform/networkpolicy-allow-mirror.yaml",
    ]
    for line in lines:
        assert line.endswith("(from overlays/components/mirror/policy.yaml.j2:2:1) [schema]"), line
