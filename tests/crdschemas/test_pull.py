"""`platformc schemas pull` against a local 127.0.0.1 server laid out like upstream release tags
(raw.githubusercontent.com/<repo>/<tag>/<path>, the `url_template` of each component source)."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from compiler.cli import main
from compiler.crdschemas.catalog import SchemaRejected, check_schema
from compiler.crdschemas.embedded import provenance
from compiler.crdschemas.fetch import Deadline, FetchError, fetch_bytes
from compiler.crdschemas.pull import PullTarget, pull_target
from compiler.crdschemas.sources import by_spec_pin
from compiler.overlays.custom_components import ChartConfig
from tests.conftest import EXAMPLE_OVERLAYS, EXAMPLE_SPEC
from tests.crdschemas.release_server import (
    ReleaseServer,
    crd_yaml,
    drip,
    embedded_schema,
    redirect_to,
)

NEW_FIELD = "newInV099"


@pytest.fixture
def server() -> Iterator[ReleaseServer]:
    srv = ReleaseServer()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(EXAMPLE_SPEC, tmp_path / "platform-spec")
    shutil.copytree(EXAMPLE_OVERLAYS, tmp_path / "overlays")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def publish_kueue_release(server: ReleaseServer, version: str) -> None:
    """Kueue's CRD files at `version`: the pinned release's schemas, ClusterQueue v1beta2 with a new field."""
    source = by_spec_pin()["kueue"]
    folder = source.url_template.split("{version}/", 1)[1].rsplit("/", 1)[0]
    by_file: dict[str, tuple[str, dict[str, dict]]] = {}
    for row in provenance():
        if row["component"] == "kueue":
            kind, versions = by_file.setdefault(row["path"].rsplit("/", 1)[1], (row["kind"], {}))
            versions[row["version"]] = embedded_schema(row["file"])
    assert sorted(by_file) == sorted(source.crd_files)
    by_file["kueue.x-k8s.io_clusterqueues.yaml"][1]["v1beta2"]["properties"]["spec"]["properties"][
        NEW_FIELD
    ] = {"type": "string"}
    for name, (kind, versions) in by_file.items():
        plural = name.removeprefix("kueue.x-k8s.io_").removesuffix(".yaml")
        path = f"/{source.project}/{version}/{folder}/{name}"
        server.files[path] = crd_yaml("kueue.x-k8s.io", kind, plural, versions)


def pin_kueue(repo: Path, version: str) -> tuple[str, int]:
    platform = repo / "platform-spec/platform.yaml"
    text = platform.read_text().replace("kueue: v0.19.2", f"kueue: {version}")
    platform.write_text(text)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if ln.strip().startswith("kueue:"))
    return "platform-spec/platform.yaml", line


@pytest.mark.parametrize(
    ("version", "message"),
    [
        # Not a version at all: the field's own pattern refuses it.
        ("latest", "invalid value 'latest' for 'spec.components.kueue' (expected a pinned semantic version"),
        ('"26.7"', "invalid value '26.7' for 'spec.components.kueue' (expected a pinned semantic version"),
        # A version, but no release whose schemas platformc has.
        (
            "v0.99.0",
            "components.kueue: 'v0.99.0' is not a release platformc knows: its CRD schemas are neither "
            "embedded (embedded: v0.19.2) nor in .platformc-cache/pinned/kueue/v0.99.0 (run `platformc "
            "schemas pull`",
        ),
    ],
)
def test_unknown_pin_is_refused_at_its_spec_line(repo: Path, version: str, message: str) -> None:
    file, line = pin_kueue(repo, version)
    result = run("compile")
    assert result.exit_code == 1
    assert f"{file}:{line}:12: {message}" in result.stderr
    assert not (repo / "generated").exists()


def test_override_pin_is_pulled_from_the_release_tag_and_used(repo: Path, server: ReleaseServer) -> None:
    """The pulled ClusterQueue schema is the v0.99.0 release's (it has the new field), converted like the
    catalog; compile and validate then accept the pin and use that schema."""
    publish_kueue_release(server, "v0.99.0")
    pin_kueue(repo, "v0.99.0")
    pulled = run("schemas", "pull", "--mirror", server.base)
    assert pulled.exit_code == 0, pulled.output
    assert "kueue v0.99.0: ok: 22 schema(s)" in pulled.output
    assert "/kubernetes-sigs/kueue/v0.99.0/config/components/crd/bases/kueue.x-k8s.io_clusterqueues.yaml" in (
        server.requests
    )
    cached = repo / ".platformc-cache/pinned/kueue/v0.99.0/kueue.x-k8s.io/clusterqueue_v1beta2.json"
    schema = json.loads(cached.read_text())
    assert schema["properties"]["spec"]["properties"][NEW_FIELD] == {"type": "string"}
    assert cached.read_text().endswith("}\n")
    compiled = run("compile")
    assert compiled.exit_code == 0, compiled.output
    assert run("validate").exit_code == 0


def test_override_pin_missing_upstream_fails_with_spec_line(repo: Path, server: ReleaseServer) -> None:
    file, line = pin_kueue(repo, "v0.98.7")
    result = run("schemas", "pull", "--mirror", server.base)
    assert result.exit_code == 1
    assert (
        f"{file}:{line}:12: kueue v0.98.7: failed: HTTP 404 for {server.base}/kubernetes-sigs/kueue/v0.98.7/"
        in (result.stderr)
    )
    assert not (repo / ".platformc-cache/pinned/kueue/v0.98.7").exists()


def volcano_queue_crd() -> bytes:
    """The Queue CRD of volcano v1.15.1 (config/crd/volcano/bases), as the example carries it."""
    return (EXAMPLE_OVERLAYS / "components/volcano/crds/scheduling.volcano.sh_queues.yaml").read_bytes()


def declare_crds(repo: Path, entry: str) -> None:
    """Replace the example Volcano component's CRD folder by another kind of declaration."""
    component = repo / "overlays/components/volcano"
    shutil.rmtree(component / "crds")
    config = component / "component.yaml"
    config.write_text(config.read_text().replace("  - folder: crds", entry))


