"""`platformc init DIR`: a new platform repository, compiled and committed, ready for its first PR.

Templates live in compiler/templates/init/. Names map to the repository: a `dot-` prefix on a path
part becomes `.` (package data skips hidden folders), and `*.j2` files are rendered with jinja2
and lose the suffix. The overlay folders are derived from the example spec's environments and
clusters, so they always match it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.parse
from dataclasses import dataclass
from importlib import metadata, resources
from importlib.abc import Traversable
from pathlib import Path

import git
import jinja2
from pydantic import TypeAdapter, ValidationError

from compiler.errors import PlatformcError
from compiler.pipeline import compile_platform
from compiler.spec.build import load_platform
from compiler.spec.types import GitURL

TEMPLATE_PACKAGE = "compiler.templates"
DEFAULT_REPO_URL = "https://github.com/example/ai-platform.git"
OVERLAY_READMES = {
    "overlays/all": "Patches and extra manifests applied to every cluster.",
    "overlays/environments/{env}": "Patches and extra manifests for the clusters of environment `{env}`.",
    "overlays/clusters/{cluster}": "Patches and extra manifests for cluster `{cluster}` only; applied last.",
}
OVERLAY_HELP = """
Each YAML document here is a plain Kubernetes object (added to the cluster tree) or a patch:

```yaml
apiVersion: platformc.dev/v1alpha1
kind: Patch
target: {kind: ClusterQueue, name: research}   # namespace optional
merge: {spec: {fairSharing: {weight: 2}}}      # RFC 7386 merge patch, or jsonPatch: [...] (RFC 6902)
```
"""


@dataclass(frozen=True)
class InitResult:
    path: Path
    commit: str
    files: int


def _pip_git_url(remote: str) -> str | None:
    """A git remote as pip's `git+` URL; None for a local path (nobody else can install from it)."""
    if remote.startswith(("https://", "ssh://")):
        return f"git+{remote}"
    scp = re.fullmatch(r"([\w.-]+@[\w.-]+):(.+)", remote)  # git@github.com:acme/platformc.git
    if scp:
        return f"git+ssh://{scp[1]}/{scp[2]}"
    return None


def platformc_requirement() -> str:
    """The requirements.txt line that installs this very platformc: platformc is not published on
    PyPI, so it is the git repository and commit it was installed from (PEP 610 direct_url.json),
    or the origin and HEAD of the checkout it was installed from. Raises PlatformcError when
    neither is known: a pin nobody can install is worse than none."""
    try:
        dist = metadata.distribution("platformc")
        direct = json.loads(dist.read_text("direct_url.json") or "{}")
    except (metadata.PackageNotFoundError, ValueError):
        direct = {}
    vcs = direct.get("vcs_info") or {}
    if vcs.get("vcs") == "git" and vcs.get("commit_id") and direct.get("url"):
        return f"platformc @ git+{direct['url']}@{vcs['commit_id']}"
    url = str(direct.get("url") or "")
    folder = Path(urllib.parse.urlsplit(url).path) if url.startswith("file://") else Path(__file__).parent
    where = url or str(folder)
    try:
        checkout = git.Repo(folder, search_parent_directories=True)
        remote = checkout.remotes.origin.url if "origin" in [r.name for r in checkout.remotes] else ""
        pip_url = _pip_git_url(remote)
        if pip_url:
            return f"platformc @ {pip_url}@{checkout.head.commit.hexsha}"
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, ValueError):
        pass
    raise PlatformcError(
        f"cannot tell where pip can install this platformc from (installed from {where}, which has no "
        "git remote 'origin'): pass --platformc-requirement, e.g. 'platformc @ "
        "git+https://github.com/<org>/platformc.git@<commit>'; nothing was created"
    )


def _check_requirement(requirement: str) -> str:
    if "\n" in requirement or not re.match(r"platformc(\s|@|=|<|>|~|\[|$)", requirement.strip()):
        raise PlatformcError(
            f"--platformc-requirement {requirement!r} is not a requirement for platformc (expected one "
            "line such as 'platformc @ git+https://github.com/<org>/platformc.git@<commit>'); nothing was "
            "created"
        )
    return requirement.strip()


def _dns_label(name: str) -> str:
    label = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:63].strip("-")
    return label or "ai-platform"


