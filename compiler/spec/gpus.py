"""Facts about NVIDIA GPUs the spec relies on: MIG profiles per product and resource names.

MIG tables follow NVIDIA's MIG user guide: profile → instances per GPU.
"""

from __future__ import annotations

from compiler.spec.models import GPUFlavor, MigSharing, TimeSlicingSharing

_A100_40GB = {
    "1g.5gb": 7,
    "1g.5gb+me": 1,
    "1g.10gb": 4,
    "2g.10gb": 3,
    "3g.20gb": 2,
    "4g.20gb": 1,
    "7g.40gb": 1,
}
_A100_80GB = {
    "1g.10gb": 7,
    "1g.10gb+me": 1,
    "1g.20gb": 4,
    "2g.20gb": 3,
    "3g.40gb": 2,
    "4g.40gb": 1,
    "7g.80gb": 1,
}
_H100_94GB = {
    "1g.12gb": 7,
    "1g.12gb+me": 1,
    "1g.24gb": 4,
    "2g.24gb": 3,
    "3g.47gb": 2,
    "4g.47gb": 1,
    "7g.94gb": 1,
}
_H200_141GB = {
    "1g.18gb": 7,
    "1g.18gb+me": 1,
    "1g.35gb": 4,
    "2g.35gb": 3,
    "3g.71gb": 2,
    "4g.71gb": 1,
    "7g.141gb": 1,
}
_B200_180GB = {
    "1g.23gb": 7,
    "1g.23gb+me": 1,
    "1g.45gb": 4,
    "2g.45gb": 3,
    "3g.90gb": 2,
    "4g.90gb": 1,
    "7g.180gb": 1,
}

# (family, table), matched against the product label in order: first match wins.
_MIG_FAMILIES: tuple[tuple[str, tuple[str, ...], dict[str, int]], ...] = (
    ("A100 40GB", ("A100", "40GB"), _A100_40GB),
    ("A100 80GB", ("A100", "80GB"), _A100_80GB),
    ("H100 NVL", ("H100", "NVL"), _H100_94GB),
    ("H100 80GB", ("H100",), _A100_80GB),  # H100 80GB shares the A100 80GB profile set
    ("H200", ("H200",), _H200_141GB),
    ("B200", ("B200",), _B200_180GB),
)

MIG_CAPABLE_FAMILIES = tuple(family for family, _, _ in _MIG_FAMILIES)


def mig_profiles(product: str) -> tuple[str, dict[str, int]] | None:
    """(family, profile → instances per GPU) for a MIG-capable product, else None."""
    upper = product.upper()
    for family, needles, table in _MIG_FAMILIES:
        if all(n in upper for n in needles):
            return family, table
    return None


def mig_profile_known(flavor: GPUFlavor) -> bool:
    """False for a MIG flavor whose profile its product lacks (capacity is then unknown)."""
    sharing = flavor.spec.sharing
    if not isinstance(sharing, MigSharing):
        return True
    found = mig_profiles(flavor.spec.product)
    return found is not None and sharing.migProfile in found[1]


def units_per_gpu(flavor: GPUFlavor) -> int:
    """How many schedulable units one physical GPU of this flavor advertises."""
    sharing = flavor.spec.sharing
    if isinstance(sharing, MigSharing):
        found = mig_profiles(flavor.spec.product)
        return found[1].get(sharing.migProfile, 1) if found else 1
    if isinstance(sharing, TimeSlicingSharing):
        return sharing.replicas
    return 1


def resource_name(flavor: GPUFlavor) -> str:
    """Extended resource a pod requests for this flavor under the device plugin (MIG strategy mixed)."""
    sharing = flavor.spec.sharing
    if isinstance(sharing, MigSharing):
        return f"nvidia.com/mig-{sharing.migProfile}"
    return "nvidia.com/gpu"
