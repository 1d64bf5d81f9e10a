"""Validate generated trees on disk, or the same objects in memory before they are written.

Tree layout: `OUT/<cluster>/.../*.yaml`, one object per file (several documents are
tolerated), `kustomization.yaml` files skipped, and `OUT/<cluster>/platformc-cluster.json`
saying which Kubernetes version the cluster runs.
"""

from __future__ import annotations

import gc
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from compiler.object_memo import ObjectMemo
from compiler.parallel import map_in_order
from compiler.tree_contract import CLUSTER_INFO_FILE, KUSTOMIZATION_FILES, ClusterInfo
from compiler.yaml_limits import MAX_DEPTH, depth, has_shared_nodes, non_json_value, size_problem

from .admission import check_cel
from .cache import ValidationCache, compiler_digest, schema_digest, walk_files
from .checks import Check, Entry, ObjectSet
from .core import UnsupportedKubernetesVersion
from .defaults import DEFAULT_CHECKS
from .findings import ERROR, WARNING, Finding, Report, Severity, finding_row, from_row
from .schemas import SchemaRegistry
from .secrets import secret_check
from .yaml_read import NotPlain, load_plain

CLUSTER_FILE = CLUSTER_INFO_FILE
DEFAULT_KUBERNETES_VERSION = "1.34"

# (cluster, Kubernetes version, file relative to the tree root, object)
LoadedObject = tuple[str, str, str, dict[str, Any]]


@dataclass(frozen=True)
class ClusterFolder(ClusterInfo):
    """A cluster of a tree on disk: what its info file says, and where it is."""

    directory: Path


def _file_finding(severity: Severity, check: str, file: str, message: str, **where: Any) -> Finding:
    return Finding(severity, check, file, "", None, "", "", message, **where)


