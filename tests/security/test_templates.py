"""Issue 16, Found 2 and 3: custom-component templates see plain data in a sandbox confined to their
folder. Before, `platform` was a pydantic model whose deprecated
`parse_raw(..., content_type='application/pickle', allow_pickle=True)` ran any command, and
`{% include %}` followed links and `..` out of the component folder."""

from __future__ import annotations

import os

import pytest

from tests.security.conftest import Workspace

HEAD = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default}\ndata:\n  x: "


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("{{ platform.__class__ }}", "unsafe"),
        ("{{ naming.cluster_queue_name.__globals__ }}", "unsafe"),
        ("{{ lipsum.__globals__['os'] }}", "unsafe"),
        ("{{ platform.parse_raw('x', content_type='application/pickle', allow_pickle=True) }}", "parse_raw"),
        ("{{ platform.parse_file('/etc/passwd') }}", "parse_file"),
        ("{{ cluster.model_dump() }}", "model_dump"),
        ("{{ platform.model_validate_json('{}') }}", "model_validate_json"),
        ("{{ teams[0].team.model_fields }}", "model_fields"),
        ("{{ platform.spec.update({'x': 1}) }}", "unsafe"),
    ],
)
def test_templates_cannot_reach_python_objects(ws: Workspace, expression: str, reason: str) -> None:
    ws.write("overlays/components/evil/a.yaml.j2", HEAD + expression + "\n")
    result = ws.run("compile")
    assert result.exit_code == 1, result.output
    assert "overlays/components/evil/a.yaml.j2:5:1: template error on cluster(s)" in result.output
    assert reason in result.output
    assert not (ws.root / "generated").exists()


def test_the_context_is_plain_data(ws: Workspace) -> None:
    """What a template may read is still all there, as dicts, lists, strings and numbers."""
    ws.write(
        "overlays/components/probe/a.yaml.j2",
        HEAD
        + "\"{{ [platform, cluster, model, teams, flavors, serving_paths] | map('string') | map('length')"
        " | list | length }} {{ platform.spec.gitops.repoURL }} {{ teams[0].team.spec.costCenter }}"
        " {{ model.gpu_resources | length }} {{ naming.cluster_queue_name('t') }}\"\n",
    )
    assert ws.run("compile", "--cluster", "staging-eu").exit_code == 0
    text = (ws.root / "generated/staging-eu/components/probe/default/configmap-c.yaml").read_text()
    assert "x: 6 https://" in text


def test_include_of_a_link_is_refused(ws: Workspace) -> None:
    folder = ws.root / "overlays/components/evil"
    folder.mkdir(parents=True)
    (ws.root / "secret.txt").write_text("TOPSECRET\n")
    ws.write("overlays/components/evil/a.yaml.j2", HEAD + '"{% include "inc/x.j2" %}"\n')
    (folder / "inc").mkdir()
    os.symlink(ws.root / "secret.txt", folder / "inc" / "x.j2")
    result = ws.run("compile")
    assert result.exit_code == 1
    assert "symbolic link refused" in result.output
    assert "TOPSECRET" not in result.output


def test_include_of_a_linked_folder_is_refused_by_the_loader(ws: Workspace) -> None:
    """The loader refuses links itself, even where the folder walk did not see one first."""
    from compiler.overlays.template_env import ComponentLoader, environment

    folder = ws.root / "overlays/components/evil"
    folder.mkdir(parents=True)
    os.symlink("/etc", folder / "etc")
    env = environment(folder, "overlays/components/evil")
    assert isinstance(env.loader, ComponentLoader)
    with pytest.raises(Exception, match="is a symbolic link"):
        env.get_template("etc/passwd")


@pytest.mark.parametrize(
    "target", ["../volcano/queues.yaml.j2", "/etc/passwd", "./../../platform-spec/platform.yaml"]
)
def test_include_outside_the_component_folder_is_refused(ws: Workspace, target: str) -> None:
    ws.write("overlays/components/evil/a.yaml.j2", HEAD + '"{% include "' + target + '" %}"\n')
    result = ws.run("compile")
    assert result.exit_code == 1
    assert "overlays/components/evil/a.yaml.j2:5:1:" in result.output
    assert f"template {target!r} is outside the component folder overlays/components/evil" in result.output


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{{ 'x' * 100000000 }}", "repetition builds more than"),
        ("{{ 'x' | center(1000000000) }}", "larger than 1000000"),
        ("{{ 9 ** 99999999 }}", "exponent"),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{{ 'xxxxxxxxxxxxxxxxxxxxxxxx' }}"
            "{% endfor %}{% endfor %}",
            "output is larger than",
        ),
    ],
)
def test_template_work_is_bounded(ws: Workspace, body: str, reason: str) -> None:
    ws.write("overlays/components/evil/a.yaml.j2", HEAD + '"' + body + '"\n')
    result = ws.run("compile", "--cluster", "staging-eu")
    assert result.exit_code == 1
    assert reason in result.output


def test_render_time_is_bounded_even_without_output(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """A loop that prints nothing is stopped by the deadline (10 s by default; 0.5 s here)."""
    from compiler.overlays import template_env

    monkeypatch.setattr(template_env, "MAX_SECONDS", 0.5)
    body = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    ws.write("overlays/components/evil/a.yaml.j2", HEAD + '"' + body + '"\n')
    result = ws.run("compile", "--cluster", "staging-eu")
    assert result.exit_code == 1
    assert "rendering took longer than 0.5 s" in result.output
