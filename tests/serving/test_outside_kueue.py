"""Serving is never queued or preempted by batch.

The rule, from Kueue v0.19.2:
- pkg/controller/jobframework/setup.go: an integration runs when it is in
  Configuration.integrations.frameworks or implicitly enabled by one that is (`deployment`,
  `statefulset` and `leaderworkerset` enable `pod`: deployment_controller.go,
  statefulset_controller.go, leaderworkerset_controller.go ImplicitlyEnabledFrameworkNames);
  every other integration gets a no-op webhook;
- pkg/controller/jobs/deployment/deployment_webhook.go and pkg/controller/jobs/pod/pod_webhook.go:
  a Deployment or Pod without the kueue.x-k8s.io/queue-name label gets queue-name `default`
  when its namespace has a LocalQueue named `default` (jobframework/defaults.go
  ApplyDefaultLocalQueueWithManagedJobsNamespaceSelector, LocalQueueDefaulting) and matches
  managedJobsNamespaceSelector (apis/config/v1beta2/defaults.go: every namespace but kube-system
  and Kueue's own), and is suspended into a Workload when it has a queue name or
  manageJobsWithoutQueueName is true.
KServe v0.20 Standard mode runs every predictor as a Deployment (`<isvc>-predictor`) of Pods.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from compiler.components import kueue
from compiler.components.kueue import INTEGRATIONS
from compiler.naming import SERVING_PRIORITY_CLASS, dra_quota_key
from compiler.pipeline import ClusterBuild
from compiler.verify.kserve_pods import inference_service_pods
from tests.ai.conftest import objects
from tests.serving.conftest import kserve_config

QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
IMPLICITLY_ENABLES_POD = {"deployment", "statefulset", "leaderworkerset.x-k8s.io/leaderworkerset"}
KUEUE_NAMESPACE = "kueue-system"


def kueue_configuration(build: ClusterBuild) -> dict[str, Any]:
    """The Configuration the kueue chart gets (values managerConfig.controllerManagerConfigYaml)."""
    (chart,) = kueue.COMPONENT.build(build.model).charts
    return yaml.safe_load(chart.values["managerConfig"]["controllerManagerConfigYaml"])


def active_integrations(config: dict[str, Any]) -> set[str]:
    frameworks = set(config.get("integrations", {}).get("frameworks") or ["batch/job"])
    return frameworks | ({"pod"} if frameworks & IMPLICITLY_ENABLES_POD else set())


def _selector_matches(selector: dict[str, Any], namespace: str) -> bool:
    labels = {"kubernetes.io/metadata.name": namespace}
    for expr in selector.get("matchExpressions", []):
        value = labels.get(expr["key"])
        if expr["operator"] == "NotIn" and value in expr["values"]:
            return False
        if expr["operator"] == "In" and value not in expr["values"]:
            return False
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def kueue_manages_predictors(config: dict[str, Any], build: ClusterBuild) -> list[str]:
    """The InferenceServices whose predictor Deployment or Pods Kueue would queue, by the rule above."""
    active = active_integrations(config)
    if not active & {"deployment", "pod"}:
        return []
    selector = config.get("managedJobsNamespaceSelector") or {
        "matchExpressions": [
            {
                "key": "kubernetes.io/metadata.name",
                "operator": "NotIn",
                "values": ["kube-system", KUEUE_NAMESPACE],
            }
        ]
    }
    default_queues = {
        o["metadata"]["namespace"] for o in objects(build, "LocalQueue") if o["metadata"]["name"] == "default"
    }
    captured = []
    for isvc in objects(build, "InferenceService"):
        namespace = isvc["metadata"]["namespace"]
        named = QUEUE_LABEL in isvc["metadata"].get("labels", {})
        defaulted = namespace in default_queues and _selector_matches(selector, namespace)
        if named or defaulted or config.get("manageJobsWithoutQueueName", False):
            captured.append(f"{namespace}/{isvc['metadata']['name']}")
    return captured


def test_kueue_cannot_manage_any_predictor(example_builds: dict[str, ClusterBuild], synthetic_builds) -> None:
    for build in [*example_builds.values(), *synthetic_builds.values()]:
        config = kueue_configuration(build)
        assert objects(build, "InferenceService")
        assert kueue_manages_predictors(config, build) == [], build.model.name
        assert config["manageJobsWithoutQueueName"] is False
        # Batch still goes through Kueue: every team namespace keeps its LocalQueue.
        assert {"batch/job", "jobset.x-k8s.io/jobset"} <= set(config["integrations"]["frameworks"])


def test_the_rule_catches_the_old_configuration(example_builds: dict[str, ClusterBuild]) -> None:
    """With the `deployment` integration back (and the team LocalQueues named `default`), Kueue's
    LocalQueueDefaulting would queue every predictor: the check above is not vacuous."""
    build = example_builds["prod-us-east"]
    config = kueue_configuration(build)
    config["integrations"]["frameworks"] = [*INTEGRATIONS, "deployment"]
    assert kueue_manages_predictors(config, build) == [
        "ai-research/chat-llm",
        "ai-research/reranker",
        "ml-platform/summarizer",
    ]


def test_serving_pods_carry_the_serving_priority_class(
    example_builds: dict[str, ClusterBuild], shared_charts: Path
) -> None:
    """Serving pods outrank batch for the scheduler: batch pods set no PriorityClass (Kueue's
    WorkloadPriorityClasses order queues only), so they run at 0 and serving may preempt them,
    never the reverse."""
    for build in example_builds.values():
        (priority,) = (o for o in objects(build, "PriorityClass"))
        assert priority["metadata"]["name"] == SERVING_PRIORITY_CLASS
        assert priority["value"] > max(o["value"] for o in objects(build, "WorkloadPriorityClass"))
        assert priority["value"] < 2000000000  # below system-cluster-critical
        assert priority["globalDefault"] is False
        config = kserve_config(build.model, shared_charts)
        for isvc in objects(build, "InferenceService"):
            for pod in inference_service_pods(isvc, config):
                assert pod.pod["spec"]["priorityClassName"] == SERVING_PRIORITY_CLASS


def _quota_applies(quota: dict[str, Any], pod: dict[str, Any]) -> bool:
    """Whether a ResourceQuota counts the pod: a quota without scopes counts every pod; the only
    scope platformc sets is PriorityClass (kubernetes pkg/quota/v1/evaluator/core/pods.go
    podMatchesScopeFunc, PriorityClass with In / NotIn / Exists / DoesNotExist)."""
    assert not quota["spec"].get("scopes"), quota
    priority = pod["spec"].get("priorityClassName")
    for expression in quota["spec"].get("scopeSelector", {}).get("matchExpressions", []):
        assert expression["scopeName"] == "PriorityClass", expression
        operator, values = expression["operator"], expression.get("values", [])
        matches = {
            "Exists": priority is not None,
            "DoesNotExist": priority is None,
            "In": priority in values,
            "NotIn": priority is not None and priority not in values,
        }[operator]
        if not matches:
            return False
    return True


def test_namespace_quota_still_bounds_serving(
    example_builds: dict[str, ClusterBuild], shared_charts: Path
) -> None:
    """ResourceQuota admits a pod only if its GPU, CPU and memory requests fit: serving pods request
    all three (GPUs through a DRA claim on dra clusters, counted as <class>.deviceclass.resource.k8s.io/devices),
    and every quota of the namespace that counts the pod (the team's quota, and the guards
    no-other-gpus / no-priority-class) must leave room for it: none holds one of its resources at 0."""
    for build in example_builds.values():
        quotas: dict[str, list[dict[str, Any]]] = {}
        for quota in objects(build, "ResourceQuota"):
            quotas.setdefault(quota["metadata"]["namespace"], []).append(quota)
        config = kserve_config(build.model, shared_charts)
        for isvc in objects(build, "InferenceService"):
            for pod in inference_service_pods(isvc, config):
                applying = [
                    q["spec"]["hard"]
                    for q in quotas[isvc["metadata"]["namespace"]]
                    if _quota_applies(q, pod.pod)
                ]
                hard = {k: v for h in applying for k, v in h.items()}
                (main,) = pod.pod["spec"]["containers"]
                assert {"cpu", "memory"} <= set(main["resources"]["requests"])
                assert main["resources"]["requests"] == {
                    k: v for k, v in main["resources"]["limits"].items() if k in main["resources"]["requests"]
                }
                assert {"requests.cpu", "requests.memory"} <= set(hard)
                if build.model.dra:
                    template = pod.pod["spec"]["resourceClaims"][0]["resourceClaimTemplateName"]
                    flavor = template.rsplit("-", 1)[0]
                    counted = [dra_quota_key(flavor)]
                else:
                    gpu = next(k for k in main["resources"]["limits"] if k.startswith("nvidia.com/"))
                    counted = [f"requests.{gpu}"]
                counted += ["pods", "requests.cpu", "requests.memory"]
                assert counted[0] in hard
                for h in applying:
                    assert all(h.get(key) != "0" for key in counted), (pod.deployment, h)
