"""Checking that a report belongs to a dossier: same input files, same contents, same analysis plan.

:func:`verify_report` is ``pmpath verify REPORT_DIR DOSSIER_DIR``. It reads what the report records
(``assessment.json`` and the marker ``.pmpath-report.json``), loads the dossier as ``pmpath assess``
would, and compares the dossier fingerprint, every input file's SHA-256 (files added, removed,
changed), the analysis-plan hash and the pmpath version. Each difference is one line naming the
file or key, what the report records and what the dossier has now.

A dossier that no longer validates cannot be assessed, so it does not verify; its files the report
lists are still hashed one by one (and files it does not list are named) to show what changed.
"""

from __future__ import annotations

import hashlib
import os
from enum import StrEnum
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, computed_field

from pmpath import __version__
from pmpath.dossier.fingerprint import dossier_fingerprint
from pmpath.errors import DossierError, Severity, UsageError, _one_line
from pmpath.report.output import MARKER_NAME, ReportMarker
from pmpath.report.recorded import RecordedAssessment, assessment_file, read_assessment

__all__ = ["Difference", "DifferenceKind", "VerifyResult", "verify_report"]


class DifferenceKind(StrEnum):
    """What a :class:`Difference` is about."""

    input_changed = "input_changed"  # same path, other contents
    input_added = "input_added"  # read from the dossier, not among the report's inputs
    input_removed = "input_removed"  # among the report's inputs, not read from the dossier
    fingerprint = "fingerprint"  # the dossier fingerprint
    analysis_plan = "analysis_plan"  # the analysis-plan hash
    pmpath_version = "pmpath_version"  # the report was written by another version
    report = "report"  # the report contradicts itself (altered after pmpath wrote it)
    dossier = "dossier"  # the dossier does not validate, or a file outside pmpath's view


class Difference(BaseModel):
    """One way the report and the dossier differ.

    Attributes
    ----------
    kind
        What differs.
    subject
        The input file (relative POSIX path in the dossier) or the recorded key.
    recorded
        What the report records (``None``: nothing).
    found
        What the dossier has now (``None``: nothing).
    severity
        ``error``: the report does not belong to the dossier as it stands; ``warning``: worth
        knowing, but the report still belongs (``strict`` makes warnings count).
    explanation
        Why it matters or what to do, in words.
    """

    model_config = ConfigDict(frozen=True)

    kind: DifferenceKind
    subject: str
    recorded: str | None
    found: str | None
    severity: Severity = Severity.error
    explanation: str = ""

    @property
    def message(self) -> str:
        """One line: ``[warning: ]<subject>: <what differs>``, hashes in full."""
        prefix = "warning: " if self.severity is Severity.warning else ""
        return _one_line(f"{prefix}{self.subject}: {self.explanation}")


class VerifyResult(BaseModel):
    """The outcome of :func:`verify_report`.

    Attributes
    ----------
    report
        The report's ``assessment.json``.
    dossier
        The dossier folder.
    recorded_fingerprint
        The dossier fingerprint the report records (marker, else ``assessment.json``).
    dossier_fingerprint
        The fingerprint of the dossier now: of the inputs ``load_dossier`` read or, when the
        dossier does not validate, of the report's listed files that are still there.
    dossier_valid
        Whether the dossier loaded; if not, its files were hashed directly.
    differences
        Every difference, errors before warnings, then by subject.
    """

    model_config = ConfigDict(frozen=True)

    report: Path
    dossier: Path
    recorded_fingerprint: str | None
    dossier_fingerprint: str
    dossier_valid: bool
    differences: list[Difference]
    strict: bool = False

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """True when the report belongs to the dossier: no error (with ``strict``, no difference)."""
        return not any(self._counts(d) for d in self.differences)

    def _counts(self, difference: Difference) -> bool:
        return self.strict or difference.severity is Severity.error

    def lines(self) -> list[str]:
        """A verdict line, then one line per difference."""
        errors = sum(self._counts(d) for d in self.differences)
        if self.ok:
            head = (
                f"{self.report.parent} belongs to {self.dossier}: dossier fingerprint "
                f"{self.dossier_fingerprint}"
            )
        else:
            head = (
                f"{self.report.parent} does not belong to {self.dossier} as it stands: "
                f"{errors} difference{'s' if errors != 1 else ''}"
            )
        return [_one_line(head), *(d.message for d in self.differences)]

    def to_text(self) -> str:
        return "\n".join(self.lines()) + "\n"


