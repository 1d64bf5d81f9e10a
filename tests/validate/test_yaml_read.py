"""The lean tree reader (compiler/validate/yaml_read.py) gives what PyYAML's CSafeLoader gives, or
steps aside: every input either loads equal (same values, same types, same key order) or raises
NotPlain, never something else. Scalar resolution is PyYAML's YAML 1.1 resolver
(yaml/resolver.py in PyYAML 6.0.3), so `yes`, `0755`, `1:30` and `.inf` are what PyYAML says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.validate.yaml_read import NotPlain, load_plain
from compiler.yaml_limits import MAX_DEPTH

REPO = Path(__file__).resolve().parents[2]

PLAIN = [
    "",
    "---\n",
    "---\nnull\n---\n~\n",
    "a: 1\nb: [1, 2.5, -3, 0x1F, 0o17, 0755, 1_000, 1:30, 190:20:30.15, .inf, -.NaN, +12]\n",
    "flags: {a: yes, b: No, c: on, d: OFF, e: true, f: 'yes', g: \"no\"}\n",
    "typed: {a: !!str 12, b: !!int '42', c: !!float '1', d: !!null '', e: !!bool 'true'}\n",
    "dup: a\ndup: b\nother: c\n",
    "keys: {'1': a, '': e, \"x\": y}\n",
    "text: |\n  line one\n  line two\nfolded: >-\n  a\n  b\n",
    "name: &n shared\nagain: *n\n",  # an alias of a scalar builds no shared container
    "one: 1\n---\ntwo: 2\n...\n",
    "\ufeffbom: true\n",
    "deep: " + "[" * (MAX_DEPTH - 4) + "]" * (MAX_DEPTH - 4) + "\n",
]

NOT_PLAIN = [
    "a: &x [1]\nb: *x\n",
    "base: &b {name: x}\nm:\n  <<: *b\n",
    "m:\n  <<: {name: x}\n",
    "when: 2024-01-01\n",
    "bin: !!binary aGVsbG8=\n",
    "s: !!set {a, b}\n",
    "o: !!omap [{a: b}]\n",
    "c: !custom {a: b}\n",
    "? [x]\n: y\n",
    "keys: {1: a, true: b, null: c, 1.5: d}\n",
    "deep: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n",
]


def _typed(value: Any) -> Any:
    """Values with their types, so 1 == 1.0 == True cannot hide a difference."""
    if isinstance(value, dict):
        return [(_typed(k), _typed(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if isinstance(value, float) and value != value:
        return ("nan",)
    return (type(value).__name__, value)


@pytest.mark.parametrize("text", PLAIN)
def test_plain_yaml_loads_as_pyyaml_does(text: str) -> None:
    data = text.encode()
    assert _typed(load_plain(data)) == _typed(list(yaml.load_all(data, Loader=yaml.CSafeLoader)))


@pytest.mark.parametrize("text", NOT_PLAIN)
def test_yaml_beyond_plain_data_steps_aside(text: str) -> None:
    with pytest.raises(NotPlain):
        load_plain(text.encode())


def test_syntax_errors_are_pyyamls() -> None:
    data = b"a: 1\n---\nmetadata: {name: x\n"
    with pytest.raises(yaml.YAMLError) as ours:
        load_plain(data)
    with pytest.raises(yaml.YAMLError) as theirs:
        list(yaml.load_all(data, Loader=yaml.CSafeLoader))
    assert str(ours.value) == str(theirs.value)


def test_every_file_platformc_wrote_is_plain_and_equal() -> None:
    files = sorted((REPO / "generated").rglob("*.yaml"))
    assert len(files) > 300
    for path in files:
        data = path.read_bytes()
        assert _typed(load_plain(data)) == _typed(list(yaml.load_all(data, Loader=yaml.CSafeLoader))), path
