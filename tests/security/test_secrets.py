"""Issue 16, Found 5: credentials never reach Git or a PR comment. Detection uses Yelp's
detect-secrets token detectors (detect_secrets/plugins/*.py) plus URL userinfo and entropy checks."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from compiler.secrets_scan import fingerprint
from tests.security.conftest import Workspace

PASSWORD = "Tr0ub4dor3xyz"
SLACK = "xoxb-123456789012-1234567890123-abcdefghijABCDEFGHIJklmn"
STRIPE_LIKE = "sk-live-4eC39HqLyjWDarjtT1zdp7dc"


def test_password_in_a_storage_uri_is_an_error_at_its_spec_line(ws: Workspace) -> None:
    ws.edit(
        "platform-spec/serving/chat-llm.yaml", 's3://models/llama-3.1-8b"', f'https://u:{PASSWORD}@hf.co/m"'
    )
    result = ws.run("compile")
    assert result.exit_code == 1
    assert re.search(
        r"platform-spec/serving/chat-llm\.yaml:8:\d+: spec\.model\.storageUri looks like a credential "
        r"\(password in a URL, fingerprint [0-9a-f]{12}\)",
        result.output,
    ), result.output
    assert "secretKeyRef" in result.output  # the hint: reference a Secret instead
    assert PASSWORD not in result.output
    assert not (ws.root / "generated").exists()


def test_token_in_the_repo_url_is_an_error_at_the_platform_line(ws: Workspace) -> None:
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0" * 2
    ws.edit(
        "platform-spec/platform.yaml",
        "https://github.com/acme/ai-platform.git",
        f"https://{token[:40]}@github.com/acme/ai-platform.git",
    )
    result = ws.run("compile")
    assert result.exit_code == 1
    assert (
        "platform-spec/platform.yaml:9:" in result.output
        and "spec.gitops.repoURL looks like a" in result.output
    )
    assert token[:40] not in result.output


@pytest.mark.parametrize(("value", "what"), [(SLACK, "Slack Token"), (STRIPE_LIKE, "high-entropy string")])
def test_tokens_in_overlay_labels_and_annotations_are_errors_at_their_line(
    ws: Workspace, value: str, what: str
) -> None:
    ws.write(
        "overlays/all/cm.yaml",
        f"""
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: cm
          namespace: default
          labels: {{team: x}}
          annotations:
            acme.com/hook: "{value}"
        """,
    )
    result = ws.run("compile")
    assert result.exit_code == 1
    assert "overlays/all/cm.yaml:8:" in result.output
    assert f"metadata.annotations.acme.com/hook looks like a credential ({what}" in result.output
    assert value not in result.output


def test_a_template_rendering_a_token_is_refused(ws: Workspace) -> None:
    ws.write(
        "overlays/components/leak/a.yaml.j2",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default}\n"
        f"data: {{url: \"{{{{ 'https://bot:' ~ '{PASSWORD}' ~ '@hooks.example.com' }}}}\"}}\n",
    )
    result = ws.run("compile")
    assert result.exit_code == 1
    assert "overlays/components/leak/a.yaml.j2:4:" in result.output and "password in a URL" in result.output
    assert PASSWORD not in result.output


def test_a_false_positive_is_allowed_by_its_fingerprint(ws: Workspace) -> None:
    ws.write(
        "overlays/all/cm.yaml",
        f"""
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: cm
          namespace: default
          annotations: {{acme.com/build-id: "{STRIPE_LIKE}"}}
        """,
    )
    assert ws.run("compile").exit_code == 1
    ws.edit(
        "platform-spec/platform.yaml",
        "  gitops:",
        f"  secretScan:\n    allow:\n      - {{fingerprint: {fingerprint(STRIPE_LIKE)}, reason: build id}}\n  gitops:",
    )
    result = ws.run("compile")
    assert result.exit_code == 0, result.output


def test_a_secret_with_data_in_a_list_is_still_caught(ws: Workspace) -> None:
    """Found 4 + 5: a Secret with data is an error whether written plainly or hidden in a List."""
    ws.write(
        "overlays/all/secret.yaml",
        """
        apiVersion: v1
        kind: Secret
        metadata: {name: s, namespace: default}
        data: {password: aHVudGVyMg==}
        """,
    )
    result = ws.run("compile")
    assert result.exit_code == 1
    assert "Secret carries values in Git" in result.output and "overlays/all/secret.yaml:1:1" in result.output


def test_the_scan_uses_every_regex_detector_but_the_excluded_and_loads_no_http_client() -> None:
    """The scan runs detect-secrets' regex detectors as its own registry lists them
    (detect_secrets/core/plugins/util.py get_mapping_from_secret_type_to_class), minus the
    keyword/IP/verification-only ones; and it never imports an HTTP client: detect-secrets uses
    `requests` only to verify a secret against the live service, which platformc never does."""
    code = """
import sys
from compiler.secrets_scan import _EXCLUDED_DETECTORS, _detectors, scan
found = scan({"token": "ghp_" + "a1B2c3D4e5F6g7H8i9J0" * 2})
assert [f.what for f in found] == ["GitHub Token"], found
assert "urllib3" not in sys.modules and "http.client" not in sys.modules, "an HTTP client was imported"
from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.plugins.base import RegexBasedDetector
registry = get_mapping_from_secret_type_to_class().values()
expected = sorted(c.__name__ for c in registry if issubclass(c, RegexBasedDetector))
used = sorted(type(d).__name__ for d in _detectors())
assert used == [n for n in expected if n not in _EXCLUDED_DETECTORS], (used, expected)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
