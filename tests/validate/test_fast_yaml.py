"""The tree reader's FastSafeLoader loads exactly what PyYAML's CSafeLoader loads (PyYAML
lib/yaml/constructor.py SafeConstructor, lib/yaml/resolver.py Resolver: YAML 1.1 implicit tags)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from compiler.validate.fast_yaml import FastSafeLoader
from tests.conftest import EXAMPLE_GENERATED


def _both(text: str | bytes) -> tuple[list[Any], list[Any]]:
    return list(yaml.load_all(text, Loader=yaml.CSafeLoader)), list(
        yaml.load_all(text, Loader=FastSafeLoader)
    )


def test_every_file_of_the_example_tree_loads_the_same() -> None:
    files = sorted(EXAMPLE_GENERATED.rglob("*.yaml"))
    assert len(files) > 100
    for path in files:
        expected, got = _both(path.read_bytes())
        assert got == expected, path
        assert [type(d) for d in got] == [type(d) for d in expected], path


EDGE_CASES = [
    "a: yes\nb: on\nc: off\nd: No\non: 1",  # YAML 1.1 booleans, as values and as a key
    "a: 017\nb: 0x1F\nc: 0b101\nd: 1_000\ne: 1:20\nf: +1\ng: -0",  # 1.1 ints, sexagesimal
    "a: 1e3\nb: 1.0e5\nc: 1.0e+5\nd: .inf\ne: -.Inf\nf: .nan\ng: 1.\nh: -.5",  # floats and look-alikes
    "a: ~\nb: null\nc:\nd: NULL\ne: ''\nf: '1'\ng: \"true\"",  # nulls and quoted look-alikes
    "a: 2024-01-01\nb: 2024-01-01 10:00:00Z",  # timestamps (built by SafeConstructor)
    "a: !!binary aGVsbG8=\nb: !!str 12\nc: !!int '7'\nd: !!float 1",  # explicit tags
    "base: &b {x: 1, y: [1, 2]}\nderived:\n  <<: *b\n  y: 3",  # merge keys
    "a: &x [1, {k: v}]\nb: *x\nc: *x",  # aliases: one shared object
    "a: &s text\nb: *s",
    "a: 1\na: 2",  # duplicate keys: the last wins
    "? [1, 2]\n: v",  # a complex (unhashable) key
    "? {a: 1}\n: v",
    "1: a\n2.5: b\ntrue: c\n~: d",  # non-string keys
    "--- 1\n--- [a]\n---\n--- text\n...\n",  # several documents, empty ones, scalars
    'a: |\n  line\n  more\nb: >-\n  folded\n  text\nc: "esc\\taped\\u00e9"',  # block and escaped scalars
    "a: &r [*r]",  # a recursive alias
    "a: !custom x",  # an unknown tag: refused
    "a: !!python/object:os.system x",  # refused, never constructed
    "- !!set {a, b}\n- !!omap [{a: 1}]\n- !!pairs [{a: 1}]",
    "= : x",  # the value key
    "[" * 40 + "]" * 40,
    "a: [1, 2\n",  # invalid YAML
    "\t- x",
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases_load_the_same_or_fail_the_same(text: str) -> None:
    try:
        expected = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    except yaml.YAMLError as exc:
        with pytest.raises(type(exc)) as raised:
            list(yaml.load_all(text, Loader=FastSafeLoader))
        assert str(raised.value) == str(exc)
        return
    got = list(yaml.load_all(text, Loader=FastSafeLoader))
    assert repr(got) == repr(expected)  # repr: nan != nan, and types (1 vs True vs 1.0) show


def test_aliases_stay_shared_objects() -> None:
    """validate refuses shared nodes (alias bombs) by object identity, so aliases must stay shared."""
    (doc,) = list(yaml.load_all("a: &x [1, {k: v}]\nb: *x", Loader=FastSafeLoader))
    assert doc["a"] is doc["b"]


def test_the_tag_memo_does_not_change_later_documents() -> None:
    """A memoised tag depends on the scalar's text only: the same text quoted stays a string."""
    first, second = (list(yaml.load_all(t, Loader=FastSafeLoader)) for t in ("a: 12", "a: '12'"))
    assert first == [{"a": 12}] and second == [{"a": "12"}]
