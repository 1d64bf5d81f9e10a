"""The explicit fallback of `schemas pull`: a CRD schema cache from the CRDs-catalog's main branch
(or any mirror with the same layout), for kinds no pin covers.

The cache uses the catalog layout `{group}/{kind_lower}_{version}.json`, so the cache
folder is directly usable as a `schema_dirs` entry. Each download is checked (valid JSON,
an object schema that jsonschema-rs can compile) and written atomically: a failed or
interrupted pull never leaves a partial or invalid file and never touches a good entry.
Once an entry is cached, validation works offline.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jsonschema_rs

from compiler.errors import PlatformcError
from compiler.registry_facts import RegistryFacts, SchemaTarget
from compiler.registry_table import TABLE

from .fetch import Deadline, fetch_bytes

DEFAULT_URL_TEMPLATE = (
    "https://raw.githubusercontent.com/datreeio/CRDs-catalog/main/{group}/{kind}_{version}.json"
)
MAX_SCHEMA_BYTES = 32 * 1024 * 1024  # the largest catalog schemas are a few MB

Target = SchemaTarget  # (group, kind, version)

# The GitOps engines' kinds packaging writes.
ENGINE_TARGETS: tuple[Target, ...] = (
    ("argoproj.io", "Application", "v1alpha1"),
    ("argoproj.io", "AppProject", "v1alpha1"),
    ("source.toolkit.fluxcd.io", "GitRepository", "v1"),
    ("source.toolkit.fluxcd.io", "HelmRepository", "v1"),
    ("source.toolkit.fluxcd.io", "OCIRepository", "v1"),
    ("kustomize.toolkit.fluxcd.io", "Kustomization", "v1"),
    ("helm.toolkit.fluxcd.io", "HelmRelease", "v2"),
)


def targets_for(facts: RegistryFacts = TABLE) -> tuple[Target, ...]:
    """What `schemas pull` fetches: the kinds the components declare they emit, and the engines'."""
    return (*facts.schema_targets, *ENGINE_TARGETS)


# The generated copy of the registry's; the CLI passes the live registry's.
DEFAULT_TARGETS: tuple[Target, ...] = targets_for(TABLE)

PullStatus = Literal["fetched", "cached", "failed"]
FETCHED: PullStatus = "fetched"
CACHED: PullStatus = "cached"
FAILED: PullStatus = "failed"


@dataclass(frozen=True)
class PullOutcome:
    target: Target
    status: PullStatus
    path: Path | None  # cache file (None when failed and nothing usable is cached)
    url: str
    reason: str = ""  # why it failed

    def format(self) -> str:
        group, kind, version = self.target
        text = f"{group}/{version} {kind}: {self.status}"
        return f"{text}: {self.reason}" if self.reason else text


@dataclass
class PullResult:
    outcomes: list[PullOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.status != FAILED for o in self.outcomes)

    @property
    def failed(self) -> list[PullOutcome]:
        return [o for o in self.outcomes if o.status == FAILED]

    def count(self, status: PullStatus) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


class SchemaRejected(ValueError):
    """Downloaded content is not a usable schema."""


def cache_path(cache_dir: Path, target: Target) -> Path:
    group, kind, version = target
    return Path(cache_dir) / group / f"{kind.lower()}_{version}.json"


