"""One path-safety rule for everything platformc reads from a pull request or writes to disk.

- Written paths are built from validated components only: DNS-1123 subdomains (object names,
  namespaces, cluster and component names) and lowercased kinds. `safe_relative` refuses
  anything else, and `resolve_under` checks the result stays below the output root after
  resolution, so a name like `a/../../x` can never leave --out.
- Input folders (spec, overlays, custom-component templates) are read without following
  symbolic links: a link is an error naming where it points, so a PR cannot make platformc
  read /etc/passwd or /proc/self/environ into generated/ or into an error message.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from compiler.errors import PlatformcError, SourceLocation, SpecError

# k8s.io/apimachinery/pkg/util/validation/validation.go: dns1123SubdomainFmt, DNS1123SubdomainMaxLength.
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
SUBDOMAIN_MAX = 253
# A kind is a Go type name (CamelCase identifier); lowercased it becomes part of a file name.
KIND = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
KIND_MAX = 63
# RBAC names are path segments, not subdomains (k8s.io/kubernetes pkg/apis/rbac/validation:
# ValidateRBACName = path.IsValidPathSegmentName), and charts use ':' in them (cert-manager's
# ClusterRole cert-manager-controller-approve:cert-manager-io). ':' is allowed for these kinds only;
# it is no path separator, so the file stays in its folder.
RBAC_KINDS = frozenset({"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"})
RBAC_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.:]*[a-z0-9])?$")


def name_problem(value: object, what: str) -> str | None:
    """Why `value` cannot be a path component (None when it can)."""
    if not isinstance(value, str):
        return f"{what} is {type(value).__name__}, not a string (expected a DNS-1123 subdomain)"
    if len(value) > SUBDOMAIN_MAX or not DNS1123_SUBDOMAIN.match(value):
        shown = value if len(value) <= 80 else value[:77] + "..."
        return (
            f"{what} {shown!r} is not a DNS-1123 subdomain (expected lowercase letters, digits, '-' and "
            f"'.', starting and ending with a letter or digit, at most {SUBDOMAIN_MAX} characters; it "
            "becomes part of a file path)"
        )
    return None


def object_name_problem(kind: object, value: object) -> str | None:
    """Why an object's metadata.name cannot be part of its file name (None when it can): a DNS-1123
    subdomain, or for RBAC kinds also with ':' (see RBAC_KINDS)."""
    if kind in RBAC_KINDS and isinstance(value, str) and ":" in value:
        if len(value) <= SUBDOMAIN_MAX and RBAC_NAME.match(value) and ".." not in value:
            return None
        shown = value if len(value) <= 80 else value[:77] + "..."
        return (
            f"metadata.name {shown!r} of a {kind} is not a DNS-1123 subdomain with ':' (expected "
            f"lowercase letters, digits, '-', '.' and ':', starting and ending with a letter or digit, at "
            f"most {SUBDOMAIN_MAX} characters; it becomes part of a file path)"
        )
    return name_problem(value, "metadata.name")


def kind_problem(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > KIND_MAX or not KIND.match(value):
        return f"kind {value!r} is not a Kubernetes kind (expected a CamelCase name such as ConfigMap)"
    return None


def safe_relative(rel: str) -> str:
    """`rel` unchanged when every part is a plain name: no empty part, '.', '..', or absolute start."""
    parts = rel.split("/")
    if rel.startswith("/") or any(p in ("", ".", "..") or "\\" in p or "\0" in p for p in parts):
        raise PlatformcError(f"refusing to write {rel!r}: not a plain relative path below the output folder")
    return rel


def resolve_under(root: Path, rel: str) -> Path:
    """root/rel, after checking the resolved path stays below the resolved root."""
    path = root / safe_relative(rel)
    real_root = root.resolve()
    if not path.resolve().is_relative_to(real_root):
        raise PlatformcError(f"refusing to write {rel!r}: it resolves outside {root}")
    return path


def _shown(link: Path, display: Callable[[Path], str]) -> str:
    """The link's own path as shown in errors (displaying it must not resolve the link)."""
    return f"{display(link.parent)}/{link.name}"


def _link_error(link: Path, shown: str, repository: Path) -> SpecError:
    target = os.readlink(link)
    inside = (link.parent / target).resolve().is_relative_to(repository.resolve())
    where = "inside" if inside else "outside"
    return SpecError(
        SourceLocation(shown, 0, 0),
        f"symbolic link refused (it points {where} the repository, to {target!r}; platformc reads "
        "regular files only, so input cannot pull in other files: copy the file here instead)",
    )


def regular_files(
    folder: Path, errors: list[SpecError], display: Callable[[Path], str], repository: Path | None = None
) -> Iterator[Path]:
    """Every regular file below `folder`, in no particular order; each symbolic link met (file or
    folder) is an error and is not followed. `folder` itself may be a link given on the command line."""
    repository = repository or Path.cwd()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        base = Path(dirpath)
        for name in (*dirnames, *filenames):
            path = base / name
            if path.is_symlink():
                errors.append(_link_error(path, _shown(path, display), repository))
        dirnames[:] = [d for d in dirnames if not (base / d).is_symlink()]
        for name in filenames:
            path = base / name
            if not path.is_symlink() and path.is_file():
                yield path


def subfolders(folder: Path, errors: list[SpecError], display: Callable[[Path], str]) -> list[Path]:
    """The real (non-link) sub-folders of `folder`, sorted; links are errors."""
    result = []
    for path in sorted(folder.iterdir()):
        if path.is_symlink():
            errors.append(_link_error(path, _shown(path, display), Path.cwd()))
        elif path.is_dir():
            result.append(path)
    return result
