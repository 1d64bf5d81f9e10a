"""Benchmark of the validation engine on a synthetic, realistic object set.

    python bench/validate.py [--objects 20000] [--schemas ../shared/schemas/crds]

Builds per-team objects the way platformc generates them (Namespace, NetworkPolicies,
ResourceQuota, LimitRange, RoleBindings, Kueue ClusterQueue/LocalQueue, Argo CD
Application) spread over clusters on Kubernetes 1.33 and 1.34, validates them and prints
objects, seconds, objects/s and peak RSS. Cold numbers include loading schemas and
compiling validators; warm numbers reuse the registry, as a long compile run would.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import yaml  # noqa: E402

from compiler.validate import DEFAULT_CHECKS, ObjectSet, SchemaRegistry, validate_objects, validate_tree  # noqa: E402

CLUSTERS = (("prod-us-east", "1.34"), ("prod-eu-west", "1.34"), ("staging", "1.33"), ("dev", "1.33"))
Obj = dict[str, Any]


def team_objects(team: str, cluster: str) -> list[Obj]:
    ns = team
    labels = {"app.kubernetes.io/managed-by": "platformc", "platformc.dev/team": team}
    meta = lambda name, namespaced=True: {  # noqa: E731 - tiny local helper
        "name": name,
        **({"namespace": ns} if namespaced else {}),
        "labels": dict(labels),
    }
    policies: list[Obj] = [
        {"podSelector": {}, "policyTypes": ["Ingress"]},
        {"podSelector": {}, "policyTypes": ["Egress"]},
        {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}
                    ],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                }
            ],
        },
        {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [{"podSelector": {}}]}],
            "egress": [{"to": [{"podSelector": {}}]}],
        },
        {
            "podSelector": {},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
                    ],
                    "ports": [{"protocol": "TCP", "port": "metrics"}],
                }
            ],
        },
    ]
    names = (
        "default-deny-ingress",
        "default-deny-egress",
        "allow-dns",
        "allow-same-namespace",
        "allow-scrape",
    )
    objects: list[Obj] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": ns,
                "labels": {**labels, "pod-security.kubernetes.io/enforce": "restricted"},
                "annotations": {"platformc.dev/cost-center": "CC-1234"},
            },
        }
    ]
    objects += [
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta(n), "spec": spec}
        for n, spec in zip(names, policies, strict=True)
    ]
    objects += [
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": meta("team-quota"),
            "spec": {
                "hard": {"requests.cpu": "256", "requests.memory": "2Ti", "requests.nvidia.com/gpu": "16"}
            },
        },
        {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": meta("defaults"),
            "spec": {"limits": [{"type": "Container", "default": {"cpu": "1", "memory": "2Gi"}}]},
        },
    ]
    for role, group in (("admin", f"{team}-admins"), ("edit", f"{team}-devs")):
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": meta(f"{team}-{role}"),
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}],
            }
        )
    objects += [
        {
            "apiVersion": "kueue.x-k8s.io/v1beta2",
            "kind": "ClusterQueue",
            "metadata": meta(team, namespaced=False),
            "spec": {
                "cohortName": "enterprise-ai-pool",
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}},
                "resourceGroups": [
                    {
                        "coveredResources": ["cpu", "memory", "nvidia.com/gpu"],
                        "flavors": [
                            {
                                "name": flavor,
                                "resources": [
                                    {"name": "cpu", "nominalQuota": "128"},
                                    {"name": "memory", "nominalQuota": "1Ti"},
                                    {"name": "nvidia.com/gpu", "nominalQuota": 16, "borrowingLimit": 8},
                                ],
                            }
                            for flavor in ("h100", "a100")
                        ],
                    }
                ],
                "preemption": {"reclaimWithinCohort": "Any", "withinClusterQueue": "LowerPriority"},
            },
        },
        {
            "apiVersion": "kueue.x-k8s.io/v1beta2",
            "kind": "LocalQueue",
            "metadata": meta("default"),
            "spec": {"clusterQueue": team},
        },
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {
                "name": f"team-{team}",
                "namespace": "argocd",
                "annotations": {"argocd.argoproj.io/sync-wave": "20"},
            },
            "spec": {
                "project": "default",
                "source": {
                    "repoURL": "https://github.com/acme/ai-platform.git",
                    "targetRevision": "main",
                    "path": f"generated/{cluster}/teams/{team}",
                },
                "destination": {"server": "https://kubernetes.default.svc", "namespace": ns},
                "syncPolicy": {
                    "automated": {"prune": True, "selfHeal": True},
                    "syncOptions": ["ServerSideApply=true"],
                },
            },
        },
    ]
    return objects


def cluster_objects(cluster: str) -> list[tuple[str, Obj]]:
    """(folder, object) each cluster needs once so that references and ordering resolve:
    the Kueue chart's Application (wave 0), and a later Application for the shared Kueue objects."""

    def app(name: str, wave: str, source: Obj) -> Obj:
        return {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {
                "name": name,
                "namespace": "argocd",
                "annotations": {"argocd.argoproj.io/sync-wave": wave},
            },
            "spec": {
                "project": "default",
                "source": source,
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "kueue-system"},
            },
        }

    kueue = {"repoURL": "registry.k8s.io/kueue/charts", "chart": "kueue", "targetRevision": "0.19.2"}
    config = {"repoURL": "https://github.com/acme/ai-platform.git", "path": f"generated/{cluster}/platform"}
    api = "kueue.x-k8s.io/v1beta2"
    return [
        ("apps", app("kueue", "0", kueue)),
        ("apps", app("platform-config", "10", config)),
        ("platform", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kueue-system"}}),
        ("platform", {"apiVersion": api, "kind": "Cohort", "metadata": {"name": "enterprise-ai-pool"}}),
        *(
            ("platform", {"apiVersion": api, "kind": "ResourceFlavor", "metadata": {"name": flavor}})
            for flavor in ("h100", "a100")
        ),
    ]


def object_set(count: int) -> Iterator[tuple[str, str, str, Obj]]:
    """About `count` (cluster, version, file, object) tuples, every object a fresh dict; whole
    teams only, so the security baseline finds every team namespace complete."""
    made = 0
    team_no = 0
    for cluster, version in CLUSTERS:
        for folder, obj in cluster_objects(cluster):
            kind = obj["kind"].lower()
            yield cluster, version, f"{cluster}/{folder}/{kind}-{obj['metadata']['name']}.yaml", obj
            made += 1
    while made < count:
        cluster, version = CLUSTERS[team_no % len(CLUSTERS)]
        team = f"team-{team_no:05d}"
        for obj in team_objects(team, cluster):
            kind = obj["kind"].lower()
            yield cluster, version, f"{cluster}/teams/{team}/{kind}-{obj['metadata']['name']}.yaml", obj
            made += 1
        team_no += 1


def write_tree(root: Path, objects: list[tuple[str, str, str, Obj]]) -> None:
    """Write the set as a generated tree (one object per file), as `compile` would."""
    for cluster, version in CLUSTERS:
        (root / cluster).mkdir(parents=True, exist_ok=True)
        meta = {"cluster": cluster, "kubernetesVersion": version, "engine": "argocd"}
        (root / cluster / "platformc-cluster.json").write_text(json.dumps(meta))
    for _, _, file, obj in objects:
        path = root / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.dump(obj, Dumper=yaml.CSafeDumper, sort_keys=False))


