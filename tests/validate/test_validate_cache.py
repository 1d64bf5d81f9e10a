"""The validation cache (.platformc-cache/validate, compiler/validate/cache.py): a re-validate of an
unchanged cluster reuses its stored result, a changed file is always read again, and a damaged,
foreign or outdated entry is recomputed, never trusted. Findings are the same with and without it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import compiler.validate.cache as cache_module
import compiler.validate.tree as tree_module
from compiler.validate import Report, SchemaRegistry, validate_tree
from compiler.validate.cache import ValidationCache
from tests.validate.test_validate_tree import make_tree, write
from tests.validate.validate_samples import network_policy


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "key" / "cache-key"
    monkeypatch.setenv("PLATFORMC_CACHE_KEY_FILE", str(path))
    return path


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the clusters validated from their files (not taken from the cache)."""
    names: list[str] = []
    original: Callable[..., Any] = tree_module.validate_cluster

    def counting(out_dir: Path, cluster: Any, *args: Any) -> Any:
        names.append(cluster.name)
        return original(out_dir, cluster, *args)

    monkeypatch.setattr(tree_module, "validate_cluster", counting)
    return names


def run(tree: Path, crds_dir: Path, cache: ValidationCache | None) -> Report:
    return validate_tree(tree, registry=SchemaRegistry([crds_dir]), cache=cache, jobs=1)


def shown(report: Report) -> list[str]:
    return [f.format() for f in report.sorted()] + [f"{report.objects} objects"]


def planted_tree(root: Path) -> Path:
    tree = root / "tree"
    make_tree(tree)
    bad = network_policy()
    bad["spec"]["bogus"] = 1
    write(tree / "prod-us-east" / "teams" / "ai-research" / "networkpolicy-bad.yaml", bad)
    (tree / "staging-eu" / "teams" / "broken.yaml").write_text("kind: [\n")
    return tree


def test_same_findings_with_and_without_cache(
    tmp_path: Path, crds_dir: Path, key_file: Path, computed: list[str]
) -> None:
    tree = planted_tree(tmp_path)
    cache = ValidationCache(tmp_path / "cache")
    uncached = shown(run(tree, crds_dir, None))
    assert any("unknown field" in line for line in uncached)
    assert shown(run(tree, crds_dir, cache)) == uncached
    computed.clear()
    assert shown(run(tree, crds_dir, cache)) == uncached
    assert computed == []  # the second run read no YAML: both clusters came from the cache


def test_changed_file_is_validated_again(
    tmp_path: Path, crds_dir: Path, key_file: Path, computed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "STAT_MARGIN_NS", 0)  # record stats of files written just now
    tree = planted_tree(tmp_path)
    cache = ValidationCache(tmp_path / "cache")
    run(tree, crds_dir, cache)
    target = tree / "prod-us-east" / "teams" / "ai-research" / "networkpolicy-bad.yaml"
    before = target.stat()
    # Same size, mtime put back: only the inode's ctime and the bytes tell the edit apart.
    text = target.read_text()
    target.write_text(text.replace("bogus", "bogos"))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert target.stat().st_size == before.st_size
    computed.clear()
    cached = shown(run(tree, crds_dir, cache))
    assert computed == ["prod-us-east"]  # staging-eu is unchanged
    assert any('unknown field "bogos"' in line for line in cached)
    assert cached == shown(run(tree, crds_dir, None))


def test_damaged_entries_are_recomputed(
    tmp_path: Path, crds_dir: Path, key_file: Path, computed: list[str]
) -> None:
    tree = planted_tree(tmp_path)
    cache = ValidationCache(tmp_path / "cache")
    expected = shown(run(tree, crds_dir, cache))
    entries = sorted((tmp_path / "cache").iterdir())
    assert any(p.name.startswith("result-") for p in entries)
    for entry in entries:  # flip one byte in the body of every entry (results, parsed files, stats)
        data = bytearray(entry.read_bytes())
        data[-1] ^= 0x01
        entry.write_bytes(bytes(data))
    computed.clear()
    assert shown(run(tree, crds_dir, cache)) == expected
    assert sorted(computed) == ["prod-us-east", "staging-eu"]
    computed.clear()
    assert shown(run(tree, crds_dir, cache)) == expected  # rewritten sound entries serve again
    assert computed == []


