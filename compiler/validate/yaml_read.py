"""Reading a tree's YAML files back: libyaml's C parser, then a lean constructor for plain data.

Why a C loader is safe here: the trees `validate` reads are the ones platformc's own emitter
(compiler/yaml_out.py, held byte for byte to PyYAML) wrote, so they are plain YAML 1.1 block
mappings, sequences and scalars that libyaml parses exactly as the pure-Python parser does, and
resolution and construction stay PyYAML's safe ones (its Resolver tags each scalar; its
SafeConstructor builds ints, floats, booleans and nulls). Nothing here can build a Python object
from a tag. A hand-edited or hostile file is still bounded before and while it is read: size and
document count on the raw bytes (compiler/yaml_limits.py), and an alias, a tag other than the
plain ones, a merge key or nesting near MAX_DEPTH sends the file to the full PyYAML loader and the
same shape checks as before, so findings are those of `yaml.load_all(..., CSafeLoader)`.

The lean path exists because PyYAML's constructor is pure Python and, with the two extra walks
that looked for aliases and depth, cost more than libyaml's parsing; here one walk over the
composed nodes builds the data and proves it alias-free and shallow at the same time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode

from compiler.yaml_limits import MAX_DEPTH

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
# Within this many levels of MAX_DEPTH the full loader and yaml_limits.depth decide.
_DEPTH_MARGIN = 2


class NotPlain(Exception):
    """The file uses YAML beyond plain data; read it with the full loader instead."""


def load_plain(data: bytes) -> list[Any]:
    """Every document of `data`, as `list(yaml.load_all(data, Loader=yaml.CSafeLoader))` gives it.

    Raises yaml.YAMLError for a syntax error (as that call does) and NotPlain when a document
    holds an alias to a collection, a merge key, a tag other than str/int/float/bool/null/map/seq,
    a key that is not a string, or nests within a few levels of MAX_DEPTH. Plain data holds only
    what JSON holds, so it survives a JSON round trip unchanged.
    """
    loader = yaml.CSafeLoader(data)
    scalars = {
        "tag:yaml.org,2002:int": loader.construct_yaml_int,
        "tag:yaml.org,2002:float": loader.construct_yaml_float,
        "tag:yaml.org,2002:bool": loader.construct_yaml_bool,
        "tag:yaml.org,2002:null": loader.construct_yaml_null,
    }
    documents: list[Any] = []
    try:
        while loader.check_node():
            # Collection nodes built so far in this document: a second visit is an alias. Per
            # document: anchors do not cross documents, and an earlier document's nodes are freed,
            # so their ids may come back (a plain second document was refused now and then).
            seen: set[int] = set()
            documents.append(_build(loader.get_node(), 0, scalars, seen))
    finally:
        loader.dispose()
    return documents


def load_documents(data: bytes) -> list[Any]:
    """Every document of `data`: the lean path for plain data, else PyYAML's CSafeLoader."""
    try:
        return load_plain(data)
    except NotPlain:
        return list(yaml.load_all(data, Loader=yaml.CSafeLoader))


def _build(node: Any, level: int, scalars: Mapping[str, Callable[[Any], Any]], seen: set[int]) -> Any:
    """The data of one composed node (a yaml.Node). A module function, not a closure: a recursive
    closure is a reference cycle, and validation runs with the cycle collector paused."""
    cls = node.__class__
    if cls is ScalarNode:
        if node.tag == _STR:
            return node.value
        construct = scalars.get(node.tag)
        if construct is None:
            raise NotPlain(node.tag)
        return construct(node)
    if level >= MAX_DEPTH - _DEPTH_MARGIN or id(node) in seen:
        raise NotPlain("deep or aliased")
    seen.add(id(node))
    if cls is MappingNode and node.tag == _MAP:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            # Keys other than strings (JSON has none) go to the full loader too, so plain data
            # round-trips through JSON exactly (the validation cache stores it so). A merge ("<<")
            # or value ("=") key is tagged otherwise: SafeConstructor's flatten_mapping handles those.
            if key_node.__class__ is not ScalarNode or key_node.tag != _STR:
                raise NotPlain("key that is not a string")
            out[key_node.value] = _build(value_node, level + 1, scalars, seen)
        return out
    if node.tag != _SEQ or cls is MappingNode:
        raise NotPlain(node.tag)
    return [_build(item, level + 1, scalars, seen) for item in node.value]
