"""Helpers for overlay tests: a workspace with a copy of the example spec, object lookups, schema checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import kubernetes_validate
import pytest

from compiler.errors import SpecErrors
from compiler.pipeline import ClusterBuild, build_platform

REPO = Path(__file__).resolve().parents[2]
CRD_SCHEMAS = REPO.parent / "shared" / "schemas" / "crds"
K8S_SCHEMAS = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"


@dataclass
class Workspace:
    root: Path

    @property
    def spec(self) -> Path:
        return self.root / "platform-spec"

    @property
    def overlays(self) -> Path:
        return self.root / "overlays"

    def write(self, rel: str, text: str) -> Path:
        path = self.overlays / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def build(self) -> dict[str, ClusterBuild]:
        return {b.model.name: b for b in build_platform(self.spec, overlays_dir=self.overlays)}

    def errors(self) -> list[str]:
        with pytest.raises(SpecErrors) as info:
            build_platform(self.spec, overlays_dir=self.overlays)
        return [str(e) for e in info.value.errors]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        return subprocess.run(
            [sys.executable, "-m", "compiler.cli", *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
        )


def objects(build: ClusterBuild) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(kind, namespace, name) → object, for everything the cluster's tree will hold."""
    return {
        (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for _, o in build.placed
    }


def unit(build: ClusterBuild, name: str):
    return next((u for u in build.units if u.name == name), None)


# --- schema validation (until compiler/validate lands: jsonschema-rs over the same schemas) ---


@cache
def _k8s_registry(version: str) -> tuple[Path, jsonschema_rs.Registry]:
    folder = K8S_SCHEMAS / f"v{version}.0-local-strict"
    if not folder.is_dir():
        raise AssertionError(f"kubernetes-validate has no strict schemas for {version} in {K8S_SCHEMAS}")
    definitions = json.loads((folder / "_definitions.json").read_text())
    return folder, jsonschema_rs.Registry([(definitions["$id"], definitions)])


@cache
def _validator(api_version: str, kind: str, k8s_version: str):
    group, _, version = api_version.rpartition("/")
    crd = CRD_SCHEMAS / group / f"{kind.lower()}_{version}.json"
    if group and "." in group and not group.endswith(".k8s.io") and crd.is_file():
        return jsonschema_rs.validator_for(json.loads(crd.read_text()))
    folder, registry = _k8s_registry(k8s_version)
    short = group.split(".")[0]
    core = folder / (f"{kind.lower()}-{short}-{version}.json" if group else f"{kind.lower()}-{version}.json")
    if not core.is_file():
        raise AssertionError(f"no schema for {api_version} {kind} (looked for {crd} and {core})")
    return jsonschema_rs.validator_for(json.loads(core.read_text()), registry=registry)


def schema_errors(obj: dict[str, Any], k8s_version: str) -> list[str]:
    validator = _validator(obj["apiVersion"], obj["kind"], k8s_version)
    return [f"{obj['kind']} {obj['metadata']['name']}: {e.message}" for e in validator.iter_errors(obj)]