def test_custom_component_crds_from_a_url_are_pulled(repo: Path, server: ReleaseServer) -> None:
    server.files["/volcano-sh/volcano/v1.15.1/config/crd/volcano/bases/scheduling.volcano.sh_queues.yaml"] = (
        volcano_queue_crd()
    )
    declare_crds(
        repo,
        f"  - url: {server.base}/volcano-sh/volcano/v1.15.1/config/crd/volcano/bases/scheduling.volcano.sh_queues.yaml",
    )
    before = run("compile")
    assert before.exit_code == 0, before.output
    assert "warning: no schema for Queue" in before.output
    pulled = run("schemas", "pull")
    assert pulled.exit_code == 0, pulled.output
    assert "overlays/components/volcano/component.yaml:1:1: custom component volcano: ok: 1 schema(s)" in (
        pulled.output
    )
    assert (repo / ".platformc-cache/components/volcano/scheduling.volcano.sh/queue_v1beta1.json").is_file()
    compiled = run("compile")
    assert compiled.exit_code == 0, compiled.output
    assert "no schema" not in compiled.output


def chart_archive(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_custom_component_crds_from_its_chart_are_pulled(tmp_path: Path, server: ReleaseServer) -> None:
    """`crds: [{chart: crd/bases}]`: the chart repository's index.yaml, then the archive at the
    pinned version, then the YAML under that folder (the volcano chart keeps its CRDs in
    crd/bases: volcano-sh/volcano installer/helm/chart/volcano)."""
    server.files["/charts/volcano-1.15.1.tgz"] = chart_archive(
        {
            "volcano/Chart.yaml": b"name: volcano\nversion: 1.15.1\n",
            "volcano/crd/bases/scheduling.volcano.sh_queues.yaml": volcano_queue_crd(),
            "volcano/templates/x.yaml": b"kind: ConfigMap\n",
        }
    )
    server.files["/charts/index.yaml"] = (
        b"apiVersion: v1\nentries:\n  volcano:\n  - version: 1.15.0\n    urls: [volcano-1.15.0.tgz]\n"
        b"  - version: 1.15.1\n    urls: [volcano-1.15.1.tgz]\n"
    )
    chart = ChartConfig.model_construct(
        repository=f"{server.base}/charts", chart="volcano", version="1.15.1", namespace="volcano-system"
    )
    target = PullTarget("custom component volcano", None, tmp_path / "volcano", (), chart, "crd/bases")
    outcome = pull_target(target, Deadline(30))
    assert outcome.ok, outcome.detail
    assert server.requests == ["/charts/index.yaml", "/charts/volcano-1.15.1.tgz"]
    assert sorted(
        p.relative_to(tmp_path / "volcano").as_posix() for p in (tmp_path / "volcano").rglob("*")
    ) == [
        ".complete",
        "scheduling.volcano.sh",
        "scheduling.volcano.sh/queue_v1beta1.json",
    ]


# --- hardening (issue 16 item 7) -----------------------------------------------------------------


def test_plain_http_is_refused_except_loopback() -> None:
    with pytest.raises(FetchError, match="only https:// URLs are fetched"):
        fetch_bytes("http://example.com/x.yaml")
    with pytest.raises(FetchError, match="only https:// URLs are fetched"):
        fetch_bytes("file:///etc/passwd")


def test_redirect_to_another_host_is_refused(server: ReleaseServer) -> None:
    server.routes["/moved"] = redirect_to(f"http://localhost:{server.port}/x")
    server.routes["/same"] = redirect_to("/x")
    server.files["/x"] = b"hello"
    assert fetch_bytes(f"{server.base}/same") == b"hello"
    with pytest.raises(FetchError, match=r"refusing redirect .* another host"):
        fetch_bytes(f"{server.base}/moved")


def test_a_dripping_server_hits_the_total_budget(server: ReleaseServer) -> None:
    """One byte every 0.3 s never trips a per-read timeout; the pull's budget stops it."""
    server.routes["/slow"] = drip
    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        fetch_bytes(f"{server.base}/slow", Deadline(1.5))
    assert time.monotonic() - started < 10


def test_size_cap(server: ReleaseServer) -> None:
    server.files["/big"] = b"x" * 5000
    with pytest.raises(FetchError, match="larger than 4096 bytes"):
        fetch_bytes(f"{server.base}/big", max_bytes=4096)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (json.dumps({"type": "object", "additionalProperties": True}).encode(), 'missing "properties"'),
        (
            json.dumps({"type": "object", "properties": {"spec": {}}, "additionalProperties": True}).encode(),
            "accepts any field",
        ),
        (
            json.dumps(
                {"type": "object", "properties": {"spec": {"$ref": "https://evil.example/s.json"}}}
            ).encode(),
            "refers to another document",
        ),
    ],
)
def test_schema_sanity(body: bytes, message: str) -> None:
    with pytest.raises(SchemaRejected, match=message):
        check_schema(body)


