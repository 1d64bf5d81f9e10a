"""How a cluster's object memo is stored between compiles (compiler/memo_store.py): a sealed base
file, and a small sealed delta for the few entries a one-team change makes. The delta extends only
the base it names; a delta planted by a pull request or damaged is not believed."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.memo_store import load_memo, save_memo
from compiler.object_memo import ObjectMemo


@pytest.fixture(autouse=True)
def own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATFORMC_CACHE_KEY_FILE", str(tmp_path / "own-key"))


def _entries(names: range, tag: str = "") -> dict[bytes, bytes]:
    return {f"key-{i}".encode(): f"value-{i}{tag}".encode() for i in names}


def _compile(root: Path, wanted: dict[bytes, bytes]) -> ObjectMemo:
    """What a compile does with the memo: look every entry up, make the missing ones, store."""
    memo = load_memo(root, "prod")
    for key, value in wanted.items():
        if memo.get(key) is None:
            memo.put(key, value)
    save_memo(root, "prod", memo)
    return memo


def _files(root: Path) -> dict[str, tuple[int, bytes]]:
    return {p.name: (p.stat().st_ino, p.read_bytes()) for p in (root / "objects").iterdir()}


def test_a_few_new_entries_go_to_a_delta_and_the_base_is_kept(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    _compile(root, _entries(range(100)))
    (base,) = _files(root).items()
    wanted = {**_entries(range(99)), **_entries(range(100, 103))}
    _compile(root, wanted)
    files = _files(root)
    assert files[base[0]] == base[1]  # not rewritten
    assert set(files) == {base[0], base[0] + ".new"}
    assert len(files[base[0] + ".new"][1]) < len(base[1][1]) / 5
    stored = load_memo(root, "prod").stored
    assert {k: stored[k] for k in wanted} == wanted
    # A second small change extends the delta; the entries of the first are still there.
    _compile(root, {**wanted, **_entries(range(103, 105))})
    assert _files(root)[base[0]] == base[1]
    assert load_memo(root, "prod").stored.keys() >= {*wanted, *_entries(range(103, 105))}


def test_many_changes_rewrite_the_base_and_drop_the_delta(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    _compile(root, _entries(range(100)))
    _compile(root, _entries(range(102)))
    assert len(_files(root)) == 2
    wanted = _entries(range(40, 140))  # 40 entries no longer used, 38 new
    _compile(root, wanted)
    (name,) = _files(root)
    assert not name.endswith(".new")
    assert load_memo(root, "prod").stored == wanted


def test_a_delta_is_not_applied_to_another_base(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    _compile(root, _entries(range(100)))
    _compile(root, {**_entries(range(100)), **_entries(range(100, 101), "-old")})
    (delta,) = (p for p in (root / "objects").iterdir() if p.name.endswith(".new"))
    kept = delta.read_bytes()
    _compile(root, _entries(range(200, 300)))  # a new base
    delta.write_bytes(kept)
    stored = load_memo(root, "prod").stored
    assert stored == _entries(range(200, 300))


def test_a_planted_or_damaged_delta_is_not_believed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "cache"
    _compile(root, _entries(range(100)))
    ours = load_memo(root, "prod")
    # A pull request commits a delta naming this machine's base, sealed under a key of its own.
    monkeypatch.setenv("PLATFORMC_CACHE_KEY_FILE", str(tmp_path / "pull-request-key"))
    planted = ObjectMemo(ours.stored, base=ours.base, base_seal=ours.base_seal)
    planted.used = {**ours.stored, **_entries(range(100, 101), "-planted")}
    save_memo(root, "prod", planted)
    assert any(p.name.endswith(".new") for p in (root / "objects").iterdir())
    monkeypatch.setenv("PLATFORMC_CACHE_KEY_FILE", str(tmp_path / "own-key"))
    assert load_memo(root, "prod").stored == _entries(range(100))

    _compile(root, {**_entries(range(100)), **_entries(range(100, 102))})
    assert load_memo(root, "prod").stored == _entries(range(102))
    (delta,) = (p for p in (root / "objects").iterdir() if p.name.endswith(".new"))
    raw = bytearray(delta.read_bytes())
    raw[-2] ^= 0x01
    delta.write_bytes(bytes(raw))
    assert load_memo(root, "prod").stored == _entries(range(100))
