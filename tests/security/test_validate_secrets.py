"""`platformc validate` runs the secret scan on the tree as committed: a credential a person pastes
into generated/ by hand never passed compile's scan, so validate reports it at its file:line, with
the spec's allowlist (spec.secretScan.allow) when there is a spec and none without one. Detectors are
detect-secrets' (detect_secrets/plugins/*.py) plus URL userinfo, as in compile."""

from __future__ import annotations

import shutil

import pytest

from compiler.secrets_scan import fingerprint
from tests.conftest import EXAMPLE_GENERATED
from tests.security.conftest import Workspace

PASSWORD = "Tr0ub4dor3xyz"
SLACK = "xoxb-123456789012-1234567890123-abcdefghijABCDEFGHIJklmn"
HAND_FILE = "generated/prod-us-east/hand-config.yaml"
HAND_CONFIG = f"""
apiVersion: v1
kind: ConfigMap
metadata:
  name: hand
  namespace: default
data:
  url: https://admin:{PASSWORD}@db.example.com/app
"""


@pytest.fixture
def tree(ws: Workspace) -> Workspace:
    shutil.copytree(EXAMPLE_GENERATED, ws.root / "generated")
    return ws


def test_a_secret_committed_into_the_tree_by_hand_is_an_error_at_its_line(tree: Workspace) -> None:
    clean = tree.run("validate", "--allow-missing-schemas")
    assert clean.exit_code == 0 and "[secret]" not in clean.output, clean.output
    tree.write(HAND_FILE, HAND_CONFIG)
    result = tree.run("validate", "--allow-missing-schemas")
    assert result.exit_code == 1
    assert (
        "prod-us-east/hand-config.yaml:7:8: ConfigMap default/hand: $.data.url: data.url looks like a "
        "credential (password in a URL, fingerprint " in result.output
    ), result.output
    assert "[secret]" in result.output
    assert PASSWORD not in result.output


def test_a_token_edited_into_a_generated_file_is_an_error_at_its_line(tree: Workspace) -> None:
    """A hand edit of a file compile wrote: the token lands in an object's annotations."""
    path = tree.root / "generated/prod-us-east/components/kueue/namespace-kueue-system.yaml"
    text = path.read_text()
    assert "\nkind: Namespace\nmetadata:\n  name: kueue-system\n" in text, text
    path.write_text(
        text.replace("metadata:\n", f"metadata:\n  annotations:\n    acme.com/hook: {SLACK}\n", 1)
    )
    result = tree.run("validate", "--allow-missing-schemas")
    assert result.exit_code == 1
    assert (
        "prod-us-east/components/kueue/namespace-kueue-system.yaml:6:20: Namespace kueue-system: "
        "$.metadata.annotations.acme.com/hook: metadata.annotations.acme.com/hook looks like a credential "
        "(Slack Token" in result.output
    ), result.output
    assert SLACK not in result.output


def test_the_spec_allowlist_holds_in_validate_and_no_spec_means_no_allowlist(tree: Workspace) -> None:
    tree.write(HAND_FILE, HAND_CONFIG)
    allowed = fingerprint(PASSWORD)
    tree.edit(
        "platform-spec/platform.yaml",
        "  gitops:",
        f"  secretScan:\n    allow:\n      - {{fingerprint: {allowed}, reason: test database}}\n  gitops:",
    )
    result = tree.run("validate", "--allow-missing-schemas")
    assert result.exit_code == 0 and "[secret]" not in result.output, result.output

    # The same tree checked without its spec: nothing is allowed.
    result = tree.run("validate", "--allow-missing-schemas", "--spec", "no-such-spec")
    assert result.exit_code == 1 and f"fingerprint {allowed}" in result.output, result.output


def test_a_spec_that_does_not_load_still_lends_its_allowlist(tree: Workspace) -> None:
    """validate checks the tree, not the spec: a spec mistake elsewhere (compile reports it) must not
    turn every allowed value into an error."""
    tree.write(HAND_FILE, HAND_CONFIG)
    tree.edit(
        "platform-spec/platform.yaml",
        "  gitops:",
        f"  secretScan:\n    allow:\n      - {{fingerprint: {fingerprint(PASSWORD)}, reason: test}}\n"
        "  bogusField: 1\n  gitops:",
    )
    assert tree.run("compile").exit_code == 1  # the spec really does not load
    result = tree.run("validate", "--allow-missing-schemas")
    assert result.exit_code == 0 and "[secret]" not in result.output, result.output
