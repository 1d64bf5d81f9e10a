"""platformc diff with the compile cache on: both sides' clusters come from cache entries
(compiler/cluster_cache.py) read as far as their sealed headers, files compared by digest and read
only where they differ (compiler/review/sides.py). What it shows is exactly the diff without the
cache; a damaged entry is recompiled, never shown."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import git
import orjson
import pytest

from compiler import pipeline
from compiler.cluster_cache import EntryIndex
from compiler.review.run import review
from compiler.synthetic import write_synthetic_spec
from tests.compile.helpers import flip_byte_in_entry
from tests.conftest import CRD_SCHEMAS
from tests.review.conftest import cli, make_repo

CACHE = Path(".platformc-cache")
SHAPE = (3, 6, 3)  # clusters, teams, serving paths; each team on one cluster
OUTPUTS = (
    ("--format", "json"),
    ("--format", "text"),
    ("--format", "markdown"),
    ("--format", "json", "--cluster", "cluster-000"),
)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> git.Repo:
    """The synthetic spec committed; the working tree gives team-000 (on cluster-000 only) and
    team-004 (on cluster-001 only) more GPUs; cluster-002 is the same on both sides."""
    root = tmp_path / "repo"
    write_synthetic_spec(root / "platform-spec", *SHAPE, clusters_per_team=1)
    made = make_repo(root, spec=None)
    write_synthetic_spec(
        root / "platform-spec", *SHAPE, clusters_per_team=1, quota_bonus={"team-000": 2, "team-004": 1}
    )
    monkeypatch.setenv("PLATFORMC_CACHE_KEY_FILE", str(tmp_path / "cache-key"))
    _cache(monkeypatch, True)
    monkeypatch.chdir(root)  # the cache is .platformc-cache/ where platformc runs
    return made


def _cache(monkeypatch: pytest.MonkeyPatch, on: bool) -> None:
    monkeypatch.setenv("PLATFORMC_NO_CACHE", "0" if on else "1")


def _compile(root: Path) -> None:
    result = cli(root, "compile", "--schemas", str(CRD_SCHEMAS))
    assert result.exit_code == 0, result.output


def _entries() -> set[Path]:
    return set((CACHE / "clusters").iterdir())


def _compile_base_and_head(repo: git.Repo) -> dict[str, list[Path]]:
    """As CI does: main compiled (the base's entries), then the change (the head's); the entries
    of each side (one whose key is the same on both sides is the base's)."""
    root = Path(repo.working_tree_dir)
    repo.git.stash()
    _compile(root)
    base = _entries()
    repo.git.stash("pop")
    _compile(root)
    return {"base": sorted(base), "head": sorted(_entries() - base)}


def _diffs(root: Path) -> list[str]:
    outputs = []
    for args in OUTPUTS:
        result = cli(root, "diff", "--base", "HEAD", *args)
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout)
    return outputs


def _uncached(root: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    _cache(monkeypatch, False)
    expected = _diffs(root)
    _cache(monkeypatch, True)
    return expected


@pytest.mark.parametrize("state", ["head compiled", "head new", "nothing compiled"])
def test_diff_from_the_cache_is_the_diff_without_it(
    repo: git.Repo, monkeypatch: pytest.MonkeyPatch, state: str
) -> None:
    root = Path(repo.working_tree_dir)
    expected = _uncached(root, monkeypatch)
    data = orjson.loads(expected[0])
    assert data["summary"]["clusters"] == ["cluster-000", "cluster-001"]
    assert data["summary"]["changed"] > 0
    if state == "head compiled":
        _compile_base_and_head(repo)
    elif state == "head new":  # main compiled, the change not yet: diff compiles the head's clusters
        repo.git.stash()
        _compile(root)
        repo.git.stash("pop")
    assert _diffs(root) == expected
    assert _diffs(root) == expected  # and again, every cluster from the cache now


def test_a_diff_of_cached_sides_compiles_nothing_and_reads_only_changed_files(
    repo: git.Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's "diff without a cold base compile": with both sides compiled before, no cluster
    is compiled, a cluster with the same key on both sides is not read, and of the others only the
    object files that differ."""
    root = Path(repo.working_tree_dir)
    expected = _uncached(root, monkeypatch)[0]
    _compile_base_and_head(repo)

    def no_compile(*args: object, **kwargs: object) -> object:
        raise AssertionError("diff compiled a cluster whose entry is in the cache")

    read: list[str] = []
    real_read = EntryIndex.read

    def spy(self: EntryIndex, paths: Iterable[str]) -> dict[str, bytes] | None:
        wanted = list(paths)
        read.extend(wanted)
        return real_read(self, wanted)

    monkeypatch.setattr(pipeline, "compile_model", no_compile)
    monkeypatch.setattr(EntryIndex, "read", spy)
    assert _diffs(root)[0] == expected
    changed = {o["path"] for o in orjson.loads(expected)["objects"]}
    assert changed and set(read) == changed
    assert not any(path.startswith("cluster-002/") for path in read)


@pytest.mark.parametrize(
    ("side", "where"),
    [("base", "header"), ("head", "header"), ("base", "changed file"), ("head", "changed file")],
)
def test_a_damaged_entry_is_recompiled_not_shown(
    repo: git.Repo, monkeypatch: pytest.MonkeyPatch, side: str, where: str
) -> None:
    """A flipped byte in one side's entries, in the sealed header or in a file that differs between
    the sides (the only files diff reads): the entries are dropped, their clusters compiled again,
    and the diff is exactly the uncached one. The recompiled entries are stored again."""
    root = Path(repo.working_tree_dir)
    expected = _uncached(root, monkeypatch)
    changed = next(o["path"] for o in orjson.loads(expected[0])["objects"] if o["change"] == "changed")
    entries = _compile_base_and_head(repo)[side]
    flipped = [e for e in entries if flip_byte_in_entry(e, changed if where == "changed file" else "header")]
    assert len(flipped) == (1 if where == "changed file" else len(entries))
    assert _diffs(root) == expected
    compiled: list[str] = []
    real = pipeline.compile_model

    def counted(model: object, names: list[str], **kwargs: object) -> object:
        compiled.extend(names)
        return real(model, names, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "compile_model", counted)
    spec = root / "platform-spec"
    assert review(spec, root / "overlays", "HEAD").changed
    assert compiled == [], "the recompiled entries were stored again"