def test_catalog_fallback_refuses_a_remote_ref_and_keeps_nothing(repo: Path, server: ReleaseServer) -> None:
    evil = {"type": "object", "properties": {"spec": {"$ref": "http://127.0.0.1:9/open.json"}}}
    server.files["/kueue.x-k8s.io/clusterqueue_v1beta2.json"] = json.dumps(evil).encode()
    result = run("schemas", "pull", "--url-template", server.base + "/{group}/{kind}_{version}.json")
    assert result.exit_code == 1
    assert "kueue.x-k8s.io/v1beta2 ClusterQueue: failed: schema refers to another document" in result.stderr
    assert not (repo / ".platformc-cache/schemas/kueue.x-k8s.io/clusterqueue_v1beta2.json").exists()


def test_yaml_alias_bomb_in_a_release_file_is_refused(repo: Path, server: ReleaseServer) -> None:
    bomb = b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    source = by_spec_pin()["kueue"]
    for name in source.crd_files:
        server.files[f"/kubernetes-sigs/kueue/v0.99.1/config/components/crd/bases/{name}"] = bomb
    pin_kueue(repo, "v0.99.1")
    result = run("schemas", "pull", "--mirror", server.base)
    assert result.exit_code == 1
    assert "uses YAML aliases" in result.stderr


def test_failed_refresh_keeps_the_cached_release(repo: Path, server: ReleaseServer) -> None:
    publish_kueue_release(server, "v0.99.0")
    pin_kueue(repo, "v0.99.0")
    assert run("schemas", "pull", "--mirror", server.base).exit_code == 0
    cached = repo / ".platformc-cache/pinned/kueue/v0.99.0"
    before = sorted(p.relative_to(cached).as_posix() for p in cached.rglob("*"))
    server.files.clear()
    result = run("schemas", "pull", "--mirror", server.base, "--refresh")
    assert result.exit_code == 1
    assert "keeping the cached copy" in result.stderr
    assert sorted(p.relative_to(cached).as_posix() for p in cached.rglob("*")) == before
    assert not [p for p in cached.parent.iterdir() if p.name.startswith(".")]
    assert run("compile").exit_code == 0


def test_publish_refuses_an_unknown_pin_too(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """publish validates as compile does, so the pin that compile refuses is refused here as well."""
    import git

    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "test@example.com")
    file, line = pin_kueue(repo, "v0.99.0")
    checkout = git.Repo.init(repo, initial_branch="main")
    checkout.git.add("-A")
    checkout.git.commit("-qm", "spec", "--no-gpg-sign")
    result = run("publish")
    assert result.exit_code == 1
    assert f"{file}:{line}:12: components.kueue: 'v0.99.0' is not a release platformc knows" in result.stderr
    assert not (repo / "generated").exists()
