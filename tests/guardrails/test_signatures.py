"""Image signatures go to sigstore policy-controller, only when the spec asks for them.

ClusterImagePolicy is checked against its CRD schema (../shared/schemas/crds/policy.sigstore.dev,
policy-controller v0.15.1) and compiled through the whole pipeline, so the ordering check
proves it syncs after the chart that installs its CRD. The chart's webhook selects namespaces
with `webhook.namespaceSelector` (sigstore/helm-charts charts/policy-controller/values.yaml).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from compiler.components import policy_controller
from compiler.pipeline import compile_platform
from compiler.validate import SchemaRegistry
from tests.conftest import SHARED_CRDS
from tests.guardrails.conftest import clusters_of, guardrail_docs

KEYLESS = {
    "issuer": "https://token.actions.githubusercontent.com",
    "subject": "https://github.com/acme/ci/.github/workflows/build.yaml@refs/heads/main",
}


def _docs() -> list[dict]:
    docs = guardrail_docs()
    docs[0]["spec"]["policies"]["imageSignatures"] = {
        "mode": "enforce",
        "images": ["registry.acme.internal/**"],
        "keyless": [KEYLESS],
    }
    return docs


def test_cluster_image_policy_only_when_asked(tmp_path: Path) -> None:
    plain = clusters_of(tmp_path / "plain", guardrail_docs())["gpu-dp"]
    assert policy_controller.build(plain) == policy_controller.ComponentOutput()
    cluster = clusters_of(tmp_path / "signed", _docs())["gpu-dp"]
    (policy,) = [o for o in policy_controller.build(cluster).objects if o["kind"] == "ClusterImagePolicy"]
    assert policy["spec"] == {
        "mode": "enforce",
        "images": [{"glob": "registry.acme.internal/**"}],
        "authorities": [
            {"name": "keyless", "keyless": {"url": "https://fulcio.sigstore.dev", "identities": [KEYLESS]}}
        ],
    }
    # Not embedded yet (tests/crdschemas/test_embedded.py NOT_EMBEDDED): the upstream CRD schema.
    assert [f.format() for f in SchemaRegistry([SHARED_CRDS]).validate(policy, "1.33")] == []
    (chart,) = policy_controller.build(cluster).charts
    assert chart.values["webhook"]["namespaceSelector"] == {
        "matchExpressions": [{"key": "platformc.dev/team", "operator": "Exists"}]
    }


def test_compiles_with_the_policy_after_its_crd(tmp_path: Path) -> None:
    spec = tmp_path / "spec"
    spec.mkdir()
    (spec / "platform.yaml").write_text(yaml.safe_dump_all(_docs(), sort_keys=False))
    out = tmp_path / "generated"
    compile_platform(spec, out, schema_dirs=[SHARED_CRDS])  # raises on any validation error
    found = list(out.glob("*/components/sigstore-config/clusterimagepolicy-platformc-signed-images.yaml"))
    assert len(found) == 2
