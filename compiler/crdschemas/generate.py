"""Build the embedded schema bundle: `python3 -m compiler.crdschemas.generate`.

For each entry of `sources.all_sources()` (component descriptors and GitOps engines), the
upstream CRD YAML at the pinned release is converted with the catalog conversion (`convert.py`)
into `{group}/{kind}_{version}.json`:

* components with a chart: the chart archive at the pinned version (`--charts`, by default
  ../shared/charts), rendered with real `helm template --include-crds`, so CRDs kept in
  `crds/` and CRDs written as templates are both found;
* the GitOps engines (no chart): the release-tag URLs of `url_template`, or, offline,
  `--converted DIR` (a CRDs-catalog folder already converted the same way, such as
  ../shared/schemas/crds, whose SOURCES.md says these files are the upstream release's).

The result is deterministic: a zip with fixed timestamps and sorted entries, plus
`index.json` inside it and PROVENANCE.md beside it (group, kind, version, upstream repo,
tag, commit, path). Only versions the release marks `served: true` are kept.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from compiler.charts.render import find_helm
from compiler.crdschemas.convert import ConvertedSchema, convert_crd, crd_documents
from compiler.crdschemas.sources import CrdSource, all_sources

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLE = PACKAGE_DIR / "embedded.zip"
PROVENANCE = PACKAGE_DIR / "PROVENANCE.md"
INDEX = "index.json"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_SOURCE_LINE = re.compile(r"^# Source: (\S+)$", re.MULTILINE)


@dataclass(frozen=True)
class Row:
    file: str
    group: str
    kind: str
    version: str
    component: str
    project: str
    tag: str
    commit: str
    path: str  # file in the upstream repository at the tag
    via: str  # chart archive, URL or converted folder the bytes were read from


def render_chart_crds(archive: Path, helm_set: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(path inside the chart, YAML text) of every document `helm template` renders."""
    args = [find_helm(), "template", "crds", str(archive), "--include-crds", "--namespace", "platformc"]
    for value in helm_set:
        args += ["--set", value]
    with tempfile.TemporaryDirectory(prefix="platformc-helm-") as tmp:
        env = {"HELM_CACHE_HOME": tmp, "HELM_CONFIG_HOME": tmp, "HELM_DATA_HOME": tmp, "PATH": ""}
        proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"helm template {archive.name} failed: {proc.stderr.strip()}")
    # A file from crds/ may start with its own `---`, leaving the `# Source:` line helm
    # prints in a chunk of its own: the source holds until the next one.
    source = ""
    for chunk in re.split(r"^---\s*$", proc.stdout, flags=re.MULTILINE):
        match = _SOURCE_LINE.search(chunk)
        source = match.group(1) if match else source
        if source and "CustomResourceDefinition" in chunk:
            yield source, chunk


def _chart_repo_path(source: CrdSource, chart_file: str) -> str:
    """`kueue/templates/crd/x.yaml` (path helm prints) → `charts/kueue/templates/crd/x.yaml`."""
    inside = chart_file.split("/", 1)[1]
    return f"{source.chart_path}/{inside}"


def _keep(source: CrdSource, schema: ConvertedSchema) -> bool:
    return schema.served and (not source.groups or schema.group in source.groups)


def from_chart(source: CrdSource, charts_dir: Path) -> Iterator[tuple[ConvertedSchema, Row]]:
    archive = charts_dir / source.chart_archive
    if not archive.is_file():
        raise SystemExit(f"{archive} is missing (pass --charts DIR)")
    for chart_file, text in render_chart_crds(archive, source.helm_set):
        for crd in crd_documents(text):
            for schema in convert_crd(crd):
                if _keep(source, schema):
                    yield (
                        schema,
                        _row(source, schema, _chart_repo_path(source, chart_file), source.chart_archive),
                    )


def from_urls(source: CrdSource, fetch: Callable[[str], bytes]) -> Iterator[tuple[ConvertedSchema, Row]]:
    folder = source.url_template.split("/{version}/", 1)[1].rsplit("/", 1)[0]
    for name in source.crd_files:
        url = source.url_template.format(version=source.version, file=name)
        for crd in crd_documents(fetch(url)):
            for schema in convert_crd(crd):
                if _keep(source, schema):
                    yield schema, _row(source, schema, f"{folder}/{name}", url)


