"""`platformc schemas pull`: the CRD schemas of what the spec pins, fetched from the release tags.

Built-in components at their embedded release need nothing. A pin the spec overrides is
fetched from the component's release tag (`sources.CrdSource.url_template`), converted with
the catalog conversion, and cached in `pinned/<component>/<version>/`. A custom component's
`crds:` declarations are fetched into `components/<name>/`: a URL of CRD YAML, or a folder
of its chart archive (from the chart's https Helm repository). Each target is written whole
or not at all: files go to a temporary folder that replaces the old one in one rename.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from compiler.crdschemas.catalog import SchemaRejected, check_schema
from compiler.crdschemas.convert import convert_crd, crd_documents
from compiler.crdschemas.fetch import Deadline, FetchError, fetch_bytes
from compiler.crdschemas.select import CACHE_ROOT, component_dir, overridden_pins, pinned_dir
from compiler.crdschemas.sources import RAW, by_spec_pin
from compiler.errors import SourceLocation
from compiler.overlays.custom_components import ChartConfig, CrdRef, declared_crds
from compiler.spec.build import PlatformModel
from compiler.spec.loader import display_path

COMPLETE = ".complete"  # written last: a pinned folder without it is never used
MAX_CHART_MEMBER = 8 * 1024 * 1024


@dataclass(frozen=True)
class PullTarget:
    what: str  # "kueue v0.99.0", "custom component volcano"
    where: SourceLocation | None  # the spec or component.yaml line that asks for it
    dest: Path
    urls: tuple[str, ...] = ()
    chart: ChartConfig | None = None
    chart_folder: str = ""


@dataclass(frozen=True)
class TargetOutcome:
    target: PullTarget
    ok: bool
    detail: str  # "12 schemas", "cached", or why it failed

    def format(self) -> str:
        where = f"{self.target.where}: " if self.target.where else ""
        status = "ok" if self.ok else "failed"
        return f"{where}{self.target.what}: {status}: {self.detail}"


@dataclass
class PinnedPull:
    outcomes: list[TargetOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)


def rebase(url: str, mirror: str | None) -> str:
    """A release-tag URL on a mirror laid out like raw.githubusercontent.com."""
    if mirror and url.startswith(RAW + "/"):
        return mirror.rstrip("/") + url[len(RAW) :]
    return url


def plan(
    model: PlatformModel | None,
    overlays_dir: Path | None,
    cache_root: Path = CACHE_ROOT,
    mirror: str | None = None,
) -> list[PullTarget]:
    targets: list[PullTarget] = []
    if model is not None:
        for key, version in sorted(overridden_pins(model).items()):
            source = by_spec_pin()[key]
            urls = tuple(
                rebase(source.url_template.format(version=version, file=f), mirror) for f in source.crd_files
            )
            where = model.locate("Platform", model.platform.metadata.name, ("spec", "components", key))
            targets.append(PullTarget(f"{key} {version}", where, pinned_dir(cache_root, key, version), urls))
    if overlays_dir is not None:
        by_component: dict[str, list[CrdRef]] = {}
        charts: dict[str, ChartConfig | None] = {}
        folders: dict[str, Path] = {}
        for name, folder, ref, chart in declared_crds(overlays_dir / "components"):
            if ref.folder is None:
                by_component.setdefault(name, []).append(ref)
                charts[name], folders[name] = chart, folder
        for name, refs in by_component.items():
            where = SourceLocation(display_path(folders[name] / "component.yaml"), 1, 1)
            urls = tuple(r.url for r in refs if r.url)
            chart_folder = next((r.chart for r in refs if r.chart), "")
            targets.append(
                PullTarget(
                    f"custom component {name}",
                    where,
                    component_dir(cache_root, name),
                    urls,
                    charts[name] if chart_folder else None,
                    chart_folder,
                )
            )
    return targets


def _chart_crd_files(target: PullTarget, deadline: Deadline) -> Iterator[bytes]:
    """The YAML files under `chart_folder` of the chart archive at the pinned version."""
    chart = target.chart
    if chart is None:
        raise FetchError(f"{target.what} declares crds.chart but has no chart")
    if chart.repository.startswith("oci://"):
        raise FetchError(
            f"crds.chart needs a Helm repository with an index.yaml, not {chart.repository} "
            "(declare crds.url or crds.folder instead)"
        )
    index_url = chart.repository.rstrip("/") + "/index.yaml"
    index = _safe_yaml(fetch_bytes(index_url, deadline), index_url)
    entries = (index or {}).get("entries", {}).get(chart.chart) if isinstance(index, dict) else None
    bare = chart.version.removeprefix("v")
    entry = next(
        (
            e
            for e in entries or []
            if isinstance(e, dict) and str(e.get("version", "")).removeprefix("v") == bare
        ),
        None,
    )
    if entry is None or not entry.get("urls"):
        raise FetchError(f"{index_url} has no chart {chart.chart} {chart.version}")
    archive_url = urllib.parse.urljoin(index_url, str(entry["urls"][0]))
    archive = fetch_bytes(archive_url, deadline)
    prefix = f"{chart.chart}/{target.chart_folder.strip('/')}/"
    found = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            for member in tar.getmembers():
                if (
                    member.isfile()
                    and member.name.startswith(prefix)
                    and member.name.endswith((".yaml", ".yml"))
                ):
                    if member.size > MAX_CHART_MEMBER:
                        raise FetchError(
                            f"{member.name} in {archive_url} is larger than {MAX_CHART_MEMBER} bytes"
                        )
                    handle = tar.extractfile(member)
                    if handle is not None:
                        found += 1
                        yield handle.read()
    except (tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, FetchError):
            raise
        raise FetchError(f"{archive_url} is not a chart archive: {exc}") from None
    if not found:
        raise FetchError(f"{archive_url} has no YAML files under {prefix}")


def _safe_yaml(data: bytes, url: str) -> object:
    """YAML from the network: aliases refused (a few bytes could expand to gigabytes)."""
    try:
        for event in yaml.parse(
            data, Loader=yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader
        ):
            if isinstance(event, yaml.AliasEvent):
                raise FetchError(f"{url} uses YAML aliases, which CRD files never need")
        return yaml.safe_load(data)
    except (yaml.YAMLError, RecursionError) as exc:
        raise FetchError(f"{url} is not valid YAML: {str(exc).splitlines()[0]}") from None


def _convert(data: bytes, url: str) -> dict[str, str]:
    _safe_yaml(data, url)  # aliases and depth are refused before the CRD reader runs
    files: dict[str, str] = {}
    try:
        docs = crd_documents(data)
    except (yaml.YAMLError, RecursionError) as exc:
        raise FetchError(f"{url} is not valid YAML: {exc}") from None
    for crd in docs:
        for schema in convert_crd(crd):
            if schema.served:
                try:
                    check_schema(schema.text.encode())
                except SchemaRejected as exc:
                    raise FetchError(f"{url}: {schema.group}/{schema.version} {schema.kind}: {exc}") from None
                files[schema.filename] = schema.text
    return files


def _write_folder(dest: Path, files: dict[str, str]) -> None:
    """Replace `dest` with exactly `files` in one rename; readers see old or new, never half."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        for name, text in files.items():
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        (tmp / COMPLETE).write_text("")
        old = None
        if dest.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old.", dir=dest.parent))
            os.replace(dest, old / "x")
        os.replace(tmp, dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def pull_target(target: PullTarget, deadline: Deadline, refresh: bool = False) -> TargetOutcome:
    if (target.dest / COMPLETE).is_file() and not refresh:
        return TargetOutcome(target, True, f"cached in {target.dest}")
    files: dict[str, str] = {}
    try:
        for url in target.urls:
            files.update(_convert(fetch_bytes(url, deadline), url))
        if target.chart_folder:
            for data in _chart_crd_files(target, deadline):
                files.update(_convert(data, f"{target.chart.chart if target.chart else ''} chart"))
        if not files:
            raise FetchError("no served CRD versions found")
        _write_folder(target.dest, files)
    except FetchError as exc:
        keep = "; keeping the cached copy" if (target.dest / COMPLETE).is_file() else ""
        return TargetOutcome(target, False, f"{exc}{keep}")
    return TargetOutcome(target, True, f"{len(files)} schema(s) → {target.dest}")


def pull_pinned(
    targets: list[PullTarget],
    *,
    timeout: float = 120.0,
    refresh: bool = False,
    progress: Callable[[int, int, TargetOutcome], None] | None = None,
) -> PinnedPull:
    """Fetch every target within one time budget; a failure never touches a good cached copy."""
    deadline = Deadline(timeout)
    result = PinnedPull()
    for done, target in enumerate(targets, start=1):
        outcome = pull_target(target, deadline, refresh)
        result.outcomes.append(outcome)
        if progress is not None:
            progress(done, len(targets), outcome)
    return result


def pull_for_spec(
    spec_dir: Path,
    overlays_dir: Path | None,
    *,
    cache_root: Path = CACHE_ROOT,
    mirror: str | None = None,
    refresh: bool = False,
    timeout: float = 120.0,
    progress: Callable[[int, int, TargetOutcome], None] | None = None,
) -> PinnedPull:
    """What `schemas pull` does for a platform repository: its pins and custom components."""
    from compiler.spec.build import load_platform

    if mirror is not None:
        from compiler.crdschemas.fetch import check_url

        check_url(mirror)
    model = load_platform(spec_dir)
    return pull_pinned(
        plan(model, overlays_dir, cache_root, mirror), timeout=timeout, refresh=refresh, progress=progress
    )
