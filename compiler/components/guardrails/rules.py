"""Each guardrail rule as CEL: the validations one ValidatingAdmissionPolicy runs per shape.

The expressions read the team's limits from `params` (params.py), so the same policy serves
every team; messages say what to change. Every expression is type-checked against the
matched kinds' schemas at compile time (compiler/cel/policy_check.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from compiler.components.guardrails.params import (
    CLAIM_KEY_PREFIX,
    CLAIM_POOL_PREFIX,
    GPU_RESOURCE_PREFIX,
    QUOTA_KEY_PREFIX,
)
from compiler.components.guardrails.shapes import (
    CLAIM_TEMPLATES,
    CLAIMS,
    COUNTED_SHAPES,
    INFERENCE_SERVICES,
    POD_SHAPES,
    WORKLOAD_KINDS,
    Shape,
)

KUEUE_PRIORITY_LABEL = "kueue.x-k8s.io/priority-class"  # Kueue's WorkloadPriorityClass label


@dataclass(frozen=True)
class PolicyBody:
    """What one ValidatingAdmissionPolicy checks, before platformc wraps it in the object."""

    suffix: str
    kinds: tuple[tuple[str, str], ...]
    validations: tuple[dict[str, str], ...]
    variables: tuple[tuple[str, str], ...] = ()
    match_conditions: tuple[tuple[str, str], ...] = ()
    dra_only: bool = False


@dataclass(frozen=True)
class Rule:
    name: str  # spec key under policies
    slug: str  # in object names
    bodies: Callable[[], list[PolicyBody]]


def _split(key: str) -> str:
    return f"params.data.{key}.split(',').filter(x, x != '')"


def _validation(expression: str, message: str, message_expression: str | None = None) -> dict[str, str]:
    out = {"expression": expression, "message": message}
    if message_expression:
        out["messageExpression"] = message_expression
    out["reason"] = "Forbidden"
    return out


def _pod_variables(shape: Shape) -> list[tuple[str, str]]:
    return [("spec", shape.spec), ("containers", shape.containers)]


def _name_of(var: str) -> str:
    """Container names for a message; KServe's model container may leave its name to KServe."""
    return f"{var}.map(c, has(c.name) ? c.name : 'kserve-container').join(', ')"


# --- trustedRegistries --------------------------------------------------------------------

# Docker's rule: the first path element is a registry only if the reference has a '/' and
# that element has a '.' or ':' or is localhost; otherwise the image is on docker.io
# (github.com/distribution/reference normalize.go).
_NORMALIZED = (
    "(i.contains('/') && (i.split('/')[0].contains('.') || i.split('/')[0].contains(':') || "
    "i.split('/')[0] == 'localhost') ? i : (i.contains('/') ? 'docker.io/' + i : 'docker.io/library/' + i))"
)


def _registries() -> list[PolicyBody]:
    bodies = []
    for shape in POD_SHAPES:
        variables = [
            *_pod_variables(shape),
            ("registries", _split("registries")),
            (
                "untrusted",
                "variables.containers.filter(c, has(c.image)).map(c, c.image)"
                f".filter(i, !variables.registries.exists(r, {_NORMALIZED}.startsWith(r)))",
            ),
        ]
        bodies.append(
            PolicyBody(
                shape.name,
                shape.kinds,
                (
                    _validation(
                        "size(variables.untrusted) == 0",
                        "an image is not from a trusted registry (platform policy trustedRegistries)",
                        "'image ' + variables.untrusted.join(', ') + ' is not from a trusted registry; "
                        "use an image from ' + variables.registries.join(', ') + "
                        "' (platform policy trustedRegistries)'",
                    ),
                ),
                tuple(variables),
            )
        )
    return bodies


# --- requiredLabels -------------------------------------------------------------------------

# Objects a controller created (a Job's pods, KServe's Deployments) are judged at their owner.
_NOT_OWNED = (
    "not-owned",
    "!has(object.metadata.ownerReferences) || size(object.metadata.ownerReferences) == 0",
)