def from_converted(
    source: CrdSource, folder: Path, groups: set[str]
) -> Iterator[tuple[ConvertedSchema, Row]]:
    """Already-converted catalog files of the source's API groups (offline stand-in for URLs)."""
    for group in sorted(groups):
        for path in sorted((folder / group).glob("*.json")):
            stem = path.name.removesuffix(".json")
            kind, _, version = stem.rpartition("_")
            text = path.read_text()
            schema = ConvertedSchema(group, kind, version, True, text)
            yield schema, _row(source, schema, "", f"converted folder {group}/{path.name}")


def _row(source: CrdSource, schema: ConvertedSchema, path: str, via: str) -> Row:
    return Row(
        schema.filename,
        schema.group,
        schema.kind,
        schema.version,
        source.name,
        source.project,
        source.version,
        source.commit,
        path,
        via,
    )


# API groups of the sources without a chart, for the offline --converted stand-in.
ENGINE_GROUPS = {
    "gateway-api": {"gateway.networking.k8s.io"},
    "argocd": {"argoproj.io"},
    "flux-source-controller": {"source.toolkit.fluxcd.io"},
    "flux-kustomize-controller": {"kustomize.toolkit.fluxcd.io"},
    "flux-helm-controller": {"helm.toolkit.fluxcd.io"},
}


def collect(
    charts_dir: Path, converted: Path | None, fetch: Callable[[str], bytes] | None
) -> dict[str, tuple[str, Row]]:
    """file name → (content, provenance row) for every source; the first source of a file wins."""
    files: dict[str, tuple[str, Row]] = {}
    for source in all_sources():
        if source.chart_archive:
            found = from_chart(source, charts_dir)
        elif fetch is not None:
            found = from_urls(source, fetch)
        elif converted is not None:
            found = from_converted(source, converted, ENGINE_GROUPS[source.name])
        else:
            raise SystemExit(f"{source.name} has no chart: pass --converted DIR or --network")
        for schema, row in found:
            files.setdefault(schema.filename, (schema.text, row))
    return files


def write_bundle(files: dict[str, tuple[str, Row]], bundle: Path, provenance: Path) -> None:
    rows = [row for _, row in sorted(files.values(), key=lambda item: item[1].file)]
    index = json.dumps([asdict(row) for row in rows], indent=1, sort_keys=True) + "\n"
    tmp = bundle.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        for name, text in [*sorted((n, t) for n, (t, _) in files.items()), (INDEX, index)]:
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_LZMA
            info.external_attr = 0o644 << 16
            archive.writestr(info, text.encode())
    tmp.replace(bundle)
    provenance.write_text(provenance_markdown(rows))


def provenance_markdown(rows: list[Row]) -> str:
    lines = [
        "# Embedded CRD schemas: provenance",
        "",
        "Generated by `python3 -m compiler.crdschemas.generate`; do not edit. Each schema is the",
        "upstream CRD at the release tag, converted as datreeio/CRDs-catalog converts it",
        "(`compiler/crdschemas/convert.py`). `via` is where the generator read the CRD.",
        "",
        "| group | kind | version | upstream repo | tag | commit | path | via |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.group} | {r.kind} | {r.version} | {r.project} | {r.tag} | {r.commit or '—'} | "
            f"{r.path or '—'} | {r.via} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charts", type=Path, default=Path("../shared/charts"))
    parser.add_argument("--converted", type=Path, default=None, help="offline source for the GitOps engines")
    parser.add_argument("--network", action="store_true", help="fetch the GitOps engines' release-tag URLs")
    parser.add_argument("--out", type=Path, default=BUNDLE)
    args = parser.parse_args(argv)
    fetch = None
    if args.network:
        from compiler.crdschemas.fetch import fetch_bytes

        fetch = fetch_bytes
    files = collect(args.charts, args.converted, fetch)
    write_bundle(files, args.out, args.out.parent / PROVENANCE.name)
    print(f"{len(files)} schemas → {args.out} ({args.out.stat().st_size} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