def peak_rss_mib() -> float:
    # ru_maxrss is KiB on Linux (bytes on macOS; this tool targets Linux CI).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--objects", type=int, default=20_000)
    parser.add_argument("--schemas", type=Path, default=REPO_ROOT / ".." / "shared" / "schemas" / "crds")
    parser.add_argument("--tree", action="store_true", help="also write the set to disk and validate_tree it")
    args = parser.parse_args(argv)

    rss_start = peak_rss_mib()
    t0 = time.perf_counter()
    objects = list(object_set(args.objects))
    build_s = time.perf_counter() - t0
    kinds: dict[str, int] = {}
    for _, _, _, obj in objects:
        kinds[obj["kind"]] = kinds.get(obj["kind"], 0) + 1

    registry = SchemaRegistry([args.schemas.resolve()])
    t0 = time.perf_counter()
    cold = validate_objects(objects, registry)
    cold_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    warm = validate_objects(objects, registry)
    warm_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    for _cluster, version, file, obj in objects:
        registry.validate(obj, version, file)
    schema_s = time.perf_counter() - t0

    whole = ObjectSet()
    for cluster, version, file, obj in objects:
        whole.add(cluster, version, file, obj)
    t0 = time.perf_counter()
    check_findings = [f for check in DEFAULT_CHECKS for f in check(whole)]
    checks_s = time.perf_counter() - t0

    n = len(objects)
    print(f"objects:            {n}  ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})")
    print(f"build set:          {build_s:.3f} s")
    print(f"validate (cold):    {cold_s:.3f} s  {n / cold_s:,.0f} objects/s  (incl. schema load + compile)")
    print(f"validate (warm):    {warm_s:.3f} s  {n / warm_s:,.0f} objects/s  (schemas + whole-set checks)")
    print(f"schema only (warm): {schema_s:.3f} s  {n / schema_s:,.0f} objects/s")
    print(
        f"whole-set checks:   {checks_s:.3f} s  {n / checks_s:,.0f} objects/s  "
        f"({len(DEFAULT_CHECKS)} checks: references, ordering, baseline; {len(check_findings)} findings)"
    )
    print(f"findings:           {len(cold.findings)} (cold), {len(warm.findings)} (warm)")
    print(f"peak RSS:           {peak_rss_mib():.0f} MiB (at start {rss_start:.0f} MiB)")
    if args.tree:
        with tempfile.TemporaryDirectory(prefix="platformc-bench-") as tmp:
            write_tree(Path(tmp), objects)
            t0 = time.perf_counter()
            tree = validate_tree(Path(tmp), [args.schemas.resolve()])
            tree_s = time.perf_counter() - t0
        print(f"validate_tree:      {tree_s:.3f} s  {tree.objects / tree_s:,.0f} objects/s  (read YAML)")
        print(f"peak RSS:           {peak_rss_mib():.0f} MiB (after tree)")
    for finding in cold.sorted()[:5]:
        print("  " + finding.format())
    return 0 if cold.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
