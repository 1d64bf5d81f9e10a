"""Traffic to canaries. In KServe v0.20.0 Standard mode a canary is its own Deployment and Service
(`<isvc>-<canary>-predictor`, pkg/controller/v1beta1/inferenceservice/components/predictor.go
reconcileCanaryDeployments) and the stable Service selects only the stable pods, so a canary gets
traffic only through a route that names it. Gateway API HTTPRoute (gateway.networking.k8s.io/v1)
splits a rule's traffic across backendRefs in proportion to their weights (default 1)."""

from __future__ import annotations

from compiler.verify.context import VerifyContext


def check_canaries(ctx: VerifyContext) -> None:
    routes = ctx.cluster.of_kind("HTTPRoute")
    for isvc in ctx.cluster.of_kind("InferenceService"):
        meta = isvc["metadata"]
        ns, name = meta.get("namespace"), meta["name"]
        canaries = (isvc.get("spec") or {}).get("canary") or []
        if not canaries:
            continue
        stable = f"{name}-predictor"
        owner = f"InferenceService/{ns}/{name}"
        for canary in canaries:
            c_name = (canary.get("predictor") or {}).get("name")
            service = f"{name}-{c_name}-predictor" if c_name else f"{name}-predictor-canary"
            want = int(canary.get("trafficPercent", 0))
            found = False
            for route in routes:
                if route["metadata"].get("namespace") != ns:
                    continue
                for rule in (route.get("spec") or {}).get("rules") or ():
                    refs = {b.get("name"): int(b.get("weight", 1)) for b in rule.get("backendRefs") or ()}
                    if service not in refs:
                        continue
                    found = True
                    total = sum(refs.values())
                    got = 100 * refs[service] / total if total else 0
                    if refs.get(stable) != 100 - want or refs[service] != want or abs(got - want) > 1e-9:
                        ctx.add(
                            "serving.canary-traffic",
                            f"HTTPRoute/{ns}/{route['metadata']['name']}",
                            f"canary {service} should get {want}% (weights {100 - want}/{want} for "
                            f"{stable}/{service}); "
                            f"the route's weights are {refs} (sum {total}), giving it {got:.1f}%",
                        )
            if not found:
                ctx.add(
                    "serving.canary-traffic",
                    owner,
                    f"canary {service} ({want}% intended) gets no traffic: no HTTPRoute in {ns} has it as a "
                    "backend, "
                    f"and the Service {stable} selects only the stable pods",
                )
