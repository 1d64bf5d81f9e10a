"""`platformc charts pull` against a chart repository on 127.0.0.1 (index.yaml by `helm repo index`,
archives from ../shared/charts): lock, refusal of a changed archive, a cache that is never poisoned,
and an offline rerun from the cache."""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from compiler.charts.cache import CACHED, FAILED, PULLED, PinnedChart, pull_charts, read_lock, sha256_of
from tests.compile.helpers import run_cli
from tests.conftest import EXAMPLE_OVERLAYS, EXAMPLE_SPEC, tool

SERVED = ("kueue-0.19.2.tgz", "volcano-1.15.1.tgz")


class ChartRepo:
    def __init__(self, root: Path) -> None:
        self.root = root
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.index()

    def index(self) -> None:
        subprocess.run([tool("helm"), "repo", "index", str(self.root), "--url", self.url], check=True)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture()
def repo(tmp_path: Path, shared_charts: Path) -> Iterator[ChartRepo]:
    root = tmp_path / "repo"
    root.mkdir()
    for name in SERVED:
        shutil.copy(shared_charts / name, root / name)
    served = ChartRepo(root)
    yield served
    served.stop()


def pins(repo: ChartRepo) -> list[PinnedChart]:
    return [PinnedChart("kueue", "0.19.2", repo.url), PinnedChart("volcano", "1.15.1", repo.url)]


def republish_changed(repo: ChartRepo, tmp_path: Path) -> None:
    """The same chart name and version re-released with other content (a changed default value)."""
    work = tmp_path / "unpacked"
    with tarfile.open(repo.root / "volcano-1.15.1.tgz") as tar:
        tar.extractall(work, filter="data")
    values = work / "volcano" / "values.yaml"
    values.write_text(values.read_text() + "\n# re-released\n")
    (repo.root / "volcano-1.15.1.tgz").unlink()
    subprocess.run(
        [tool("helm"), "package", str(work / "volcano"), "-d", str(repo.root)],
        check=True,
        capture_output=True,
    )
    repo.index()


def test_pull_locks_digests_and_reruns_offline(repo: ChartRepo, tmp_path: Path, shared_charts: Path) -> None:
    cache, lock = tmp_path / "cache", tmp_path / "charts.lock"
    first = pull_charts(pins(repo), cache, lock)
    assert [o.status for o in first.outcomes] == [PULLED, PULLED], [o.format() for o in first.outcomes]
    locked = read_lock(lock)
    assert locked[("volcano", "1.15.1")].sha256 == sha256_of(shared_charts / "volcano-1.15.1.tgz")
    assert locked[("kueue", "0.19.2")].source == repo.url
    assert sorted(p.name for p in cache.iterdir()) == sorted(SERVED)

    repo.stop()  # offline from here on
    again = pull_charts(pins(repo), cache, lock)
    assert [o.status for o in again.outcomes] == [CACHED, CACHED]
    assert read_lock(lock) == locked


def test_a_changed_archive_is_refused_and_never_enters_the_cache(repo: ChartRepo, tmp_path: Path) -> None:
    cache, lock = tmp_path / "cache", tmp_path / "charts.lock"
    assert pull_charts(pins(repo), cache, lock).ok
    before = lock.read_bytes()
    (cache / "volcano-1.15.1.tgz").unlink()
    republish_changed(repo, tmp_path)

    result = pull_charts(pins(repo), cache, lock)
    (failed,) = result.failed
    assert failed.pinned.chart == "volcano" and failed.status == FAILED
    assert "archive changed" in failed.reason and "charts.lock records" in failed.reason
    assert not (cache / "volcano-1.15.1.tgz").exists()
    assert lock.read_bytes() == before


def test_a_tampered_cached_archive_is_dropped_not_rendered(repo: ChartRepo, tmp_path: Path) -> None:
    cache, lock = tmp_path / "cache", tmp_path / "charts.lock"
    assert pull_charts(pins(repo), cache, lock).ok
    archive = cache / "kueue-0.19.2.tgz"
    archive.write_bytes(archive.read_bytes() + b"\0")
    repo.stop()
    result = pull_charts(pins(repo), cache, lock)
    assert [o.pinned.chart for o in result.failed] == ["kueue"]
    assert not archive.exists()


def test_cli_pulls_every_pinned_chart_of_the_example(tmp_path: Path, shared_charts: Path) -> None:
    """All built-in charts and the example's custom component (volcano) are pinned; with the
    archives already cached the command works offline and writes the lock."""
    cache = tmp_path / "cache"
    shutil.copytree(shared_charts, cache)
    result = run_cli(
        "charts",
        "pull",
        "--spec",
        str(EXAMPLE_SPEC),
        "--overlays",
        str(EXAMPLE_OVERLAYS),
        "--charts",
        str(cache),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lock = yaml.safe_load((tmp_path / "charts.lock").read_text())
    names = {(e["name"], e["version"], e["source"]) for e in lock["charts"]}
    assert ("volcano", "1.15.1", "https://volcano-sh.github.io/helm-charts") in names
    assert ("gpu-operator", "v26.7.0", "https://helm.ngc.nvidia.com/nvidia") in names
    assert ("kueue", "0.19.2", "oci://registry.k8s.io/kueue/charts") in names
    assert {n for n, _, _ in names} == {
        "cert-manager",
        "dra-driver-nvidia-gpu",
        "gpu-operator",
        "kserve-crd",
        "kserve-resources",
        "kserve-runtime-configs",
        "keda",
        "kube-prometheus-stack",
        "kueue",
        "volcano",
    }


def test_cli_names_the_chart_it_could_not_pull(tmp_path: Path) -> None:
    """Nothing cached and no network: each chart fails with Helm's reason, exit 1, empty cache."""
    result = run_cli(
        "charts",
        "pull",
        "--spec",
        str(EXAMPLE_SPEC),
        "--overlays",
        str(EXAMPLE_OVERLAYS),
        "--charts",
        str(tmp_path / "cache"),
        cwd=tmp_path,
        env={"HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""},
    )
    assert result.returncode == 1
    assert "kueue 0.19.2 (oci://registry.k8s.io/kueue/charts): failed: helm pull failed" in result.stderr
    assert not any((tmp_path / "cache").glob("*.tgz"))
