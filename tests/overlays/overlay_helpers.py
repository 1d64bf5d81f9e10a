"""Helpers for overlay tests: a workspace with a copy of the example spec, object lookups, schema checks."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from compiler.errors import SpecErrors
from compiler.pipeline import ClusterBuild, build_platform
from tests.conftest import schema_errors as shared_schema_errors

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


def schema_errors(obj: dict[str, Any], k8s_version: str) -> list[str]:
    return shared_schema_errors(obj, k8s_version)
