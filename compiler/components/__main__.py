"""`python3 -m compiler.components`: rewrite compiler/registry_table.py from the registry."""

from __future__ import annotations

from pathlib import Path

from compiler.components import facts_of

TABLE_FILE = Path(__file__).resolve().parent.parent / "registry_table.py"

if __name__ == "__main__":
    TABLE_FILE.write_text(facts_of().source(), encoding="utf-8")
    print(f"wrote {TABLE_FILE}")