def _labels() -> list[PolicyBody]:
    variables = (
        (
            "required",
            f"{_split('requiredLabels')} + "
            f"(request.kind.kind == 'InferenceService' ? {_split('servingLabels')} : [])",
        ),
        (
            "missing",
            "variables.required.filter(l, !has(object.metadata.labels) || !(l in object.metadata.labels) || "
            "object.metadata.labels[l] == '')",
        ),
    )
    validation = _validation(
        "size(variables.missing) == 0",
        "a required label is missing (platform policy requiredLabels)",
        "request.kind.kind + ' ' + object.metadata.name + ' is missing label ' + "
        "variables.missing.join(', ') + "
        "'; add it under metadata.labels (platform policy requiredLabels)'",
    )
    return [PolicyBody("workloads", WORKLOAD_KINDS, (validation,), variables, (_NOT_OWNED,))]


# --- gpuAccess ------------------------------------------------------------------------------


def _gpu_access() -> list[PolicyBody]:
    bodies = []
    foreign = f"k.startsWith('{GPU_RESOURCE_PREFIX}') && !(k in variables.allowed)"
    for shape in POD_SHAPES:
        variables = (
            *_pod_variables(shape),
            ("allowed", _split("gpuResources")),
            (
                "foreign",
                "variables.containers.filter(c, has(c.resources) && "
                f"((has(c.resources.limits) && c.resources.limits.exists(k, {foreign})) || "
                f"(has(c.resources.requests) && c.resources.requests.exists(k, {foreign}))))",
            ),
        )
        validation = _validation(
            "size(variables.foreign) == 0",
            "a container asks for a GPU resource the team cannot use here (platform policy gpuAccess)",
            f"'container ' + {_name_of('variables.foreign')} + ' asks for a GPU resource the team cannot use "
            "here; ' + params.data.gpuHint + ' (platform policy gpuAccess)'",
        )
        bodies.append(PolicyBody(shape.name, shape.kinds, (validation,), variables))
    for shape in (CLAIMS, CLAIM_TEMPLATES):
        devices = f"{shape.spec}.devices"
        variables = (
            ("allowed", _split("deviceClasses")),
            (
                "foreign",
                f"has({devices}) && has({devices}.requests) ? {devices}.requests.filter(r, "
                "(has(r.exactly) && !(r.exactly.deviceClassName in variables.allowed)) || "
                "(has(r.firstAvailable) && "
                "r.firstAvailable.exists(s, !(s.deviceClassName in variables.allowed)))"
                ") : []",
            ),
        )
        validation = _validation(
            "size(variables.foreign) == 0",
            "a device request names a DeviceClass outside the team's GPU quota (platform policy gpuAccess)",
            "'request ' + variables.foreign.map(r, r.name + ' asks DeviceClass ' + (has(r.exactly) ? "
            "r.exactly.deviceClassName : r.firstAvailable.map(s, s.deviceClassName).join('|'))).join(', ') + "
            "', which the team\\'s GPU quota does not count; use DeviceClass ' + "
            "variables.allowed.join(', ') + ' or a ResourceClaimTemplate: ' + "
            "params.data.claimTemplates.split(',').join(', ') + ' (platform policy gpuAccess)'",
        )
        bodies.append(PolicyBody(shape.name, shape.kinds, (validation,), variables, dra_only=True))
    return bodies


# --- gpuLimits ------------------------------------------------------------------------------


