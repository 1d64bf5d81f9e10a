"""Image signatures (Platform.spec.policies.imageSignatures): sigstore policy-controller and
one ClusterImagePolicy (in the `sigstore-config` unit, after the chart's CRDs).

A ValidatingAdmissionPolicy cannot verify a signature (CEL sees the pod, not the registry),
so this rule goes to the engine that can. The chart's webhook only looks at namespaces its
`webhook.namespaceSelector` selects (chart default: label policy.sigstore.dev/include=true,
sigstore/helm-charts charts/policy-controller/values.yaml); platformc points it at the team
label, so team namespaces are checked and platform namespaces never are.
"""

from __future__ import annotations

from typing import Any

from compiler.cluster_model import TEAM_LABEL, ClusterModel
from compiler.components.base import Chart, Component, ComponentOutput, HelmChart, KubeObject, VersionPin, obj
from compiler.spec.policies import ImageSignatures

CHART = Chart(
    "https://sigstore.github.io/helm-charts", "policy-controller", frozenset({"policy.sigstore.dev"})
)
VERSION = VersionPin("policyController", "0.10.6")  # chart 0.10.6 ships policy-controller v0.13.1
NAMESPACE = "cosign-system"
API = "policy.sigstore.dev/v1beta1"
POLICY_NAME = "platformc-signed-images"
FULCIO_URL = "https://fulcio.sigstore.dev"


def signatures(cluster: ClusterModel) -> ImageSignatures | None:
    return cluster.platform.spec.policies.imageSignatures


def chart(cluster: ClusterModel) -> HelmChart:
    selector = {"matchExpressions": [{"key": TEAM_LABEL, "operator": "Exists"}]}
    return CHART.release(
        COMPONENT.version_of(cluster), NAMESPACE, {"webhook": {"namespaceSelector": selector}}
    )


def cluster_image_policy(spec: ImageSignatures) -> KubeObject:
    authorities: list[dict[str, Any]] = []
    if spec.keyless:
        identities = [{"issuer": i.issuer, "subject": i.subject} for i in spec.keyless]
        authorities.append({"name": "keyless", "keyless": {"url": FULCIO_URL, "identities": identities}})
    if spec.publicKey:
        authorities.append({"name": "key", "key": {"data": spec.publicKey}})
    return obj(
        API,
        "ClusterImagePolicy",
        POLICY_NAME,
        spec={"mode": spec.mode, "images": [{"glob": g} for g in spec.images], "authorities": authorities},
    )


def build(cluster: ClusterModel) -> ComponentOutput:
    spec = signatures(cluster)
    if spec is None:
        return ComponentOutput()
    namespace = obj("v1", "Namespace", NAMESPACE, labels={"pod-security.kubernetes.io/enforce": "restricted"})
    return ComponentOutput(charts=(chart(cluster),), objects=(namespace, cluster_image_policy(spec)))


COMPONENT = Component(
    "sigstore",  # unit names stay short: Argo CD Application names are <cluster>-<unit>, at most 63
    build,
    namespaces=(NAMESPACE,),
    version=VERSION,
    charts=(CHART,),
    emits=(("policy.sigstore.dev", "ClusterImagePolicy", "v1beta1"),),
)
