"""The spec stage's entry: source documents → typed documents (pydantic errors translated to
file:line messages) → the PlatformModel, checked."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from compiler.errors import SourceLocation, SpecError, SpecErrors
from compiler.registry_facts import RegistryFacts
from compiler.registry_table import TABLE
from compiler.secrets_scan import scan, show_path
from compiler.spec.checks import check_platform
from compiler.spec.loader import ParseCache, SourceDocument, load_documents, load_text
from compiler.spec.model import PlatformModel
from compiler.spec.models import (
    API_VERSION,
    CIDR_PATTERN,
    DNS_LABEL_PATTERN,
    DOCUMENT_KINDS,
    HOST_PATTERN,
    K8S_VERSION_PATTERN,
    LABEL_VALUE_PATTERN,
    STORAGE_URI_PATTERN,
    STORE_URI_PATTERN,
    Document,
    Platform,
)
from compiler.spec.quantity import QUANTITY_PATTERN

__all__ = ["PlatformModel", "explain", "load_platform", "load_platform_texts"]


# Human words for what a pattern-checked string should look like.
_PATTERN_WORDS = {
    DNS_LABEL_PATTERN: "a DNS-1123 label: lowercase letters, digits and '-', starting and ending "
    "alphanumeric",
    QUANTITY_PATTERN: "a Kubernetes quantity such as 64, 500m, 256Gi or 2Ti",
    CIDR_PATTERN: "an IPv4 CIDR such as 10.20.0.0/16",
    HOST_PATTERN: "a lowercase DNS name such as minio.storage.example.com",
    STORE_URI_PATTERN: "a URI prefix starting s3://, gs://, hf://, https:// or http://",
    STORAGE_URI_PATTERN: "a URI starting s3://, gs://, pvc://, hf://, https://, http:// or oci://",
    K8S_VERSION_PATTERN: 'a Kubernetes minor version as a quoted string, such as "1.34"',
    LABEL_VALUE_PATTERN: "a Kubernetes label value: letters, digits, '-', '_' or '.', starting and "
    "ending alphanumeric",
}

_TYPE_WORDS = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def _unwrap(annotation: Any) -> Any:
    """The model class inside Optional[...], list[...], dict[..., X] and Annotated[...]."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (list, tuple, dict, typing.Union, types.UnionType):
        for arg in reversed(typing.get_args(annotation)):
            inner = _unwrap(arg)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return annotation


def _model_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """Walk field annotations along an error location to the model that holds its last part."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        fields = current.model_fields
        if part not in fields:
            # A discriminated-union tag (e.g. 'mig'): pick the member with that tag.
            members = [m for m in _union_members(current) if _tag(m) == part]
            if members:
                current = members[0]
            continue
        current = _unwrap(fields[part].annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _union_members(model: type[BaseModel]) -> list[type[BaseModel]]:
    members: list[type[BaseModel]] = []
    for info in model.model_fields.values():
        annotation = info.annotation
        for arg in typing.get_args(annotation) or ():
            inner = _unwrap(arg)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                members.append(inner)
    return members


def _tag(model: type[BaseModel]) -> str | None:
    mode = model.model_fields.get("mode")
    if mode is None:
        return None
    args = typing.get_args(mode.annotation)
    return args[0] if args else None


def _data_path(doc: SourceDocument, loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Drop location parts pydantic adds that are not in the YAML (union tags, validator names)."""
    node = doc.data
    path: list[str | int] = []
    for part in loc:
        index = part if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node) else None
        if index is not None or (isinstance(node, dict) and part in node):
            node = node[part if index is None else index]
            path.append(part)
        elif isinstance(node, dict | list):
            continue
        else:
            path.append(part)
            break
    return tuple(path)


