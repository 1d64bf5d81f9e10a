"""Bad-spec cases: each a small edit of the base spec and the exact errors a user must see."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.spec.base_spec import BASE_FILES, CLUSTER, FLAVORS, PLATFORM, SERVING, TEAM


def edit(text: str, old: str, new: str) -> str:
    assert old in text, f"test setup: {old!r} not in base text"
    return text.replace(old, new, 1)


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str | None]
    expected: list[str] = field(default_factory=list)


L4_FLAVOR = """---
apiVersion: platformc.dev/v1alpha1
kind: GPUFlavor
metadata:
  name: l4
spec:
  product: NVIDIA-L4
  memory: 24Gi
  hourlyCost: 0.8
"""

CASES = [
    Case(
        "tab-indentation",
        {"teams/research.yaml": edit(TEAM, "  costCenter: CC-1", "\tcostCenter: CC-1")},
        [
            "spec/teams/research.yaml:6:1: YAML syntax error: while scanning for the next token found character "
            "'\\t' that cannot start any token (YAML indents with spaces, never tabs)",
        ],
    ),
    Case(
        "yaml-syntax-error",
        {"flavors.yaml": edit(FLAVORS, "memory: 80Gi", "memory: [80Gi")},
        [
            "spec/flavors.yaml:8:13: YAML syntax error: while parsing a flow sequence expected ',' or ']', but got ':'",
        ],
    ),
    Case(
        "unknown-field",
        {"teams/research.yaml": edit(TEAM, "  owners:", "  ownres: [x]\n  owners:")},
        [
            "spec/teams/research.yaml:7:3: unknown field 'spec.ownres' (expected one of: allowEgressTo, allowIngressFrom, budget, clusters, costCenter, members, owners, podSecurity, policies, priority); did you mean 'owners'?",
        ],
    ),
    Case(
        "wrong-type",
        {"clusters/east.yaml": edit(CLUSTER, "nodes: 2,", "nodes: two,")},
        [
            "spec/clusters/east.yaml:11:46: wrong type for 'spec.nodePools[0].nodes': got 'two' (expected an integer)",
        ],
    ),
    Case(
        "missing-field",
        {"flavors.yaml": edit(FLAVORS, "  product: NVIDIA-H100-80GB-HBM3\n", "")},
        [
            "spec/flavors.yaml:6:3: missing required field 'spec.product' (expected 'spec' to have: product, memory, hourlyCost)",
        ],
    ),
    Case(
        "duplicate-name",
        {"flavors.yaml": edit(FLAVORS, "name: a100-mig", "name: h100")},
        [
            "spec/flavors.yaml:13:9: duplicate GPUFlavor name 'h100' (first defined at spec/flavors.yaml:4:9; expected names unique per kind)",
        ],
    ),
    Case(
        "invalid-dns-name",
        {"teams/research.yaml": edit(TEAM, "name: research", "name: Research_Team")},
        [
            "spec/teams/research.yaml:4:9: invalid value 'Research_Team' for 'metadata.name' (expected a DNS-1123 label: lowercase letters, digits and '-', starting and ending alphanumeric)",
        ],
    ),
    Case(
        "dangling-flavor",
        {"teams/research.yaml": edit(TEAM, "{flavor: h100, quota: 8", "{flavor: h200, quota: 8")},
        [
            "spec/serving/chat.yaml:9:30: one replica needs 1 'h100' GPUs but team 'research' may use at most 0 on cluster 'east' (expected count <= quota + borrowingLimit)",
            "spec/teams/research.yaml:13:20: quota on unknown GPUFlavor 'h200' (expected one of: a100-mig, h100)",
        ],
    ),
    Case(
        "dangling-cluster",
        {"teams/research.yaml": edit(TEAM, "cluster: east", "cluster: west")},
        [
            "spec/serving/chat.yaml:7:14: team 'research' has no namespace on cluster 'east' (expected a cluster the team lists: west)",
            "spec/teams/research.yaml:9:16: team 'research' lists unknown cluster 'west' (expected one of: east)",
        ],
    ),
    Case(
        "dangling-team",
        {"serving/chat.yaml": edit(SERVING, "team: research", "team: nobody")},
        [
            "spec/serving/chat.yaml:6:9: serving path 'chat' belongs to unknown team 'nobody' (expected one of: research)",
        ],
    ),
    Case(
        "quota-over-capacity",
        {"teams/research.yaml": edit(TEAM, "quota: 8,", "quota: 20,")},
        [
            "spec/teams/research.yaml:13:33: GPU quotas for 'h100' on cluster 'east' add up to 20, over the cluster's capacity of 16: 20 from team 'research' (spec/teams/research.yaml:13:33) (expected the sum of team quotas <= node pools' nodes × gpusPerNode × units per GPU)",
        ],
    ),
    Case(
        # Reported once, at the line that comes last in file order, with the whole total and
        # every contributing line, not a running sum at whichever team happened to cross it.
        "quota-over-capacity-two-teams",
        {
            "teams/vision.yaml": edit(
                edit(TEAM, "name: research", "name: vision"), "quota: 8,", "quota: 6,"
            ).replace("        - {flavor: a100-mig, quota: 28}\n", ""),
            "teams/research.yaml": edit(TEAM, "quota: 8,", "quota: 12,"),
        },
        [
            "spec/teams/vision.yaml:13:33: GPU quotas for 'h100' on cluster 'east' add up to 18, over the cluster's capacity of 16: 12 from team 'research' (spec/teams/research.yaml:13:33), 6 from team 'vision' (spec/teams/vision.yaml:13:33) (expected the sum of team quotas <= node pools' nodes × gpusPerNode × units per GPU)",
        ],
    ),
    Case(
        "dra-on-1.33",
        {
            "clusters/east.yaml": edit(
                CLUSTER, "  environment: prod\n", '  environment: prod\n  kubernetesVersion: "1.33"\n'
            )
        },
        [
            "spec/clusters/east.yaml:9:18: gpuAllocation dra needs Kubernetes >= 1.34 (resource.k8s.io/v1), but cluster 'east' runs 1.33 (expected gpuAllocation: device-plugin or kubernetesVersion >= \"1.34\")",
        ],
    ),
    Case(
        "two-platforms",
        {"other-platform.yaml": edit(PLATFORM, "name: test-ai", "name: second-ai")},
        [
            "spec/platform.yaml:1:1: second Platform document 'test-ai' (expected exactly one Platform; the first is 'second-ai' at spec/other-platform.yaml:1:1)",
        ],
    ),
    Case(
        "empty-spec-folder",
        dict.fromkeys(BASE_FILES),
        [
            "spec: spec folder holds no YAML documents (expected *.yaml files with a Platform and its Clusters, Teams …)",
        ],
    ),
    Case(
        "no-platform",
        {"platform.yaml": None},
        [
            "spec: no Platform document in the spec (expected exactly one document of kind: Platform)",
        ],
    ),
    Case(
        "unquoted-version",
        {"platform.yaml": edit(PLATFORM, 'kubernetesVersion: "1.34"', "kubernetesVersion: 1.30")},
        [
            "spec/platform.yaml:9:22: wrong type for 'spec.kubernetesVersion': got the number 1.30 (expected a string; quote it: \"1.30\")",
        ],
    ),
    Case(
        "unknown-kind",
        {"teams/research.yaml": edit(TEAM, "kind: Team", "kind: Teem")},
        [
            "spec/teams/research.yaml:2:7: unknown kind 'Teem' (expected one of: Platform, GPUFlavor, Cluster, Team, ServingPath)",
        ],
    ),
    Case(
        "wrong-api-version",
        {"serving/chat.yaml": edit(SERVING, "platformc.dev/v1alpha1", "platformc.dev/v1")},
        [
            "spec/serving/chat.yaml:1:13: apiVersion 'platformc.dev/v1' (expected apiVersion: platformc.dev/v1alpha1)",
        ],
    ),
    Case(
        "invalid-mig-profile",
        {"flavors.yaml": edit(FLAVORS, "migProfile: 1g.10gb", "migProfile: 1g.5gb")},
        [
            "spec/flavors.yaml:18:36: MIG profile '1g.5gb' does not exist on A100 80GB (expected one of: 1g.10gb, 1g.10gb+me, 1g.20gb, 2g.20gb, 3g.40gb, 4g.40gb, 7g.80gb)",
        ],
    ),
    Case(
        "mig-on-non-mig-product",
        {"flavors.yaml": edit(FLAVORS, "NVIDIA-A100-SXM4-80GB", "NVIDIA-L40S")},
        [
            "spec/flavors.yaml:18:19: product 'NVIDIA-L40S' does not support MIG (expected a MIG-capable product: A100 40GB, A100 80GB, H100 NVL, H100 80GB, H200, B200; or mode exclusive / time-slicing)",
        ],
    ),
    Case(
        "flavor-without-node-pool",
        {
            "flavors.yaml": FLAVORS + L4_FLAVOR,
            "teams/research.yaml": edit(TEAM, "{flavor: a100-mig, quota: 28}", "{flavor: l4, quota: 2}"),
        },
        [
            "spec/teams/research.yaml:14:20: GPUFlavor 'l4' has no node pool on cluster 'east' (expected a flavor of its node pools: a100-mig, h100)",
        ],
    ),
    Case(
        "node-pool-unknown-flavor",
        {"clusters/east.yaml": edit(CLUSTER, "flavor: h100, nodes", "flavor: h10, nodes")},
        [
            "spec/clusters/east.yaml:11:33: node pool 'h100-pool' uses unknown GPUFlavor 'h10' (expected one of: a100-mig, h100)",
            "spec/serving/chat.yaml:7:14: GPUFlavor 'h100' has no node pool on cluster 'east' (expected a cluster with a node pool of the serving path's flavor)",
            "spec/teams/research.yaml:13:20: GPUFlavor 'h100' has no node pool on cluster 'east' (expected a flavor of its node pools: a100-mig)",
        ],
    ),
    Case(
        "canary-out-of-range",
        {"serving/chat.yaml": SERVING + '  canary: {storageUri: "s3://models/chat-v2", trafficPercent: 0}\n'},
        [
            "spec/serving/chat.yaml:11:63: canary trafficPercent 0 is out of range (expected 1..99)",
        ],
    ),
    Case(
        "replicas-min-over-max",
        {"serving/chat.yaml": edit(SERVING, "{min: 1, max: 2}", "{min: 3, max: 2}")},
        [
            "spec/serving/chat.yaml:10:19: replicas.min 3 is more than replicas.max 2 (expected min <= max)",
        ],
    ),
    Case(
        "argocd-without-destination",
        {"clusters/east.yaml": edit(CLUSTER, "  gitops: {destination: https://east.example.com}\n", "")},
        [
            "spec/clusters/east.yaml:5:1: cluster 'east' syncs with argocd but has no spec.gitops.destination (expected the Argo CD destination server URL, e.g. https://kubernetes.default.svc)",
        ],
    ),
    Case(
        "reserved-namespace",
        {"teams/research.yaml": edit(TEAM, "name: research", "name: kube-system"), "serving/chat.yaml": None},
        [
            "spec/platform.yaml:15:15: model store 'models' names unknown team 'research' (expected one of: kube-system)",
            "spec/teams/research.yaml:4:9: team name 'kube-system' is a reserved namespace (expected a name other than Kubernetes' and the platform's own namespaces)",
        ],
    ),
    Case(
        "time-slicing-one-replica",
        {
            "flavors.yaml": edit(
                FLAVORS,
                "  hourlyCost: 4.10\n",
                "  hourlyCost: 4.10\n  sharing: {mode: time-slicing, replicas: 1}\n",
            )
        },
        [
            "spec/flavors.yaml:9:43: invalid value 1 for 'spec.sharing.replicas' (expected a number >= 2)",
        ],
    ),
    Case(
        "unknown-sharing-mode",
        {"flavors.yaml": edit(FLAVORS, "{mode: mig, migProfile: 1g.10gb}", "{mode: mps}")},
        [
            "spec/flavors.yaml:18:19: invalid value 'mps' for 'spec.sharing.mode' (expected 'exclusive', 'mig', 'time-slicing')",
        ],
    ),
    Case(
        "serving-outside-team-clusters",
        {"serving/chat.yaml": edit(SERVING, "clusters: [east]", "clusters: [east, west]")},
        [
            "spec/serving/chat.yaml:7:20: serving path 'chat' lists unknown cluster 'west' (expected one of: east)",
        ],
    ),
    Case(
        "gpu-count-over-quota",
        {"serving/chat.yaml": edit(SERVING, "count: 1", "count: 16")},
        [
            "spec/serving/chat.yaml:9:30: one replica needs 16 'h100' GPUs but team 'research' may use at most 12 on cluster 'east' (expected count <= quota + borrowingLimit)",
            "spec/serving/chat.yaml:9:30: one replica needs 16 'h100' GPUs, but a node of cluster 'east' has at most 8, so the pod can never be scheduled (expected count <= 8, the largest node pool's gpusPerNode)",
            "spec/serving/chat.yaml:10:27: serving paths of team 'research' on cluster 'east' need cpu 256 > 64, memory 2880Gi > 256Gi at replicas.max (with 'chat': 2 pods of cpu 128, memory 1440Gi incl. /dev/shm), over the namespace ResourceQuota (expected fewer replicas, smaller spec.resources, or a larger team quota)",
        ],
    ),
    Case(
        "unsupported-kubernetes-version",
        {"platform.yaml": edit(PLATFORM, '"1.34"', '"1.99"')},
        [
            "spec/platform.yaml:9:22: Kubernetes version '1.99' has no bundled schemas (expected one of 1.25, 1.26, 1.27, 1.28, 1.29, 1.30, 1.31, 1.32, 1.33, 1.34, 1.35, 1.36, 1.37)",
        ],
    ),
    Case(
        "document-not-a-mapping",
        {"extra.yaml": "- just\n- a list\n"},
        [
            "spec/extra.yaml:1:1: document is a list (expected a mapping with apiVersion, kind, metadata and spec)",
        ],
    ),
    Case(
        "duplicate-yaml-key",
        {
            "teams/research.yaml": edit(
                TEAM, "  costCenter: CC-1\n", "  costCenter: CC-1\n  costCenter: CC-2\n"
            )
        },
        [
            'spec/teams/research.yaml:7:3: YAML syntax error: while constructing a mapping found duplicate key "costCenter" with value "CC-2" (original value: "CC-1")',
        ],
    ),
    Case(
        "lending-over-quota",
        {
            "teams/research.yaml": edit(
                TEAM, "{flavor: a100-mig, quota: 28}", "{flavor: a100-mig, quota: 28, lendingLimit: 30}"
            )
        },
        [
            "spec/teams/research.yaml:14:55: lendingLimit 30 is more than the quota 28 (expected lendingLimit <= quota)",
        ],
    ),
    Case(
        "negative-quota",
        {"teams/research.yaml": edit(TEAM, "quota: 8,", "quota: -1,")},
        [
            "spec/teams/research.yaml:13:33: invalid value -1 for 'spec.clusters[0].gpus[0].quota' (expected a number >= 0)",
        ],
    ),
    Case(
        "bad-quantity",
        {"teams/research.yaml": edit(TEAM, "memory: 256Gi", "memory: 256 GB")},
        [
            "spec/teams/research.yaml:11:15: invalid value '256 GB' for 'spec.clusters[0].memory' (expected a Kubernetes quantity such as 64, 500m, 256Gi or 2Ti)",
        ],
    ),
    Case(
        "mig-count-over-one",
        {
            "serving/chat.yaml": edit(
                SERVING, "gpu: {flavor: h100, count: 1}", "gpu: {flavor: a100-mig, count: 2}"
            )
        },
        [
            "spec/serving/chat.yaml:9:34: gpu.count 2 on GPUFlavor 'a100-mig' (mig): one process uses one MIG "
            "instance (expected count 1, or an exclusive flavor for multi-GPU replicas)",
        ],
    ),
    Case(
        "pool-label-contradicts-node-pool-contract",
        {
            "clusters/east.yaml": edit(
                CLUSTER,
                "{name: mig-pool, flavor: a100-mig, nodes: 1, gpusPerNode: 8}",
                "{name: mig-pool, flavor: a100-mig, nodes: 1, gpusPerNode: 8,\n"
                "       labels: {nvidia.com/mig.config: all-1g.18gb}}",
            )
        },
        [
            "spec/clusters/east.yaml:13:40: node pool 'mig-pool' label nvidia.com/mig.config=all-1g.18gb "
            "contradicts the node-pool contract of cluster 'east' (expected nvidia.com/mig.config=a100-mig, "
            "or no such label; see node-pools.md in the cluster's tree)",
        ],
    ),
]
