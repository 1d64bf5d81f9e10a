"""The in-memory API (compiler.synth) is the same compile as `platformc compile`, minus the files."""

from __future__ import annotations

from pathlib import Path

import yaml

from compiler.pipeline import compile_platform
from compiler.synth import synth, synth_tree

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC = REPO_ROOT / "platform-spec"


def _texts() -> dict[str, str]:
    return {p.relative_to(SPEC).as_posix(): p.read_text() for p in sorted(SPEC.rglob("*.yaml"))}


def test_synth_tree_is_byte_identical_to_a_compile_on_disk(tmp_path: Path, crd_schemas: Path) -> None:
    out = tmp_path / "out"
    compile_platform(SPEC, out, schema_dirs=[crd_schemas])
    on_disk = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert synth_tree(_texts()) == on_disk


def test_synth_takes_python_documents() -> None:
    documents = [d for text in _texts().values() for d in yaml.safe_load_all(text) if d]
    builds = synth(documents, clusters=["staging-eu"])
    assert list(builds) == ["staging-eu"]
    assert any(o["kind"] == "ClusterQueue" for _, o in builds["staging-eu"].placed)
