"""Read every spec document with its source positions.

ruamel.yaml's round-trip loader keeps line/column for every key and value, which
is what lets every later error say `file:line:col`. It is about twice as slow as
ruamel's safe loader, and positions are only needed when something is wrong, so
documents are read with the safe loader and a file is re-read round-trip the
first time an error in it needs a position. (libyaml's C parser is not an option:
it is YAML 1.1 and rejects `{url: https://…}`, which YAML 1.2 allows.)
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer, MaxDepthExceededError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from compiler.errors import SourceLocation, SpecError
from compiler.parallel import map_in_order
from compiler.pathsafety import regular_files
from compiler.sealed import seal, unseal
from compiler.secrets_scan import SecretFinding, scan
from compiler.yaml_limits import MAX_DEPTH, alias_problem, non_json_value, size_problem

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class SourceDocument:
    """One YAML document of a spec file, with a way back to positions."""

    file: str  # as displayed in errors: relative to the working directory when possible
    index: int  # position of the document in its file
    data: Any  # plain dicts, lists and scalars
    text: str = field(repr=False, default="")  # the file's text: positions and quotes come from it
    _positions: Callable[[], list[Any]] = field(repr=False, compare=False, default=lambda: [])
    # data as JSON (orjson), when it is plain JSON data holding no null: made once, it answers the
    # plain-data check, copies the data for the typed model and keys the secret scan's cache.
    json: bytes | None = field(repr=False, compare=False, default=None)

    def plain_copy(self) -> Any:
        """A copy of data as plain builtins (what the typed model is validated from)."""
        return orjson.loads(self.json) if self.json is not None else to_plain(self.data)

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @property
    def positioned(self) -> Any:
        """The same document read round-trip: CommentedMap/Seq with line and column data."""
        documents = self._positions()
        return documents[self.index] if self.index < len(documents) else None

    @property
    def start(self) -> SourceLocation:
        node = self.positioned
        if isinstance(node, CommentedMap | CommentedSeq):
            return SourceLocation(self.file, node.lc.line + 1, node.lc.col + 1)
        return SourceLocation(self.file, 1, 1)

    def source_token(self, location: SourceLocation) -> str | None:
        """The plain scalar written at a location, as typed (YAML turns `1.30` into 1.3)."""
        if not 0 < location.line <= len(self.lines):
            return None
        rest = self.lines[location.line - 1][location.column - 1 :]
        token = rest.split("#", 1)[0]
        for stop in (",", "}", "]"):
            token = token.split(stop, 1)[0]
        return token.strip() or None

    def location(self, path: PathKey, *, key: bool = False) -> SourceLocation:
        """Position of the value at `path` (or of its key), falling back to the nearest parent."""
        node = self.positioned
        best = self.start
        for i, part in enumerate(path):
            last = i == len(path) - 1
            if isinstance(node, CommentedMap) and part in node:
                try:
                    line, col = node.lc.key(part) if (key and last) else node.lc.value(part)
                except KeyError:  # brought in by a merge key (<<): the mapping's own line is nearest
                    break
                best = SourceLocation(self.file, line + 1, col + 1)
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                line, col = node.lc.item(part)
                best = SourceLocation(self.file, line + 1, col + 1)
                node = node[part]
            else:
                break
        return best


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def spec_files(spec_dir: Path, errors: list[SpecError]) -> list[Path]:
    """All *.yaml / *.yml files below spec_dir, in a stable order independent of the filesystem.
    Symbolic links are errors, never followed (see pathsafety)."""
    found = regular_files(spec_dir, errors, display_path)
    files = [p for p in found if p.suffix in (".yaml", ".yml")]
    return sorted(files, key=lambda p: p.relative_to(spec_dir).as_posix())


class _CountingComposer(Composer):
    """Notes whether a document used an alias, so only those pay for the alias-bomb check."""

    aliased = False

    def return_alias(self, a: Any) -> Any:
        _CountingComposer.aliased = True
        return a


def _yaml(typ: str) -> YAML:
    yaml = YAML(typ=typ, pure=True)
    yaml.allow_duplicate_keys = False
    yaml.max_depth = MAX_DEPTH
    yaml.Composer = _CountingComposer
    return yaml


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _round_trip(text: str) -> list[Any]:
    return list(_yaml("rt").load_all(text))


class ParseCache:
    """Parsed spec documents by the digest of their text, so a compile re-parses only the documents
    that changed (one team's edit in a file of a hundred teams costs one document's parse).

    Only successful parses are kept; a document whose text is new is parsed with the file's other
    new documents, and any problem sends the whole file through the ordinary path, so errors and
    their positions are exactly those of an uncached parse (positions come from the file's text,
    read round-trip when an error needs one). Stored in one file, sealed (compiler/sealed.py):
    marshal is only ever read back from entries this machine wrote. A missing, damaged or foreign
    file is an empty cache; deleting it is always safe."""

    # marshal's format and ruamel's reading both belong to the Python and library versions.
    _FORMAT = f"platformc-parse 1 {sys.version} {marshal.version}".encode()
    # The keys of the file when share() has added another cache's documents to what it read.
    _read_keys: frozenset[bytes] | None = None

    def __init__(self, path: Path | None) -> None:
        self.path = path
        # (aliased, documents) by a text's digest; a document's secret scan by b"secrets\0" + digest
        self._stored: dict[bytes, Any] = {}
        self._used: dict[bytes, Any] = {}
        self._ahead: dict[bytes, tuple[bool, list[Any]]] = {}  # parsed ahead in this run (prefill)
        if path is None:
            return
        try:
            body = unseal(path.read_bytes())
            if body is not None and body.startswith(self._FORMAT + b"\n"):
                loaded = marshal.loads(body[len(self._FORMAT) + 1 :])
                if isinstance(loaded, dict):
                    self._stored = loaded
        except (OSError, ValueError, EOFError, TypeError):
            pass

    def get(self, chunk: str) -> tuple[bool, list[Any]] | None:
        key = hashlib.blake2b(chunk.encode("utf-8", "surrogatepass"), digest_size=20).digest()
        found = self._stored.get(key) or self._ahead.get(key)
        if found is not None:
            self._used[key] = found
        return found

    def put(self, chunk: str, aliased: bool, documents: list[Any], *, found_later: bool = False) -> None:
        """Keep a parse; `found_later`: also for get() in this run (documents parsed ahead)."""
        key = hashlib.blake2b(chunk.encode("utf-8", "surrogatepass"), digest_size=20).digest()
        self._used[key] = (aliased, documents)
        if found_later:
            self._ahead[key] = (aliased, documents)

    def secrets(self, data: Any, content: bytes | None = None) -> list[SecretFinding]:
        """scan(data) (before any allowlist), kept with the parses by the document's content
        (orjson's JSON of data: `content` when the caller has it)."""
        if content is None:
            try:
                content = orjson.dumps(data)
            except TypeError:
                return scan(data)
        key = b"secrets\0" + hashlib.blake2b(content, digest_size=20).digest()
        stored = self._stored.get(key)
        found = None
        if isinstance(stored, list):
            try:
                found = [SecretFinding(tuple(path), what, fp) for path, what, fp in stored]
            except (TypeError, ValueError):
                found = None
        if found is None:
            found = scan(data)
        self._used[key] = [(f.path, f.what, f.fingerprint) for f in found]
        return found

    def prefill(self, paths: Sequence[Path]) -> None:
        """Parse the documents of these files that are not in the cache yet, in forked workers when
        there are many (a first compile of a large spec): the ordinary reading that follows finds
        them here. Only what parses cleanly is kept; every file is still read, checked and reported
        by that reading, so errors and positions are unchanged."""
        chunks: list[tuple[int, str]] = []
        for path in paths:
            try:
                data = path.read_bytes()
                text = data.decode("utf-8") if size_problem(data) is None else ""
            except (OSError, UnicodeDecodeError):
                continue
            if text and not _NOT_SPLIT.search(text):
                chunks.extend(
                    (number, chunk)
                    for number, chunk in enumerate(_DOCUMENT_START.split(text))
                    if self.get(chunk) is None
                )
        if len(chunks) < _PARALLEL_PARSE:
            return  # forking costs more than it saves
        for (number, chunk), parsed in zip(chunks, map_in_order(_parse_chunk, chunks), strict=True):
            # Outside the first chunk, each holds exactly one document (it starts with `---`).
            count = len(parsed[1]) if parsed is not None else -1
            if parsed is not None and (count == 1 if number else count <= 1):
                self.put(chunk, *parsed, found_later=True)

    def save(self) -> None:
        """Keep the documents of this run (so the file never grows past one spec); a failure to
        store is not a failure."""
        stored = self._stored.keys() if self._read_keys is None else self._read_keys
        if self.path is None or self._used.keys() == stored:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            temporary.write_bytes(seal(self._FORMAT + b"\n" + marshal.dumps(self._used)))
            os.replace(temporary, self.path)
        except (OSError, ValueError):
            pass

    def share(self, other: ParseCache) -> None:
        """Also take the documents another cache holds (`diff`'s base reads those of the working
        tree: a document's parse depends on its text only, and most are the same on both sides).
        Parsed data is never changed by its readers (compiler/spec/build.py copies it), so both
        sides may hold the same objects; only documents this cache used are saved with it."""
        self._read_keys = frozenset(self._stored)
        self._stored = {**other._stored, **other._used, **self._stored}


# A document starts at a `---` line; no text inside a document may begin a line with `---`.
_DOCUMENT_START = re.compile(r"^(?=---(?:[ \t\r]|$))", re.MULTILINE)
# Directives (%YAML, %TAG) and document-end markers tie documents together: no split then.
_NOT_SPLIT = re.compile(r"^(?:%|\.\.\.)", re.MULTILINE)


_PARALLEL_PARSE = 64  # new documents from which parsing them in forked workers pays off


def _parse_chunk(item: tuple[int, str]) -> tuple[bool, list[Any]] | None:
    """(aliased, documents) of one document's text, None when it does not parse (in a worker)."""
    _CountingComposer.aliased = False
    try:
        parsed = list(_yaml("safe").load_all(item[1]))
    except (YAMLError, RecursionError, ValueError):
        return None
    return _CountingComposer.aliased, parsed


def _cached_parse(text: str, cache: ParseCache) -> tuple[bool, list[Any]] | None:
    """(aliased, documents) of text, documents reused from the cache; None when text must take the
    ordinary path (it does not split cleanly, or a new document does not parse)."""
    if _NOT_SPLIT.search(text):
        return None
    aliased = False
    documents: list[Any] = []
    for number, chunk in enumerate(_DOCUMENT_START.split(text)):
        found = cache.get(chunk)
        if found is None:
            _CountingComposer.aliased = False
            try:
                parsed = list(_yaml("safe").load_all(chunk))
            except (YAMLError, RecursionError, ValueError):
                return None
            found = (_CountingComposer.aliased, parsed)
            # Outside the first chunk, each holds exactly one document (it starts with `---`).
            if (number and len(parsed) != 1) or len(parsed) > 1:
                return None
            cache.put(chunk, *found)
        aliased = aliased or found[0]
        documents.extend(found[1])
    return aliased, documents


def load_file(
    path: Path, errors: list[SpecError], cache: ParseCache | None = None
) -> Iterator[SourceDocument]:
    shown = display_path(path)
    try:
        data = path.read_bytes()
        if (too_big := size_problem(data)) is not None:
            errors.append(SpecError(SourceLocation(shown, too_big[0], 1), too_big[1]))
            return
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        errors.append(SpecError(SourceLocation(shown, line, col), f"file is not UTF-8 text ({exc.reason})"))
        return
    except OSError as exc:  # unreadable (permissions), vanished since it was listed, an I/O error
        errors.append(SpecError(SourceLocation(shown, 0, 0), f"cannot read file: {exc.strerror or exc}"))
        return
    before = len(errors)
    documents = list(load_text(text, shown, errors, cache))
    if not documents and len(errors) == before:
        # An empty or comment-only file is most often a truncated one: silently dropping what it
        # held (a team and its namespaces, an overlay patch) is worse than asking.
        errors.append(
            SpecError(
                SourceLocation(shown, 1, 1),
                "file holds no YAML document (expected at least one document; delete the file if it is "
                "not needed)",
            )
        )
    yield from documents


def load_text(
    text: str, shown: str, errors: list[SpecError], cache: ParseCache | None = None
) -> Iterator[SourceDocument]:
    """The documents of one YAML text (a file, or a rendered template shown under its name)."""
    if (too_big := size_problem(text.encode("utf-8", "surrogatepass"))) is not None:
        errors.append(SpecError(SourceLocation(shown, too_big[0], 1), too_big[1]))
        return
    cached = _cached_parse(text, cache) if cache is not None else None
    if cached is not None:
        yield from _documents(text, shown, errors, *cached)
        return
    _CountingComposer.aliased = False
    try:
        documents = list(_yaml("safe").load_all(text))
    except MaxDepthExceededError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = f"nested deeper than {MAX_DEPTH} levels (expected flatter YAML)"
        errors.append(SpecError(SourceLocation(shown, line, col), f"YAML syntax error: {problem}"))
        return
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p) or "invalid YAML"
        if "'\\t'" in problem:
            problem += " (YAML indents with spaces, never tabs)"
        errors.append(SpecError(SourceLocation(shown, line, col), f"YAML syntax error: {problem}"))
        return
    except ReaderError as exc:  # a control character (NUL, ESC…) or a non-printable code point
        line, col = _position(text, exc.position)
        code = ord(exc.character) if isinstance(exc.character, str) else exc.character
        problem = f"character #x{code:04x} is not allowed in YAML (expected printable text)"
        errors.append(SpecError(SourceLocation(shown, line, col), problem))
        return
    except (YAMLError, RecursionError) as exc:
        errors.append(SpecError(SourceLocation(shown, 1, 1), f"YAML error: {exc}"))
        return
    yield from _documents(text, shown, errors, _CountingComposer.aliased, documents)


