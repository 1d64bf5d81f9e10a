"""Custom components: templated manifests that become sync units like the built-in components."""

from __future__ import annotations

from tests.overlays.overlay_helpers import objects, unit

NOTEBOOKS = """
{% for team in teams %}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: notebook-profile
  namespace: {{ team.namespace }}
data:
  cluster: {{ cluster.metadata.name }}
  environment: {{ environment }}
  kubernetes: "{{ model.kubernetes_version }}"
  flavors: "{{ flavors | join(',') }}"
  gpu-resources: "{{ team.entry.gpus | map(attribute='flavor') | map('gpu_resource') | join(',') }}"
  serving: "{{ serving_paths | map(attribute='metadata.name') | join(',') }}"
  repo: {{ platform.spec.gitops.repoURL }}
{% endfor %}
"""


def test_template_renders_per_cluster_from_the_typed_model(ws):
    ws.write("components/notebooks/profile.yaml.j2", NOTEBOOKS)
    builds = ws.build()
    prod = objects(builds["prod-us-east"])[("ConfigMap", "ai-research", "notebook-profile")]["data"]
    assert prod == {
        "cluster": "prod-us-east",
        "environment": "prod",
        "kubernetes": "1.34",
        "flavors": "a100-mig-1g10gb,h100",
        "gpu-resources": "nvidia.com/gpu,nvidia.com/mig-1g.10gb",
        "serving": "chat-llm,reranker,summarizer",
        "repo": "https://github.com/acme/ai-platform.git",
    }
    staging = objects(builds["staging-eu"])[("ConfigMap", "ml-platform", "notebook-profile")]["data"]
    assert staging["cluster"] == "staging-eu" and staging["kubernetes"] == "1.33"
    # Its own unit, after tenancy whose namespaces it uses; an Application on Argo CD.
    notebooks = unit(builds["prod-us-east"], "notebooks")
    assert notebooks is not None and notebooks.depends_on == ("tenancy",)
    assert ("Application", "argocd", "prod-us-east-notebooks") in objects(builds["prod-us-east"])


def test_restriction_to_environments_and_clusters_and_plain_yaml(ws):
    ws.write("components/mirror/component.yaml", "environments: [staging]\n")
    ws.write("components/mirror/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: mirror}\n")
    ws.write("components/paging/component.yaml", "clusters: [prod-us-east]\n")
    ws.write("components/paging/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: paging}\n")
    builds = ws.build()
    assert unit(builds["staging-eu"], "mirror") is not None and unit(builds["prod-us-east"], "mirror") is None
    assert unit(builds["prod-us-east"], "paging") is not None and unit(builds["staging-eu"], "paging") is None
    assert ("Namespace", "", "mirror") in objects(builds["staging-eu"])


def test_a_template_rendering_nothing_yields_no_unit_there(ws):
    ws.write(
        "components/dra-extras/classes.yaml.j2",
        """
        {% if model.dra %}
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: dra-notes, namespace: ai-research}
        data: {allocation: dra}
        {% endif %}
        """,
    )
    builds = ws.build()
    assert unit(builds["prod-us-east"], "dra-extras") is not None  # gpuAllocation: dra
    assert unit(builds["staging-eu"], "dra-extras") is None  # device-plugin
    assert not any(u.name.startswith("dra-extras") for u in builds["staging-eu"].units)


def test_after_orders_a_custom_component_after_another(ws):
    ws.write("components/base-ns/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: tools}\n")
    ws.write("components/late/component.yaml", "after: [network, early]\n")
    ws.write(
        "components/late/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: default}\n",
    )
    ws.write("components/early/component.yaml", "clusters: [staging-eu]\n")
    ws.write(
        "components/early/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y, namespace: default}\n",
    )
    builds = ws.build()
    assert unit(builds["staging-eu"], "late").depends_on == ("early", "network")
    # `early` does not exist on prod: the order is simply not needed there.
    assert unit(builds["prod-us-east"], "late").depends_on == ("network",)
    assert unit(builds["staging-eu"], "late").wave > unit(builds["staging-eu"], "network").wave


def test_chart_component_splits_custom_resources_into_a_config_unit(ws):
    ws.write(
        "components/volcano/component.yaml",
        """
        chart:
          repository: https://volcano-sh.github.io/helm-charts
          chart: volcano
          version: 1.15.1
          namespace: volcano-system
          values: {custom: {scheduler_replicas: 2}}
          crdGroups: [scheduling.volcano.sh]
        """,
    )
    ws.write(
        "components/volcano/q.yaml",
        "apiVersion: scheduling.volcano.sh/v1beta1\nkind: Queue\nmetadata: {name: q}\n",
    )
    builds = ws.build()
    staging = objects(builds["staging-eu"])
    release = staging[("HelmRelease", "flux-system", "volcano")]
    assert release["spec"]["chart"]["spec"]["version"] == "1.15.1"
    assert release["spec"]["values"] == {"custom": {"scheduler_replicas": 2}}
    assert unit(builds["staging-eu"], "volcano-config").depends_on == ("volcano",)
    app = objects(builds["prod-us-east"])[("Application", "argocd", "prod-us-east-volcano")]
    assert app["spec"]["source"]["chart"] == "volcano"


def test_undefined_template_variable_names_its_line(ws):
    ws.write(
        "components/notebooks/profile.yaml.j2",
        """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: profile
          namespace: default
        data:
          owner: {{ cluster.spec.owner }}
        """,
    )
    [error] = ws.errors()
    assert error.startswith(
        "overlays/components/notebooks/profile.yaml.j2:7:1: "
        "template error on cluster(s) prod-us-east, staging-eu: "
    )
    assert "has no attribute 'owner'" in error
    assert "(expected a defined variable or attribute; the context has: platform, cluster, model," in error


