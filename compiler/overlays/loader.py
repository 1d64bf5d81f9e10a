"""Read overlays/ once per compile: layers of objects and patches, and custom components.

```
overlays/all/                  every cluster
overlays/environments/<env>/   clusters of that environment
overlays/clusters/<cluster>/   one cluster; applied last
overlays/components/<name>/    custom components (see custom_components.py)
```
Parsing happens here, once; applying per cluster happens in apply.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from compiler.cluster_model import ClusterModel
from compiler.components.base import KubeObject
from compiler.errors import PlatformcError, SourceLocation, SpecError
from compiler.overlays.custom_components import (
    CustomComponent,
    check_application_names,
    check_references,
    load_components,
)
from compiler.overlays.errors import Problems
from compiler.overlays.objects import check_object, is_patch
from compiler.overlays.patches import ParsedPatch, parse_patch
from compiler.pathsafety import subfolders
from compiler.spec.build import allowed_secrets, secret_errors
from compiler.spec.loader import SourceDocument, display_path, load_file, spec_files
from compiler.spec.model import PlatformModel

LAYER_DIRS = ("all", "environments", "clusters", "components")


@dataclass(frozen=True)
class Layer:
    """One overlay folder: the objects it adds and the patches it applies, in file order."""

    scope: str  # all | environment | cluster
    key: str | None  # environment or cluster name
    objects: tuple[tuple[SourceDocument, KubeObject], ...]
    patches: tuple[ParsedPatch, ...]

    def applies_to(self, cluster: ClusterModel) -> bool:
        if self.scope == "environment":
            return cluster.cluster.spec.environment == self.key
        if self.scope == "cluster":
            return cluster.name == self.key
        return True


@dataclass
class Overlays:
    layers: list[Layer] = field(default_factory=list)  # in application order
    components: list[CustomComponent] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)  # found while loading, reported with apply's

    def for_cluster(self, cluster: ClusterModel) -> list[Layer]:
        return [layer for layer in self.layers if layer.applies_to(cluster)]


def load_layer(folder: Path, scope: str, key: str | None, problems: Problems) -> Layer:
    objects: list[tuple[SourceDocument, KubeObject]] = []
    patches: list[ParsedPatch] = []
    errors: list[SpecError] = []
    for path in spec_files(folder, errors):
        for doc in load_file(path, errors):
            if is_patch(doc):
                parsed, patch_errors = parse_patch(doc)
                errors.extend(patch_errors)
                if parsed is not None:
                    patches.append(parsed)
            else:
                obj = check_object(doc, errors)
                if obj is not None:
                    objects.append((doc, obj))
    problems.extend(errors)
    return Layer(scope, key, tuple(objects), tuple(patches))


def _subfolders(folder: Path, what: str, known: list[str], problems: Problems) -> list[Path]:
    """Named sub-folders; an unknown name is an error, since its overlays would silently never apply."""
    if not folder.is_dir() or folder.is_symlink():  # a linked folder is reported by load_overlays
        return []
    result = []
    errors: list[SpecError] = []
    found = subfolders(folder, errors, display_path)
    problems.extend(errors)
    for sub in found:
        if sub.name not in known:
            problems.add(
                SourceLocation(display_path(sub), 1, 1),
                f"overlay folder for unknown {what} '{sub.name}' (expected one of: {', '.join(known)})",
            )
            continue
        result.append(sub)
    return result


def load_overlays(overlays_dir: Path, model: PlatformModel, builtin_components: list[str]) -> Overlays:
    """Everything under overlays_dir, parsed once. A missing folder means no overlays."""
    overlays = Overlays()
    if not overlays_dir.exists():
        return overlays
    if not overlays_dir.is_dir():
        raise PlatformcError(f"overlays path {overlays_dir} is not a folder")
    problems = overlays.problems
    for path in sorted(overlays_dir.iterdir()):
        if path.is_symlink() and path.name in LAYER_DIRS:
            errors: list[SpecError] = []
            subfolders(overlays_dir, errors, display_path)
            problems.extend([e for e in errors if e.location.file == display_path(path)])
            continue
        if path.name not in LAYER_DIRS and (path.is_dir() or path.suffix in (".yaml", ".yml")):
            problems.add(
                SourceLocation(display_path(path), 1, 1),
                f"unexpected overlay path '{path.name}' (expected folders: {', '.join(LAYER_DIRS)})",
            )
    clusters = sorted(model.clusters)
    environments = sorted({c.spec.environment for c in model.clusters.values()})
    if (overlays_dir / "all").is_dir() and not (overlays_dir / "all").is_symlink():
        overlays.layers.append(load_layer(overlays_dir / "all", "all", None, problems))
    for sub in _subfolders(overlays_dir / "environments", "environment", environments, problems):
        overlays.layers.append(load_layer(sub, "environment", sub.name, problems))
    for sub in _subfolders(overlays_dir / "clusters", "cluster", clusters, problems):
        overlays.layers.append(load_layer(sub, "cluster", sub.name, problems))
    overlays.components = load_components(overlays_dir / "components", problems)
    problems.extend(list(check_references(overlays.components, builtin_components, clusters, environments)))
    problems.extend(list(check_application_names(overlays.components, model)))
    problems.extend(secret_errors(_source_documents(overlays), allowed_secrets(model.platform)))
    return overlays


def _source_documents(overlays: Overlays) -> list[SourceDocument]:
    """Every overlay document as written (rendered templates are scanned when rendered)."""
    docs = [doc for layer in overlays.layers for doc, _ in layer.objects]
    docs += [parsed.doc for layer in overlays.layers for parsed in layer.patches]
    for component in overlays.components:
        docs += [doc for doc, _ in component.plain]
        docs += [component.config_doc] if component.config_doc else []
    return docs
