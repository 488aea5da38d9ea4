"""The generated parts of docs/dossier.md match the declarations that drive loading and the schema."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location(
        "generate_docs", ROOT / "scripts/generate_docs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_parts_of_docs_are_current() -> None:
    gen = _generator()
    text = (ROOT / "docs/dossier.md").read_text(encoding="utf-8")
    assert gen.render(text) == text, "docs/dossier.md is stale: run python scripts/generate_docs.py"


def test_every_declared_column_is_documented() -> None:
    from pmpath.dossier.tables import ALL_TABLES

    text = (ROOT / "docs/dossier.md").read_text(encoding="utf-8")
    for kind in ALL_TABLES:
        assert kind.title in text
        for column in kind.columns:
            assert f"| `{column.name}` |" in text