def test_entries_sealed_elsewhere_are_not_trusted(
    tmp_path: Path, crds_dir: Path, key_file: Path, computed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `.platformc-cache/` committed to a pull request carries entries sealed under another key."""
    tree = planted_tree(tmp_path)
    cache = ValidationCache(tmp_path / "cache")
    expected = shown(run(tree, crds_dir, cache))
    monkeypatch.setenv("PLATFORMC_CACHE_KEY_FILE", str(tmp_path / "other-key"))
    computed.clear()
    assert shown(run(tree, crds_dir, cache)) == expected
    assert sorted(computed) == ["prod-us-east", "staging-eu"]


def test_compiler_change_invalidates(
    tmp_path: Path, crds_dir: Path, key_file: Path, computed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = planted_tree(tmp_path)
    cache = ValidationCache(tmp_path / "cache")
    expected = shown(run(tree, crds_dir, cache))
    monkeypatch.setattr(tree_module, "compiler_digest", lambda: "another platformc")
    computed.clear()
    assert shown(run(tree, crds_dir, cache)) == expected
    assert sorted(computed) == ["prod-us-east", "staging-eu"]


def test_compiler_digest_covers_the_package(tmp_path: Path) -> None:
    """Any edit to a file of the compiler package changes the digest entries are keyed by."""
    cache_module.compiler_digest.cache_clear()
    before = cache_module.compiler_digest()
    module = Path(cache_module.__file__)
    original = module.read_bytes()
    try:
        module.write_bytes(original + b"\n# edited\n")
        cache_module.compiler_digest.cache_clear()
        assert cache_module.compiler_digest() != before
    finally:
        module.write_bytes(original)
        cache_module.compiler_digest.cache_clear()
    assert cache_module.compiler_digest() == before


def test_schema_change_invalidates(
    tmp_path: Path, crds_dir: Path, key_file: Path, computed: list[str]
) -> None:
    tree = planted_tree(tmp_path)
    schemas = tmp_path / "schemas"
    (schemas / "example.com").mkdir(parents=True)
    widget = schemas / "example.com" / "widget_v1.json"
    widget.write_text('{"type": "object", "properties": {"spec": {"type": "object"}}}')
    write(
        tree / "prod-us-east" / "widget.yaml",
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": 1},
    )
    cache = ValidationCache(tmp_path / "cache")

    def validated() -> list[str]:
        registry = SchemaRegistry([schemas, crds_dir])
        return shown(validate_tree(tree, registry=registry, cache=cache, jobs=1))

    assert any("$.spec: expected object, got integer" in line for line in validated())
    widget.write_text('{"type": "object", "properties": {"spec": {"type": "integer"}}}')
    computed.clear()
    assert not any("expected object, got integer" in line for line in validated())
    assert "prod-us-east" in computed


def test_spec_pins_are_read_once_per_spec_content(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`validate` needs only the spec's overridden pins and secret allowlist: kept by the spec
    folder's content, so an unchanged spec is not read and checked again, and any edit to it is."""
    import shutil

    import compiler.pipeline as pipeline

    spec = tmp_path / "platform-spec"
    shutil.copytree(Path(pipeline.__file__).resolve().parents[1] / "platform-spec", spec)
    cache = ValidationCache(tmp_path / "cache")
    reads: list[Path] = []
    load_platform = pipeline.load_platform

    def counting(spec_dir: Path, *args: Any) -> Any:
        reads.append(spec_dir)
        return load_platform(spec_dir, *args)

    monkeypatch.setattr(pipeline, "load_platform", counting)
    facts = pipeline._spec_facts(spec, cache)
    assert pipeline._spec_facts(spec, cache) == facts
    assert len(reads) == 1
    platform = next(p for p in spec.rglob("*.yaml") if "kind: Platform" in p.read_text())
    platform.write_text(platform.read_text() + "\n# edited\n")
    assert pipeline._spec_facts(spec, cache) == facts
    assert len(reads) == 2


def test_the_secret_allowlist_is_part_of_the_key(
    tmp_path: Path, crds_dir: Path, key_file: Path, computed: list[str]
) -> None:
    """A stored result is for one allowlist: allowing a fingerprint (spec.secretScan.allow), or
    taking it back, validates the cluster again instead of replaying the other verdict."""
    from compiler.secrets_scan import scan

    tree = planted_tree(tmp_path)
    leaked = network_policy()
    leaked["metadata"]["annotations"] = {
        "acme.com/hook": "xoxb-123456789012-1234567890123-abcdefghijABCDEFGHIJklmn"
    }
    write(tree / "prod-us-east" / "teams" / "ai-research" / "networkpolicy-hook.yaml", leaked)
    (allowed,) = {found.fingerprint for found in scan(leaked, frozenset())}
    cache = ValidationCache(tmp_path / "cache")

    def secrets(allow: frozenset[str]) -> list[str]:
        report = validate_tree(
            tree, registry=SchemaRegistry([crds_dir]), cache=cache, jobs=1, secrets_allowed=allow
        )
        return [f.format() for f in report.findings if f.check == "secret"]

    assert len(secrets(frozenset())) == 1
    computed.clear()
    assert secrets(frozenset({allowed})) == []
    assert "prod-us-east" in computed
    assert len(secrets(frozenset())) == 1
