"""A YAML writer for plain Kubernetes data that produces exactly PyYAML's block style, faster.

PyYAML's C emitter still builds a Python node graph through its representer; on a 20-cluster
platform that is most of the compile. This writer walks dicts/lists directly and emits the
same bytes for the shapes objects have. Strings that are trivially plain are written as they
are; every other string is handed to PyYAML once (and memoised), so quoting and block-literal
rules stay PyYAML's own. tests/compile/test_yaml_out.py holds it to PyYAML byte for byte.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import yaml

# Strings PyYAML writes plain and that no YAML 1.1 resolver reads as anything but a string.
_TRIVIAL = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*")
_NOT_TRIVIAL = frozenset(
    {
        "y",
        "Y",
        "n",
        "N",
        "yes",
        "Yes",
        "YES",
        "no",
        "No",
        "NO",
        "true",
        "True",
        "TRUE",
        "false",
        "False",
        "FALSE",
        "on",
        "On",
        "ON",
        "off",
        "Off",
        "OFF",
        "null",
        "Null",
        "NULL",
    }
)


class _Dumper(yaml.CSafeDumper):
    """Multi-line strings as literal blocks, as the emitter wants them."""


def _represent_str(dumper: _Dumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)


def pyyaml_dump(data: Any) -> str:
    """The reference: PyYAML with the emitter's settings."""
    return yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=4096
    )


@lru_cache(maxsize=65536)
def _string(value: str) -> str:
    """A string as PyYAML writes it at the top level, continuation lines indented from column 0."""
    if _TRIVIAL.fullmatch(value) and value not in _NOT_TRIVIAL:
        return value
    text = pyyaml_dump(value)
    if text.endswith("\n...\n"):  # PyYAML closes a lone plain scalar document
        text = text[: -len("...\n")]
    return text[:-1] if text.endswith("\n") else text


class _NeedsPyYAML(Exception):
    """A shape the fast path does not write byte-identically; the caller falls back."""


_LINE_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")
_UNICODE_BREAKS = ("\x85", "\u2028", "\u2029")
_LINE_START = re.compile(r"\n(?=[^\n])")


@lru_cache(maxsize=65536)
def _key(key: str) -> str:
    """A key as PyYAML writes it as `key:`; PyYAML uses `? key` for multi-line or long keys."""
    if any(b in key for b in _LINE_BREAKS):
        raise _NeedsPyYAML
    text = _string(key)
    if len(text) >= 128:
        raise _NeedsPyYAML
    return text


class _Writer:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.last_block_header: str | None = None  # decides libyaml's document-end marker

    def scalar(self, value: Any, indent: int) -> str:
        if isinstance(value, str):
            if "\n" in value or "\x85" in value or "\u2028" in value or "\u2029" in value:
                if any(b in value for b in _UNICODE_BREAKS):
                    raise _NeedsPyYAML  # PyYAML folds those with indentation of its own
                text = _string(value)
                if text[:1] in "|>":
                    self.last_block_header = text.split("\n", 1)[0]
                # PyYAML indents a block's lines two past the line they hang from; pyyaml_dump
                # already gives the two, so add the line's own indentation (blank lines stay empty).
                return _LINE_START.sub("\n" + " " * indent, text) if indent else text
            return _string(value)
        if value is True:
            return "true"
        if value is False:
            return "false"
        if value is None:
            return "null"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, dict):
            return "{}"
        if isinstance(value, list):
            return "[]"
        return pyyaml_dump(value).removesuffix("\n...\n").removesuffix("\n")

    def block(self, value: dict[str, Any] | list[Any], indent: int) -> None:
        """The block form of a non-empty dict or list, each line starting at `indent`."""
        out = self.out
        pad = " " * indent
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise _NeedsPyYAML
                if isinstance(item, dict) and item:
                    out.append(f"{pad}{_key(key)}:\n")
                    self.block(item, indent + 2)
                elif isinstance(item, list) and item:
                    out.append(f"{pad}{_key(key)}:\n")
                    self.block(item, indent)  # PyYAML does not indent a sequence inside a mapping
                else:
                    out.append(f"{pad}{_key(key)}: {self.scalar(item, indent)}\n")
            return
        for item in value:
            if isinstance(item, dict | list) and item:
                # The first line of the nested block goes on the dash line.
                first = len(out)
                self.block(item, indent + 2)
                out[first] = f"{pad}- {out[first][indent + 2 :]}"
            else:
                out.append(f"{pad}- {self.scalar(item, indent)}\n")


def dump(data: dict[str, Any]) -> str:
    """A mapping as a YAML document, byte-identical to pyyaml_dump(data)."""
    if not data:
        return pyyaml_dump(data)
    writer = _Writer()
    try:
        writer.block(data, 0)
    except _NeedsPyYAML:
        return pyyaml_dump(data)
    if writer.last_block_header is not None and writer.last_block_header.endswith("+"):
        writer.out.append("...\n")  # libyaml leaves a document open-ended after a keep-chomping block
    return "".join(writer.out)
