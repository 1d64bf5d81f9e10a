"""Helm's config-checksum annotations are digests, not secrets: kube-prometheus-stack 88.0.0
charts/grafana/templates/_pod.tpl (`checksum/config: {{ ... | sha256sum }}`) and kueue 0.19.2
charts/kueue/templates/manager/manager.yaml (`charts.kueue.x-k8s.io/config-checksum`) roll pods
with them; hydrated output writes them. Anything else random-looking in an annotation still fails."""

from __future__ import annotations

import hashlib

from compiler.secrets_scan import scan

DIGEST = hashlib.sha256(b"rendered config").hexdigest()


def _annotated(key: str, value: str) -> dict[str, object]:
    return {"kind": "Deployment", "spec": {"template": {"metadata": {"annotations": {key: value}}}}}


def test_sha256_checksum_annotations_are_not_secrets() -> None:
    assert scan(_annotated("checksum/config", DIGEST)) == []
    assert scan(_annotated("charts.kueue.x-k8s.io/config-checksum", DIGEST)) == []


def test_the_same_digest_under_another_key_is_still_flagged() -> None:
    assert [f.what for f in scan(_annotated("acme.com/build-id", DIGEST))]


def test_a_non_digest_under_a_checksum_key_is_still_flagged() -> None:
    token = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
    assert scan(_annotated("checksum/config", token))
    assert scan(_annotated("checksum/config", "Xk9fQ2pL7vR3mZ8wT1yB6nC4hJ0sD5gAe2Wu"))
