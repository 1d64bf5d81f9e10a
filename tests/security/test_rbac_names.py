"""RBAC object names may hold ':' (k8s.io/kubernetes pkg/apis/rbac/validation/validation.go:
ValidateRBACName is path.IsValidPathSegmentName, and charts such as cert-manager use
`...-controller-approve:cert-manager-io`); every other kind keeps DNS-1123 subdomain names, and no
name ever leaves the output folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.emit import render_cluster
from compiler.errors import PlatformcError
from compiler.tree_contract import ClusterInfo
from compiler.write import write_tree

INFO = ClusterInfo("prod", "1.34", "argocd")


def _obj(kind: str, name: str) -> dict[str, object]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": name}}


@pytest.mark.parametrize("kind", ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"])
def test_rbac_kinds_with_colons_are_written_below_the_output_root(kind: str, tmp_path: Path) -> None:
    name = "cert-manager-controller-approve:cert-manager-io"
    tree = render_cluster(INFO, [("components/cert-manager", _obj(kind, name))])
    write_tree(tmp_path, tree, ["prod"], prune_others=False)
    written = tmp_path / "prod" / "components" / "cert-manager" / f"{kind.lower()}-{name}.yaml"
    assert written.is_file()
    assert written.resolve().is_relative_to(tmp_path.resolve())


@pytest.mark.parametrize(
    "name", ["a:/../../x", "../x:y", "a:..:b", ":leading", "trailing:", "Upper:case", "a:b/c"]
)
def test_rbac_names_that_are_not_plain_names_are_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(PlatformcError, match="cannot be written"):
        render_cluster(INFO, [("components/x", _obj("ClusterRole", name))])
    assert not any(tmp_path.iterdir())


def test_other_kinds_keep_dns_subdomain_names() -> None:
    with pytest.raises(PlatformcError, match="not a DNS-1123 subdomain"):
        render_cluster(
            INFO, [("components/x", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a:b"}})]
        )
