"""Kubernetes resource quantities: the subset a platform spec uses (plain, decimal and binary SI)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

QUANTITY_PATTERN = r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$"
_QUANTITY = re.compile(QUANTITY_PATTERN)

_SUFFIX = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}


def is_quantity(text: str) -> bool:
    return bool(_QUANTITY.match(text))


def parse_quantity(text: str) -> Decimal:
    """'2Ti' → 2199023255552; raises ValueError on anything else."""
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    suffix = match.group(2) or ""
    try:
        number = Decimal(text[: len(text) - len(suffix)])
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise ValueError(f"not a Kubernetes quantity: {text!r}") from exc
    return number * _SUFFIX[suffix]


# The full apimachinery grammar (k8s.io/apimachinery/pkg/api/resource/quantity.go):
# a signed decimal with a binary-SI, decimal-SI or decimal-exponent suffix. CEL's
# quantity() library accepts everything the API server stores.
_FULL_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$"
)


def parse_kubernetes_quantity(text: str) -> Decimal:
    """Any quantity the API server accepts ('-1.5e3', '.5Gi', '+2'); ValueError otherwise."""
    match = _FULL_QUANTITY.match(text)
    if not match:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    number = Decimal(match.group("number"))
    suffix = match.group("suffix") or ""
    if suffix[:1] in ("e", "E"):
        return number * Decimal(10) ** int(suffix[1:])
    return number * _SUFFIX[suffix]
