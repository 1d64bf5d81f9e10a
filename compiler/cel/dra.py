"""DRA device selectors: DeviceClass and ResourceClaim CEL expressions against a device.

The scheduler binds one variable, `device` (k8s.io/dynamic-resource-allocation/cel/compile.go):
`device.driver`, `device.attributes[domain][name]` and `device.capacity[domain][name]`
(a Quantity). A ResourceSlice attribute or capacity name without a domain belongs to the
driver's domain, so `productName` published by gpu.nvidia.com reads as
`device.attributes["gpu.nvidia.com"].productName`. An unknown domain is an empty map.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from celpy import celtypes

from .checker import check_expression
from .engine import compile_expression, evaluate
from .library import Quantity
from .types import BOOL, DYN, QUANTITY, STRING, MapType, ObjectType, declared_object

__all__ = ["DEVICE_TYPE", "check_selector", "device_class_matches", "selector_matches"]

DEVICE_TYPE: ObjectType = declared_object(
    "device",
    {
        "driver": STRING,
        "attributes": MapType(STRING, MapType(STRING, DYN)),
        "capacity": MapType(STRING, MapType(STRING, QUANTITY)),
        "allowMultipleAllocations": BOOL,
    },
)


class _Domains(celtypes.MapType):
    """attributes/capacity by domain; a domain the device does not publish is an empty map."""

    def __getitem__(self, key: Any) -> Any:
        if key in self.keys():
            return super().__getitem__(key)
        return celtypes.MapType()


def _qualified(name: str, driver: str) -> tuple[str, str]:
    domain, sep, short = name.rpartition("/")
    return (domain, short) if sep else (driver, name)


def _attribute_value(value: Mapping[str, Any]) -> Any:
    if "string" in value:
        return celtypes.StringType(value["string"])
    if "int" in value:
        return celtypes.IntType(value["int"])
    if "bool" in value:
        return celtypes.BoolType(value["bool"])
    if "version" in value:
        return celtypes.StringType(value["version"])
    raise ValueError(f"device attribute has no string, int, bool or version value: {dict(value)}")


def device_variable(driver: str, device: Mapping[str, Any]) -> celtypes.MapType:
    """The `device` CEL value for one ResourceSlice device (v1 shape, or v1beta1 `basic`)."""
    body = device.get("basic", device)
    attributes: dict[str, dict[str, Any]] = {}
    for name, value in (body.get("attributes") or {}).items():
        domain, short = _qualified(name, driver)
        attributes.setdefault(domain, {})[short] = _attribute_value(value)
    capacity: dict[str, dict[str, Any]] = {}
    for name, value in (body.get("capacity") or {}).items():
        domain, short = _qualified(name, driver)
        capacity.setdefault(domain, {})[short] = Quantity(str(value["value"]))

    def cel_map(by_domain: dict[str, dict[str, Any]]) -> _Domains:
        return _Domains(
            {
                celtypes.StringType(d): celtypes.MapType(
                    {celtypes.StringType(k): v for k, v in values.items()}
                )
                for d, values in by_domain.items()
            }
        )

    return celtypes.MapType(
        {
            celtypes.StringType("driver"): celtypes.StringType(driver),
            celtypes.StringType("attributes"): cel_map(attributes),
            celtypes.StringType("capacity"): cel_map(capacity),
            celtypes.StringType("allowMultipleAllocations"): celtypes.BoolType(
                bool(body.get("allowMultipleAllocations", False))
            ),
        }
    )


def check_selector(expression: str) -> None:
    """Raise TypeCheckError unless `expression` is a bool over `device` alone."""
    check_expression(expression, {"device": DEVICE_TYPE}, BOOL)


def selector_matches(expression: str, driver: str, device: Mapping[str, Any]) -> bool:
    """One `cel.expression` selector; CelError when it fails at run time (allocation fails)."""
    result = evaluate(compile_expression(expression), {"device": device_variable(driver, device)})
    if not isinstance(result, bool):
        raise TypeError(f"selector {expression!r} returned {result!r}, not a bool")
    return result


def device_class_matches(device_class: Mapping[str, Any], driver: str, device: Mapping[str, Any]) -> bool:
    """All of a DeviceClass's CEL selectors hold for the device (resource.k8s.io/v1 spec.selectors)."""
    return all(
        selector_matches(selector["cel"]["expression"], driver, device)
        for selector in (device_class.get("spec") or {}).get("selectors") or []
        if "cel" in selector
    )
