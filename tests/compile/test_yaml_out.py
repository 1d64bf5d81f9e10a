"""The fast YAML writer emits exactly what PyYAML would, byte for byte."""

from __future__ import annotations

import random
import string
from pathlib import Path

import yaml

from compiler.yaml_out import dump, pyyaml_dump
from tests.conftest import EXAMPLE_GENERATED

TRICKY = {
    "empty": "",
    "spaces": [" lead", "trail ", "in side"],
    "lookalikes": [
        "yes",
        "No",
        "on",
        "null",
        "~",
        "1.0",
        "0o17",
        "0x1F",
        "1_000",
        "12:30",
        "2001-12-14",
        "=",
        "<<",
    ],
    "indicators": [
        "a: b",
        "#x",
        "- x",
        "x #y",
        "*a",
        "&a",
        "!x",
        "%x",
        "@x",
        "`x",
        "{x}",
        "[x]",
        "'q'",
        '"q"',
    ],
    "blocks": {
        "clip": "a\nb\n",
        "strip": "a\nb",
        "keep": "a\n\n",
        "lead": " a\nb\n",
        "blank": "a\n\nb\n",
        "tail": "a \nb",
    },
    "numbers": [0, -1, 1.5, 1e20, float("inf"), True, False, None],
    "nested": [[1, [2, 3]], [], {}, [{}], [{"a": [1, {"b": []}]}], {"k": [[]]}],
    "keys": {"key with space": 1, "key:colon": 2, "123": 3, "true": 4, "": 5},
    "unicode": ["é", "日本", "\t", "x\r\ny"],
}


def test_tricky_values_match_pyyaml() -> None:
    for key, value in TRICKY.items():
        document = {"apiVersion": "v1", key: value}
        assert dump(document) == pyyaml_dump(document), key


def test_random_strings_match_pyyaml() -> None:
    rng = random.Random(20261123)
    alphabet = string.ascii_letters + string.digits + " :#-_./\\'\"\n\t{}[],&*!|>%@`?=~é\r\u2028"

    def text(longest: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, longest)))

    for _ in range(5000):
        document = {
            "k": text(12),
            "l": [text(6), {"x": text(5)}, [text(4)], rng.choice([1, 2.5, None, True])],
            "m": {"n": text(8), text(4) or "z": [text(3)]},
            "long": "x" * rng.randint(0, 200),
        }
        assert dump(document) == pyyaml_dump(document), document


def test_every_generated_file_is_what_pyyaml_writes() -> None:
    files = [p for p in Path(EXAMPLE_GENERATED).rglob("*.yaml")]
    assert len(files) > 100
    for path in files:
        text = path.read_text()
        assert pyyaml_dump(yaml.safe_load(text)) == text, path