def _field_name(loc: tuple[str | int, ...]) -> str:
    """('spec', 'nodePools', 0, 'nodes') → 'spec.nodePools[0].nodes'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "document"


def explain(error: ErrorDetails, model: type[BaseModel], doc: SourceDocument) -> SpecError:
    """One pydantic error → 'what is wrong (expected …)' at the right file position."""
    loc = tuple(error["loc"])
    path = _data_path(doc, loc)
    kind = error["type"]
    value = error.get("input")
    name = _field_name(path)
    ctx = error.get("ctx") or {}
    if kind == "missing":
        holder = _model_at(model, loc[:-1])
        parent = _field_name(path)
        full = f"{parent}.{loc[-1]}" if path else str(loc[-1])
        required = [n for n, f in holder.model_fields.items() if f.is_required()] if holder else []
        expected = (
            f" (expected '{parent or 'the document'}' to have: {', '.join(required)})" if required else ""
        )
        return SpecError(doc.location(path), f"missing required field '{full}'{expected}")
    if kind == "extra_forbidden":
        holder = _model_at(model, loc[:-1])
        allowed = sorted(holder.model_fields) if holder else []
        guess = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"; did you mean '{guess[0]}'?" if guess else ""
        message = f"unknown field '{name}' (expected one of: {', '.join(allowed)}){hint}"
        return SpecError(doc.location(path, key=True), message)
    if kind == "literal_error":
        message = f"invalid value {value!r} for '{name}' (expected {ctx.get('expected', 'a listed value')})"
    elif kind == "union_tag_invalid":
        message = f"invalid value {ctx.get('tag')!r} for '{name}.mode' (expected {ctx.get('expected_tags')})"
        return SpecError(doc.location((*path, "mode")), message)
    elif kind == "union_tag_not_found":
        message = f"missing required field '{name}.mode' (expected {ctx.get('expected_tags', 'a mode')})"
    elif kind == "string_pattern_mismatch":
        words = _PATTERN_WORDS.get(ctx.get("pattern", ""), f"a string matching {ctx.get('pattern')}")
        message = f"invalid value {value!r} for '{name}' (expected {words})"
    elif kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
        # YAML reads 1.30 as the number 1.3: the classic version-field mistake.
        written = doc.source_token(doc.location(path)) or str(value)
        message = (
            f"wrong type for '{name}': got the number {written} (expected a string; quote it: \"{written}\")"
        )
    elif kind == "value_error":  # compiler/spec/types.py: the error says what was expected
        reason = str(ctx.get("error") or error["msg"])
        message = f"invalid value {_show(value)} for '{name}' ({reason})"
    elif kind in _TYPE_WORDS:
        message = f"wrong type for '{name}': got {_show(value)} (expected {_TYPE_WORDS[kind]})"
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[
            kind
        ]
        limit = next(iter(ctx.values()), "")
        message = f"invalid value {value!r} for '{name}' (expected a number {bound} {limit})"
    elif kind in ("too_short", "string_too_short"):
        message = f"'{name}' is empty (expected at least {ctx.get('min_length', 1)} item(s))"
    elif kind == "string_too_long":
        message = (
            f"'{name}' is too long: {len(str(value))} characters (expected at most {ctx.get('max_length')})"
        )
    elif kind == "too_long":
        message = f"'{name}' is too long (expected at most {ctx.get('max_length')} item(s))"
    else:
        message = f"invalid value for '{name}': {error['msg']}"
    return SpecError(doc.location(path), message)


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return repr(value)


def _header_errors(doc: SourceDocument) -> tuple[type[Document] | None, list[SpecError]]:
    data = doc.data
    if not isinstance(data, dict):
        return None, [
            SpecError(
                doc.start,
                f"document is {_show(data)} (expected a mapping with apiVersion, kind, metadata and spec)",
            )
        ]
    errors: list[SpecError] = []
    api_version = data.get("apiVersion")
    if api_version != API_VERSION:
        where = doc.location(("apiVersion",)) if "apiVersion" in data else doc.start
        got = "no apiVersion" if api_version is None else f"apiVersion {api_version!r}"
        errors.append(SpecError(where, f"{got} (expected apiVersion: {API_VERSION})"))
    kind = data.get("kind")
    model = DOCUMENT_KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        where = doc.location(("kind",)) if "kind" in data else doc.start
        got = "no kind" if kind is None else f"unknown kind {kind!r}"
        errors.append(SpecError(where, f"{got} (expected one of: {', '.join(DOCUMENT_KINDS)})"))
    return model, errors


def parse_documents(
    docs: list[SourceDocument],
) -> tuple[list[tuple[Document, SourceDocument]], list[SpecError]]:
    typed: list[tuple[Document, SourceDocument]] = []
    errors: list[SpecError] = []
    for doc in docs:
        model, header = _header_errors(doc)
        if header:
            errors.extend(header)
            continue
        assert model is not None
        try:
            typed.append((model.model_validate(doc.plain_copy()), doc))
        except ValidationError as exc:
            errors.extend(explain(e, model, doc) for e in exc.errors(include_url=False))
    return typed, errors


def assemble(
    typed: list[tuple[Document, SourceDocument]], spec_dir: Path, platform_seen: bool = False
) -> tuple[PlatformModel | None, list[SpecError]]:
    """Group documents by kind, reject duplicates, require exactly one Platform."""
    errors: list[SpecError] = []
    by_kind: dict[str, dict[str, Document]] = {k: {} for k in DOCUMENT_KINDS}
    sources: dict[tuple[str, str], SourceDocument] = {}
    for document, doc in sorted(typed, key=lambda t: (t[1].file, t[1].index)):
        kind, name = document.kind, document.metadata.name  # type: ignore[attr-defined]
        if (kind, name) in sources:
            original = sources[(kind, name)]
            errors.append(
                SpecError(
                    doc.location(("metadata", "name")),
                    f"duplicate {kind} name '{name}' (first defined at "
                    f"{original.location(('metadata', 'name'))};"
                    " expected names unique per kind)",
                )
            )
            continue
        sources[(kind, name)] = doc
        by_kind[kind][name] = document
    platforms = by_kind["Platform"]
    if len(platforms) > 1:
        first, *others = sorted(
            platforms, key=lambda n: (sources[("Platform", n)].file, sources[("Platform", n)].index)
        )
        for other in others:
            errors.append(
                SpecError(
                    sources[("Platform", other)].start,
                    f"second Platform document '{other}' (expected exactly one Platform; the first is "
                    f"'{first}' at {sources[('Platform', first)].start})",
                )
            )
    if errors:
        return None, errors
    if not platforms:
        if platform_seen:
            return None, []  # a Platform document exists but did not parse: that error is reported already
        where = SourceLocation(str(spec_dir), 0, 0)
        return None, [
            SpecError(
                where, "no Platform document in the spec (expected exactly one document of kind: Platform)"
            )
        ]

    def ordered(kind: str) -> dict[str, Any]:
        return dict(sorted(by_kind[kind].items()))

    model = PlatformModel(
        platform=next(iter(platforms.values())),  # type: ignore[arg-type]
        flavors=ordered("GPUFlavor"),
        clusters=ordered("Cluster"),
        teams=ordered("Team"),
        serving_paths=ordered("ServingPath"),
        sources=sources,
    )
    return model, []


def allowed_secrets(platform: Platform | None) -> frozenset[str]:
    return frozenset(a.fingerprint for a in platform.spec.secretScan.allow) if platform else frozenset()


def secret_errors(
    docs: Iterable[SourceDocument], allowed: frozenset[str], cache: ParseCache | None = None
) -> list[SpecError]:
    """Credentials and tokens in source documents, each at its line (see compiler/secrets_scan.py).
    A parse cache keeps each document's scan with its parse."""
    return [
        SpecError(doc.location(found.path), found.message(show_path(found.path)))
        for doc in docs
        for found in (cache.secrets(doc.data, doc.json) if cache is not None else scan(doc.data))
        if found.fingerprint not in allowed
    ]


