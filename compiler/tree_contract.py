"""The tree contract: everything compile writes that validate, diff, review and publish read back.

One definition of each file name, folder name, label, annotation and suffix, so the writer
and the readers of a generated tree cannot drift apart. A leaf module: it imports nothing
from platformc.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

Tree = dict[str, bytes]  # a rendered tree: path relative to the output folder → file content
Engine = Literal["argocd", "flux"]
ENGINES: tuple[Engine, ...] = ("argocd", "flux")

# --- files and folders -------------------------------------------------------------------------

CLUSTER_INFO_FILE = "platformc-cluster.json"  # OUT/<cluster>/platformc-cluster.json
KUSTOMIZATION_FILE = "kustomization.yaml"  # what compile writes in every folder
# What readers skip: every spelling kustomize accepts.
KUSTOMIZATION_FILES = frozenset({KUSTOMIZATION_FILE, "kustomization.yml", "Kustomization"})
BOOTSTRAP_DIR = "bootstrap"  # applied once by hand; then the engine takes over
APPS_DIR = "apps"  # one Application / Kustomization per unit
COMPONENTS_DIR = "components"  # the plain objects each unit syncs
# The node-pool contract beside them (compiler/node_pools.py): for the provisioning tool, not synced.
NODE_POOLS_FILE = "node-pools.json"
NODE_POOLS_TABLE = "node-pools.md"

# --- sync units --------------------------------------------------------------------------------

CONFIG_SUFFIX = "-config"  # a component's second unit, for custom resources of its own charts' CRDs
OVERLAYS_UNIT = "overlays"  # the unit that carries plain objects of overlays/
# <cluster>-root Application, <cluster>-platform and <cluster>-bootstrap AppProjects
ARGOCD_FIXED_SUFFIXES = ("root", "platform", "bootstrap")


def config_unit(component: str) -> str:
    return component + CONFIG_SUFFIX


# --- labels and annotations --------------------------------------------------------------------

MANAGED_BY = {"app.kubernetes.io/managed-by": "platformc"}
CLUSTER_LABEL = "platformc.dev/cluster"  # on the GitOps engine's objects (Applications, Kustomizations…)
UNIT_LABEL = "platformc.dev/unit"  # on a unit's Argo CD Application
TEAM_LABEL = "platformc.dev/team"
UNIT_LABEL = "platformc.dev/unit"  # on each Argo CD Application: the sync unit it syncs
COST_CENTER_LABEL = "platformc.dev/cost-center"
# Stamped on what installs a chart (Argo CD Application, Flux HelmRelease): the API groups whose
# CRDs it installs, so `platformc validate` can check ordering on a tree without the spec…
CRD_GROUPS_ANNOTATION = "platformc.dev/crd-groups"
# …and the API groups of custom resources the chart itself creates, which must be installed first.
USES_CRD_GROUPS_ANNOTATION = "platformc.dev/uses-crd-groups"
# …and, when compile rendered the charts, the names of the CRDs they install (a CRD that two units
# install is an error the ordering check reports).
CRDS_ANNOTATION = "platformc.dev/crds"
# …and the API groups whose objects the chart's admission webhooks (failurePolicy Fail) admit:
# whatever creates those syncs after it, or the API server refuses them on a first install.
WEBHOOK_GROUPS_ANNOTATION = "platformc.dev/webhook-groups"
# Argo CD assesses a child Application's health (so waves between Applications gate) only with
# this argocd-cm entry, which the bootstrap carries.
ARGOCD_CM = "argocd-cm"
APPLICATION_HEALTH_KEY = "resource.customizations.health.argoproj.io_Application"


def join_groups(groups: frozenset[str] | set[str]) -> str:
    return ",".join(sorted(groups))


def split_groups(value: object) -> frozenset[str]:
    return frozenset(g for g in value.split(",") if g) if isinstance(value, str) else frozenset()


# --- the cluster info file ---------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterInfo:
    """What a reader needs to know about a cluster tree without the spec."""

    name: str
    kubernetes_version: str
    engine: Engine | None

    def to_json(self) -> bytes:
        data = {"cluster": self.name, "engine": self.engine, "kubernetesVersion": self.kubernetes_version}
        return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, text: str | bytes, folder: str, default_kubernetes_version: str) -> ClusterInfo:
        """Read what to_json wrote; missing or mistyped fields fall back to the folder name, the
        default version and no engine. Raises ValueError on invalid JSON or a non-object."""
        loaded: Any = json.loads(text)
        if not isinstance(loaded, dict):
            raise ValueError("expected a JSON object")
        return cls.lenient(loaded, folder, default_kubernetes_version)

    @classmethod
    def lenient(cls, data: dict[str, Any], folder: str, default_kubernetes_version: str) -> ClusterInfo:
        name = data.get("cluster")
        version = data.get("kubernetesVersion")
        engine = data.get("engine")
        return cls(
            name if isinstance(name, str) else folder,
            version if isinstance(version, str) and version else default_kubernetes_version,
            engine if engine in ENGINES else None,
        )


def file_digest(content: bytes) -> str:
    """What the manifest, the compile cache and the object memo record of a file's bytes."""
    return hashlib.blake2b(content, digest_size=16).hexdigest()
