"""The compile cache (.platformc-cache: parsed spec documents, compiled clusters, the compile
record) and the incremental writer: what comes from the cache is byte for byte what a compile
without it writes; a no-op compile touches no file; only changed files are written."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import orjson
import pytest

from compiler import cache_keys, sealed
from compiler.compile_record import compile_current
from compiler.compile_result import CompileResult
from compiler.errors import SpecErrors
from compiler.spec.loader import ParseCache, load_text
from compiler.synthetic import synthetic_texts, write_synthetic_spec
from tests.compile.helpers import compile_cli, flip_byte_in_entry, snapshot
from tests.compile.test_determinism import _documents, _list_reordered, _shuffled_spec
from tests.conftest import CRD_SCHEMAS, EXAMPLE_OVERLAYS, EXAMPLE_SPEC

CACHE = Path(".platformc-cache")


@pytest.fixture(autouse=True)
def _cache_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache on, in the test's folder (compile looks for .platformc-cache/ where it runs)."""
    monkeypatch.setenv("PLATFORMC_NO_CACHE", "0")
    monkeypatch.setenv("PLATFORMC_CACHE_KEY_FILE", str(tmp_path / "cache-key"))
    monkeypatch.chdir(tmp_path)


def _stats(root: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of every file: a rewritten file gets a new inode (it is renamed into place)."""
    return {
        p.relative_to(root).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _synthetic(spec: Path, **change: object) -> None:
    write_synthetic_spec(spec, 3, 6, 3, clusters_per_team=None, **change)  # type: ignore[arg-type]


def _compile(out: str = "out", *, cache: bool = True, check: bool = False) -> CompileResult:
    return compile_current(
        Path("spec"),
        Path(out),
        schema_dirs=[CRD_SCHEMAS],
        overlays_dir=Path("overlays"),
        cache=cache,
        check=check,
    )


def _written(result: CompileResult) -> int:
    assert result.written is not None
    return len(result.written.changed) + len(result.written.missing) + len(result.written.extra)


def test_noop_compile_rewrites_no_file(tmp_path: Path) -> None:
    _synthetic(tmp_path / "spec")
    first = _compile()
    assert first.recompiled == ["cluster-000", "cluster-001", "cluster-002"]
    before = _stats(tmp_path / "out")
    second = _compile()
    assert second.recorded, "nothing changed: the compile record answers"
    assert _written(second) == 0
    assert second.objects == first.objects and second.files == first.files
    assert second.validation.sorted() == first.validation.sorted(), "findings are kept with the record"
    assert _stats(tmp_path / "out") == before
    check = _compile(check=True)
    assert check.recorded and check.drift is not None and check.drift.clean
    # Without the record (deleted), clusters come from the cluster cache: still nothing rewritten.
    shutil.rmtree(CACHE / "runs")
    third = _compile()
    assert not third.recorded and third.recompiled == []
    assert _written(third) == 0
    assert _stats(tmp_path / "out") == before


def test_a_hand_edit_is_seen_by_the_noop_path(tmp_path: Path) -> None:
    """The record is taken only while every output file has the stat it was written with: a file
    edited by hand (same size), a stray file or a removed file send compile down the full path."""
    _synthetic(tmp_path / "spec")
    _compile()
    expected = snapshot(tmp_path / "out")
    victim = next(p for p in sorted((tmp_path / "out").rglob("*.yaml")) if "namespace-" in p.name)
    edits = [
        lambda: victim.write_bytes(victim.read_bytes().replace(b"a", b"b")),
        lambda: (victim.parent / "stray.yaml").write_text("kind: Stray\n"),
        lambda: victim.unlink(),
    ]
    for edit in edits:
        edit()
        drift = _compile(check=True)
        assert not drift.recorded and drift.drift is not None and not drift.drift.clean
        repaired = _compile()
        assert not repaired.recorded and _written(repaired) == 1
        assert snapshot(tmp_path / "out") == expected


def test_one_team_change_rewrites_exactly_the_changed_files(tmp_path: Path) -> None:
    _synthetic(tmp_path / "spec")
    _compile()
    before_bytes, before_stats = snapshot(tmp_path / "out"), _stats(tmp_path / "out")
    _synthetic(tmp_path / "spec", quota_bonus={"team-000": 4})
    result = _compile()
    after_bytes, after_stats = snapshot(tmp_path / "out"), _stats(tmp_path / "out")
    changed = {p for p in after_bytes if after_bytes[p] != before_bytes.get(p)}  # changed or new
    removed = before_bytes.keys() - after_bytes.keys()
    rewritten = {p for p in after_stats if after_stats[p] != before_stats.get(p)}
    assert changed, "the quota change should change some files"
    assert rewritten == changed
    assert _written(result) == len(changed) + len(removed)
    # The same tree a compile from scratch writes.
    _compile("fresh", cache=False)
    assert snapshot(tmp_path / "fresh") == after_bytes


@pytest.mark.parametrize("where", ["header", "first file", "last file"])
def test_a_flipped_byte_in_a_cache_entry_is_detected_and_recomputed(tmp_path: Path, where: str) -> None:
    """The seal covers an entry's header and the header holds every file's digest: a flipped byte
    anywhere (header, any file's bytes) makes the entry unused, recomputed and stored again."""
    _synthetic(tmp_path / "spec")
    _compile()
    expected = snapshot(tmp_path / "out")
    entries = sorted((CACHE / "clusters").iterdir())
    assert len(entries) == 3
    for entry in entries:
        header = orjson.loads(entry.read_bytes().split(b"\n", 2)[1])
        place = {"header": "header", "first file": header["paths"][0], "last file": header["paths"][-1]}
        assert flip_byte_in_entry(entry, place[where])
    result = _compile("again")
    assert result.recompiled == ["cluster-000", "cluster-001", "cluster-002"], "damaged entries are unused"
    assert snapshot(tmp_path / "again") == expected
    # Recomputed entries were stored again and are used next time.
    assert _compile("third").recompiled == []


def test_a_cache_entry_naming_a_path_outside_its_cluster_is_refused(tmp_path: Path) -> None:
    _synthetic(tmp_path / "spec")
    _compile()
    entry = sorted((CACHE / "clusters").iterdir())[0]
    _, _, body = entry.read_bytes().partition(b"\n")
    head, _, data = body.partition(b"\n")
    # Sealed with this machine's key, as if platformc had written it: the path check still refuses.
    forged = head.replace(b'"paths":["', b'"paths":["../escape/', 1)
    assert forged != head
    entry.write_bytes(sealed.seal(forged) + b"\n" + data)
    result = _compile("again")
    assert len(result.recompiled) == 1
    assert not (tmp_path / "escape").exists()
    assert snapshot(tmp_path / "again") == snapshot(tmp_path / "out")


def test_a_compiler_version_change_invalidates_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _synthetic(tmp_path / "spec")
    _compile()
    assert _compile().recorded
    real_versions = cache_keys._installed_versions

    def next_release() -> dict[str, str]:
        return {**real_versions(), "pydantic": "99.0.0"}

    monkeypatch.setattr(cache_keys, "_installed_versions", next_release)
    cache_keys.compiler_digest.cache_clear()
    try:
        again = _compile()
        assert not again.recorded
        assert again.recompiled == ["cluster-000", "cluster-001", "cluster-002"]
    finally:
        cache_keys.compiler_digest.cache_clear()


def test_the_compiler_version_names_the_installed_libraries_as_importlib_metadata_does() -> None:
    """The versions read from the `.dist-info` folder names on sys.path (one listing, not a scan
    per name) are those importlib.metadata reports, for every library that shapes the output."""
    from importlib import metadata

    installed = cache_keys._installed_versions()
    for name in cache_keys._DISTRIBUTIONS:
        assert installed[cache_keys._normalized(name)] == metadata.version(name), name


def test_with_and_without_cache_byte_identical_on_the_example(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE_SPEC, tmp_path / "spec")
    shutil.copytree(EXAMPLE_OVERLAYS, tmp_path / "overlays")
    _compile("plain", cache=False)
    _compile("filled")
    assert _compile("cached").recompiled == []
    plain = snapshot(tmp_path / "plain")
    assert plain
    assert snapshot(tmp_path / "filled") == plain
    assert snapshot(tmp_path / "cached") == plain


def test_with_and_without_cache_byte_identical_on_a_synthetic_platform(tmp_path: Path) -> None:
    write_synthetic_spec(tmp_path / "spec", 4, 10, 6, clusters_per_team=2)
    _compile("plain", cache=False)
    _compile("filled")
    assert _compile("cached").recompiled == []
    plain = snapshot(tmp_path / "plain")
    assert snapshot(tmp_path / "filled") == plain
    assert snapshot(tmp_path / "cached") == plain


def test_determinism_across_hash_seeds_and_file_orders_with_the_cache(tmp_path: Path) -> None:
    """Variants of the example (shuffled files, reordered lists, hash seeds) share one cache; each
    compiles twice (the second from the cache) and every tree equals a compile without cache."""
    docs = _documents(EXAMPLE_SPEC)
    _shuffled_spec(tmp_path / "reference" / "spec", docs, 0)
    plain = compile_cli(
        "--spec", "reference/spec", "--overlays", str(EXAMPLE_OVERLAYS), "--out", "reference/out", "--no-cache",
        cwd=tmp_path,
    )  # fmt: skip
    assert plain.returncode == 0, plain.stderr
    expected = snapshot(tmp_path / "reference" / "out")
    for run, (seed, hash_seed) in enumerate([(1, "0"), (2, "12345"), (3, "random")]):
        _shuffled_spec(tmp_path / f"run{run}" / "spec", _list_reordered(docs, seed), seed)
        for out in ("out", "again"):
            args = (
                "--spec",
                f"run{run}/spec",
                "--overlays",
                str(EXAMPLE_OVERLAYS),
                "--out",
                f"run{run}/{out}",
            )
            env = {"PYTHONHASHSEED": hash_seed, "PLATFORMC_NO_CACHE": "0"}
            result = compile_cli(*args, cwd=tmp_path, env=env)
            assert result.returncode == 0, result.stderr
            assert snapshot(tmp_path / f"run{run}" / out) == expected, f"run {run} ({out}) differs"
    assert any((tmp_path / CACHE / "clusters").iterdir())


def test_deleting_the_cache_is_safe(tmp_path: Path) -> None:
    _synthetic(tmp_path / "spec")
    _compile()
    expected = snapshot(tmp_path / "out")
    shutil.rmtree(CACHE)
    result = _compile()
    assert not result.recorded and len(result.recompiled) == 3
    assert _written(result) == 0, "the files on disk are current: nothing to rewrite"
    assert snapshot(tmp_path / "out") == expected


def test_hand_edited_and_stray_files_and_links_are_repaired(tmp_path: Path) -> None:
    """The manifest only spares reads: a file edited by hand (same size) is rewritten, a stray file
    and a link are removed, and the link's target is left alone."""
    _synthetic(tmp_path / "spec")
    _compile()
    expected = snapshot(tmp_path / "out")
    victim = next(p for p in sorted((tmp_path / "out").rglob("*.yaml")) if "namespace-" in p.name)
    victim.write_bytes(victim.read_bytes().replace(b"a", b"b"))  # same size
    (victim.parent / "stray.yaml").write_text("kind: Stray\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.yaml").write_text("keep me\n")
    folder = victim.parent.parent
    folder.rename(tmp_path / "moved-away")
    os.symlink(outside, folder)  # a link where a folder of the tree belongs
    _compile()
    assert snapshot(tmp_path / "out") == expected
    assert not folder.is_symlink()
    assert (outside / "keep.yaml").read_text() == "keep me\n"
    assert sorted(p.name for p in outside.iterdir()) == ["keep.yaml"]


def test_entries_sealed_under_another_key_are_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache folder committed by a pull request (or copied from another machine) carries entries
    sealed under a key this machine does not have: they are recomputed, never emitted."""
    _synthetic(tmp_path / "spec")
    monkeypatch.setenv("PLATFORMC_CACHE_KEY_FILE", str(tmp_path / "other-key"))
    _compile("planted")
    monkeypatch.setenv("PLATFORMC_CACHE_KEY_FILE", str(tmp_path / "own-key"))
    result = _compile()
    assert len(result.recompiled) == 3
    assert _compile("again").recompiled == []


def test_spec_errors_keep_exact_positions_with_the_parse_cache(tmp_path: Path) -> None:
    """team.yaml is parsed once and then read from .platformc-cache/spec; an error in it found by a
    later check still names its exact line and column (the text is read round-trip on error)."""
    _synthetic(tmp_path / "spec")
    _compile()
    assert any((CACHE / "spec").iterdir())
    clusters = tmp_path / "spec" / "cluster.yaml"
    clusters.write_text(clusters.read_text().replace("name: cluster-002", "name: cluster-two"))
    with pytest.raises(SpecErrors) as cached:
        _compile()
    with pytest.raises(SpecErrors) as plain:
        _compile("plain", cache=False)
    assert str(cached.value) == str(plain.value)
    assert re.search(r"team\.yaml:\d+:\d+: .*cluster-002", str(cached.value)), str(cached.value)


def test_parse_cache_reads_documents_as_the_whole_file_does(tmp_path: Path) -> None:
    """Documents are parsed (and cached) one by one, split at `---` lines: the same data, indexes and
    errors as parsing the file whole, for the example, a synthetic spec and odd layouts; a file with
    directives or document-end markers is parsed whole."""
    texts = {p.name: p.read_text() for p in sorted(EXAMPLE_SPEC.rglob("*.yaml"))}
    texts.update(synthetic_texts(3, 5, 4))
    texts["odd.yaml"] = (
        "# lead comment\nkind: A\n---\n---   # empty\n--- |\n  text\n---\nb: [1, 2]\n--- &x\nc: 1\n"
    )
    texts["directive.yaml"] = "%YAML 1.2\n---\nkind: A\n...\n---\nkind: B\n"
    texts["bad.yaml"] = "kind: A\n---\nkind: [B\n---\nkind: C\n"
    cache = ParseCache(tmp_path / "parse")
    for name, text in texts.items():
        for run in range(2):  # the second run reads from the cache
            plain_errors: list[object] = []
            cached_errors: list[object] = []
            plain = [(d.index, d.data) for d in load_text(text, name, plain_errors)]  # type: ignore[arg-type]
            cached = [(d.index, d.data) for d in load_text(text, name, cached_errors, cache)]  # type: ignore[arg-type]
            assert repr(cached) == repr(plain), f"{name} (run {run})"
            assert [str(e) for e in cached_errors] == [str(e) for e in plain_errors], name
        cache.save()
        cache = ParseCache(tmp_path / "parse")


def test_documents_parsed_ahead_in_workers_read_as_the_ordinary_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first compile of a large spec parses its new documents in forked workers
    (ParseCache.prefill): the model is the one read without a cache, and a file with a broken
    document reports exactly the errors, at the same lines, as without the cache."""
    from compiler.spec import loader
    from compiler.spec.build import load_platform

    spec = write_synthetic_spec(tmp_path / "spec", 3, 80, 40, clusters_per_team=None)
    parsed_ahead: list[int] = []

    def counted(task: object, items: list[object], jobs: int | None = None) -> list[object]:
        parsed_ahead.append(len(items))
        return real(task, items, jobs)  # type: ignore[arg-type]

    real = loader.map_in_order
    monkeypatch.setattr(loader, "map_in_order", counted)
    documents = sum(text.count("\n---") for text in (p.read_text() for p in spec.iterdir()))
    cache = ParseCache(tmp_path / "parse")
    assert load_platform(spec, parse_cache=cache) == load_platform(spec)
    assert parsed_ahead and parsed_ahead[0] > documents > loader._PARALLEL_PARSE
    cache.save()
    assert len(ParseCache(tmp_path / "parse")._stored) > documents  # every document was kept

    teams = spec / "team.yaml"
    teams.write_text(teams.read_text().replace("name: team-041", "name: [team-041", 1))
    errors = []
    for parse_cache in (None, ParseCache(tmp_path / "fresh")):
        with pytest.raises(SpecErrors) as raised:
            load_platform(spec, parse_cache=parse_cache)
        errors.append(str(raised.value))
    assert errors[0] == errors[1]
    assert re.search(r"team\.yaml:\d+:\d+: YAML syntax error", errors[0]), errors[0]


def test_spec_secrets_are_found_from_the_parse_cache_and_follow_the_allowlist(tmp_path: Path) -> None:
    """The secret scan of spec documents is kept with their parses: a second compile reports the
    same error at the same line, and an allowlist entry added later still silences it."""
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0" * 2
    _synthetic(tmp_path / "spec")
    platform = tmp_path / "spec" / "platform.yaml"
    clean = platform.read_text()
    leaked = clean.replace("https://git.example.com", f"https://{token}@git.example.com", 1)
    platform.write_text(leaked)
    messages = []
    for _ in range(2):
        with pytest.raises(SpecErrors) as raised:
            _compile()
        messages.append(str(raised.value))
    assert messages[0] == messages[1]
    assert re.search(r"platform\.yaml:8:\d+: spec\.gitops\.repoURL looks like a credential", messages[0])
    assert token not in messages[0]
    found = re.search(r"fingerprint ([0-9a-f]{12})", messages[0])
    assert found is not None
    allow = f"  secretScan:\n    allow:\n    - {{fingerprint: {found[1]}, reason: test}}\n  gitops:"
    platform.write_text(leaked.replace("  gitops:", allow, 1))
    _compile()  # the same document scan, from the cache, is now allowed


def test_the_cluster_cache_keeps_the_recently_used_generations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every change stores a new entry per changed cluster; compile then drops all but the most
    recently used ones (and each cluster's base entry, whose files its deltas take), so the cache
    does not grow with every commit, and the entries of the last compiles stay (reverting a change
    is answered from the cache)."""
    from compiler import pipeline

    monkeypatch.setattr(pipeline, "GENERATIONS_KEPT", 2)
    monkeypatch.setattr(pipeline, "KEPT_AT_LEAST", 0)
    for bonus in range(1, 6):
        _synthetic(tmp_path / "spec", quota_bonus={"team-000": bonus})
        assert len(_compile().recompiled) == 3
    assert len(list((CACHE / "clusters").iterdir())) == 6 + 3
    _synthetic(tmp_path / "spec", quota_bonus={"team-000": 4})
    assert _compile().recompiled == []


def _entry_headers() -> dict[str, dict[str, object]]:
    return {
        entry.name: orjson.loads(entry.read_bytes().split(b"\n", 2)[1])
        for entry in (CACHE / "clusters").iterdir()
    }


def test_a_one_team_change_stores_deltas_that_read_back_byte_identical(tmp_path: Path) -> None:
    """A change that leaves most of a cluster's files as they were stores only the files its
    cluster's base entry does not hold (compiler/cluster_cache.py); the entry still answers with
    every file: a compile of the same inputs into a fresh folder is taken from it, byte for byte
    what a compile without the cache writes."""
    _synthetic(tmp_path / "spec")
    _compile()
    full = {entry.name: entry.stat().st_size for entry in (CACHE / "clusters").iterdir()}
    _synthetic(tmp_path / "spec", quota_bonus={"team-000": 1})
    assert len(_compile().recompiled) == 3
    deltas = {name: h for name, h in _entry_headers().items() if name not in full}
    assert len(deltas) == 3 and all(h["base"] in full for h in deltas.values())
    for name, header in deltas.items():
        held = str(header["fromBase"]).count("0")
        assert 0 < held < len(header["paths"]) / 10, "a delta holds the changed files only"  # type: ignore[arg-type]
        assert (CACHE / "clusters" / name).stat().st_size * 4 < full[str(header["base"])]
    fresh = _compile("fresh")
    assert fresh.recompiled == [], "the deltas answered"
    _compile("uncached", cache=False)
    assert snapshot(tmp_path / "fresh") == snapshot(tmp_path / "uncached")


@pytest.mark.parametrize("damage", ["base removed", "base byte flipped"])
def test_a_delta_whose_base_is_gone_or_damaged_is_recomputed(tmp_path: Path, damage: str) -> None:
    """A delta is read with its base or not at all: a base that is missing, or whose bytes no longer
    match their digests, makes the delta a miss, recomputed and stored again, never emitted."""
    _synthetic(tmp_path / "spec")
    _compile()
    bases = _entry_headers()
    _synthetic(tmp_path / "spec", quota_bonus={"team-000": 1})
    _compile()
    for name, header in bases.items():
        if damage == "base removed":
            (CACHE / "clusters" / name).unlink()
        else:
            paths = header["paths"]
            assert isinstance(paths, list)
            assert flip_byte_in_entry(CACHE / "clusters" / name, paths[len(paths) // 2])
    again = _compile("again")
    assert again.recompiled == ["cluster-000", "cluster-001", "cluster-002"]
    _compile("uncached", cache=False)
    assert snapshot(tmp_path / "again") == snapshot(tmp_path / "uncached")
    assert _compile("third").recompiled == [], "recomputed entries are stored again"
