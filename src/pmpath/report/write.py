"""Writing a report directory: assessment.json, index.html and static plots, all or nothing."""

from __future__ import annotations

from pathlib import Path

from pmpath import atomic
from pmpath.dossier import Dossier
from pmpath.pathway.assessment import Assessment
from pmpath.report import assessment_json


def write_report(assessment: Assessment, dossier: Dossier, out: Path) -> Path:
    """Write ``out/assessment.json`` and ``out/index.html``; ``out`` is replaced only when all is written."""
    from pmpath.report.html import render_html

    with atomic.directory(Path(out)) as tmp:
        (tmp / "assessment.json").write_bytes(assessment_json.dumps(assessment))
        render_html(assessment, dossier, tmp)
    return Path(out)
