"""Patches and added objects: what a user writing overlays/ sees in the compiled tree."""

from __future__ import annotations

from tests.overlays.overlay_helpers import objects, unit

ANNOTATE = """
apiVersion: platformc.dev/v1alpha1
kind: Patch
target: {{kind: Namespace, name: ai-research}}
merge: {{metadata: {{annotations: {{acme.com/tier: {tier}}}}}}}
"""


def tier(build) -> str | None:
    return (
        objects(build)[("Namespace", "", "ai-research")]["metadata"]
        .get("annotations", {})
        .get("acme.com/tier")
    )


def test_cluster_beats_environment_beats_all_on_the_same_field(ws):
    ws.write("all/tier.yaml", ANNOTATE.format(tier="all"))
    ws.write("environments/prod/tier.yaml", ANNOTATE.format(tier="prod"))
    ws.write("environments/staging/tier.yaml", ANNOTATE.format(tier="staging"))
    builds = ws.build()
    assert tier(builds["prod-us-east"]) == "prod"
    assert tier(builds["staging-eu"]) == "staging"

    ws.write("clusters/prod-us-east/tier.yaml", ANNOTATE.format(tier="cluster"))
    builds = ws.build()
    assert tier(builds["prod-us-east"]) == "cluster"
    assert tier(builds["staging-eu"]) == "staging"


def test_merge_patch_sets_and_removes_fields_rfc7386(ws):
    ws.write(
        "all/quota.yaml",
        """
        apiVersion: platformc.dev/v1alpha1
        kind: Patch
        target: {kind: ResourceQuota, name: ai-research, namespace: ai-research}
        merge:
          metadata: {labels: {platformc.dev/cost-center: null}}
          spec: {hard: {requests.cpu: "300", pods: "500"}}
        """,
    )
    quota = objects(ws.build()["prod-us-east"])[("ResourceQuota", "ai-research", "ai-research")]
    assert quota["spec"]["hard"]["requests.cpu"] == "300"
    assert quota["spec"]["hard"]["pods"] == "500"
    assert quota["spec"]["hard"]["requests.memory"] == "2Ti"  # untouched fields stay
    assert "platformc.dev/cost-center" not in quota["metadata"]["labels"]  # null removes


def test_json_patch_operations_apply_in_order_rfc6902(ws):
    ws.write(
        "environments/prod/limits.yaml",
        """
        apiVersion: platformc.dev/v1alpha1
        kind: Patch
        target: {kind: LimitRange, name: defaults, namespace: ml-platform}
        jsonPatch:
          - {op: test, path: /spec/limits/0/type, value: Container}
          - {op: replace, path: /spec/limits/0/default/memory, value: 16Gi}
          - {op: add, path: /spec/limits/-, value: {type: Pod, max: {memory: 64Gi}}}
          - {op: copy, from: /spec/limits/0/default/cpu, path: /spec/limits/0/defaultRequest/cpu}
        """,
    )
    builds = ws.build()
    limits = objects(builds["prod-us-east"])[("LimitRange", "ml-platform", "defaults")]["spec"]["limits"]
    assert limits[0]["default"]["memory"] == "16Gi"
    assert limits[0]["defaultRequest"]["cpu"] == limits[0]["default"]["cpu"] == "2"
    assert limits[1] == {"type": "Pod", "max": {"memory": "64Gi"}}
    # An environment overlay leaves other environments alone.
    staging = objects(builds["staging-eu"])[("LimitRange", "ml-platform", "defaults")]["spec"]["limits"]
    assert staging[0]["default"]["memory"] == "4Gi" and len(staging) == 1