def _gpu_limits() -> list[PolicyBody]:
    bodies = []
    for shape in POD_SHAPES:
        gpu_limit = f"c.resources.limits.exists(k, k.startsWith('{GPU_RESOURCE_PREFIX}'))"
        uses_gpu = (
            f"has(c.resources) && ((has(c.resources.limits) && {gpu_limit}) || "
            "(has(c.resources.claims) && size(c.resources.claims) > 0))"
        )
        variables = (
            *_pod_variables(shape),
            (
                "unlimited",
                "variables.containers.filter(c, has(c.resources) && has(c.resources.requests) && "
                f"c.resources.requests.exists(k, k.startsWith('{GPU_RESOURCE_PREFIX}') && "
                "(!has(c.resources.limits) || !(k in c.resources.limits))))",
            ),
            (
                "visible",
                "variables.containers.filter(c, has(c.env) && "
                "c.env.exists(e, e.name == 'NVIDIA_VISIBLE_DEVICES' "
                f"&& (!has(e.value) || !(e.value in ['', 'void', 'none']))) && !({uses_gpu}))",
            ),
        )
        validations = (
            _validation(
                "size(variables.unlimited) == 0",
                "a container requests GPUs without a limit (platform policy gpuLimits)",
                f"'container ' + {_name_of('variables.unlimited')} + ' requests GPUs without a limit; set "
                "resources.limits to the GPU count it requests (platform policy gpuLimits)'",
            ),
            _validation(
                "size(variables.visible) == 0",
                "a container reaches GPUs through NVIDIA_VISIBLE_DEVICES without asking for any "
                "(platform policy gpuLimits)",
                f"'container ' + {_name_of('variables.visible')} + ' sets NVIDIA_VISIBLE_DEVICES "
                "without a GPU limit, so it would use GPUs the quota does not count; remove the variable "
                "and set the GPU count in resources.limits (or a resource claim) "
                "(platform policy gpuLimits)'",
            ),
        )
        bodies.append(PolicyBody(shape.name, shape.kinds, validations, variables))
    return bodies


# --- largestGpuRequest --------------------------------------------------------------------------


def _per_pod(shape: Shape, pool: str) -> str:
    """GPUs of one pool a pod asks for: container limits of that resource (device plugin) plus
    the counts of the team's claim templates of that flavor (DRA)."""
    claims = f"{shape.spec}.resourceClaims"
    return (
        "variables.containers.map(c, has(c.resources) && has(c.resources.limits) && "
        f"{pool} in c.resources.limits"
        f" ? int(string(c.resources.limits[{pool}])) : 0).sum() + "
        f"(has({claims}) ? {claims}.filter(r, has(r.resourceClaimTemplateName) && "
        f"('{CLAIM_POOL_PREFIX}' + r.resourceClaimTemplateName) in params.data && "
        f"params.data['{CLAIM_POOL_PREFIX}' + r.resourceClaimTemplateName] == {pool})"
        f".map(r, int(params.data['{CLAIM_KEY_PREFIX}' + r.resourceClaimTemplateName])).sum() : 0)"
    )


def _quota(pool: str) -> str:
    return f"params.data['{QUOTA_KEY_PREFIX}' + {pool}.replace('/', '_')]"


def _largest() -> list[PolicyBody]:
    bodies = []
    for shape in COUNTED_SHAPES:
        first = "variables.over[0]"
        share = "variables.perPod[variables.pools.indexOf(p)] * variables.pods"
        variables = (
            *_pod_variables(shape),
            ("pools", _split("gpuPools")),
            ("perPod", f"variables.pools.map(p, {_per_pod(shape, 'p')})"),
            ("pods", shape.pods or "1"),
            (
                "over",
                f"variables.pools.filter(p, double({share}) > "
                f"double({_quota('p')}) * double(params.data.largestFraction))",
            ),
        )
        validation = _validation(
            "size(variables.over) == 0",
            "this workload asks for a large share of the team's GPU quota at once "
            "(platform policy largestGpuRequest)",
            f"request.kind.kind + ' ' + object.metadata.name + ' asks for ' + "
            f"string(variables.perPod[variables.pools.indexOf({first})] * variables.pods) + ' ' + {first} + "
            f"' at once (' + string(variables.perPod[variables.pools.indexOf({first})]) + ' per pod x ' + "
            "string(variables.pods) + ' pods), more than ' + params.data.largestPercent + '% of team ' + "
            f"params.data.team + '\\'s quota of ' + {_quota(first)} + ' on this cluster; split it into "
            "smaller workloads or ask the platform team for more quota (platform policy largestGpuRequest)'",
        )
        bodies.append(PolicyBody(shape.name, shape.kinds, (validation,), variables))
    return bodies


# --- priorityClasses ----------------------------------------------------------------------------