def discover_clusters(
    out_dir: Path,
    problems: list[Finding],
    default_kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
    clusters: Sequence[str] | None = None,
) -> list[ClusterFolder]:
    """Cluster folders of `out_dir` (sorted), reading each one's platformc-cluster.json."""
    found: list[ClusterFolder] = []
    folders = sorted(p for p in out_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    for folder in folders:
        rel = f"{folder.name}/{CLUSTER_FILE}"
        info = ClusterInfo.lenient({}, folder.name, default_kubernetes_version)
        meta_path = folder / CLUSTER_FILE
        if meta_path.is_file():
            try:
                info = ClusterInfo.from_json(meta_path.read_bytes(), folder.name, default_kubernetes_version)
            except ValueError as exc:
                problems.append(_file_finding(ERROR, "cluster", rel, f"invalid {CLUSTER_FILE}: {exc}"))
        else:
            problems.append(
                _file_finding(
                    WARNING,
                    "cluster",
                    rel,
                    f"missing; validating against Kubernetes {default_kubernetes_version}",
                )
            )
        found.append(ClusterFolder(info.name, info.kubernetes_version, info.engine, folder))
    if clusters is not None:
        wanted = set(clusters)
        for missing in sorted(wanted - {c.name for c in found}):
            problems.append(_file_finding(ERROR, "cluster", missing, f"no cluster {missing!r} in {out_dir}"))
        found = [c for c in found if c.name in wanted]
    return found


def _yaml_files(out_dir: Path, cluster: ClusterFolder) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """(path relative to out_dir, entry) of a cluster's object files in a stable order, skipping
    hidden folders and kustomizations."""
    prefix = f"{cluster.directory.relative_to(out_dir).as_posix()}/"
    for rel, entry in walk_files(str(cluster.directory), prefix):
        if entry.name.endswith((".yaml", ".yml")) and entry.name not in KUSTOMIZATION_FILES:
            yield rel, entry


def load_file(path: Path, rel: str, problems: list[Finding]) -> list[dict[str, Any]]:
    """Objects in one YAML file; syntax errors and non-objects become findings."""
    parsed = _parse(path, rel, problems)
    return [] if parsed is None else _objects(parsed[0], parsed[1], rel, problems)


def _parse(
    path: Path, rel: str, problems: list[Finding], read: list[bytes] | None = None
) -> tuple[list[Any], bool] | None:
    """(documents, whether they are plain data) of one file; None when it cannot be read as YAML.
    The bytes read are appended to `read` when it is given."""
    if path.is_symlink():  # a committed link could make validate read any file (see pathsafety)
        problems.append(_file_finding(ERROR, "yaml", rel, "symbolic link refused (expected a regular file)"))
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(_file_finding(ERROR, "yaml", rel, f"cannot read file: {exc}"))
        return None
    if read is not None:
        read.append(data)
    if (too_big := size_problem(data)) is not None:
        problems.append(_file_finding(ERROR, "yaml", rel, too_big[1], line=too_big[0], column=1))
        return None
    try:
        try:
            return load_plain(data), True
        except NotPlain:
            return list(yaml.load_all(data, Loader=yaml.CSafeLoader)), False
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        where = {"line": mark.line + 1, "column": mark.column + 1} if mark is not None else {}
        problems.append(_file_finding(ERROR, "yaml", rel, f"YAML syntax error: {problem}", **where))
        return None


def _objects(docs: list[Any], plain: bool, rel: str, problems: list[Finding]) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for index, doc in enumerate(docs):
        if doc is None:
            continue
        if (problem := _shape_problem(doc, plain)) is not None:
            problems.append(_file_finding(ERROR, "object", rel, f"document {index + 1}: {problem}"))
            continue
        if not isinstance(doc, dict):
            problems.append(
                _file_finding(
                    ERROR, "object", rel, f"document {index + 1} is a {type(doc).__name__}, not an object"
                )
            )
            continue
        objects.append(doc)
    return objects


def _shape_problem(doc: Any, plain: bool) -> str | None:
    """Bounds and the List rule on a document read from a tree (see compiler/yaml_limits.py).

    A `plain` document (load_plain) is already known to be alias-free and shallow."""
    if not plain and has_shared_nodes(doc):
        return (
            "uses YAML aliases (expected plain YAML, as platformc writes it; aliases can hide an alias bomb)"
        )
    if not plain and depth(doc) > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels (expected flatter YAML)"
    if not plain and (odd := non_json_value(doc)) is not None:
        # Kubernetes objects are JSON: a date or !!binary would reach the schema validator as a
        # Python type it cannot take.
        where = ".".join(str(step) for step in odd[0]) or "the document"
        return (
            f"'{where}' is {odd[1]}, not plain data (expected a string, number, boolean, null, list "
            "or mapping: quote dates and drop tags such as !!binary, !!set)"
        )
    if not plain and (key_at := _non_string_key(doc)) is not None:
        return f"'{key_at}' is not a string key (expected string keys: Kubernetes objects are JSON)"
    kind = doc.get("kind") if isinstance(doc, dict) else None
    if isinstance(kind, str) and kind.endswith("List") and "items" in doc:
        return (
            f"kind {kind} is a list of objects, refused (kustomize inlines the items of any *List, "
            "so they would skip every check; expected one object per document)"
        )
    return None


def _non_string_key(doc: Any) -> str | None:
    """Dotted path of the first mapping key that is not a string (YAML's `1:` or `true:`)."""
    stack: list[tuple[str, Any]] = [("", doc)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, child in value.items():
                at = f"{path}.{key}" if path else str(key)
                if not isinstance(key, str):
                    return at
                stack.append((at, child))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", child) for i, child in enumerate(value))
    return None


def iter_tree(
    out_dir: Path,
    problems: list[Finding],
    default_kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
    clusters: Sequence[str] | None = None,
) -> Iterator[LoadedObject]:
    """Yield (cluster, kubernetes_version, relative_file, obj) for every object of the tree.

    Problems that are not objects (YAML syntax errors, missing cluster files) are appended
    to `problems` instead, so one broken file never hides the rest of the tree.
    """
    out_dir = Path(out_dir)
    yield from _iter_clusters(
        out_dir, discover_clusters(out_dir, problems, default_kubernetes_version, clusters), problems
    )


def _iter_clusters(
    out_dir: Path, clusters: Iterable[ClusterFolder], problems: list[Finding]
) -> Iterator[LoadedObject]:
    for cluster in clusters:
        for rel, obj in _cluster_objects(out_dir, cluster, problems):
            yield cluster.name, cluster.kubernetes_version, rel, obj


def _cluster_objects(
    out_dir: Path, cluster: ClusterFolder, problems: list[Finding]
) -> Iterator[tuple[str, dict[str, Any]]]:
    for rel, entry in _yaml_files(out_dir, cluster):
        for obj in load_file(Path(entry.path), rel, problems):
            yield rel, obj


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector during bulk validation.

    Loading and indexing tens of thousands of objects allocates many containers, which
    triggers full collections that walk every live object (all loaded manifests plus the
    cached Kubernetes definitions): measured, that doubles validation time. This work
    creates no reference cycles, so nothing is lost by collecting once afterwards. What
    survived the pause (schema definitions, compiled validators) is moved to the oldest
    generation on the way out (gc.freeze + unfreeze), so the first young collection after
    it does not walk all of it at once (measured: 1.5 s on a 46,000-object tree).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def validate_objects(
    objects: Iterable[LoadedObject],
    registry: SchemaRegistry,
    allow_missing: bool = False,
    checks: Sequence[Check] = DEFAULT_CHECKS,
    memo: ObjectMemo | None = None,
) -> Report:
    """Schema-validate every object, then run the whole-set `checks` over all of them.

    The compile pipeline calls this on in-memory objects before writing anything;
    `validate_tree` validates a tree on disk the same way, one cluster at a time. A memo
    (compiler/object_memo.py) gives the schema and CEL findings of objects validated before
    against the same schemas and Kubernetes version.
    """
    report = _checked(objects, registry, allow_missing, checks, memo)
    report.add(_schema_source_warnings(registry.load_errors))
    return report


def _checked(
    objects: Iterable[LoadedObject],
    registry: SchemaRegistry,
    allow_missing: bool,
    checks: Sequence[Check],
    memo: ObjectMemo | None = None,
) -> Report:
    report = Report()
    object_set = ObjectSet()
    bad_versions: set[str] = set()
    validate = _validator(registry, memo)
    findings = report.findings
    into, into_name = None, None  # the cluster objects arrive in, looked up when it changes
    with _gc_paused():
        for cluster, version, file, obj in objects:
            if cluster != into_name or into is None:
                into, into_name = object_set.cluster(cluster, version), cluster
            entry = Entry(cluster, file, obj)
            into.add(entry)  # object_set.add, without its lookup: this runs per object
            if version in bad_versions:
                continue
            try:
                found = validate(entry, version)
            except UnsupportedKubernetesVersion as exc:
                bad_versions.add(version)
                findings.append(
                    Finding(ERROR, "kubernetes-version", None, "Cluster", None, cluster, "", str(exc))
                )
                continue
            if found:
                if allow_missing:
                    found = [_as_warning(f) if f.check == "missing-schema" else f for f in found]
                findings.extend(found)
        for check in checks:
            findings.extend(check(object_set))
        # CEL is type-checked against the schemas, so it runs here, where the registry is.
        findings.extend(check_cel(object_set, registry, memo))
    report.objects = len(object_set)
    report.clusters = sorted(object_set.clusters)
    return report


def _validator(
    registry: SchemaRegistry, memo: ObjectMemo | None
) -> Callable[[Entry, str], Sequence[Finding]]:
    """registry.validate of an entry's object; with a memo, answered from it for an object
    validated before against the same schemas and Kubernetes version. What is kept is everything
    but the file (which the object's content does not decide): a hit names the file it is asked
    about."""
    identity = registry.identity if memo is not None else None
    if memo is None or identity is None:
        return lambda entry, version: registry.validate(entry.obj, version, entry.file)
    tags: dict[str, bytes] = {}  # Kubernetes version -> memo tag of its purpose
    # The registry keeps a lookup: once per kind is all (Kubernetes version -> (apiVersion, kind)).
    looked_up: dict[str, set[tuple[str, str]]] = {}
    content, get, put = memo.content, memo.get, memo.put

    def validate(entry: Entry, version: str) -> Sequence[Finding]:
        tag = tags.get(version)
        if tag is None:
            tag = tags[version] = memo.tag(f"schema\0{version}\0{identity}".encode())
            looked_up[version] = set()
        digest = content(entry.obj)
        key = None if digest is None else tag + digest
        rows = get(key)
        if isinstance(rows, tuple):
            lookup = (entry.api_version, entry.kind)  # "" where the object's is not a string
            seen = looked_up[version]
            if lookup not in seen:
                seen.add(lookup)
                schema_lookup(registry, entry.obj, version)
            return [from_row(row, entry.file) for row in rows] if rows else rows
        found = registry.validate(entry.obj, version, entry.file)
        put(key, tuple(finding_row(f) for f in found))
        return found

    return validate


def schema_lookup(registry: SchemaRegistry, obj: dict[str, Any], version: str) -> None:
    """The schema lookup registry.validate makes for obj. Looking a kind up may read schema files
    and record those that fail to load (the schema-source warnings), so an answer from a memo makes
    it too: the warnings are the same as without the memo."""
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if isinstance(api_version, str) and api_version and isinstance(kind, str) and kind:
        registry.look_up(api_version, kind, version)


def _schema_source_warnings(load_errors: Iterable[tuple[str, str]]) -> list[Finding]:
    return [_file_finding(WARNING, "schema-source", file, message) for file, message in load_errors]


def _as_warning(finding: Finding) -> Finding:
    return replace(finding, severity=WARNING)


@dataclass(frozen=True)
class ParsedPack:
    """A cluster's object files as the cache keyed them, and where their plain documents are kept
    between runs (by file and content digest), so a re-validate parses only changed files."""

    cache: ValidationCache
    name: str
    files: list[tuple[str, str, str]]  # (path relative to the tree, path, content digest)


@dataclass(frozen=True)
class ClusterResult:
    """What validating one cluster folder found; plain data, cheap to send back from a worker."""

    findings: tuple[Finding, ...]
    objects: int
    load_errors: tuple[tuple[str, str], ...]  # schema files that could not be read, as looked up
    as_keyed: bool = False  # every file read had the content its cache key was made from


def validate_cluster(
    out_dir: Path,
    cluster: ClusterFolder,
    registry: SchemaRegistry,
    allow_missing: bool = False,
    checks: Sequence[Check] = DEFAULT_CHECKS,
    pack: ParsedPack | None = None,
) -> ClusterResult:
    """Every object file of one cluster: read, schema-validated, and every check run over them.

    Every check looks within one cluster (references, ordering and duplicates never cross
    clusters), so a tree's report is the union of its clusters' results."""
    problems: list[Finding] = []
    with _gc_paused():
        if pack is None:
            files = [
                (rel, *parsed)
                for rel, entry in _yaml_files(out_dir, cluster)
                if (parsed := _parse(Path(entry.path), rel, problems))
            ]
            as_keyed = False
        else:
            files, as_keyed = _packed_documents(pack, problems)
        objects = [
            (cluster.name, cluster.kubernetes_version, rel, obj)
            for rel, docs, plain in files
            for obj in _objects(docs, plain, rel, problems)
        ]
        report = _checked(objects, registry, allow_missing, checks)
    findings = (*report.findings, *problems)
    return ClusterResult(findings, report.objects, tuple(registry.load_errors), as_keyed)


def _packed_documents(
    pack: ParsedPack, problems: list[Finding]
) -> tuple[list[tuple[str, list[Any], bool]], bool]:
    """(file, documents, plain) of every object file, plain documents of unchanged files from the
    pack; the pack is rewritten (before any check sees the objects) when files changed. Also
    whether every file read still had the digest the cluster's key was made from."""
    stored = pack.cache.read(pack.name)
    old: dict[str, list[Any]] = {}
    if isinstance(stored, dict) and stored.get("compiler") == compiler_digest():
        old = stored.get("files") or {}
    new: dict[str, list[Any]] = {}
    files: list[tuple[str, list[Any], bool]] = []
    as_keyed = True
    for rel, path, digest in pack.files:
        kept = old.get(rel)
        if kept is not None and kept[0] == digest:
            docs, plain = kept[1], True
        else:
            read: list[bytes] = []
            parsed = _parse(Path(path), rel, problems, read)
            if read and hashlib.sha256(read[0]).hexdigest() != digest:
                as_keyed = False  # changed since it was keyed: neither packed nor stored as a result
                digest = ""
            if parsed is None:
                continue
            docs, plain = parsed
        if plain and digest:
            new[rel] = [digest, docs]
        files.append((rel, docs, plain))
    if new != old:
        pack.cache.write(pack.name, {"compiler": compiler_digest(), "files": new})
    return files, as_keyed


def validate_tree(
    out_dir: Path,
    schema_dirs: Sequence[Path] = (),
    allow_missing_schemas: bool = False,
    clusters: Sequence[str] | None = None,
    default_kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
    checks: Sequence[Check] = DEFAULT_CHECKS,
    registry: SchemaRegistry | None = None,
    jobs: int | None = None,
    cache: ValidationCache | None = None,
    secrets_allowed: frozenset[str] | None = None,
) -> Report:
    """Validate a generated tree on disk (see the module docstring for the layout), one cluster
    per task, in forked workers when there are several cores (compiler/parallel.py). With a
    `cache`, a cluster whose files, schemas and platformc are unchanged reuses its stored result.
    With `secrets_allowed`, the secret scan runs too (compiler/validate/secrets.py), allowing those
    fingerprints; they are part of the cache key."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise FileNotFoundError(f"generated tree {out_dir} does not exist or is not a folder")
    registry = registry or SchemaRegistry(schema_dirs)
    problems: list[Finding] = []
    found = discover_clusters(out_dir, problems, default_kubernetes_version, clusters)
    with _gc_paused():  # forked workers inherit the pause
        scan = "" if secrets_allowed is None else "secrets\0" + "\0".join(sorted(secrets_allowed))
        keys, packs = _cache_keys(cache, out_dir, found, registry, allow_missing_schemas, checks, scan, jobs)
        if secrets_allowed is not None:
            checks = (*checks, secret_check(out_dir, secrets_allowed))
        results: dict[str, ClusterResult] = {}
        for cluster in found:
            stored = cache.get(key) if cache is not None and (key := keys.get(cluster.name)) else None
            if stored is not None:
                results[cluster.name] = ClusterResult(tuple(stored[0]), stored[1], ())
        todo = [c for c in found if c.name not in results]
        # Definitions loaded here once are shared by forked workers; a bad version is reported per cluster.
        for version in sorted({c.kubernetes_version for c in todo}):
            with suppress(UnsupportedKubernetesVersion):
                registry.core(version)

        def task(cluster: ClusterFolder) -> ClusterResult:
            pack = packs.get(cluster.name)
            result = validate_cluster(out_dir, cluster, registry, allow_missing_schemas, checks, pack)
            gc.collect(1)  # what a cluster left in cycles, before the next one: memory stays flat
            return result

        for cluster, result in zip(todo, map_in_order(task, todo, jobs), strict=True):
            results[cluster.name] = result
            key = keys.get(cluster.name)
            if cache is not None and key and result.as_keyed and not result.load_errors:
                cache.put(key, result.findings, result.objects)
    return merged([results[c.name] for c in found], problems, [c.name for c in found])


def _cache_keys(
    cache: ValidationCache | None,
    out_dir: Path,
    clusters: Sequence[ClusterFolder],
    registry: SchemaRegistry,
    allow_missing: bool,
    checks: Sequence[Check],
    scan: str,
    jobs: int | None,
) -> tuple[dict[str, str], dict[str, ParsedPack]]:
    """Cluster name -> key of its result (see compiler/validate/cache.py), and -> its parsed
    pack. A cluster with an unreadable file has no key; with inputs that cannot be named (custom
    checks, a schema source of unknown kind) nothing has."""
    if cache is None or checks is not DEFAULT_CHECKS:
        return {}, {}
    schemas = schema_digest(registry.sources, cache)
    if schemas is None:
        return {}, {}
    base = f"{compiler_digest()}\0{schemas}\0{allow_missing}\0{scan}\0".encode()
    root = out_dir.resolve()

    def cluster_key(cluster: ClusterFolder) -> tuple[str, list[tuple[str, str, str]]] | None:
        """(key, files) of one cluster: a stat of each file, hashed again only when it changed."""
        digests = cache.digests(f"tree\0{root}\0{cluster.name}")
        files: list[tuple[str, str, str]] = []
        parts = [f"{cluster.name}\0{cluster.kubernetes_version}\0{cluster.engine}"]
        complete = True
        for rel, entry in _yaml_files(out_dir, cluster):
            content = digests.of(rel, entry)
            if content is None:
                complete = False
                break
            files.append((rel, entry.path, content))
            parts.append(f"{rel}\0{content}")
        digests.save()
        if not complete:
            return None
        return hashlib.sha256(base + "\0".join(parts).encode()).hexdigest(), files

    keys: dict[str, str] = {}
    packs: dict[str, ParsedPack] = {}
    # A warm run is a stat of every file: the clusters are stat'ed in forked workers too.
    for cluster, found in zip(clusters, map_in_order(cluster_key, clusters, jobs), strict=True):
        if found is not None:
            keys[cluster.name] = found[0]
            name = "parsed-" + hashlib.sha256(f"tree\0{root}\0{cluster.name}".encode()).hexdigest()
            packs[cluster.name] = ParsedPack(cache, name, found[1])
    return keys, packs


def merged(
    results: Sequence[ClusterResult], problems: Sequence[Finding], cluster_names: Sequence[str]
) -> Report:
    """One report from per-cluster results, as validating all clusters at once would give it."""
    report = Report()
    bad_versions: set[str] = set()
    for result in results:
        for finding in result.findings:
            if finding.check == "kubernetes-version":
                # One finding per unsupported version, naming the first cluster that runs it.
                if finding.message in bad_versions:
                    continue
                bad_versions.add(finding.message)
            report.findings.append(finding)
        report.objects += result.objects
    load_errors = dict.fromkeys(error for result in results for error in result.load_errors)
    report.add(_schema_source_warnings(load_errors))
    report.add(problems)
    report.clusters = sorted(cluster_names)  # empty clusters count too
    return report