def test_label_selector_targets_every_matching_object_without_a_name(ws):
    ws.write(
        "all/high-cost.yaml",
        """
        apiVersion: platformc.dev/v1alpha1
        kind: Patch
        target:
          kind: NetworkPolicy
          labelSelector:
            matchLabels: {platformc.dev/team: ai-research}
            matchExpressions:
              - {key: platformc.dev/cost-center, operator: In, values: [CC-1234, CC-9999]}
        merge: {metadata: {annotations: {acme.com/reviewed: "yes"}}}
        """,
    )
    objs = objects(ws.build()["prod-us-east"])
    policies = {k: o for k, o in objs.items() if k[0] == "NetworkPolicy"}
    reviewed = {
        k for k, o in policies.items() if o["metadata"].get("annotations", {}).get("acme.com/reviewed")
    }
    assert reviewed == {k for k in policies if k[1] == "ai-research"}
    assert len(reviewed) >= 5


def test_name_without_namespace_matches_in_every_namespace(ws):
    ws.write(
        "clusters/staging-eu/limits.yaml",
        """
        apiVersion: platformc.dev/v1alpha1
        kind: Patch
        target: {kind: LimitRange, name: defaults}
        jsonPatch: [{op: replace, path: /spec/limits/0/default/cpu, value: "4"}]
        """,
    )
    objs = objects(ws.build()["staging-eu"])
    cpus = {k[1]: o["spec"]["limits"][0]["default"]["cpu"] for k, o in objs.items() if k[0] == "LimitRange"}
    assert cpus == {"ai-research": "4", "app-frontend": "4", "ml-platform": "4"}


def test_added_objects_join_the_overlays_unit_ordered_after_the_namespace_they_use(ws):
    ws.write(
        "all/config.yaml",
        """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: notebook-defaults, namespace: ai-research}
        data: {image: jupyter/base:2025-01}
        ---
        apiVersion: platformc.dev/v1alpha1
        kind: Patch
        target: {kind: ConfigMap, name: notebook-defaults}
        merge: {data: {gpu: "1"}}
        """,
    )
    ws.write(
        "clusters/prod-us-east/config.yaml",
        """
        apiVersion: platformc.dev/v1alpha1
        kind: Patch
        target: {kind: ConfigMap, name: notebook-defaults, namespace: ai-research}
        merge: {data: {image: jupyter/cuda:2025-01}}
        """,
    )
    builds = ws.build()
    prod, staging = builds["prod-us-east"], builds["staging-eu"]
    assert objects(prod)[("ConfigMap", "ai-research", "notebook-defaults")]["data"] == {
        "image": "jupyter/cuda:2025-01",  # a later layer patches an object an earlier layer added
        "gpu": "1",  # a patch sees objects its own layer adds
    }
    cm = objects(staging)[("ConfigMap", "ai-research", "notebook-defaults")]
    assert cm["data"]["image"] == "jupyter/base:2025-01"
    assert cm["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "platformc"}
    overlays = unit(prod, "overlays")
    assert overlays is not None and overlays.depends_on == ("tenancy",)
    assert overlays.wave > unit(prod, "tenancy").wave
    # Argo CD gets an Application for the unit, in a later wave than tenancy's.
    app = objects(prod)[("Application", "argocd", "prod-us-east-overlays")]
    assert app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == str(overlays.wave)
    # Flux gets a Kustomization depending on tenancy.
    ks = objects(staging)[("Kustomization", "flux-system", "overlays")]
    assert ks["spec"]["dependsOn"] == [{"name": "tenancy"}]


def test_added_custom_resource_is_ordered_after_the_chart_providing_its_crd(ws):
    ws.write(
        "components/volcano/component.yaml",
        """
        chart: {repository: https://volcano-sh.github.io/helm-charts, chart: volcano, version: 1.15.1,
                namespace: volcano-system, crdGroups: [scheduling.volcano.sh]}
        """,
    )
    ws.write(
        "clusters/prod-us-east/queue.yaml",
        """
        apiVersion: scheduling.volcano.sh/v1beta1
        kind: Queue
        metadata: {name: burst}
        spec: {weight: 1}
        """,
    )
    prod = ws.build()["prod-us-east"]
    assert unit(prod, "overlays").depends_on == ("volcano",)


def test_no_overlays_folder_means_no_overlays(ws):
    ws.overlays.rmdir()
    builds = ws.build()
    assert unit(builds["prod-us-east"], "overlays") is None
