"""PyYAML's CSafeLoader, built faster for plain YAML (the trees platformc writes).

libyaml parses and composes the nodes in C; what costs is PyYAML's Python side: resolving every
plain scalar against the implicit-tag regexes and constructing each node through generic,
generator-based constructors. `FastSafeLoader` memoises the resolved tag of short plain scalars
(keys and values repeat across objects) and builds maps, sequences and the core scalar tags
(str, null, bool, int, float) directly, with SafeConstructor's own scalar functions. A document
holding anything else (merge keys, explicit or unknown tags, timestamps, complex keys, recursive
aliases, nesting deeper than Python's stack) is constructed by SafeConstructor itself, so every
document loads to the same objects (shared ones for aliases included) as `yaml.CSafeLoader`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_SCALARS: dict[str, Callable[[Any, ScalarNode], Any]] = {
    "tag:yaml.org,2002:null": yaml.SafeLoader.construct_yaml_null,
    "tag:yaml.org,2002:bool": yaml.SafeLoader.construct_yaml_bool,
    "tag:yaml.org,2002:int": yaml.SafeLoader.construct_yaml_int,
    "tag:yaml.org,2002:float": yaml.SafeLoader.construct_yaml_float,
}
_KEY_TAGS = frozenset({_STR, *_SCALARS})

# Resolved tags of short plain scalars; the tag depends on the text alone (SafeLoader has no
# path resolvers). Bounded, so hostile input cannot grow it without limit.
_TAGS: dict[str, str] = {}
_TAG_MEMO_TEXT = 64
_TAG_MEMO_ENTRIES = 100_000


class _Unusual(Exception):
    """A node the fast path leaves to SafeConstructor."""


class FastSafeLoader(yaml.CSafeLoader):
    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if not implicit[0]:
                return _STR  # quoted or block scalar without a tag: always a string
            tag = _TAGS.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(value) <= _TAG_MEMO_TEXT and len(_TAGS) < _TAG_MEMO_ENTRIES:
                    _TAGS[value] = tag
            return tag
        resolved: str = super().resolve(kind, value, implicit)
        return resolved

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass  # path resolvers only; SafeLoader has none

    def ascend_resolver(self) -> None:
        pass

    def construct_document(self, node: Node) -> Any:
        try:
            return _Builder(self).build(node)
        except (_Unusual, RecursionError):
            return super().construct_document(node)


class _Builder:
    def __init__(self, loader: FastSafeLoader) -> None:
        self.loader = loader
        self.built: dict[int, Any] = {}  # id(node) -> object: an alias gives the same object

    def build(self, node: Node) -> Any:
        cls = node.__class__
        if isinstance(node, ScalarNode):
            tag = node.tag
            if tag == _STR:
                return node.value
            construct = _SCALARS.get(tag)
            if construct is None:
                raise _Unusual
            return construct(self.loader, node)
        key = id(node)
        if key in self.built:
            if self.built[key] is None:
                raise _Unusual  # a recursive alias: SafeConstructor builds those in two steps
            return self.built[key]
        self.built[key] = None
        out: Any
        if cls is MappingNode and node.tag == _MAP:
            out = {}
            for key_node, value_node in node.value:
                if key_node.__class__ is not ScalarNode or key_node.tag not in _KEY_TAGS:
                    raise _Unusual  # merge (<<) and value (=) keys, complex keys
                out[self.build(key_node)] = self.build(value_node)
        elif cls is SequenceNode and node.tag == _SEQ:
            out = [self.build(item) for item in node.value]
        else:
            raise _Unusual
        self.built[key] = out
        return out