def test_undefined_variable_inside_a_loop_on_one_cluster_only(ws):
    ws.write(
        "components/n/a.yaml.j2",
        """
        {% if model.dra %}
        {% for t in teams %}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c, namespace: {{ t.namspace }}}
        {% endfor %}
        {% endif %}
        """,
    )
    [error] = ws.errors()
    assert error.startswith(
        "overlays/components/n/a.yaml.j2:6:1: template error on cluster(s) prod-us-east: "
    )


def test_template_syntax_error_names_its_line(ws):
    ws.write(
        "components/n/a.yaml.j2", "apiVersion: v1\nkind: ConfigMap\n{% for t in teams %}\nmetadata: {}\n"
    )
    [error] = ws.errors()
    assert error.startswith("overlays/components/n/a.yaml.j2:")
    assert "template syntax error: Unexpected end of template" in error
    ws.write("components/n/a.yaml.j2", "apiVersion: v1\n{{ teams | nosuchfilter }}\n")
    assert ws.errors() == [
        "overlays/components/n/a.yaml.j2:2:1: template syntax error: No filter named 'nosuchfilter'."
    ]


def test_rendered_text_that_is_not_yaml(ws):
    ws.write(
        "components/n/a.yaml.j2", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ teams | length }}\n"
    )
    [error] = ws.errors()
    assert error.startswith("overlays/components/n/a.yaml.j2:")
    assert (
        "YAML syntax error" in error
        and "of the text rendered for cluster(s) prod-us-east, staging-eu" in error
    )


def test_component_yaml_names_must_exist(ws):
    ws.write("components/n/component.yaml", "after: [tenancy, kueu]\nclusters: [prod-us-east, prod-eu]\n")
    ws.write("components/n/a.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n")
    assert ws.errors() == [
        "overlays/components/n/component.yaml:1:18: 'after' names unknown component 'kueu' "
        "(expected one of: cert-manager, dra, gpu-operator, guard-params, guardrails, keda, kserve, kserve-crds, "
        "kueue, monitoring, network, runtimes, serving, sigstore, tenancy)",
        "overlays/components/n/component.yaml:2:26: 'clusters' names unknown cluster 'prod-eu' "
        "(expected one of: prod-us-east, staging-eu)",
    ]


def test_component_yaml_shape_and_reserved_names(ws):
    ws.write("components/tenancy/component.yaml", "after: []\n")
    ws.write(
        "components/x/component.yaml",
        "chart: {repository: ftp://x, chart: x, version: 1.0.0, namespace: x}\n",
    )
    errors = ws.errors()
    assert errors[0].startswith(
        "overlays/components/tenancy/component.yaml:1:1: "
        "custom component name 'tenancy' is taken by a built-in"
    )
    assert errors[1].startswith(
        "overlays/components/x/component.yaml:1:21: invalid value 'ftp://x' for 'chart.repository'"
    )


def test_error_inside_an_included_template_names_the_included_file(ws):
    ws.write("components/n/_labels.j2", "team: {{ team.nmae }}\n")
    ws.write(
        "components/n/a.yaml.j2",
        """
        {% for team in teams %}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: c
          namespace: {{ team.namespace }}
          labels:
            {% include "_labels.j2" %}
        {% endfor %}
        """,
    )
    [error] = ws.errors()
    assert error.startswith("overlays/components/n/_labels.j2:1:1: template error on cluster(s) ")


def test_patches_reach_objects_of_custom_components(ws):
    ws.write("components/tools/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: tools}\n")
    ws.write(
        "clusters/staging-eu/tools.yaml",
        """
        apiVersion: platformc.dev/v1alpha1
        kind: Patch
        target: {kind: Namespace, name: tools}
        merge: {metadata: {labels: {pod-security.kubernetes.io/enforce: baseline}}}
        """,
    )
    builds = ws.build()
    labels = objects(builds["staging-eu"])[("Namespace", "", "tools")]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    prod = objects(builds["prod-us-east"])[("Namespace", "", "tools")]
    assert "pod-security.kubernetes.io/enforce" not in prod["metadata"]["labels"]


def test_an_invalid_object_rendered_by_a_template_names_its_line(ws):
    ws.write(
        "components/n/a.yaml.j2",
        """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: first, namespace: default}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          namespace: default
        """,
    )
    errors = ws.errors()
    assert len(errors) == 1, errors
    # Where the second document starts in the template (line 5), not line 1 of the file.
    assert errors[0].startswith(
        "overlays/components/n/a.yaml.j2:5:1: document is neither a patch nor an object: no metadata.name"
    ), errors[0]


def test_custom_component_whose_argo_application_name_would_be_too_long(ws):
    name = "x" * 40  # prod-us-east- (13) + 40 + -config (7) = 60: fits
    ws.write(f"components/{name}/a.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: n1}\n")
    assert name in {u.name for u in ws.build()["prod-us-east"].units}
    long_name = "y" * 44  # prod-us-east- (13) + 44 + -config (7) = 64
    ws.write(f"components/{long_name}/component.yaml", "clusters: [prod-us-east]\n")
    ws.write(f"components/{long_name}/a.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: n2}\n")
    assert ws.errors() == [
        f"overlays/components/{long_name}/component.yaml:1:1: custom component '{long_name}' would become the "
        f"Argo CD Application 'prod-us-east-{long_name}-config' on cluster 'prod-us-east', 64 characters "
        "(expected at most 63: shorten the component's folder name)"
    ]
