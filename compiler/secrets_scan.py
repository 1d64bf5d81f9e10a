"""Secret detection on everything platformc writes, and redaction of what it prints.

What compile writes is committed to Git and shown in PR comments, so a credential in the spec,
an overlay or a template is an error at its source line. Detectors:

- credentials in URLs (a password, or a bare token as the user, in `scheme://user:pass@host`);
- known token formats: Yelp's detect-secrets regex detectors (AWS, GitHub, GitLab, Slack,
  Stripe, OpenAI, private keys, JWTs, …), without its keyword and IP heuristics, which flag
  ordinary configuration;
- high-entropy strings (detect-secrets' Shannon entropy, its default limits) in label and
  annotation values, where nothing random belongs.

A finding that is not a secret is allowed by its fingerprint in the Platform document
(spec.secretScan.allow). Messages never contain the value: `redact` masks secrets in any text
platformc prints (errors, diff markdown, commit messages).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
import pkgutil
import re
import sys
import types
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

PathKey = tuple[str | int, ...]

MIN_LENGTH = 8  # shorter strings are names, flags and numbers
ENTROPY_MIN_LENGTH = 20
BASE64_ENTROPY_LIMIT = 4.5  # detect-secrets' defaults (Base64HighEntropyString, HexHighEntropyString)
HEX_ENTROPY_LIMIT = 3.0
# Keyword-context detectors (a name like "password" or "cl_key" near a value) flag ordinary
# configuration and cost most of the scan time; token formats and URLs are what we look for.
_EXCLUDED_DETECTORS = {
    "KeywordDetector",
    "IPPublicDetector",
    "CloudantDetector",
    "IbmCloudIamDetector",
    "IbmCosHmacDetector",
    "SoftlayerDetector",
}
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")
_TOKEN_SPLIT = re.compile(r"[\s,;\"'()\[\]{}]+")


# The modules of the excluded detectors are not even imported (two evaluate `requests.Response`
# at import, which would load the HTTP client, see _defer_http_client).
_EXCLUDED_MODULES = {"keyword", "ip_public", "cloudant", "ibm_cloud_iam", "ibm_cos_hmac", "softlayer"}


class _Deferred(types.ModuleType):
    """Stands in for a module until something reads from it; the module is imported then."""

    def __getattr__(self, name: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), name)


def _defer_http_client() -> None:
    """detect-secrets imports `requests` at module level for one feature: verifying a found secret
    against the live service. platformc never verifies (a compile makes no network call), so the
    HTTP client (60 ms of imports, paid on every compile that scans a changed spec document) is
    only imported if something actually uses it."""
    if "requests" not in sys.modules:
        sys.modules["requests"] = _Deferred("requests")


@functools.cache
def _detectors() -> tuple[Any, ...]:
    """detect-secrets' regex detectors (every module of its plugins package), but the excluded."""
    _defer_http_client()
    import detect_secrets.plugins as plugins
    from detect_secrets.plugins.base import RegexBasedDetector

    classes = {
        cls
        for info in pkgutil.iter_modules(plugins.__path__)
        if info.name not in _EXCLUDED_MODULES
        for cls in vars(importlib.import_module(f"{plugins.__name__}.{info.name}")).values()
        if isinstance(cls, type) and issubclass(cls, RegexBasedDetector) and not inspect.isabstract(cls)
    }
    return tuple(
        cls()
        for cls in sorted(classes, key=lambda c: c.__name__)
        if cls is not RegexBasedDetector and cls.__name__ not in _EXCLUDED_DETECTORS
    )


@functools.cache
def _entropy_plugins() -> tuple[Any, Any]:
    _defer_http_client()
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString, HexHighEntropyString

    return Base64HighEntropyString(limit=BASE64_ENTROPY_LIMIT), HexHighEntropyString(limit=HEX_ENTROPY_LIMIT)


def _token_like(user: str | None) -> bool:
    return user is not None and (len(user) >= 20 or any(c.isdigit() for c in user))


def _url_credentials(value: str) -> Iterator[tuple[str, str]]:
    """(what, secret) for each URL in value that carries userinfo beyond a plain user name."""
    for match in _URL.finditer(value):
        try:
            parts = urlsplit(match.group(0))
        except ValueError:
            continue
        if parts.password:
            yield "password in a URL", parts.password
        elif parts.scheme in ("http", "https") and _token_like(parts.username):
            # https://<token>@github.com/org/repo: the token is the whole credential
            yield "token as the user of a URL", parts.username or ""


