"""Compile a platform entirely in memory, from YAML strings or Python objects (like cdk8s's
Testing.synth): nothing is read from or written to disk.

    builds = synth({"platform.yaml": PLATFORM, "clusters.yaml": CLUSTERS, ...})
    tree = synth_tree(documents)   # the files compile would write, path → bytes

The same stages as `platformc compile` (spec checks, components, packaging; overlays only from
a folder), minus the write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import yaml

from compiler.components import facts_of
from compiler.components.base import Component
from compiler.core import (
    ClusterBuild,
    build_cluster,
    generated_header,
    registered,
    render,
    select_clusters,
)
from compiler.emit import Tree
from compiler.spec.build import PlatformModel, load_platform_texts

SpecSource = Mapping[str, str] | Iterable[Mapping[str, Any]] | PlatformModel


def load(spec: SpecSource, components: Sequence[Component] | None = None) -> PlatformModel:
    """The checked spec model of YAML texts (file name → text), documents (dicts) or a model."""
    if isinstance(spec, PlatformModel):
        return spec
    if isinstance(spec, Mapping):
        texts = dict(spec)
    else:
        texts = {f"doc-{i:03d}.yaml": yaml.safe_dump(dict(d), sort_keys=False) for i, d in enumerate(spec)}
    return load_platform_texts(texts, facts_of(components or registered()))


def synth(
    spec: SpecSource, clusters: Sequence[str] = (), components: Sequence[Component] | None = None
) -> dict[str, ClusterBuild]:
    """Each selected cluster built (components, ordering, packaging), by cluster name, with the
    header compile starts every YAML file with."""
    model = load(spec, components)
    return {
        c.name: replace(build_cluster(c, components), header=generated_header(model, c.name))
        for c in select_clusters(model, clusters)
    }


def synth_tree(
    spec: SpecSource, clusters: Sequence[str] = (), components: Sequence[Component] | None = None
) -> Tree:
    """The files compile would write for the selected clusters (path relative to the output folder)."""
    return render(list(synth(spec, clusters, components).values()))