def load_platform(
    spec_dir: Path, facts: RegistryFacts = TABLE, parse_cache: ParseCache | None = None
) -> PlatformModel:
    """Read, type and check the whole spec; raise SpecErrors with every problem found. A parse
    cache (compiler/spec/loader.py) spares parsing documents read before."""
    shown = str(spec_dir)
    if not spec_dir.is_dir():
        raise SpecErrors(
            [
                SpecError(
                    SourceLocation(shown, 0, 0),
                    "spec folder does not exist (expected a folder of *.yaml files)",
                )
            ]
        )
    errors: list[SpecError] = []
    docs = load_documents(spec_dir, errors, parse_cache)
    if not docs and not errors:
        raise SpecErrors(
            [
                SpecError(
                    SourceLocation(shown, 0, 0),
                    "spec folder holds no YAML documents (expected *.yaml files with a Platform and "
                    "its Clusters, Teams …)",
                )
            ]
        )
    return _checked_model(docs, errors, spec_dir, facts, parse_cache)


def load_platform_texts(
    texts: Mapping[str, str], facts: RegistryFacts = TABLE, folder: str = "platform-spec"
) -> PlatformModel:
    """The spec from YAML texts keyed by file name, as if they were files of `folder`: read, typed
    and checked like load_platform, entirely in memory. Raises SpecErrors."""
    errors: list[SpecError] = []
    docs: list[SourceDocument] = []
    for name in sorted(texts):
        docs.extend(load_text(texts[name], f"{folder}/{name}", errors))
    return _checked_model(docs, errors, Path(folder), facts)


def _checked_model(
    docs: list[SourceDocument],
    errors: list[SpecError],
    spec_dir: Path,
    facts: RegistryFacts,
    parse_cache: ParseCache | None = None,
) -> PlatformModel:
    # A file that is not YAML may hold the Platform: then its absence is no news.
    unreadable_files = bool(errors)
    typed, parse_errors = parse_documents(docs)
    errors.extend(parse_errors)
    platform_seen = unreadable_files or any(
        isinstance(d.data, dict) and d.data.get("kind") == "Platform" for d in docs
    )
    model, assemble_errors = assemble(typed, spec_dir, platform_seen)
    errors.extend(assemble_errors)
    secrets = secret_errors(docs, allowed_secrets(model.platform if model else None), parse_cache)
    # Semantic checks on a partly parsed spec would only report echoes of the parse errors.
    if model is not None and not errors:
        errors.extend(check_platform(model, facts))
        errors.extend(secrets)
        if errors:
            raise SpecErrors(errors, partial_model=model)
    errors.extend(secrets)
    if errors:
        raise SpecErrors(errors)
    assert model is not None
    return model
