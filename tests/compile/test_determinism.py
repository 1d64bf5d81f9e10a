"""Byte-identical output whatever the input file order, file layout or hash seed."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from ruamel.yaml import YAML

from tests.compile.helpers import compile_cli, snapshot
from tests.conftest import EXAMPLE_OVERLAYS, EXAMPLE_SPEC


def _documents(spec: Path) -> list[str]:
    """Every document of the spec as text, so they can be regrouped into other files."""
    docs = []
    for path in sorted(spec.rglob("*.yaml")):
        for chunk in path.read_text().split("\n---\n"):
            if chunk.strip():
                docs.append(chunk.strip() + "\n")
    return docs


def _shuffled_spec(target: Path, docs: list[str], seed: int) -> None:
    """Same documents, shuffled into differently named files in different folders."""
    rng = random.Random(seed)
    order = docs[:]
    rng.shuffle(order)
    for i, doc in enumerate(order):
        folder = target / f"part-{rng.randint(0, 3)}"
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"{rng.randint(0, 2)}-{100 - i}.yaml", "a") as handle:
            handle.write("---\n" + doc)


def _list_reordered(docs: list[str], seed: int) -> list[str]:
    """Reorder lists whose order carries no meaning (teams' clusters, node pools)."""
    yaml = YAML()
    rng = random.Random(seed)
    out = []
    for doc in docs:
        data = yaml.load(doc)
        spec = data.get("spec") or {}
        for key in ("clusters", "nodePools", "owners"):
            if isinstance(spec.get(key), list):
                rng.shuffle(spec[key])
        from io import StringIO

        buffer = StringIO()
        yaml.dump(data, buffer)
        out.append(buffer.getvalue())
    return out


def test_shuffled_inputs_and_hash_seeds_give_byte_identical_trees(tmp_path: Path) -> None:
    docs = _documents(EXAMPLE_SPEC)
    trees = []
    for run, (seed, hash_seed) in enumerate([(1, "0"), (2, "12345"), (3, "random")]):
        work = tmp_path / f"run{run}"
        variant = docs if run == 0 else _list_reordered(docs, seed)
        _shuffled_spec(work / "spec", variant, seed)
        if EXAMPLE_OVERLAYS.is_dir():
            shutil.copytree(EXAMPLE_OVERLAYS, work / "overlays")
        result = compile_cli("--spec", "spec", "--out", "out", cwd=work, env={"PYTHONHASHSEED": hash_seed})
        assert result.returncode == 0, result.stderr
        trees.append(snapshot(work / "out"))
    assert trees[0], "compile produced no files"
    assert trees[1] == trees[0]
    assert trees[2] == trees[0]
