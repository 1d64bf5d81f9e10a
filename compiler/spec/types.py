"""Reusable checked string types for spec fields, with the Kubernetes rules they must follow.

Each raises ValueError("expected …"), which spec/build.py reports at the field's line. Regexes are
upstream's: k8s.io/apimachinery/pkg/util/validation/validation.go (qualifiedNameFmt,
labelValueFmt, dns1123SubdomainFmt, IsQualifiedName, IsValidLabelValue, IsDNS1123Subdomain).
"""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_REPO_PATH_PART = re.compile(r"^[A-Za-z0-9_][-A-Za-z0-9_.]*$")
_GIT_REF = re.compile(r"^[A-Za-z0-9_][-A-Za-z0-9_./]*$")
_CHART_VERSION = re.compile(r"^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
_GROUP = re.compile(r"^[^\s:][^\x00-\x1f\x7f]*$")


def _subdomain(value: str) -> str:
    if len(value) > 253 or not _SUBDOMAIN.match(value) or any(len(p) > 63 for p in value.split(".")):
        raise ValueError(
            "expected a DNS-1123 subdomain: dot-separated labels of lowercase letters, digits and '-', "
            "each at most 63 characters, 253 in all"
        )
    return value


def _qualified_name(value: str) -> str:
    """A label, annotation or taint key: [prefix/]name (IsQualifiedName)."""
    prefix, slash, name = value.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _SUBDOMAIN.match(prefix)):
        raise ValueError(
            "expected a key [prefix/]name whose prefix is a DNS-1123 subdomain, e.g. acme.com/tier"
        )
    if not name or len(name) > 63 or not _QUALIFIED_NAME.match(name):
        raise ValueError(
            "expected a key [prefix/]name whose name is at most 63 letters, digits, '-', '_' or '.', "
            "starting and ending alphanumeric"
        )
    return value


def _label_value(value: str) -> str:
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        raise ValueError(
            "expected a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending "
            "alphanumeric"
        )
    return value


def _cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError("expected a CIDR such as 10.0.0.0/8 or 2001:db8::/32") from None
    if "/" not in value:
        raise ValueError("expected a CIDR with a prefix length, such as 10.1.2.3/32") from None
    return value


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("expected no control characters (newline, tab, NUL …)")
    return value


def _url(schemes: tuple[str, ...]) -> AfterValidator:
    def check(value: str) -> str:
        _no_control(value)
        try:
            parts = urlsplit(value)
            host = parts.hostname
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            host = None
        if parts.scheme not in schemes or not host or " " in value:
            raise ValueError(f"expected a URL {' or '.join(s + '://host/…' for s in schemes)}")
        return value

    return AfterValidator(check)


def _repo_path(value: str) -> str:
    parts = value.split("/")
    if value.startswith("/") or not all(_REPO_PATH_PART.match(p) and p not in (".", "..") for p in parts):
        raise ValueError(
            "expected a relative path inside the repository, such as generated or deploy/generated "
            "(no leading '/', no '.' or '..', no empty part)"
        )
    return value


def _git_revision(value: str) -> str:
    if len(value) > 255 or not _GIT_REF.match(value) or ".." in value or value.endswith((".", "/", ".lock")):
        raise ValueError("expected a branch, tag or commit such as main, v1.2.0 or release/2026-01")
    return value


def _chart_version(value: str) -> str:
    if len(value) > 64 or not _CHART_VERSION.match(value):
        raise ValueError("expected a pinned semantic version such as v26.7.0 or 0.19.2")
    return value


def _group(value: str) -> str:
    if not value or len(value) > 256 or value != value.strip() or not _GROUP.match(value):
        raise ValueError(
            "expected a group or user name: not empty, no surrounding spaces or control characters, "
            "not starting with ':', at most 256 characters"
        )
    return value


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


Subdomain = Annotated[str, AfterValidator(_subdomain)]
DnsLabelName = Annotated[str, Field(pattern=_DNS_LABEL.pattern, max_length=63)]
QualifiedName = Annotated[str, AfterValidator(_qualified_name)]
LabelValue = Annotated[str, AfterValidator(_label_value)]
Cidr = Annotated[str, AfterValidator(_cidr)]
GitURL = Annotated[str, _url(("https", "http", "ssh"))]
HttpsURL = Annotated[str, _url(("https", "http"))]
RepoPath = Annotated[str, AfterValidator(_repo_path)]
GitRevision = Annotated[str, AfterValidator(_git_revision)]
ChartVersion = Annotated[str, AfterValidator(_chart_version)]
GroupName = Annotated[str, AfterValidator(_group)]
PlainText = Annotated[str, AfterValidator(_no_control)]
FiniteCost = Annotated[float, Field(ge=0, le=1_000_000), AfterValidator(_finite)]
Labels = dict[QualifiedName, LabelValue]
