"""Kueue enforces the reach the rest of the platform assumes (issue 13, item 7, Kueue side)."""

from __future__ import annotations

from compiler.spec.quantity import parse_quantity
from tests.ai.conftest import objects


def kueue_most(resource: dict, cohort_nominal: int) -> int:
    """kubernetes-sigs/kueue v0.19.2 apis/kueue/v1beta2/clusterqueue_types.go (ResourceQuota):
    Workloads of a ClusterQueue can use nominalQuota + borrowingLimit, and 'If null, it means
    that there is no borrowing limit' — then everything the cohort's other queues leave unused."""
    nominal = int(parse_quantity(str(resource["nominalQuota"])))
    limit = resource.get("borrowingLimit")
    if limit is None:
        return cohort_nominal
    return min(nominal + int(parse_quantity(str(limit))), cohort_nominal)


def test_a_team_without_borrowing_limit_cannot_take_the_cohort(example_builds):
    """Staging app-frontend has l40s-shared quota 8 and no borrowingLimit: Kueue must admit at
    most 8 of the cohort's 32 slices, as its namespace ResourceQuota says, not all 32."""
    for build in example_builds.values():
        queues = objects(build, "ClusterQueue")
        entries = [
            (q, f["name"], r)
            for q in queues
            for g in q["spec"]["resourceGroups"]
            for f in g["flavors"]
            for r in f["resources"]
            if f["name"] in build.model.flavors
        ]
        cohort: dict[tuple[str, str], int] = {}
        for _, flavor, r in entries:
            cohort[(flavor, r["name"])] = cohort.get((flavor, r["name"]), 0) + int(
                parse_quantity(str(r["nominalQuota"]))
            )
        checked = 0
        for queue, flavor, resource in entries:
            team = build.model.team(queue["metadata"]["name"])
            assert team is not None
            spec = next(q for q in team.entry.gpus if q.flavor == flavor)
            most = kueue_most(resource, cohort[(flavor, resource["name"])])
            expected = min(spec.quota + (spec.borrowingLimit or 0), build.model.capacity[flavor])
            assert most <= expected, (build.model.name, team.name, flavor, most, expected)
            if spec.borrowingLimit is None:
                assert resource["borrowingLimit"] == 0
                checked += 1
        assert checked, build.model.name
    staging = example_builds["staging-eu"]
    queue = next(q for q in objects(staging, "ClusterQueue") if q["metadata"]["name"] == "app-frontend")
    (l40s,) = [f for g in queue["spec"]["resourceGroups"] for f in g["flavors"] if f["name"] == "l40s-shared"]
    assert kueue_most(l40s["resources"][0], 32) == 8
