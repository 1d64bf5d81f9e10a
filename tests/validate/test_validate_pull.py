"""`pull_schemas` against a real local HTTP server serving a copy of the CRD catalog."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from compiler.crdschemas.catalog import pull_schemas
from compiler.validate import SchemaRegistry
from tests.validate.validate_samples import cluster_queue, local_queue

CLUSTER_QUEUE = ("kueue.x-k8s.io", "ClusterQueue", "v1beta2")
LOCAL_QUEUE = ("kueue.x-k8s.io", "LocalQueue", "v1beta2")
APPLICATION = ("argoproj.io", "Application", "v1alpha1")
MISSING = ("example.acme.dev", "Widget", "v1")
CORRUPT = ("kueue.x-k8s.io", "Cohort", "v1beta2")
NOT_A_SCHEMA = ("kueue.x-k8s.io", "Topology", "v1beta2")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # keep pytest output clean
        pass


class CatalogServer:
    def __init__(self, root: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url_template = (
            f"http://127.0.0.1:{self.httpd.server_address[1]}/{{group}}/{{kind}}_{{version}}.json"
        )
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if not self.thread.is_alive():
            return
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture()
def served(tmp_path: Path, crds_dir: Path) -> Iterator[tuple[Path, CatalogServer]]:
    """A temp copy of part of the catalog, with a truncated file and a JSON non-schema."""
    root = tmp_path / "served"
    for group in ("kueue.x-k8s.io", "argoproj.io"):
        shutil.copytree(crds_dir / group, root / group)
    cohort = root / "kueue.x-k8s.io" / "cohort_v1beta2.json"
    cohort.write_bytes(cohort.read_bytes()[:500])  # cut off mid-download
    (root / "kueue.x-k8s.io" / "topology_v1beta2.json").write_text('{"message": "rate limited"}\n')
    server = CatalogServer(root)
    try:
        yield root, server
    finally:
        server.stop()


def cache_files(cache: Path) -> list[str]:
    return sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file())


def test_pull_fetches_and_cache_works_as_schema_dir(tmp_path: Path, served, crds_dir: Path) -> None:
    _, server = served
    cache = tmp_path / "cache"
    seen: list[tuple[int, int, str]] = []
    result = pull_schemas(
        [CLUSTER_QUEUE, LOCAL_QUEUE, APPLICATION],
        cache,
        url_template=server.url_template,
        progress=lambda done, total, outcome: seen.append((done, total, outcome.status)),
    )
    assert result.ok
    assert [o.status for o in result.outcomes] == ["fetched"] * 3
    assert seen == [(1, 3, "fetched"), (2, 3, "fetched"), (3, 3, "fetched")]
    assert cache_files(cache) == [
        "argoproj.io/application_v1alpha1.json",
        "kueue.x-k8s.io/clusterqueue_v1beta2.json",
        "kueue.x-k8s.io/localqueue_v1beta2.json",
    ]
    source = crds_dir / "kueue.x-k8s.io" / "clusterqueue_v1beta2.json"
    assert (cache / "kueue.x-k8s.io" / "clusterqueue_v1beta2.json").read_bytes() == source.read_bytes()
    registry = SchemaRegistry([cache])
    assert registry.validate(cluster_queue(), "1.34") == []
    assert registry.validate(local_queue(), "1.34") == []


def test_404_is_a_clear_failure_and_caches_nothing(tmp_path: Path, served) -> None:
    _, server = served
    cache = tmp_path / "cache"
    result = pull_schemas([MISSING], cache, url_template=server.url_template)
    assert not result.ok
    [outcome] = result.failed
    assert outcome.reason.startswith("HTTP 404 for http://127.0.0.1:")
    assert outcome.reason.endswith("/example.acme.dev/widget_v1.json")
    assert outcome.path is None
    assert not cache.exists() or cache_files(cache) == []


def test_corrupt_downloads_are_rejected_and_never_cached(tmp_path: Path, served) -> None:
    root, server = served
    cache = tmp_path / "cache"
    result = pull_schemas([CORRUPT, NOT_A_SCHEMA, CLUSTER_QUEUE], cache, url_template=server.url_template)
    by_kind = {o.target[1]: o for o in result.outcomes}
    assert by_kind["Cohort"].status == "failed"
    assert by_kind["Cohort"].reason.startswith("not a JSON schema: invalid JSON")
    assert by_kind["Topology"].status == "failed"
    assert 'missing "type": "object"' in by_kind["Topology"].reason
    assert by_kind["ClusterQueue"].status == "fetched"
    # Only the good file, and no temp files left behind.
    assert cache_files(cache) == ["kueue.x-k8s.io/clusterqueue_v1beta2.json"]

    # The upstream copy of a file we already have goes bad: a refresh keeps our good copy.
    good = (cache / "kueue.x-k8s.io" / "clusterqueue_v1beta2.json").read_bytes()
    served_file = root / "kueue.x-k8s.io" / "clusterqueue_v1beta2.json"
    served_file.write_bytes(served_file.read_bytes()[:1000])
    [outcome] = pull_schemas([CLUSTER_QUEUE], cache, url_template=server.url_template, refresh=True).outcomes
    assert outcome.status == "failed"
    assert "not a JSON schema" in outcome.reason
    assert "keeping the cached copy" in outcome.reason
    assert (cache / "kueue.x-k8s.io" / "clusterqueue_v1beta2.json").read_bytes() == good
    assert cache_files(cache) == ["kueue.x-k8s.io/clusterqueue_v1beta2.json"]


def test_offline_rerun_uses_the_cache(tmp_path: Path, served) -> None:
    _, server = served
    cache = tmp_path / "cache"
    assert pull_schemas([CLUSTER_QUEUE, APPLICATION], cache, url_template=server.url_template).ok
    server.stop()

    again = pull_schemas([CLUSTER_QUEUE, APPLICATION], cache, url_template=server.url_template, timeout=2)
    assert again.ok
    assert [o.status for o in again.outcomes] == ["cached", "cached"]
    assert SchemaRegistry([cache]).validate(cluster_queue(), "1.34") == []

    # Asking for a refresh while offline fails clearly and still keeps what we had.
    refresh = pull_schemas([CLUSTER_QUEUE], cache, url_template=server.url_template, refresh=True, timeout=2)
    [outcome] = refresh.outcomes
    assert outcome.status == "failed"
    assert outcome.reason.startswith("cannot fetch http://127.0.0.1:")
    assert outcome.path == cache / "kueue.x-k8s.io" / "clusterqueue_v1beta2.json"
    assert SchemaRegistry([cache]).validate(cluster_queue(), "1.34") == []


def test_invalid_cache_entry_is_replaced(tmp_path: Path, served) -> None:
    _, server = served
    cache = tmp_path / "cache"
    entry = cache / "kueue.x-k8s.io" / "clusterqueue_v1beta2.json"
    entry.parent.mkdir(parents=True)
    entry.write_text("{ half a file")
    [outcome] = pull_schemas([CLUSTER_QUEUE], cache, url_template=server.url_template).outcomes
    assert outcome.status == "fetched"
    assert SchemaRegistry([cache]).validate(cluster_queue(), "1.34") == []