def _walk(node: Traversable, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Traversable]]:
    found = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name == "__pycache__":
            continue
        if child.is_dir():
            found.extend(_walk(child, (*prefix, child.name)))
        else:
            found.append(((*prefix, child.name), child))
    return found


def _target(parts: tuple[str, ...]) -> tuple[str, bool]:
    mapped = ["." + p[len("dot-") :] if p.startswith("dot-") else p for p in parts]
    rendered = mapped[-1].endswith(".j2")
    if rendered:
        mapped[-1] = mapped[-1][: -len(".j2")]
    return "/".join(mapped), rendered


def _check_identity(cwd: Path) -> None:
    # Fail before writing anything if the first commit could not be made.
    probe = subprocess.run(["git", "var", "GIT_COMMITTER_IDENT"], cwd=cwd, capture_output=True, text=True)
    if probe.returncode != 0:
        raise PlatformcError(
            "git has no committer identity (expected user.name and user.email in the git configuration, "
            "or GIT_COMMITTER_NAME / GIT_COMMITTER_EMAIL); nothing was created"
        )


def init_repository(
    path: Path, *, name: str | None = None, repo_url: str = DEFAULT_REPO_URL, requirement: str | None = None
) -> InitResult:
    if path.exists() and not path.is_dir():
        raise PlatformcError(f"{path} is a file (expected a new or empty folder); nothing was created")
    if path.exists() and any(path.iterdir()):
        raise PlatformcError(f"{path} is not empty (expected a new or empty folder); nothing was created")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise PlatformcError(f"{parent} does not exist (expected the parent folder of {path})")
    # An explicit --name is the user's word and must already be valid; the folder name is only a
    # default, so it is turned into a DNS label.
    if name is not None and not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", name):
        raise PlatformcError(
            f"--name {name!r} is not a DNS-1123 label (expected lowercase letters, digits and '-', "
            f"at most 63, e.g. {_dns_label(name)!r}); nothing was created"
        )
    try:
        TypeAdapter(GitURL).validate_python(repo_url)
    except ValidationError:
        raise PlatformcError(
            f"--repo-url {repo_url!r} is not a Git URL (expected https://host/org/repo.git or "
            "ssh://git@host/org/repo.git); nothing was created"
        ) from None
    _check_identity(parent)
    context = {
        "name": name or _dns_label(path.absolute().name),
        "repo_url": repo_url,
        "requirement": _check_requirement(requirement) if requirement else platformc_requirement(),
    }
    env = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined, autoescape=False)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a read-only or special file system, permissions
        raise PlatformcError(f"cannot create {path}: {exc.strerror or exc}; nothing was created") from exc
    try:
        return _fill(path, env, context)
    except BaseException:
        # Nothing half-written: a second init would refuse the non-empty folder.
        for child in path.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        raise


def _fill(path: Path, env: jinja2.Environment, context: dict[str, str]) -> InitResult:
    written = 0
    root = resources.files(TEMPLATE_PACKAGE).joinpath("init")
    for parts, source in _walk(root):
        rel, rendered = _target(parts)
        text = source.read_text(encoding="utf-8")
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(env.from_string(text).render(context) if rendered else text, encoding="utf-8")
        written += 1
    model = load_platform(path / "platform-spec")
    folders = {"overlays/all": OVERLAY_READMES["overlays/all"]}
    for cluster_name, cluster in model.clusters.items():
        env_name = cluster.spec.environment
        folders[f"overlays/environments/{env_name}"] = OVERLAY_READMES["overlays/environments/{env}"].format(
            env=env_name
        )
        folders[f"overlays/clusters/{cluster_name}"] = OVERLAY_READMES["overlays/clusters/{cluster}"].format(
            cluster=cluster_name
        )
    for folder, text in sorted(folders.items()):
        readme = path / folder / "README.md"
        readme.parent.mkdir(parents=True, exist_ok=True)
        readme.write_text(f"# {folder}/\n\n{text}\n{OVERLAY_HELP}", encoding="utf-8")
        written += 1
    compile_platform(path / "platform-spec", path / "generated")
    repo = git.Repo.init(path, initial_branch="main")
    repo.git.add("-A")
    repo.git.commit("-q", "--no-verify", "-m", "Platform repository created by platformc init")
    return InitResult(path, repo.head.commit.hexsha, written)
