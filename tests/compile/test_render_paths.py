"""render_cluster checks each object's path from its parts (compiler/pathsafety.py): the kind, the
name, the cluster and every folder. A cluster's objects share a few kinds and folders, which are
checked once each; these tests pin that a shared part is still refused for every object that has it,
and that the first problem named is the same as checking every part of every object would give."""

from __future__ import annotations

import pytest

from compiler.emit import render_cluster
from compiler.errors import PlatformcError
from compiler.tree_contract import ClusterInfo

INFO = ClusterInfo("prod", "1.34", "argocd")


def _config_map(name: str, kind: str = "ConfigMap") -> dict[str, object]:
    return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}, "data": {"a": "b"}}


def test_a_bad_folder_is_refused_after_good_objects_in_other_folders() -> None:
    placed = [("components/a", _config_map("one")), ("components/Bad_Folder", _config_map("two"))]
    with pytest.raises(PlatformcError, match="folder 'Bad_Folder' is not a DNS-1123 subdomain"):
        render_cluster(INFO, placed)


def test_a_bad_name_is_refused_in_a_folder_already_checked() -> None:
    placed = [("components/a", _config_map("one")), ("components/a", _config_map("Two"))]
    with pytest.raises(PlatformcError, match=r"metadata\.name 'Two'"):
        render_cluster(INFO, placed)


def test_a_bad_kind_is_refused_for_every_object_of_that_kind() -> None:
    good = ("components/a", _config_map("one"))
    with pytest.raises(PlatformcError, match="kind 'Config-Map' is not a Kubernetes kind"):
        render_cluster(INFO, [good, ("components/a", _config_map("two", "Config-Map"))])
    with pytest.raises(PlatformcError, match="kind 7 is not a Kubernetes kind"):
        render_cluster(INFO, [good, ("components/a", {**_config_map("two"), "kind": 7})])


def test_the_first_problem_in_path_order_is_named() -> None:
    """Kind, then name, then cluster, then folders: the order of the object's path parts."""
    bad_everything = ("x/Bad", _config_map("Name", "Bad-Kind"))
    with pytest.raises(PlatformcError, match="kind 'Bad-Kind'"):
        render_cluster(ClusterInfo("Prod", "1.34", "argocd"), [bad_everything])
    with pytest.raises(PlatformcError, match=r"metadata\.name 'Name'"):
        render_cluster(ClusterInfo("Prod", "1.34", "argocd"), [("x/Bad", _config_map("Name"))])
    with pytest.raises(PlatformcError, match="cluster name 'Prod'"):
        render_cluster(ClusterInfo("Prod", "1.34", "argocd"), [("x/Bad", _config_map("name"))])


def test_kustomizations_list_every_folder_and_file_once() -> None:
    placed = [
        ("components/a/deep", _config_map("one")),
        ("components/a", _config_map("two")),
        ("components/a/deep", _config_map("three")),
        ("", _config_map("top")),
    ]
    tree = render_cluster(INFO, placed)
    assert b"- a\n" in tree["prod/components/kustomization.yaml"]
    assert tree["prod/components/a/kustomization.yaml"].endswith(b"- configmap-two.yaml\n- deep\n")
    assert tree["prod/components/a/deep/kustomization.yaml"].endswith(
        b"- configmap-one.yaml\n- configmap-three.yaml\n"
    )
    assert tree["prod/kustomization.yaml"].endswith(b"- components\n- configmap-top.yaml\n")
