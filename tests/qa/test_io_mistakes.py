"""Paths and files a tired user gets wrong: exit status, the exact message, nothing written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLE_GENERATED
from tests.qa.conftest import Workspace, no_traceback

# API groups the Kubernetes OpenAPI schemas cover (no CRD to pull).
BUILTIN_GROUPS = (
    "admissionregistration.k8s.io",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
    "scheduling.k8s.io",
    "resource.k8s.io",
    "apps/",
    "policy/",
)


def test_out_pointing_at_a_file_keeps_the_file(ws: Workspace) -> None:
    (ws.root / "notes.txt").write_text("important\n")
    result = ws.compile("--out", "notes.txt")
    no_traceback(result)
    assert result.exit_code == 1
    assert result.stderr == (
        "platformc: output folder notes.txt is a file (expected a folder, or a path that does not exist yet); "
        "nothing was written\n"
    )
    assert (ws.root / "notes.txt").read_text() == "important\n"
    assert sorted(p.name for p in ws.root.iterdir()) == ["notes.txt", "overlays", "platform-spec"]


def test_out_below_a_file(ws: Workspace) -> None:
    (ws.root / "notes.txt").write_text("important\n")
    result = ws.compile("--out", "notes.txt/generated", "--check")
    no_traceback(result)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "platformc: notes.txt is a file, so the output folder notes.txt/generated cannot be made inside it"
    )
    assert (ws.root / "notes.txt").read_text() == "important\n"


def test_unreadable_spec_file_is_an_error_with_its_name(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root, where chmod 000 does not stop reading: make the read fail as it would for a user.
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "ml-platform.yaml":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = ws.compile()
    no_traceback(result)
    assert result.exit_code == 1
    assert (
        result.stderr.splitlines()[0]
        == "platform-spec/teams/ml-platform.yaml: cannot read file: Permission denied"
    )
    assert not (ws.root / "generated").exists()


def test_binary_template_is_an_error_not_a_traceback(ws: Workspace) -> None:
    shutil.copy(Path("/bin/true"), ws.root / "overlays/components/volcano/tool.yaml.j2")
    result = ws.compile()
    no_traceback(result)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith(
        "overlays/components/volcano/tool.yaml.j2:1:1: file is not UTF-8 text"
    )
    assert not (ws.root / "generated").exists()


def test_rendered_template_errors_keep_their_lines(ws: Workspace) -> None:
    # Before: every rendered document was placed at line 1, and equal messages collapsed into one.
    ws.edit("overlays/components/volcano/queues.yaml.j2", "  name: {{ team.name }}", "  nam: {{ team.name }}")
    result = ws.compile()
    no_traceback(result)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert [line.split(": document")[0] for line in lines[:-1]] == [
        "overlays/components/volcano/queues.yaml.j2:2:1",
        "overlays/components/volcano/queues.yaml.j2:17:1",
        "overlays/components/volcano/queues.yaml.j2:32:1",
    ]
    assert lines[-1] == "platformc: 3 error(s) in the spec or overlays; nothing was written"


def test_validate_out_pointing_at_a_file_says_so(ws: Workspace) -> None:
    result = ws.run("validate", "--out", "platform-spec/platform.yaml")
    no_traceback(result)
    assert result.exit_code == 2
    assert result.stderr == (
        "platformc: platform-spec/platform.yaml is a file (expected a generated tree; run `platformc compile`)\n"
    )


def test_validate_the_example_tree_copy(ws: Workspace) -> None:
    shutil.copytree(EXAMPLE_GENERATED, ws.root / "generated")
    result = ws.run("validate", "--allow-missing-schemas")
    no_traceback(result)
    assert result.exit_code == 0


def test_init_on_a_file_says_it_is_a_file(ws: Workspace) -> None:
    (ws.root / "repo").write_text("x")
    result = ws.run("init", "repo")
    no_traceback(result)
    assert result.exit_code == 1
    assert (
        result.stderr == "platformc: repo is a file (expected a new or empty folder); nothing was created\n"
    )


def test_init_where_no_folder_can_be_made(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_COMMITTER_NAME", "QA")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "qa@example.com")
    result = ws.run("init", "/proc/platformc-qa")  # /proc refuses new folders, even for root
    no_traceback(result)
    assert result.exit_code == 1
    assert result.stderr == (
        "platformc: cannot create /proc/platformc-qa: No such file or directory; nothing was created\n"
    )


def test_schemas_pull_with_a_misspelt_placeholder(ws: Workspace) -> None:
    result = ws.run("schemas", "pull", "--url-template", "http://127.0.0.1:9/{grp}/{kind}.json")
    no_traceback(result)
    assert result.exit_code == 2
    assert result.stderr == (
        "platformc: invalid --url-template 'http://127.0.0.1:9/{grp}/{kind}.json': {grp} is not a placeholder "
        "(expected only {group}, {kind} and {version})\n"
    )
    assert not (ws.root / ".platformc-cache").exists()


def test_schemas_pull_covers_every_crd_kind_compile_emits(ws: Workspace) -> None:
    # `schemas pull` then `validate` must pass on the example without --schemas: PodMonitor was missing.
    from compiler.crdschemas.catalog import DEFAULT_TARGETS

    generated = {
        (doc["apiVersion"].split("/")[0], doc["kind"], doc["apiVersion"].split("/")[1])
        for path in EXAMPLE_GENERATED.rglob("*.yaml")
        if path.name != "kustomization.yaml" and "volcano" not in path.parts[-2]
        for doc in [yaml.safe_load(path.read_text())]
        if "." in doc["apiVersion"].split("/")[0] and not doc["apiVersion"].startswith(BUILTIN_GROUPS)
    }
    assert generated - set(DEFAULT_TARGETS) == set()


@pytest.mark.parametrize("out", ["platform-spec", "platform-spec/generated", "."])
def test_out_overlapping_the_spec_is_refused(ws: Workspace, out: str) -> None:
    before = sorted(p.relative_to(ws.root).as_posix() for p in ws.root.rglob("*"))
    result = ws.compile("--out", out)
    no_traceback(result)
    assert result.exit_code == 1
    assert f"--out {out} and --spec platform-spec overlap" in result.stderr
    assert "nothing was written" in result.stderr
    assert sorted(p.relative_to(ws.root).as_posix() for p in ws.root.rglob("*")) == before


@pytest.mark.parametrize("text", ["", "# a team will go here\n", "---\n"])
def test_empty_or_comment_only_spec_file_is_an_error(ws: Workspace, text: str) -> None:
    (ws.root / "platform-spec/teams/ml-platform.yaml").write_text(text)
    result = ws.compile()
    no_traceback(result)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "platform-spec/teams/ml-platform.yaml:1:1: file holds no YAML document (expected at least one document; "
        "delete the file if it is not needed)\n"
    )
    assert not (ws.root / "generated").exists()
