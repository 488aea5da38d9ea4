"""Regenerate the generated parts of docs/dossier.md from the declarations they document.

Each part sits between ``<!-- BEGIN GENERATED: name -->`` and ``<!-- END GENERATED: name -->``;
``tests/test_docs.py`` fails when a part differs from what this script would write.

    python scripts/generate_docs.py          # rewrite docs/dossier.md
    python scripts/generate_docs.py --check  # exit 1 when it is stale
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "dossier.md"


def parts() -> dict[str, str]:
    from pmpath.dossier.model import (
        comparability_fields_markdown,
        literature_fields_markdown,
        natural_history_plan_markdown,
        plan_fields_markdown,
    )
    from pmpath.dossier.tables import tables_markdown
    from pmpath.dossier.units import (
        display_rules_markdown,
        dose_unit_table_markdown,
        unit_table_markdown,
    )

    return {
        "improvement-plan": plan_fields_markdown(),
        "comparability": comparability_fields_markdown(),
        "literature": literature_fields_markdown(),
        "natural-history-plan": natural_history_plan_markdown(),
        "tables": tables_markdown(),
        "units": unit_table_markdown(),
        "dose-units": dose_unit_table_markdown(),
        "unit-rules": display_rules_markdown(),
    }


def render(text: str) -> str:
    for name, body in parts().items():
        pattern = re.compile(
            rf"(<!-- BEGIN GENERATED: {re.escape(name)} -->\n).*?(<!-- END GENERATED: {re.escape(name)} -->)",
            re.S,
        )
        if not pattern.search(text):
            raise SystemExit(f"{DOC}: no generated block {name!r}")
        text = pattern.sub(lambda m, body=body: m[1] + body.rstrip("\n") + "\n" + m[2], text)
    return text


def main(argv: list[str]) -> int:
    text = DOC.read_text(encoding="utf-8")
    new = render(text)
    if "--check" in argv:
        if new != text:
            print(f"{DOC} is stale: run python scripts/generate_docs.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
