"""Writing a report directory: assessment.json, index.html and static plots, all or nothing.

The folder is replaced only if it is absent, empty or a pmpath report, in one step and under a lock
(see :mod:`pmpath.report.output`).
"""

from __future__ import annotations

from pathlib import Path

from pmpath.dossier import Dossier
from pmpath.dossier.fingerprint import dossier_fingerprint
from pmpath.pathway.assessment import Assessment
from pmpath.report import assessment_json
from pmpath.report.output import report_directory


def write_report(
    assessment: Assessment, dossier: Dossier | None, out: Path, pdf: bool = False
) -> Path:
    """Write the report of ``assessment`` to the folder ``out``, replacing it only when all is written.

    Parameters
    ----------
    assessment
        What to report.
    dossier
        The dossier assessed: ``out`` may not be its folder, hold it or lie inside it, and its
        input files' fingerprint goes into the report's marker. ``None`` for an assessment not read
        from a dossier on disk (the fingerprint is then taken from ``assessment.inputs``).
    out
        The report folder: absent, an empty folder, or a report pmpath wrote.
    pdf
        Also print the report to ``out/report.pdf`` (WeasyPrint; see
        :func:`pmpath.report.pdf.write_pdf`), inside the same all-or-nothing step.

    Returns
    -------
    Path
        ``out``, holding ``assessment.json``, ``index.html``, ``patients/``, ``plots/``,
        ``assets/``, the marker ``.pmpath-report.json`` and, with ``pdf``, ``report.pdf``.

    Raises
    ------
    UsageError
        ``out`` is something else (a file, a folder of other files, the dossier); nothing touched.
    OutputError
        The report could not be written (disk full, read-only, permission denied, another run
        writing the same ``out``), or, with ``pdf``, WeasyPrint is not usable; the previous
        report is left as it was.
    """
    from pmpath.report.html import render_html

    if dossier is not None:
        root: Path | None = dossier.root
        inputs = dossier.inputs
    else:
        root, inputs = None, {e.path: e.sha256 for e in assessment.inputs}
    with report_directory(
        Path(out), dossier_root=root, dossier_fingerprint=dossier_fingerprint(inputs)
    ) as tmp:
        (tmp / "assessment.json").write_bytes(assessment_json.dumps(assessment))
        render_html(assessment, dossier, tmp)
        if pdf:
            from pmpath.report.pdf import write_pdf

            write_pdf(tmp)
    return Path(out)