def verify_report(
    report_dir: str | Path, dossier_dir: str | Path, *, strict: bool = False
) -> VerifyResult:
    """Check that the report in ``report_dir`` was made from the dossier in ``dossier_dir``.

    Parameters
    ----------
    report_dir
        A report folder written by ``pmpath assess`` (or its ``assessment.json``).
    dossier_dir
        The dossier folder.
    strict
        Count warnings (another pmpath version, a report without a marker) as differences.

    Returns
    -------
    VerifyResult
        ``ok`` and every difference; ``lines()`` renders them one per line.

    Raises
    ------
    UsageError
        ``report_dir`` holds no readable ``assessment.json``, or ``dossier_dir`` is not a folder.

    Examples
    --------
    >>> import tempfile, pmpath
    >>> from pmpath.dossier import load_dossier
    >>> from pmpath.examples import example_path
    >>> from pmpath.report import write_report
    >>> dossier = load_dossier(example_path("ssaso-cln"))
    >>> out = write_report(pmpath.assess(dossier.root), dossier, Path(tempfile.mkdtemp()) / "r")
    >>> result = verify_report(out, dossier.root)
    >>> result.ok, result.differences
    (True, [])
    """
    from pmpath.dossier.load import load_dossier

    file = assessment_file(report_dir)
    recorded = read_assessment(file)
    root = Path(dossier_dir)
    if not root.is_dir():
        raise UsageError(
            _one_line(
                f"{dossier_dir}: found {'no such folder' if not root.exists() else 'a file'}, "
                "expected the dossier folder the report was made from"
            )
        )
    marker = ReportMarker.read(file.parent)
    differences = _report_consistency(recorded, marker)
    recorded_fp = _recorded_fingerprint(recorded, marker)
    recorded_inputs = recorded.input_hashes

    try:
        dossier = load_dossier(root)
    except DossierError as exc:
        inputs, extra = _hash_listed_files(root, recorded_inputs)
        errors = exc.errors
        first = f"; first: {errors[0]}" if errors else ""
        differences.append(
            Difference(
                kind=DifferenceKind.dossier,
                subject=str(root),
                recorded=None,
                found=f"{len(errors)} errors",
                explanation=(
                    f"does not validate with pmpath {__version__} ({len(errors)} "
                    f"error{'s' if len(errors) != 1 else ''}{first}), so it cannot be the dossier "
                    "as assessed; the files the report lists were hashed one by one (run `pmpath "
                    "validate` for every finding)"
                ),
            )
        )
        differences += extra
        plan_now, platform_yaml_now = _plan_hash_of_platform(root), inputs.get("platform.yaml")
        valid = False
    else:
        inputs = dossier.inputs
        plan_now, platform_yaml_now = dossier.plan_sha256, inputs.get("platform.yaml")
        valid = True

    differences += _input_differences(recorded_inputs, inputs, valid)
    fingerprint_now = dossier_fingerprint(inputs)
    if recorded_fp != fingerprint_now:
        differences.append(
            Difference(
                kind=DifferenceKind.fingerprint,
                subject="dossier fingerprint",
                recorded=recorded_fp,
                found=fingerprint_now,
                explanation=f"the report records {recorded_fp}, the dossier's is {fingerprint_now}",
            )
        )
    differences += _plan_difference(recorded, plan_now, platform_yaml_now, marker)
    differences += _version_differences(recorded, marker)
    differences.sort(key=lambda d: (-d.severity.rank, _KIND_ORDER.index(d.kind), d.subject))
    return VerifyResult(
        report=file,
        dossier=root,
        recorded_fingerprint=recorded_fp,
        dossier_fingerprint=fingerprint_now,
        dossier_valid=valid,
        differences=differences,
        strict=strict,
    )


_KIND_ORDER = [
    DifferenceKind.report,
    DifferenceKind.dossier,
    DifferenceKind.fingerprint,
    DifferenceKind.input_changed,
    DifferenceKind.input_removed,
    DifferenceKind.input_added,
    DifferenceKind.analysis_plan,
    DifferenceKind.pmpath_version,
]