def _documents(
    text: str, shown: str, errors: list[SpecError], aliased: bool, documents: list[Any]
) -> Iterator[SourceDocument]:
    positions = functools.cache(functools.partial(_round_trip, text))
    for index, data in enumerate(documents):
        if data is None:  # an empty document, e.g. a trailing '---'
            continue
        doc = SourceDocument(shown, index, data, text, positions)
        if aliased and (bomb := alias_problem(data)) is not None:
            errors.append(SpecError(doc.start, bomb))
            continue
        doc = replace(doc, json=_plain_json(data))
        if doc.json is None and (odd := non_json_value(data)) is not None:
            path, what = odd
            errors.append(
                SpecError(
                    doc.location(path),
                    f"'{'.'.join(str(p) for p in path)}' is {what}, not plain data (expected a string, "
                    "number, "
                    "boolean, null, list or mapping: quote dates and drop tags such as !!binary, !!set)",
                )
            )
            continue
        yield doc


def load_documents(
    spec_dir: Path, errors: list[SpecError], cache: ParseCache | None = None
) -> list[SourceDocument]:
    docs: list[SourceDocument] = []
    paths = spec_files(spec_dir, errors)
    if cache is not None:
        cache.prefill(paths)
    for path in paths:
        docs.extend(load_file(path, errors, cache))
    return docs


