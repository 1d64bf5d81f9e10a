"""Bad-spec cases for serving: model stores, resources and quota, autoscaling. Each is a small
edit of tests/spec/base_spec.py and the exact errors a user sees (tests/spec/test_bad_specs.py
runs them with the other cases)."""

from __future__ import annotations

from tests.spec.base_spec import PLATFORM, SERVING, TEAM
from tests.spec.cases import Case, edit


def serving(extra: str) -> dict[str, str | None]:
    """The base serving path with lines appended under spec (line 11 onwards)."""
    return {"serving/chat.yaml": SERVING + extra}


SERVING_CASES = [
    Case(
        "storage-uri-outside-every-store",
        {"serving/chat.yaml": edit(SERVING, "s3://models/chat", "s3://other-bucket/chat")},
        [
            "spec/serving/chat.yaml:8:44: storageUri 's3://other-bucket/chat' cannot be downloaded: it is in no model store team 'research' may use, so its egress stays denied (expected a URI under s3://models/ (models))",
        ],
    ),
    Case(
        "storage-uri-prefix-is-not-a-folder",
        {"serving/chat.yaml": edit(SERVING, "s3://models/chat", "s3://models-old/chat")},
        [
            "spec/serving/chat.yaml:8:44: storageUri 's3://models-old/chat' cannot be downloaded: it is in no model store team 'research' may use, so its egress stays denied (expected a URI under s3://models/ (models))",
        ],
    ),
    Case(
        "canary-storage-uri-outside-every-store",
        serving(
            '  resources: {memory: 32Gi}\n  canary: {storageUri: "gs://elsewhere/chat-v2", trafficPercent: 10}\n'
        ),
        [
            "spec/serving/chat.yaml:12:24: storageUri 'gs://elsewhere/chat-v2' cannot be downloaded: it is in no model store team 'research' may use, so its egress stays denied (expected a URI under s3://models/ (models))",
        ],
    ),
    Case(
        "store-not-for-this-team",
        {
            "platform.yaml": edit(PLATFORM, "teams: [research]", "teams: [web]"),
            "teams/web.yaml": edit(TEAM, "name: research", "name: web"),
        },
        [
            "spec/serving/chat.yaml:8:44: storageUri 's3://models/chat' cannot be downloaded: model store(s) models hold it but do not list team 'research', so its egress stays denied (expected 'research' in the store's teams)",
        ],
    ),
    Case(
        "store-names-unknown-team",
        {"platform.yaml": edit(PLATFORM, "teams: [research]", "teams: [research, reserch]")},
        [
            "spec/platform.yaml:15:25: model store 'models' names unknown team 'reserch' (expected one of: research)",
        ],
    ),
    Case(
        "duplicate-model-store",
        {
            "platform.yaml": PLATFORM
            + "    - name: models\n      uriPrefix: gs://models/\n"
            + "      endpoint: {host: storage.googleapis.com, port: 443, cidr: 142.250.0.0/15}\n"
            + "      teams: [research]\n"
        },
        [
            "spec/platform.yaml:16:13: duplicate model store 'models' (expected unique modelStores names)",
        ],
    ),
    Case(
        "store-endpoint-cidr-is-a-host",
        {"platform.yaml": edit(PLATFORM, "cidr: 10.20.0.0/16", "cidr: s3.example.com")},
        [
            "spec/platform.yaml:13:57: invalid value 's3.example.com' for 'spec.modelStores[0].endpoint.cidr' (expected an IPv4 CIDR such as 10.20.0.0/16)",
        ],
    ),
    Case(
        "store-endpoint-cidr-has-host-bits",
        {"platform.yaml": edit(PLATFORM, "cidr: 10.20.0.0/16", "cidr: 10.20.3.7/16")},
        [
            "spec/platform.yaml:13:57: model store 'models' endpoint cidr is not a network: 10.20.3.7/16 has host bits set (expected an IPv4 CIDR whose host bits are zero, such as 10.20.0.0/16)",
        ],
    ),
    Case(
        "scale-to-zero-on-cpu",
        {"serving/chat.yaml": edit(SERVING, "min: 1, max: 2", "min: 0, max: 2")},
        [
            "spec/serving/chat.yaml:10:19: replicas.min 0 (scale to zero) needs KEDA and a signal that exists while no replica runs, but autoscaling.metric is cpu (expected autoscaling.metric requestRate or prometheus, or replicas.min >= 1)",
        ],
    ),
    Case(
        "scale-to-zero-on-concurrency",
        {
            "serving/chat.yaml": edit(SERVING, "min: 1, max: 2", "min: 0, max: 2")
            + "  autoscaling: {metric: concurrency, target: 8}\n"
        },
        [
            "spec/serving/chat.yaml:10:19: replicas.min 0 (scale to zero) needs KEDA and a signal that exists while no replica runs, but autoscaling.metric is concurrency (expected autoscaling.metric requestRate or prometheus, or replicas.min >= 1)",
        ],
    ),
    Case(
        "scale-to-zero-with-a-canary",
        {
            "serving/chat.yaml": edit(SERVING, "min: 1, max: 2", "min: 0, max: 2")
            + "  autoscaling: {metric: requestRate, target: 5}\n"
            + '  canary: {storageUri: "s3://models/chat-v2", trafficPercent: 10}\n'
        },
        [
            "spec/serving/chat.yaml:10:19: replicas.min 0 leaves the canary without replicas: KServe v0.20 runs at most replicas.min canary replicas (expected replicas.min >= 1 while a canary is set)",
        ],
    ),
    Case(
        "prometheus-without-query",
        serving("  autoscaling: {metric: prometheus, target: 4}\n"),
        [
            "spec/serving/chat.yaml:11:25: autoscaling.metric prometheus needs a query (expected autoscaling.query: a PromQL expression whose value KEDA divides by target)",
        ],
    ),
    Case(
        "query-without-prometheus",
        serving('  autoscaling: {metric: requestRate, target: 4, query: "sum(up)"}\n'),
        [
            "spec/serving/chat.yaml:11:56: autoscaling.query is only read with metric prometheus, not requestRate (expected no query, or metric: prometheus)",
        ],
    ),
    Case(
        "query-is-not-promql",
        serving('  autoscaling: {metric: prometheus, target: 4, query: "sum(vllm:num_requests_waiting"}\n'),
        [
            "spec/serving/chat.yaml:11:55: autoscaling.query is not valid PromQL: unclosed left parenthesis (expected a PromQL expression)",
        ],
    ),
    Case(
        "cpu-target-over-100",
        serving("  autoscaling: {metric: cpu, target: 150}\n"),
        [
            "spec/serving/chat.yaml:11:38: autoscaling.target 150 is not a CPU utilisation percentage (expected an integer 1..100 with metric cpu)",
        ],
    ),
    Case(
        "keda-with-nothing-to-scale",
        {
            "serving/chat.yaml": edit(SERVING, "min: 1, max: 2", "min: 2, max: 2")
            + "  autoscaling: {metric: concurrency, target: 8}\n"
        },
        [
            "spec/serving/chat.yaml:11:25: autoscaling by concurrency with replicas.min = replicas.max = 2 cannot change anything (expected replicas.max > replicas.min, or no autoscaling)",
        ],
    ),
    Case(
        "unknown-autoscaling-metric",
        serving("  autoscaling: {metric: gpu, target: 80}\n"),
        [
            "spec/serving/chat.yaml:11:25: invalid value 'gpu' for 'spec.autoscaling.metric' (expected 'cpu', 'concurrency', 'requestRate' or 'prometheus')",
        ],
    ),
    Case(
        "serving-over-team-quota",
        {"serving/chat.yaml": edit(SERVING, "min: 1, max: 2", "min: 1, max: 4")},
        [
            "spec/serving/chat.yaml:10:27: serving paths of team 'research' on cluster 'east' need memory 360Gi > 256Gi at replicas.max (with 'chat': 4 pods of cpu 8, memory 90Gi incl. /dev/shm), over the namespace ResourceQuota (expected fewer replicas, smaller spec.resources, or a larger team quota)",
        ],
    ),
    Case(
        "bad-shared-memory-quantity",
        serving("  resources: {sharedMemory: 8 GB}\n"),
        [
            "spec/serving/chat.yaml:11:29: invalid value '8 GB' for 'spec.resources.sharedMemory' (expected a Kubernetes quantity such as 64, 500m, 256Gi or 2Ti)",
        ],
    ),
    Case(
        "canary-name-too-long",
        {
            "serving/chat.yaml": edit(SERVING, "name: chat", "name: " + "c" * 47)
            + '  resources: {memory: 32Gi}\n  canary: {storageUri: "s3://models/chat-v2", trafficPercent: 10}\n'
        },
        [
            "spec/serving/chat.yaml:12:3: serving path name '"
            + "c" * 47
            + "' is too long for a canary: KServe names the canary Service '"
            + "c" * 47
            + "-canary-predictor' (64 characters; expected a name of at most 46 characters with a canary)",
        ],
    ),
    Case(
        "model-store-name-too-long",
        {"platform.yaml": edit(PLATFORM, "- name: models", "- name: " + "m" * 39)},
        [
            "spec/platform.yaml:11:13: model store name '"
            + "m" * 39
            + "' is too long: its egress NetworkPolicy would be 'allow-egress-model-store-"
            + "m" * 39
            + "' (64 characters; expected a store name of at most 38 characters)",
        ],
    ),
    Case(
        "model-store-prefix-scheme",
        {"platform.yaml": edit(PLATFORM, "uriPrefix: s3://models/", "uriPrefix: minio://models/")},
        [
            "spec/platform.yaml:12:18: invalid value 'minio://models/' for 'spec.modelStores[0].uriPrefix' (expected a URI prefix starting s3://, gs://, hf://, https:// or http://)",
        ],
    ),
    Case(
        "model-store-host-with-scheme",
        {"platform.yaml": edit(PLATFORM, "host: s3.example.com", "host: https://s3.example.com")},
        [
            "spec/platform.yaml:13:24: invalid value 'https://s3.example.com' for 'spec.modelStores[0].endpoint.host' (expected a lowercase DNS name such as minio.storage.example.com)",
        ],
    ),
]