def _priorities() -> list[PolicyBody]:
    bodies = []
    label = f"object.metadata.labels['{KUEUE_PRIORITY_LABEL}']"
    for shape in POD_SHAPES:
        variables = (
            ("spec", shape.spec),
            ("allowed", _split("priorityClasses")),
            ("levels", _split("workloadPriorityClasses")),
        )
        validations = (
            _validation(
                "!has(variables.spec.priorityClassName) || variables.spec.priorityClassName == '' || "
                "variables.spec.priorityClassName in variables.allowed",
                "this PriorityClass is not allowed for the team (platform policy priorityClasses)",
                "'PriorityClass ' + variables.spec.priorityClassName + ' is not allowed for team ' + "
                "params.data.team + '; use ' + (size(variables.allowed) > 0 ? "
                "variables.allowed.join(', ') + ' or none' : 'none') + ' (platform policy priorityClasses)'",
            ),
            _validation(
                f"!has(object.metadata.labels) || !('{KUEUE_PRIORITY_LABEL}' in object.metadata.labels) || "
                f"{label} in variables.levels",
                "this WorkloadPriorityClass is above the team's priority (platform policy priorityClasses)",
                f"'WorkloadPriorityClass ' + {label} + ' is above the priority of team ' + "
                "params.data.team + "
                f"'; set label {KUEUE_PRIORITY_LABEL} to ' + variables.levels.join(' or ') + "
                "' (platform policy priorityClasses)'",
            ),
        )
        bodies.append(PolicyBody(shape.name, shape.kinds, validations, variables))
    return bodies


# --- hostAccess ---------------------------------------------------------------------------------


def _host_access() -> list[PolicyBody]:
    bodies = []
    for shape in POD_SHAPES:
        variables = (
            ("spec", shape.spec),
            (
                "hostPaths",
                "has(variables.spec.volumes) ? "
                "variables.spec.volumes.filter(v, has(v.hostPath)).map(v, v.name) : []",
            ),
        )
        validations = (
            _validation(
                "!has(variables.spec.hostNetwork) || !variables.spec.hostNetwork",
                "hostNetwork is not allowed in team namespaces; remove it and expose ports through a Service "
                "(platform policy hostAccess)",
            ),
            _validation(
                "size(variables.hostPaths) == 0",
                "hostPath volumes are not allowed in team namespaces (platform policy hostAccess)",
                "'volume ' + variables.hostPaths.join(', ') + ' mounts a hostPath, which team namespaces "
                "may not use; use a PersistentVolumeClaim, emptyDir or ConfigMap instead "
                "(platform policy hostAccess)'",
            ),
        )
        bodies.append(PolicyBody(shape.name, shape.kinds, validations, variables))
    return bodies


# --- servingRollback ----------------------------------------------------------------------------


def _rollback() -> list[PolicyBody]:
    label = "params.data.rollbackLabel"
    validation = _validation(
        "(has(object.spec.canary) && size(object.spec.canary) > 0) || "
        "has(object.spec.predictor.canaryTrafficPercent) || "
        f"(has(object.metadata.labels) && {label} in object.metadata.labels && "
        f"object.metadata.labels[{label}] != '')",
        "this InferenceService has no rollback target (platform policy servingRollback)",
        "'InferenceService ' + object.metadata.name + ' has no rollback target; serve the new model as a "
        "canary (spec.canary or spec.predictor.canaryTrafficPercent) or record the model version to roll "
        f"back to in label ' + {label} + ' (platform policy servingRollback)'",
    )
    return [PolicyBody(INFERENCE_SERVICES.name, INFERENCE_SERVICES.kinds, (validation,))]


RULES: tuple[Rule, ...] = (
    Rule("trustedRegistries", "trusted-registries", _registries),
    Rule("requiredLabels", "required-labels", _labels),
    Rule("gpuAccess", "gpu-access", _gpu_access),
    Rule("gpuLimits", "gpu-limits", _gpu_limits),
    Rule("largestGpuRequest", "largest-gpu-request", _largest),
    Rule("priorityClasses", "priority-classes", _priorities),
    Rule("hostAccess", "host-access", _host_access),
    Rule("servingRollback", "serving-rollback", _rollback),
)


def bodies_of(rule: Rule, dra: bool) -> list[PolicyBody]:
    return [b for b in rule.bodies() if dra or not b.dra_only]