def _plain_json(data: Any) -> bytes | None:
    """data as JSON when orjson can write it and the result holds no null; else None (then the
    walk of non_json_value decides, and finds where). orjson refuses non-string keys, dates, bytes
    and sets; it would write a non-finite float as null, which is why a null sends data the long way."""
    try:
        encoded = orjson.dumps(data, option=orjson.OPT_PASSTHROUGH_DATETIME)
    except TypeError:
        return None
    return None if b"null" in encoded else encoded


def to_plain(node: Any) -> Any:
    """CommentedMap/Seq → dict/list, so pydantic and components never see ruamel types."""
    if isinstance(node, dict):
        return {str(k): to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    # ruamel wraps scalars in subclasses (ScalarFloat, ScalarInt…); hand plain builtins on.
    for plain in (bool, int, float, str):
        if isinstance(node, plain):
            return plain(node)
    return node


def spec_parse_cache(cache_root: Path | None, spec_dir: Path, purpose: str = "") -> ParseCache | None:
    """The parse cache of one spec folder (by its absolute path and purpose: `diff` keeps its
    base's apart), or None without a cache."""
    if cache_root is None:
        return None
    where = hashlib.sha256(os.fsencode(spec_dir.absolute()) + purpose.encode()).hexdigest()[:32]
    return ParseCache(cache_root / "spec" / where)