def _recorded_fingerprint(recorded: RecordedAssessment, marker: ReportMarker | None) -> str:
    """The fingerprint the report stands for: its marker's, else assessment.json's own record."""
    if marker is not None and marker.dossier_fingerprint:
        return marker.dossier_fingerprint.lower()
    if recorded.dossier_fingerprint:
        return recorded.dossier_fingerprint.lower()
    return dossier_fingerprint(recorded.input_hashes)


def _report_consistency(
    recorded: RecordedAssessment, marker: ReportMarker | None
) -> list[Difference]:
    """Where the report's own records disagree: it was altered after pmpath wrote it."""
    out: list[Difference] = []
    listed = dossier_fingerprint(recorded.input_hashes)
    file = recorded.path.name
    if marker is None:
        out.append(
            Difference(
                kind=DifferenceKind.report,
                subject=MARKER_NAME,
                recorded=None,
                found=None,
                severity=Severity.warning,
                explanation=(
                    f"the report has no marker (written by an earlier pmpath, or removed); the "
                    f"fingerprint is taken from the inputs {file} lists"
                ),
            )
        )
    else:
        if marker.dossier_fingerprint and marker.dossier_fingerprint.lower() != listed:
            out.append(
                Difference(
                    kind=DifferenceKind.report,
                    subject=MARKER_NAME,
                    recorded=marker.dossier_fingerprint,
                    found=listed,
                    explanation=(
                        f"the marker's dossier fingerprint {marker.dossier_fingerprint} is not that "
                        f"of the inputs {file} lists ({listed}): the report was altered after "
                        "pmpath wrote it"
                    ),
                )
            )
        if marker.pmpath_version != recorded.pmpath_version:
            out.append(
                Difference(
                    kind=DifferenceKind.report,
                    subject=MARKER_NAME,
                    recorded=marker.pmpath_version,
                    found=recorded.pmpath_version,
                    explanation=(
                        f"the marker says pmpath {marker.pmpath_version} wrote the report, {file} "
                        f"says pmpath {recorded.pmpath_version}: the report was altered after "
                        "pmpath wrote it"
                    ),
                )
            )
    if recorded.dossier_fingerprint and recorded.dossier_fingerprint.lower() != listed:
        out.append(
            Difference(
                kind=DifferenceKind.report,
                subject=file,
                recorded=recorded.dossier_fingerprint,
                found=listed,
                explanation=(
                    f"its dossier_fingerprint {recorded.dossier_fingerprint} is not that of the "
                    f"inputs it lists ({listed}): the report was altered after pmpath wrote it"
                ),
            )
        )
    return out


def _input_differences(
    recorded: dict[str, str], now: dict[str, str], valid: bool
) -> list[Difference]:
    out = []
    for path in sorted(recorded.keys() | now.keys()):
        old, new = recorded.get(path), now.get(path)
        if old == new:
            continue
        if old is None:
            out.append(
                Difference(
                    kind=DifferenceKind.input_added,
                    subject=path,
                    recorded=None,
                    found=new,
                    explanation=f"read from the dossier (sha256 {new}) but not among the report's inputs",
                )
            )
        elif new is None:
            where = "read from the dossier" if valid else "in the dossier (or not readable)"
            out.append(
                Difference(
                    kind=DifferenceKind.input_removed,
                    subject=path,
                    recorded=old,
                    found=None,
                    explanation=f"among the report's inputs (sha256 {old}) but not {where}",
                )
            )
        else:
            out.append(
                Difference(
                    kind=DifferenceKind.input_changed,
                    subject=path,
                    recorded=old,
                    found=new,
                    explanation=f"changed since the report: report sha256 {old}, dossier sha256 {new}",
                )
            )
    return out


