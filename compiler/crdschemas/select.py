"""Which CRD schemas a run uses: --schemas folders, then the pull cache, then the embedded bundle.

A component whose pin the spec overrides does not use its embedded schemas (they are for
another release): they must be in the pull cache, `pinned/<component>/<version>/`, or the
pin is refused at its spec line. Custom components add the CRD folders they declare and
what `schemas pull` fetched for them (`components/<name>/`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from compiler.crdschemas.embedded import EmbeddedSchemas, embedded_versions
from compiler.crdschemas.sources import by_spec_pin
from compiler.errors import SpecError
from compiler.spec.build import PlatformModel

CACHE_ROOT = Path(".platformc-cache")
CATALOG_CACHE = CACHE_ROOT / "schemas"  # catalog layout: the datree fallback of `schemas pull`


def pinned_dir(cache_root: Path, component: str, version: str) -> Path:
    return cache_root / "pinned" / component / version


def component_dir(cache_root: Path, name: str) -> Path:
    return cache_root / "components" / name


def overridden_pins(model: PlatformModel | None) -> dict[str, str]:
    """spec key → version, for every pin that differs from the embedded release."""
    if model is None:
        return {}
    embedded = embedded_versions()
    pins = model.platform.spec.components.model_dump()
    pinned = by_spec_pin()
    return {k: v for k, v in pins.items() if k in pinned and k in embedded and v != embedded[k]}


def check_pins(model: PlatformModel, cache_root: Path = CACHE_ROOT) -> Iterator[SpecError]:
    """A pin whose schemas are neither embedded nor pulled cannot be validated: refuse it."""
    embedded = embedded_versions()
    for key, version in sorted(overridden_pins(model).items()):
        folder = pinned_dir(cache_root, key, version)
        if not (folder / ".complete").is_file():
            where = model.locate("Platform", model.platform.metadata.name, ("spec", "components", key))
            yield SpecError(
                where,
                f"components.{key}: {version!r} is not a release platformc knows: its CRD schemas are "
                f"neither embedded (embedded: {embedded[key]}) nor in {folder} (run `platformc schemas "
                f"pull` to fetch them from the release tag, or pin {embedded[key]})",
            )


def schema_sources(
    schema_dirs: Sequence[Path],
    model: PlatformModel | None = None,
    custom_crd_dirs: Sequence[Path] = (),
    cache_root: Path = CACHE_ROOT,
    pins: Mapping[str, str] | None = None,
) -> tuple[list[Path], list[EmbeddedSchemas]]:
    """(folders in lookup order, fallbacks): what SchemaRegistry takes. `pins` stands for
    overridden_pins(model) when the caller already knows them."""
    overrides = dict(pins) if pins is not None else overridden_pins(model)
    dirs = list(schema_dirs)
    dirs += [p for key, v in sorted(overrides.items()) if (p := pinned_dir(cache_root, key, v)).is_dir()]
    dirs += [p for p in custom_crd_dirs if p.is_dir()]
    if (cache_root / "schemas").is_dir():
        dirs.append(cache_root / "schemas")
    return dirs, [EmbeddedSchemas(exclude=overrides)]


def custom_crd_dirs(overlays_dir: Path | None, cache_root: Path = CACHE_ROOT) -> list[Path]:
    """Schema folders of custom components: declared CRD folders (kept inside the component
    folder) and, for URL or chart declarations, what `schemas pull` fetched."""
    from compiler.overlays.custom_components import declared_crds

    if overlays_dir is None:
        return []
    dirs: list[Path] = []
    for name, folder, ref, _chart in declared_crds(overlays_dir / "components"):
        if ref.folder is None:
            dirs.append(component_dir(cache_root, name))
            continue
        path = (folder / ref.folder).resolve()
        if path.is_relative_to(folder.resolve()):
            dirs.append(path)
    return sorted(set(dirs), key=dirs.index)
