"""Issue 16, Found 1-4: hostile overlays and templates stay inside --out, run no code, read no
file through a link, and cannot hide objects in a List."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.security.conftest import Workspace

CONFIGMAP = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: {namespace}
data: {{k: v}}
"""


def _outside(ws: Workspace) -> set[str]:
    return {p.name for p in ws.root.parent.rglob("*") if not p.is_relative_to(ws.root)}


@pytest.mark.parametrize(
    ("name", "namespace", "line", "field"),
    [
        ("a/../../../../ESCAPED", "monitoring", 4, "metadata.name"),
        ("ok", "../../../../NSESC", 5, "metadata.namespace"),
        ("ok", "['a', 'b']", 5, "metadata.namespace"),  # a list: was a traceback (Found 9)
    ],
)
def test_object_names_that_are_not_plain_names_are_refused_at_their_line(
    ws: Workspace, name: str, namespace: str, line: int, field: str
) -> None:
    """Found 1: metadata.name / namespace became path components unchecked and wrote outside --out."""
    ws.write("overlays/all/escape.yaml", CONFIGMAP.format(name=name, namespace=namespace))
    before = _outside(ws)
    result = ws.run("compile")
    assert result.exit_code == 1
    assert f"overlays/all/escape.yaml:{line}:" in result.output
    assert f"{field} " in result.output and "DNS-1123 subdomain" in result.output
    assert not (ws.root / "generated").exists()
    assert _outside(ws) == before


def test_template_rendering_an_escaping_name_is_refused(ws: Workspace) -> None:
    ws.write(
        "overlays/components/esc/a.yaml.j2",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"{{ '../' * 3 }}x\"\n  namespace: default\n",
    )
    result = ws.run("compile")
    assert result.exit_code == 1
    assert "overlays/components/esc/a.yaml.j2:4:" in result.output
    assert not (ws.root / "generated").exists()


def test_a_list_is_refused_at_its_kind_line(ws: Workspace) -> None:
    """Found 4: kustomize inlines the items of any kind ending in List that has items
    (sigs.k8s.io/kustomize api/resource/factory.go, inlineAnyEmbeddedLists), so a List hid a
    Secret with data and a privileged pod from every check."""
    ws.write(
        "overlays/all/list.yaml",
        """
        apiVersion: v1
        kind: List
        metadata: {name: hidden}
        items:
          - apiVersion: v1
            kind: Secret
            metadata: {name: s, namespace: default}
            data: {password: aHVudGVyMg==}
        """,
    )
    result = ws.run("compile")
    assert result.exit_code == 1
    assert "overlays/all/list.yaml:2:7: kind List is a list of objects, refused" in result.output


def test_validate_refuses_a_list_in_a_tree(ws: Workspace) -> None:
    """The same rule on a tree read from disk: `validate` sees the List, not a hidden Secret."""
    assert ws.run("compile").exit_code == 0
    cluster = next(p for p in (ws.root / "generated").iterdir() if p.is_dir())
    (cluster / "list-hidden.yaml").write_text(
        "apiVersion: v1\nkind: List\nmetadata: {name: hidden}\nitems:\n"
        "- {apiVersion: v1, kind: Secret, metadata: {name: s, namespace: default}, data: {p: eA==}}\n"
    )
    result = ws.run("validate", "--allow-missing-schemas")
    assert result.exit_code == 1
    assert f"{cluster.name}/list-hidden.yaml" in result.output
    assert "List" in result.output and "refused" in result.output


# --- links ----------------------------------------------------------------------------------------


def test_a_link_in_a_component_folder_is_refused(ws: Workspace) -> None:
    """Found 3: a link inside overlays/components/<c>/ was followed by {% include %}."""
    folder = ws.root / "overlays/components/volcano"
    os.symlink("/etc/passwd", folder / "_passwd.j2")
    result = ws.run("compile")
    assert result.exit_code == 1
    assert (
        "overlays/components/volcano/_passwd.j2: symbolic link refused (it points outside the repository, "
        "to '/etc/passwd'" in result.output
    )
    assert "root:x:0:0" not in result.output
    assert not (ws.root / "generated").exists()


@pytest.mark.parametrize("target", ["/etc/passwd", "/proc/self/environ", "../platform.yaml"])
def test_a_link_in_the_spec_folder_is_refused_and_never_read(ws: Workspace, target: str) -> None:
    """Found 3: a link in platform-spec/ was followed and a non-YAML target echoed in the error;
    /proc/self/environ gave a traceback."""
    os.symlink(target, ws.root / "platform-spec/teams/linked.yaml")
    result = ws.run("compile")
    assert result.exit_code == 1
    where = "inside" if target.startswith("..") else "outside"
    assert f"platform-spec/teams/linked.yaml: symbolic link refused (it points {where} the repository" in (
        result.output
    )
    assert "root:x:0:0" not in result.output and "PATH=" not in result.output


def test_a_linked_overlay_folder_is_refused(ws: Workspace, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.yaml").write_text(CONFIGMAP.format(name="x", namespace="default"))
    os.symlink(elsewhere, ws.root / "overlays/clusters/staging-eu/linked")
    result = ws.run("compile")
    assert result.exit_code == 1
    assert "overlays/clusters/staging-eu/linked: symbolic link refused" in result.output


def test_out_may_be_a_link_to_a_folder(ws: Workspace, tmp_path: Path) -> None:
    """Found 11: a linked --out was replaced by a real folder and a staging folder stayed behind."""
    real = tmp_path / "real-out"
    real.mkdir()
    os.symlink(real, ws.root / "generated")
    assert ws.run("compile").exit_code == 0
    assert (ws.root / "generated").is_symlink()
    assert (real / "staging-eu" / "kustomization.yaml").is_file()
    assert ws.run("compile", "--cluster", "staging-eu").exit_code == 0
    leftovers = [p.name for p in (*tmp_path.iterdir(), *ws.root.iterdir()) if ".staging-" in p.name]
    assert leftovers == []
    assert ws.run("compile", "--check").exit_code == 0


def test_validate_refuses_a_link_in_a_tree(ws: Workspace) -> None:
    assert ws.run("compile").exit_code == 0
    os.symlink("/etc/passwd", ws.root / "generated/staging-eu/components/passwd.yaml")
    result = ws.run("validate", "--allow-missing-schemas")
    assert result.exit_code == 1
    assert "staging-eu/components/passwd.yaml: symbolic link refused" in result.output
    assert "root:x:0:0" not in result.output