def _hash_listed_files(
    root: Path, recorded: dict[str, str]
) -> tuple[dict[str, str], list[Difference]]:
    """SHA-256 of each file the report lists that is still in ``root``; files it does not list."""
    from pmpath.dossier.load import COMPANION_NAMES, COMPANION_SUFFIXES, VCS_DIRS

    hashes: dict[str, str] = {}
    extra: list[Difference] = []
    try:
        resolved_root = root.resolve()
    except (OSError, RuntimeError):
        resolved_root = root.absolute()
    for rel in sorted(recorded):
        pure = PurePosixPath(rel)
        if pure.is_absolute() or ".." in pure.parts:
            extra.append(
                Difference(
                    kind=DifferenceKind.report,
                    subject=rel,
                    recorded=recorded[rel],
                    found=None,
                    explanation="listed as an input, but not a path inside a dossier: the report was altered",
                )
            )
            continue
        try:
            full = (root / rel).resolve()
            full.relative_to(resolved_root)
            if full.is_file():
                hashes[rel] = _sha256_file(full)
        except (OSError, RuntimeError, ValueError):
            continue  # unreadable or leaving the dossier: reported as not in the dossier
    listed = set(recorded)
    for here, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in VCS_DIRS)
        for name in sorted(names):
            rel = Path(here, name).relative_to(root).as_posix()
            lower = name.lower()
            if rel in listed or lower in COMPANION_NAMES or lower.endswith(COMPANION_SUFFIXES):
                continue
            extra.append(
                Difference(
                    kind=DifferenceKind.dossier,
                    subject=rel,
                    recorded=None,
                    found=None,
                    severity=Severity.warning,
                    explanation=(
                        "in the dossier folder, not among the report's inputs (the dossier does "
                        "not validate, so whether pmpath would read it is unknown)"
                    ),
                )
            )
    return hashes, extra


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _plan_hash_of_platform(root: Path) -> str | None:
    """The plan hash of ``root/platform.yaml`` alone, ``None`` if it does not validate."""
    from pmpath.dossier.load import load_platform
    from pmpath.dossier.provenance import plan_sha256

    try:
        return plan_sha256(load_platform(root))
    except DossierError:
        return None


def _plan_difference(
    recorded: RecordedAssessment,
    now: str | None,
    platform_yaml_now: str | None,
    marker: ReportMarker | None,
) -> list[Difference]:
    old = recorded.platform.analysis_plan_sha256
    old = old.lower() if old else None
    if old == now:
        return []
    subject = "analysis plan hash"
    if now is None:
        return [
            Difference(
                kind=DifferenceKind.analysis_plan,
                subject=subject,
                recorded=old,
                found=None,
                explanation=f"the report records {old}; the dossier's platform.yaml does not validate, so its plan has no hash",
            )
        ]
    if old is None:
        return [
            Difference(
                kind=DifferenceKind.analysis_plan,
                subject=subject,
                recorded=None,
                found=now,
                severity=Severity.warning,
                explanation=f"not recorded in the report; the dossier's is {now}",
            )
        ]
    same_file = recorded.input_hashes.get("platform.yaml") == platform_yaml_now
    writer = marker.pmpath_version if marker is not None else recorded.pmpath_version
    if same_file and writer != __version__:
        return [
            Difference(
                kind=DifferenceKind.analysis_plan,
                subject=subject,
                recorded=old,
                found=now,
                severity=Severity.warning,
                explanation=(
                    f"the report records {old}, pmpath {__version__} computes {now}; platform.yaml "
                    f"is unchanged, so pmpath {writer}, which wrote the report, hashed the plan "
                    "another way"
                ),
            )
        ]
    why = (
        "; platform.yaml is unchanged, so the report was altered or written by a pmpath build "
        "that hashed the plan another way"
        if same_file
        else ""
    )
    return [
        Difference(
            kind=DifferenceKind.analysis_plan,
            subject=subject,
            recorded=old,
            found=now,
            explanation=f"the report records {old}, the dossier's plan hashes to {now}{why}",
        )
    ]


def _version_differences(
    recorded: RecordedAssessment, marker: ReportMarker | None
) -> list[Difference]:
    writer = marker.pmpath_version if marker is not None else recorded.pmpath_version
    if writer == __version__:
        return []
    return [
        Difference(
            kind=DifferenceKind.pmpath_version,
            subject="pmpath version",
            recorded=writer,
            found=__version__,
            severity=Severity.warning,
            explanation=(
                f"the report was written by pmpath {writer}, this is pmpath {__version__}: "
                "assessing the dossier again may give other numbers"
            ),
        )
    ]