def _high_entropy(value: str) -> Iterator[tuple[str, str]]:
    base64, hexa = _entropy_plugins()
    for token in _TOKEN_SPLIT.split(value):
        if len(token) < ENTROPY_MIN_LENGTH:
            continue
        if re.fullmatch(r"[0-9a-fA-F]+", token):
            if hexa.calculate_shannon_entropy(token) > HEX_ENTROPY_LIMIT:
                yield "high-entropy hex string", token
        elif base64.calculate_shannon_entropy(token) > BASE64_ENTROPY_LIMIT:
            yield "high-entropy string", token


@functools.lru_cache(maxsize=65536)
def scan_value(value: str, entropy: bool = False) -> tuple[tuple[str, str], ...]:
    """(what, secret) pairs found in one string; the secret is the part to mask."""
    if len(value) < MIN_LENGTH:
        return ()
    found: list[tuple[str, str]] = list(_url_credentials(value)) if "://" in value else []
    for detector in _detectors():
        for match in detector.analyze_string(value):
            secret = _whole_token(value, match)
            if not any(secret in s or s in secret for _, s in found):
                found.append((detector.secret_type, secret))
    if entropy and not found:
        found.extend(_high_entropy(value))
    return tuple(found)


def _whole_token(value: str, match: str) -> str:
    """detect-secrets returns a regex group (GitHub: 'ghp'); mask the whole token around it."""
    start = value.find(match)
    if start < 0:
        return match
    end = start + len(match)
    while start > 0 and not _TOKEN_SPLIT.match(value[start - 1]) and value[start - 1] not in "@:/=":
        start -= 1
    while end < len(value) and not _TOKEN_SPLIT.match(value[end]) and value[end] not in "@:/":
        end += 1
    return value[start:end]


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:12]


@dataclass(frozen=True)
class SecretFinding:
    path: PathKey
    what: str
    fingerprint: str

    def message(self, field: str) -> str:
        return (
            f"{field} looks like a credential ({self.what}, fingerprint {self.fingerprint}) (expected no "
            "secret in Git: keep it in a Secret created outside Git and reference it, e.g. env valueFrom "
            "secretKeyRef, a storage credential Secret or an ExternalSecret; if it is not a secret, list "
            f"'{{fingerprint: {self.fingerprint}, reason: ...}}' under spec.secretScan.allow of the Platform)"
        )


# Helm charts roll pods on config changes with `checksum/...: {{ ... | sha256sum }}` annotations
# (kube-prometheus-stack grafana, node-feature-discovery, kueue's config-checksum): a sha256 digest
# of rendered config, random-looking by design. Only that exact shape under a checksum key is exempt.
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def _entropy_applies(path: PathKey, value: str) -> bool:
    if len(path) < 2 or path[-2] not in ("labels", "annotations"):
        return False
    is_checksum = path[-2] == "annotations" and "checksum" in str(path[-1]).lower()
    return not (is_checksum and _SHA256_HEX.match(value))


def _strings(data: Any, path: PathKey = ()) -> Iterator[tuple[PathKey, str]]:
    stack: list[tuple[PathKey, Any]] = [(path, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            yield where, value
        elif isinstance(value, dict):
            stack.extend(((*where, str(k)), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend(((*where, i), v) for i, v in enumerate(value))


def scan(data: Any, allowed: Iterable[str] = ()) -> list[SecretFinding]:
    """Every secret-looking string in plain data, minus allowed fingerprints, in path order."""
    allow = set(allowed)
    findings = []
    for path, value in _strings(data):
        for what, secret in scan_value(value, _entropy_applies(path, value)):
            fp = fingerprint(secret)
            if fp not in allow:
                findings.append(SecretFinding(path, what, fp))
    return sorted(findings, key=lambda f: tuple(str(p) for p in f.path))


def show_path(path: PathKey) -> str:
    return ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path).replace(".[", "[")


def redact(text: str) -> str:
    """text with every detected secret masked (printing an error must not leak the value)."""
    if len(text) < MIN_LENGTH:
        return text
    for _, secret in scan_value(text):
        text = text.replace(secret, "***")
    return text