def _remote_refs(schema: Any) -> list[str]:
    """`$ref`s that leave the document; walked without recursion, so depth cannot crash it."""
    found, stack = [], [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#"):
                found.append(ref)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def check_schema(data: bytes) -> dict[str, Any]:
    """Parse and vet a downloaded schema; raises SchemaRejected saying what is wrong.

    A cached schema decides what compile accepts, so a server must not be able to hand us one
    that accepts anything (no properties, an open root) or that pulls more from the network
    (`$ref` to another document) at every compile."""
    try:
        schema = json.loads(data)
    except RecursionError:
        raise SchemaRejected("not a JSON schema: nested too deeply") from None
    except ValueError as exc:  # includes UnicodeDecodeError
        raise SchemaRejected(f"not a JSON schema: invalid JSON ({exc})") from None
    if not isinstance(schema, dict):
        raise SchemaRejected("not a JSON schema: top level is not an object")
    types = schema.get("type")
    if not (types == "object" or (isinstance(types, list) and "object" in types)):
        raise SchemaRejected('not a JSON schema of an object: missing "type": "object"')
    if not isinstance(schema.get("properties"), dict) or not schema["properties"]:
        raise SchemaRejected('not a JSON schema of an object: missing "properties"')
    if schema.get("additionalProperties") is True or schema.get("x-kubernetes-preserve-unknown-fields"):
        raise SchemaRejected("schema accepts any field at the top level (additionalProperties: true)")
    remote = _remote_refs(schema)
    if remote:
        raise SchemaRejected(
            f"schema refers to another document ($ref {remote[0]}); only local $refs are allowed"
        )
    try:
        jsonschema_rs.validator_for(schema)
    except Exception as exc:  # jsonschema-rs reports bad schemas with several exception types
        raise SchemaRejected(f"schema does not compile: {exc}") from None
    return schema


def _download(url: str, deadline: Deadline) -> bytes:
    return fetch_bytes(url, deadline, MAX_SCHEMA_BYTES)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder + os.replace, so readers see old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _cached_ok(path: Path) -> bool:
    try:
        check_schema(path.read_bytes())
    except (OSError, SchemaRejected):
        return False
    return True


def check_url_template(url_template: str) -> None:
    """A misspelt placeholder would fail every download with the same KeyError; say which one."""
    try:
        url_template.format(group="g", kind="k", version="v")
    except (KeyError, IndexError) as exc:
        raise PlatformcError(
            f"invalid --url-template {url_template!r}: {{{exc.args[0]}}} is not a placeholder "
            "(expected only {group}, {kind} and {version})"
        ) from exc
    except ValueError as exc:  # an unbalanced brace
        raise PlatformcError(
            f"invalid --url-template {url_template!r}: {exc} "
            "(expected placeholders {group}, {kind} and {version}, braces balanced)"
        ) from exc


def pull_schemas(
    targets: Sequence[Target] = DEFAULT_TARGETS,
    cache_dir: Path = Path(".platformc-cache/schemas"),
    url_template: str = DEFAULT_URL_TEMPLATE,
    progress: Callable[[int, int, PullOutcome], None] | None = None,
    refresh: bool = False,
    timeout: float = 120.0,
) -> PullResult:
    """Make sure `cache_dir` holds a vetted schema for every (group, kind, version) target.

    `url_template` gets `{group}`, `{kind}` (lower case, as in the catalog) and `{version}`.
    An entry already in the cache is used without network access unless `refresh` is set;
    on refresh a failed download keeps the old entry. `progress(done, total, outcome)` is
    called after each target. `timeout` is the budget of the whole pull, in seconds.
    """
    check_url_template(url_template)
    deadline = Deadline(timeout)
    result = PullResult()
    unique = sorted({(g, k, v) for g, k, v in targets}, key=lambda t: (t[0], t[1].lower(), t[2]))
    for done, target in enumerate(unique, start=1):
        group, kind, version = target
        path = cache_path(cache_dir, target)
        url = url_template.format(group=group, kind=kind.lower(), version=version)
        have_cached = _cached_ok(path)
        if not have_cached and path.exists():
            path.unlink()  # corrupt or truncated by something else: never serve it
        if have_cached and not refresh:
            outcome = PullOutcome(target, CACHED, path, url)
        else:
            try:
                data = _download(url, deadline)
                check_schema(data)
                _write_atomically(path, data)
                outcome = PullOutcome(target, FETCHED, path, url)
            except (OSError, SchemaRejected) as exc:
                reason = f"{exc} ({url})" if isinstance(exc, SchemaRejected) else str(exc)
                if have_cached:
                    reason += "; keeping the cached copy"
                outcome = PullOutcome(target, FAILED, path if have_cached else None, url, reason)
        result.outcomes.append(outcome)
        if progress is not None:
            progress(done, len(unique), outcome)
    return result
