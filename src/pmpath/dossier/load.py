"""Loading a dossier directory into typed, unit-checked data, collecting every problem on the way.

`load_dossier` either returns a complete :class:`Dossier` or raises :class:`DossierError` with all
findings at once (`pmpath validate` prints them): a dossier is assessed exactly as it stands, or
refused. Every file under the dossier is read, a known companion (``README.md``, ``.fai``,
``.gzi``) or a warning; every folder under ``patients/`` is a patient or a finding.

Time inside pmpath is days from first dose (study day 1 = day 0, CDISC convention: there is no
study day 0) and ages in years from birth.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pmpath.dossier import tables as T
from pmpath.dossier.check import CheckedTable, DateFrame, check_table, suggest
from pmpath.dossier.model import (
    Case,
    Cohort,
    CohortFile,
    EndpointKind,
    EventData,
    LiteratureSummary,
    LongitudinalData,
    Platform,
    PublishedGrowth,
    PublishedRate,
    TableRef,
    TimeToEventData,
    Variant,
)
from pmpath.dossier.provenance import plan_sha256
from pmpath.dossier.sequencing import check_engagement_data
from pmpath.dossier.source import (
    EncodedColumn,
    YamlDocument,
    read_table,
    read_yaml,
    sha256_bytes,
    validate_model,
)
from pmpath.dossier.units import UnitError, conversion_factor
from pmpath.dossier.vocabulary import DAYS_PER_YEAR
from pmpath.errors import DossierError, Finding, Severity

PLATFORM_FILE = "platform.yaml"
COHORT_FILE = "natural_history/cohort.yaml"
PATIENTS_DIR = "patients"
CASE_FILE = "case.yaml"
COMPANION_NAMES = frozenset({"readme.md", "readme.txt", "readme"})
COMPANION_SUFFIXES = (".fai", ".gzi", ".tbi", ".csi")
VCS_DIRS = frozenset({".git", ".hg", ".svn"})
PROGRESS_FILE_BYTES = 20_000_000
"""Files at least this large are announced on the progress channel before they are read."""
BIRTH_MARGIN_DAYS = 31
"""Dates may precede first dose less the age at first dose by at most this (ages are rounded)."""

__all__ = [
    "COHORT_FILE",
    "DAYS_PER_YEAR",
    "PLATFORM_FILE",
    "CohortTables",
    "Dossier",
    "PatientRecord",
    "load_dossier",
    "load_platform",
    "plan_hash",
]

Progress = Callable[[str], None]


@dataclass
class CohortTables:
    """A natural-history cohort with its tables, values in each endpoint's declared unit."""

    cohort: Cohort
    subjects: pd.DataFrame  # subject, and any of genotype_class, age_at_onset, sex
    longitudinal: pd.DataFrame  # subject, age, endpoint, value
    events: pd.DataFrame  # subject, age_start, age_end, endpoint, count
    time_to_event: pd.DataFrame  # subject, age, event, endpoint; entry_age when a file has it
    files: list[str] = field(default_factory=list)
    literature: LiteratureSummary | None = None  # a literature-only cohort, in the endpoints' units

    @property
    def literature_only(self) -> bool:
        """True when the cohort is a published summary, with no subjects' tables."""
        return self.literature is not None


# copied for each patient without a SITES.tsv: building an empty frame takes pandas a millisecond
_NO_OFFTARGET_SITES = pd.DataFrame(columns=[c.name for c in T.OFFTARGET.columns])


@dataclass
class PatientRecord:
    """One patient's case with its tables; times are days from first dose."""

    case: Case
    directory: str  # relative POSIX path of the patient's folder
    variants: list[Variant]
    measurements: pd.DataFrame  # day, endpoint, value
    events: pd.DataFrame  # start_day, end_day, endpoint, count
    engagement: pd.DataFrame  # assay, source, edited, total, minimum_fraction, replicate, tissue;
    # with a table also reads_r1, reads_r2, crispresso_dir, bam, aberrant_junction,
    # corrected_junction, amplicon, control_of (text, paths from the root), target_position
    concomitant: pd.DataFrame  # day, kind, description, acts_on (a tuple of endpoint ids)
    adverse_events: pd.DataFrame  # day, term, serious, relatedness, grade
    files: dict[str, str] = field(default_factory=dict)  # role -> relative path
    offtarget: pd.DataFrame = (
        field(  # SITES.tsv of the patient's guide (pmpath mechanism offtarget)
            default_factory=lambda: _NO_OFFTARGET_SITES.copy()
        )
    )

    @property
    def id(self) -> str:
        return self.case.id

    @property
    def first_dose(self) -> dt.date:
        return self.case.first_dose

    def day_of(self, date: dt.date) -> int:
        return (date - self.first_dose).days


@dataclass
class Dossier:
    root: Path
    platform: Platform
    cohorts: dict[str, CohortTables]
    patients: list[PatientRecord]  # in order of first dose
    inputs: dict[str, str]  # relative path -> sha256 of raw bytes
    plan_sha256: str
    warnings: list[Finding] = field(default_factory=list)
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)  # file -> columns not used

    def cohort_for(self, patient: PatientRecord) -> CohortTables | None:
        disease = self.platform.disease(patient.case.diagnosis.disease)
        return self.cohorts.get(disease.cohort) if disease else None


class _Reader:
    """Reads files below the dossier root, hashing each and turning problems into findings."""

    def __init__(self, root: Path, progress: Progress | None = None):
        self.root = root
        try:
            self.resolved_root = root.resolve()
        except (OSError, RuntimeError):
            self.resolved_root = root.absolute()
        self.findings: list[Finding] = []
        self.inputs: dict[str, str] = {}
        self.ignored_columns: dict[str, list[str]] = {}
        self.progress = progress
        # folders whose YAML could not be read: which of their files it names is unknown, so
        # the inventory does not call them unreferenced (the YAML's own finding says enough)
        self.unchecked_dirs: set[str] = set()
        self.vcf_lines: dict[str, list[int]] = {}  # case.yaml -> line of each VCF variant
        self._folders: dict[str, Path | None] = {}  # folder -> resolved, if inside the root

    def error(
        self,
        path: str,
        line: int | None,
        field_name: str,
        found: str,
        expected: str,
        severity: Severity = Severity.error,
    ) -> None:
        self.findings.append(Finding(path, line, field_name, found, expected, severity))

    def warn(self, path: str, line: int | None, field_name: str, found: str, expected: str) -> None:
        self.error(path, line, field_name, found, expected, Severity.warning)

    def bytes(
        self,
        rel: str,
        referenced_from: str | None = None,
        field_name: str = "",
        line: int | None = None,
    ) -> bytes | None:
        where = referenced_from or rel
        plain = self._plain_file(rel)
        if plain is not None:
            full, size = plain
            return self._read(rel, full, size, where, line, field_name)
        try:
            full = (self.root / rel).resolve(strict=False)
        except (OSError, RuntimeError) as exc:  # a symlink loop
            self.error(
                where, line, field_name, f"{rel!r}: {exc}", "a readable file, not a symlink loop"
            )
            return None
        try:
            full.relative_to(self.resolved_root)
        except ValueError:
            self.error(
                where,
                line,
                field_name,
                repr(rel),
                "a path inside the dossier (a symlink may not leave it)",
            )
            return None
        try:
            if not full.is_file():
                self.error(
                    where,
                    line,
                    field_name,
                    f"no file {rel!r}" + ("" if not full.exists() else " (it is a directory)"),
                    "a file in the dossier",
                )
                return None
            size = full.stat().st_size
        except OSError as exc:
            self._unreadable(rel, exc, where, line, field_name)
            return None
        return self._read(rel, full, size, where, line, field_name)

    def _plain_file(self, rel: str) -> tuple[Path, int] | None:
        """The resolved path and size of ``rel`` when it is a regular file (not a symlink) in a
        folder inside the root, found with one ``lstat`` (each folder resolved once); ``None``
        for anything else, which :meth:`bytes` looks into step by step.

        A dossier of many patients reads thousands of files: resolving every one of them from
        the root costs a system call per path component.
        """
        head, _, name = rel.rpartition("/")
        if name in ("", ".", "..") or rel.startswith("/"):
            return None
        if head not in self._folders:
            folder: Path | None
            try:
                folder = Path(os.path.realpath(self.root / head))
                folder.relative_to(self.resolved_root)
            except (OSError, RuntimeError, ValueError):
                folder = None
            self._folders[head] = folder
        folder = self._folders[head]
        if folder is None:
            return None
        full = folder / name
        try:
            st = os.lstat(full)
        except OSError:
            return None
        return (full, st.st_size) if stat.S_ISREG(st.st_mode) else None

    def _read(
        self, rel: str, full: Path, size: int, where: str, line: int | None, field_name: str
    ) -> bytes | None:
        try:
            if self.progress is not None and size >= PROGRESS_FILE_BYTES:
                self.progress(f"reading {rel} ({size / 1e6:.0f} MB)")
            raw = full.read_bytes()
        except OSError as exc:
            self._unreadable(rel, exc, where, line, field_name)
            return None
        self.inputs[rel] = sha256_bytes(raw)
        return raw

    def _unreadable(
        self, rel: str, exc: OSError, where: str, line: int | None, field_name: str
    ) -> None:
        self.error(
            where, line, field_name, f"{rel!r} cannot be read ({exc.strerror})", "a readable file"
        )

    def table(
        self,
        rel: str,
        kind: T.TableKind,
        referenced_from: str,
        field_name: str,
        line: int | None,
        *,
        rename: dict[str, str] | None = None,
        ignore_columns: list[str] | None = None,
        dates: DateFrame | None = None,
    ) -> CheckedTable | None:
        raw = self.bytes(rel, referenced_from, field_name, line)
        if raw is None:
            return None
        table = read_table(raw, rel, self.findings)
        del raw  # a registry extract can be hundreds of megabytes: keep only the table
        if table is None:
            return None
        checked = check_table(
            table,
            kind,
            self.findings,
            rename=rename,
            ignore_columns=ignore_columns or [],
            dates=dates,
            ignore_field=f"{referenced_from}: {field_name}.ignore_columns",
        )
        if checked is not None and checked.ignored_columns:
            self.ignored_columns[rel] = checked.ignored_columns
        return checked


def _join(base_dir: str, rel: str) -> str:
    return str(PurePosixPath(base_dir) / rel) if base_dir not in ("", ".") else rel


def _rows(reader: _Reader, checked: CheckedTable, mask, column, found, expected) -> None:
    checked.row_findings(reader.findings, mask, column, found, expected)


# --------------------------------------------------------------------------- platform


def _load_platform(reader: _Reader) -> tuple[Platform | None, YamlDocument | None]:
    raw = reader.bytes(PLATFORM_FILE)
    if raw is None:
        return None, None
    doc = read_yaml(raw, PLATFORM_FILE, reader.findings)
    if doc is None:
        return None, None
    platform = validate_model(Platform, doc, reader.findings)
    return platform, doc


def load_platform(path: str | Path) -> Platform:
    """Read and validate only ``platform.yaml`` of the dossier at ``path``; raises DossierError."""
    reader = _Reader(Path(path))
    platform, _ = _load_platform(reader)
    errors = [f for f in reader.findings if f.severity is Severity.error]
    if platform is None or errors:
        raise DossierError(reader.findings)
    return platform


def plan_hash(platform: Platform) -> str:
    """The analysis-plan hash: :func:`pmpath.dossier.provenance.plan_sha256` (RFC 8785, SHA-256)."""
    return plan_sha256(platform)


# --------------------------------------------------------------------------- units and endpoints


def _endpoint_factor(
    reader: _Reader,
    platform: Platform,
    endpoint_id: str,
    unit: str | None,
    expected_kind: EndpointKind | tuple[EndpointKind, ...],
    where: tuple[str, int | None, str],
    unit_where: tuple[str, int | None, str] | None = None,
    note: str = "",
) -> float:
    """Unit factor for one endpoint; NaN (with one finding) when the endpoint or unit is unusable."""
    path, line, field_name = where
    endpoint = platform.endpoint(endpoint_id)
    if endpoint is None:
        known = [e.id for e in platform.endpoints]
        reader.error(
            path,
            line,
            field_name,
            f"unknown endpoint {endpoint_id!r}{suggest(endpoint_id, known)}",
            f"one of platform.yaml's endpoints: {', '.join(known)}",
        )
        return np.nan
    kinds = expected_kind if isinstance(expected_kind, tuple) else (expected_kind,)
    if endpoint.kind not in kinds:
        reader.error(
            path,
            line,
            field_name,
            f"endpoint {endpoint_id!r}, a {endpoint.kind.value} endpoint",
            f"a {' or '.join(k.value for k in kinds)} endpoint here"
            + (" (counts go in events)" if kinds == (EndpointKind.continuous,) else ""),
        )
        return np.nan
    if unit is None:
        return 1.0
    upath, uline, ufield = unit_where or where
    try:
        return conversion_factor(unit, endpoint.unit)
    except UnitError as exc:
        found = getattr(exc, "found", repr(unit))
        expected = getattr(exc, "expected", f"{endpoint.unit!r} or a unit that converts to it")
        reader.error(
            upath, uline, ufield, f"unit {found} for endpoint {endpoint_id!r}{note}", expected
        )
        return np.nan


# --------------------------------------------------------------------------- natural history


def _check_windows(
    reader: _Reader,
    checked: CheckedTable,
    group: list[str],
    start: str,
    end: str,
    shown: Callable[[int], str],
    what: str,
) -> None:
    """Windows of one group (subject and endpoint, or endpoint) must not overlap."""
    frame = checked.frame
    n = len(checked)
    if n < 2:
        return
    codes = [pd.factorize(frame[g])[0] for g in group]
    order = np.lexsort([frame[end], frame[start], *reversed(codes)])
    s = frame[start][order]
    e = frame[end][order]
    same = np.ones(n, dtype=bool)
    for c in codes:
        v = c[order]
        same[1:] &= v[1:] == v[:-1]
    same[0] = False
    prev_end = np.concatenate([[np.nan], e[:-1]])
    overlap = same & (s < prev_end)
    mask = np.zeros(n, dtype=bool)
    partner = {}
    for j in np.flatnonzero(overlap):
        mask[order[j]] = True
        partner[int(order[j])] = int(order[j - 1])
    _rows(
        reader,
        checked,
        mask,
        checked.display.get(start, start),
        lambda i: f"{shown(i)}, overlapping {shown(partner[i])} on line {checked.line(partner[i])}",
        f"{what} that do not overlap",
    )


def _check_assay_endpoints(
    reader: _Reader,
    platform: Platform,
    assays: dict[str, str],
    path: str,
    doc: YamlDocument,
    loc: tuple,
    field_name: str,
) -> None:
    """Every key of an ``assays`` mapping (cohort.yaml or case.yaml) is one of the platform's endpoints."""
    known = [e.id for e in platform.endpoints]
    for endpoint_id in assays:
        if platform.endpoint(endpoint_id) is None:
            reader.error(
                path,
                doc.line_of((*loc, "assays", endpoint_id)),
                f"{field_name}.{endpoint_id}",
                f"unknown endpoint {endpoint_id!r}{suggest(endpoint_id, known)}",
                f"one of platform.yaml's endpoints: {', '.join(known)}",
            )


def _load_cohorts(reader: _Reader, platform: Platform) -> dict[str, CohortTables]:
    raw = reader.bytes(COHORT_FILE)
    if raw is None:
        return {}
    base = "natural_history"
    doc = read_yaml(raw, COHORT_FILE, reader.findings)
    cohort_file = validate_model(CohortFile, doc, reader.findings) if doc is not None else None
    if cohort_file is None:
        reader.unchecked_dirs.add(base)
        return {}
    out: dict[str, CohortTables] = {}
    for ci, cohort in enumerate(cohort_file.cohorts):
        loc = ("cohorts", ci)
        if cohort.id in out:
            reader.error(
                COHORT_FILE,
                doc.line_of((*loc, "id")),
                f"cohorts.{ci}.id",
                f"duplicate cohort id {cohort.id!r}",
                "each cohort id once",
            )
            continue
        if platform.disease(cohort.disease) is None:
            known = [d.id for d in platform.diseases]
            reader.error(
                COHORT_FILE,
                doc.line_of((*loc, "disease")),
                f"cohorts.{ci}.disease",
                f"unknown disease {cohort.disease!r}{suggest(cohort.disease, known)}",
                f"one of platform.yaml's diseases: {', '.join(known)}",
            )
        _check_assay_endpoints(
            reader, platform, cohort.assays, COHORT_FILE, doc, loc, f"cohorts.{ci}.assays"
        )
        if cohort.literature is not None:
            out[cohort.id] = _literature_cohort(reader, platform, cohort, doc, loc)
            continue
        files: list[str] = []
        spec = cohort.subjects
        rel = _join(base, spec.path)
        subjects = reader.table(
            rel,
            T.NH_SUBJECTS,
            COHORT_FILE,
            f"cohorts.{ci}.subjects.path",
            doc.line_of((*loc, "subjects", "path")),
            rename={theirs: ours for ours, theirs in spec.columns.items()},
            ignore_columns=spec.ignore_columns,
        )
        subject_frame = pd.DataFrame({"subject": pd.Series(dtype=str)})
        subjects_ok = subjects is not None
        if subjects is not None:
            files.append(rel)
            keep = [
                c
                for c in ("subject", "genotype_class", "age_at_onset", "sex")
                if c in subjects.frame
            ]
            subject_frame = pd.DataFrame({c: _text_series(subjects, c) for c in keep})
            if len(subject_frame) == 0:
                reader.error(
                    rel,
                    None,
                    "subject",
                    "a subjects table with no rows",
                    "one row per cohort subject (every subject of the data files)",
                )
                subjects_ok = False
        known_subjects = frozenset(subject_frame["subject"].unique())
        parts: dict[str, list[pd.DataFrame]] = {
            "longitudinal": [],
            "events": [],
            "time_to_event": [],
        }
        for di, data in enumerate(cohort.data):
            dloc = (*loc, "data", di)
            rel = _join(base, data.path)
            kind = T.COHORT_TABLES[data.kind]
            checked = reader.table(
                rel,
                kind,
                COHORT_FILE,
                f"cohorts.{ci}.data.{di}.path",
                doc.line_of((*dloc, "path")),
                rename={theirs: ours for ours, theirs in data.columns.items()},
                ignore_columns=data.ignore_columns,
            )
            if checked is None:
                continue
            files.append(rel)
            frame = checked.frame
            expected_kind = {
                LongitudinalData: EndpointKind.continuous,
                EventData: EndpointKind.count,
                TimeToEventData: EndpointKind.time_to_event,
            }[type(data)]
            endpoints = checked.encoded("endpoint")
            factor_of: dict[str, float] = {}
            first_row = _first_rows(endpoints)
            field_name = ".".join(map(str, (*dloc, "units")))
            for endpoint_id, i in first_row.items():
                unit: str | None = None
                unit_where = None
                if data.kind != "time_to_event":
                    unit = data.units.get(endpoint_id)
                    endpoint = platform.endpoint(endpoint_id)
                    if unit is None and endpoint is not None:
                        reader.error(
                            COHORT_FILE,
                            doc.line_of((*dloc, "units")),
                            field_name,
                            f"no unit for endpoint {endpoint_id!r} of {rel}",
                            f"units: {{{endpoint_id}: {endpoint.unit}}}",
                        )
                        factor_of[endpoint_id] = np.nan
                        continue
                    unit_where = (
                        COHORT_FILE,
                        doc.line_of((*dloc, "units", endpoint_id)),
                        f"{field_name}.{endpoint_id}",
                    )
                factor_of[endpoint_id] = _endpoint_factor(
                    reader,
                    platform,
                    endpoint_id,
                    unit,
                    expected_kind,
                    (rel, checked.line(int(i)), checked.display.get("endpoint", "endpoint")),
                    unit_where,
                )
            factors = _mapped(endpoints, factor_of)
            if subjects_ok:
                subj = frame["subject"]
                subj_values = checked.encoded("subject")
                known = np.fromiter(
                    (v in known_subjects for v in subj_values.values),
                    dtype=bool,
                    count=len(subj_values.values),
                )
                unknown = ~subj_values.take(known)
                _rows(
                    reader,
                    checked,
                    unknown,
                    "subject",
                    lambda i, s=subj: f"subject {s[i]!r}",
                    f"a subject of the subjects table {_join(base, cohort.subjects.path)!r}",
                )
            if data.kind == "longitudinal":
                part = pd.DataFrame(
                    {
                        "subject": _text_series(checked, "subject"),
                        "age": frame["age"],
                        "endpoint": _text_series(checked, "endpoint"),
                        "value": frame["value"] * factors,
                    }
                )
            elif data.kind == "events":
                a0, a1 = frame["age_start"], frame["age_end"]
                _rows(
                    reader,
                    checked,
                    a1 <= a0,
                    checked.display.get("age_end", "age_end"),
                    lambda i, a0=a0, a1=a1: f"{a1[i]:g}, not after age_start {a0[i]:g}",
                    "a window that ends after it starts",
                )
                _check_windows(
                    reader,
                    checked,
                    ["subject", "endpoint"],
                    "age_start",
                    "age_end",
                    lambda i, a0=a0, a1=a1: f"window {a0[i]:g}-{a1[i]:g}",
                    "a subject's windows of one endpoint",
                )
                part = pd.DataFrame(
                    {
                        "subject": _text_series(checked, "subject"),
                        "age_start": a0,
                        "age_end": a1,
                        "endpoint": _text_series(checked, "endpoint"),
                        "count": frame["count"],
                    }
                )
            else:
                part = pd.DataFrame(
                    {
                        "subject": _text_series(checked, "subject"),
                        "age": frame["age"],
                        "event": pd.to_numeric(frame["event"], errors="coerce"),
                        "endpoint": _text_series(checked, "endpoint"),
                    }
                )
                if "entry_age" in frame:
                    entry, age = frame["entry_age"], frame["age"]
                    _rows(
                        reader,
                        checked,
                        entry > age,
                        checked.display.get("entry_age", "entry_age"),
                        lambda i, e=entry, a=age: (
                            f"{e[i]:g}, after the age at event or censoring {a[i]:g}"
                        ),
                        "an entry age at or before the age at event or censoring",
                    )
                    part["entry_age"] = entry
            parts[data.kind].append(part)

        def _concat(key: str, cols: tuple[str, ...], parts=parts) -> pd.DataFrame:
            frames = parts[key]
            return (
                pd.concat(frames, ignore_index=True)
                if frames
                else pd.DataFrame({c: pd.Series(dtype=float) for c in cols})
            )

        out[cohort.id] = CohortTables(
            cohort=cohort,
            subjects=subject_frame.reset_index(drop=True),
            longitudinal=_concat("longitudinal", ("subject", "age", "endpoint", "value")),
            events=_concat("events", ("subject", "age_start", "age_end", "endpoint", "count")),
            time_to_event=_concat("time_to_event", ("subject", "age", "event", "endpoint")),
            files=files,
        )
    return out


def _empty_tables(cohort: Cohort, literature: LiteratureSummary | None = None) -> CohortTables:
    def empty(*cols: str) -> pd.DataFrame:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in cols})

    return CohortTables(
        cohort=cohort,
        subjects=pd.DataFrame({"subject": pd.Series(dtype=str)}),
        longitudinal=empty("subject", "age", "endpoint", "value"),
        events=empty("subject", "age_start", "age_end", "endpoint", "count"),
        time_to_event=empty("subject", "age", "event", "endpoint"),
        literature=literature,
    )


def _literature_cohort(
    reader: _Reader, platform: Platform, cohort: Cohort, doc: YamlDocument, loc: tuple
) -> CohortTables:
    """A literature-only cohort: each endpoint's summary checked against platform.yaml, in its units.

    A continuous summary on the identity scale is multiplied by the unit factor (its variances by
    the factor squared); on the log scale the factor adds log(factor) to the intercept only. Count
    rates take the factor of their event unit.
    """
    literature = cohort.literature
    assert literature is not None
    expected_kind = {
        "continuous": EndpointKind.continuous,
        "count": EndpointKind.count,
        "time_to_event": EndpointKind.time_to_event,
    }
    base = (*loc, "literature", "endpoints")
    converted = {}
    for endpoint_id, summary in literature.endpoints.items():
        eloc = (*base, endpoint_id)
        name = ".".join(map(str, eloc))
        unit = None if summary.kind == "time_to_event" else summary.unit
        factor = _endpoint_factor(
            reader,
            platform,
            endpoint_id,
            unit,
            expected_kind[summary.kind],
            (COHORT_FILE, doc.line_of(eloc), name),
            (COHORT_FILE, doc.line_of((*eloc, "unit")), f"{name}.unit"),
        )
        if not np.isfinite(factor):
            continue
        endpoint = platform.endpoint(endpoint_id)
        if isinstance(summary, PublishedGrowth):
            if summary.scale != endpoint.scale:
                reader.error(
                    COHORT_FILE,
                    doc.line_of((*eloc, "scale")),
                    f"{name}.scale",
                    f"a summary on the {summary.scale} scale for endpoint {endpoint_id!r}",
                    f"the endpoint's declared scale, {endpoint.scale} (platform.yaml), or a "
                    "summary fitted on it",
                )
                continue
            summary = _scaled_growth(summary, factor, endpoint.unit)
        elif isinstance(summary, PublishedRate) and factor != 1.0:
            summary = summary.model_copy(
                update={
                    "unit": endpoint.unit,
                    "rate_per_year": None
                    if summary.rate_per_year is None
                    else summary.rate_per_year * factor,
                    "rate_ci": None
                    if summary.rate_ci is None
                    else (summary.rate_ci[0] * factor, summary.rate_ci[1] * factor),
                }
            )
        converted[endpoint_id] = summary
    return _empty_tables(cohort, literature.model_copy(update={"endpoints": converted}))


def _scaled_growth(summary: PublishedGrowth, factor: float, unit: str) -> PublishedGrowth:
    """A continuous summary in the endpoint's unit (see :func:`_literature_cohort`)."""
    if factor == 1.0:
        return summary
    update: dict[str, object] = {"unit": unit}
    if summary.scale == "log":
        if summary.intercept is not None:
            update["intercept"] = summary.intercept + float(np.log(factor))
        return summary.model_copy(update=update)
    for name in (
        "intercept",
        "slope",
        "intercept_se",
        "slope_se",
        "sd_intercept",
        "sd_slope",
        "residual_sd",
    ):
        value = getattr(summary, name)
        if value is not None:
            update[name] = value * factor
    if summary.slope_intercept_cov is not None:
        update["slope_intercept_cov"] = summary.slope_intercept_cov * factor**2
    return summary.model_copy(update=update)


# --------------------------------------------------------------------------- patients


def _text_series(checked: CheckedTable, column: str) -> pd.Series | np.ndarray:
    """A column of ``checked`` for a pandas frame; as pandas makes it from the array of ``str``.

    pandas (3) makes an arrow string column of an object array by converting each row's
    ``str``, seconds for millions of rows; from the distinct texts arrow takes the rows at once.
    """
    encoded = checked.encodings.get(column)
    if encoded is None:
        return checked.frame[column]
    dtype = pd.Series(encoded.values[:1]).dtype  # what pandas makes of strs
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return checked.frame[column]
    texts = pa.array(encoded.values, type=pa.large_string())
    return pd.Series(pd.array(pc.take(texts, pa.array(encoded.indices)), dtype=dtype))


def _first_rows(column: EncodedColumn) -> dict:
    """Each distinct value -> the index of its first row, in the order of the rows."""
    values = column.values
    if column.indices is not None:  # the first row of each value index, then of each value
        first = np.flatnonzero(~pd.Series(column.indices).duplicated().to_numpy())
        out: dict = {}
        for i in first:
            out.setdefault(values[column.indices[i]], i)
        return out
    if len(values) >= 4096:
        first = ~pd.Series(values).duplicated().to_numpy()
        return dict(zip(values[first], np.flatnonzero(first), strict=True))
    out = {}
    for i, v in enumerate(values):
        out.setdefault(v, i)
    return out


def _mapped(column: EncodedColumn, mapping: dict) -> np.ndarray:
    """``mapping`` of each row's value as floats, NaN for a value it does not have."""
    values = column.values
    if len(values) >= 4096:
        mapped = pd.Series(values).map(mapping).to_numpy(dtype=float)
    else:
        mapped = np.array([mapping.get(v, np.nan) for v in values], dtype=float)
    return column.take(mapped)


def _groups(*columns: np.ndarray) -> dict[tuple, np.ndarray]:
    """Rows of a (small, patient-level) table grouped by the values of ``columns``."""
    out: dict[tuple, list[int]] = {}
    for i, key in enumerate(zip(*columns, strict=True)):
        out.setdefault(key, []).append(i)
    return {k: np.asarray(v) for k, v in out.items()}


_COLUMN_NAMES: dict[tuple[str, ...], pd.Index] = {}


def _frame(columns: dict[str, object]) -> pd.DataFrame:
    """``pd.DataFrame(columns)``, each column's dtype inferred as pandas does, in half the time.

    A dossier of many patients builds thousands of small frames of a few column layouts; making
    the Index of column names (arrow strings) was a third of the cost of each. ``_from_arrays``
    homogenizes the columns (broadcasting scalars, inferring text as ``str``) and consolidates
    them as the constructor does; the Index is made once per layout, and each frame gets its
    own shallow copy of it (so renaming one frame's columns touches no other).
    """
    from_arrays = getattr(pd.DataFrame, "_from_arrays", None)
    if from_arrays is None:  # a pandas without it: the public constructor, same frame
        return pd.DataFrame(columns)
    key = tuple(columns)
    names = _COLUMN_NAMES.get(key)
    if names is None:
        names = _COLUMN_NAMES[key] = pd.Index(list(key))
    return from_arrays(list(columns.values()), columns=names.copy(), index=None)


def _empty(*cols: str) -> pd.DataFrame:
    return _frame({c: pd.Series(dtype=object) for c in cols})


def _case_table(
    reader: _Reader,
    case: Case,
    doc: YamlDocument,
    pdir: str,
    field_name: str,
    dates: DateFrame,
) -> CheckedTable | None:
    ref: TableRef | None = case.table(field_name)
    if ref is None:
        return None
    rel = _join(pdir, ref.path)
    line = doc.line_of((field_name,))
    return reader.table(
        rel,
        T.PATIENT_TABLES[field_name],
        doc.path,
        field_name,
        line,
        ignore_columns=ref.ignore_columns,
        dates=dates,
    )


def _acts_on(reader: _Reader, platform: Platform, t: CheckedTable) -> list[tuple[str, ...]]:
    """The concomitant table's ``acts_on`` cells as tuples of endpoint ids, each id checked."""
    if "acts_on" not in t.frame:
        return [()] * len(t)
    separator = T.CONCOMITANT.column("acts_on").separator
    known = [e.id for e in platform.endpoints]
    cells = [
        tuple(dict.fromkeys(x.strip() for x in str(cell).split(separator) if x.strip()))
        for cell in t.frame["acts_on"]
    ]
    unknown = [[i for i in ids if platform.endpoint(i) is None] for ids in cells]

    def found(i: int) -> str:
        names = ", ".join(repr(x) for x in unknown[i])
        hint = suggest(unknown[i][0], known) if len(unknown[i]) == 1 else ""
        return f"unknown endpoint {names}{hint}"

    t.row_findings(
        reader.findings,
        np.array([bool(u) for u in unknown], dtype=bool),
        "acts_on",
        found,
        f"endpoint ids of platform.yaml separated by {separator!r}: {', '.join(known)}",
    )
    return cells


def _check_case_dates(reader: _Reader, case: Case, doc: YamlDocument, cutoff: dt.date) -> None:
    case_rel = doc.path
    dates = [d.date for d in case.dosing]
    for i, d in enumerate(dates):
        if d > cutoff:
            reader.error(
                case_rel,
                doc.line_of(("dosing", i, "date")),
                f"dosing.{i}.date",
                str(d),
                f"a date on or before the data cutoff {cutoff}",
            )
        if i and d < dates[i - 1]:
            reader.error(
                case_rel,
                doc.line_of(("dosing", i, "date")),
                f"dosing.{i}.date",
                f"{d} after {dates[i - 1]}",
                "doses in date order",
            )
    if case.outcome.date is not None:
        if case.outcome.date < case.first_dose:
            reader.error(
                case_rel,
                doc.line_of(("outcome", "date")),
                "outcome.date",
                str(case.outcome.date),
                f"a date on or after the first dose {case.first_dose}",
            )
        if case.outcome.date > cutoff:
            reader.error(
                case_rel,
                doc.line_of(("outcome", "date")),
                "outcome.date",
                str(case.outcome.date),
                f"a date on or before the data cutoff {cutoff}",
            )


def _load_patient(
    reader: _Reader, platform: Platform, cohorts: dict[str, CohortTables], case_rel: str
) -> tuple[PatientRecord, YamlDocument] | None:
    raw = reader.bytes(case_rel)
    if raw is None:
        return None
    pdir = str(PurePosixPath(case_rel).parent)
    doc = read_yaml(raw, case_rel, reader.findings)
    case = validate_model(Case, doc, reader.findings) if doc is not None else None
    if case is None:
        reader.unchecked_dirs.add(pdir)
        return None
    cutoff = platform.data_cutoff
    files = {"case": case_rel}

    disease = platform.disease(case.diagnosis.disease)
    if disease is None:
        known = [d.id for d in platform.diseases]
        reader.error(
            case_rel,
            doc.line_of(("diagnosis", "disease")),
            "diagnosis.disease",
            f"unknown disease {case.diagnosis.disease!r}{suggest(case.diagnosis.disease, known)}",
            f"one of platform.yaml's diseases: {', '.join(known)}",
        )
    elif disease.cohort not in cohorts and reader.inputs.get(COHORT_FILE):
        reader.error(
            PLATFORM_FILE,
            None,
            "diseases.cohort",
            f"disease {disease.id!r} names cohort {disease.cohort!r}",
            f"a cohort of {COHORT_FILE}",
        )
    _check_case_dates(reader, case, doc, cutoff)
    _check_assay_endpoints(reader, platform, case.assays, case_rel, doc, (), "assays")

    used = {c.name: c for c in case.therapy.components}
    for comp in platform.invariant_components:
        if comp.name not in used:
            reader.error(
                case_rel,
                doc.line_of(("therapy", "components")),
                "therapy.components",
                f"no component {comp.name!r}",
                f"the platform's invariant component {comp.name} version {comp.version}",
            )

    variants = list(case.variants)
    if case.variants_vcf is not None:
        vcf_rel = _join(pdir, case.variants_vcf)
        if (
            reader.bytes(vcf_rel, case_rel, "variants_vcf", doc.line_of(("variants_vcf",)))
            is not None
        ):
            files["variants_vcf"] = vcf_rel
            from pmpath.dossier.vcf import read_vcf_variants

            records = read_vcf_variants(reader.root / vcf_rel, vcf_rel, reader.findings)
            variants += [r.variant for r in records]
            reader.vcf_lines[case_rel] = [r.line for r in records]
    if variants and case.therapy.target_variant >= len(variants):
        reader.error(
            case_rel,
            doc.line_of(("therapy", "target_variant")),
            "therapy.target_variant",
            str(case.therapy.target_variant),
            f"an index below {len(variants)} (the number of variants)",
        )

    first = case.first_dose
    try:
        days_alive = case.diagnosis.age_at_first_dose_years * DAYS_PER_YEAR + BIRTH_MARGIN_DAYS
        earliest: dt.date | None = first - dt.timedelta(days=days_alive)
    except OverflowError:  # a first dose in the first centuries of the calendar
        earliest = None
    dates = DateFrame(first, cutoff, earliest)

    measurements = None
    t = _case_table(reader, case, doc, pdir, "measurements", dates)
    if t is not None:
        files["measurements"] = t.path
        f = t.frame
        factors = np.full(len(t), np.nan)
        if len(t):
            for (endpoint_id, unit), idx in _groups(f["endpoint"], f["unit"]).items():
                i0 = int(idx[0])
                n = len(idx)
                note = f" on {n} rows from this line on" if n > 1 else ""
                factor = _endpoint_factor(
                    reader,
                    platform,
                    endpoint_id,
                    unit,
                    EndpointKind.continuous,
                    (t.path, t.line(i0), "endpoint"),
                    (t.path, t.line(i0), "unit"),
                    note,
                )
                factors[idx] = factor
        data = {"day": f["day"], "endpoint": f["endpoint"], "value": f["value"] * factors}
        for extra in ("time", "sample_id"):
            if extra in f:
                data[extra] = f[extra]
        measurements = _frame(data)

    events = None
    t = _case_table(reader, case, doc, pdir, "events", dates)
    if t is not None:
        files["events"] = t.path
        f = t.frame
        for endpoint_id, i in _first_rows(t.encoded("endpoint")).items():
            _endpoint_factor(
                reader,
                platform,
                endpoint_id,
                None,
                (EndpointKind.count, EndpointKind.time_to_event),
                (t.path, t.line(int(i)), "endpoint"),
            )
        start, end = f["start_day"], f["end_day"]
        start_text = f["start"] if "start" in f else f["start_study_day"]
        end_text = f["end"] if "end" in f else f["end_study_day"]
        st, en = start_text, end_text
        _rows(
            reader,
            t,
            end < start,
            "end" if "end" in f else "end_study_day",
            lambda i: f"a period from {st[i]} to {en[i]}",
            "a period that ends on or after its start",
        )
        # whole days, end inclusive: a period covers [start, end + 1)
        windows = CheckedTable(
            t.path, {**f, "end_excl": end + 1}, t.lines, display=t.display, row_kind=t.row_kind
        )
        _check_windows(
            reader,
            windows,
            ["endpoint"],
            "start_day",
            "end_excl",
            lambda i: f"period {st[i]} to {en[i]}",
            "periods of one endpoint",
        )
        events = _frame(
            {"start_day": start, "end_day": end + 1, "endpoint": f["endpoint"], "count": f["count"]}
        )

    engagement = None
    t = _case_table(reader, case, doc, pdir, "engagement", dates)
    if t is not None:
        files["engagement"] = t.path
        f = t.frame
        nan = np.full(len(t), np.nan)
        edited, total = f.get("edited", nan), f.get("total", nan)
        _rows(
            reader,
            t,
            edited > total,
            "edited",
            lambda i: f"{edited[i]:g} edited of {total[i]:g}",
            "edited <= total",
        )
        by_assay = _groups(f["assay"])
        for (assay,), rows in by_assay.items():
            srcs = sorted(set(f["source"][rows]))
            if len(srcs) > 1:
                reader.error(
                    t.path,
                    t.line(int(rows[0])),
                    "source",
                    f"assay {assay!r} with sources {', '.join(srcs)} (lines {', '.join(str(t.line(int(r))) for r in rows[:6])})",
                    "one source per assay (name assays from different sources differently)",
                )
        for (assay,), rows in by_assay.items():
            values = sorted({v for v in f["minimum_fraction"][rows] if np.isfinite(v)})
            if len(values) > 1:
                reader.error(
                    t.path,
                    t.line(int(rows[0])),
                    "minimum_fraction",
                    f"assay {assay!r} with minimum fractions {', '.join(f'{v:g}' for v in values)}",
                    "one pre-specified minimum per assay",
                )
        engagement = _frame(
            {
                "assay": f["assay"],
                "source": f["source"],
                "edited": edited,
                "total": total,
                "minimum_fraction": f["minimum_fraction"],
                "replicate": np.where(f["replicate"] == "", "1", f["replicate"]).astype(object)
                if "replicate" in f
                else "1",
                "tissue": f.get("tissue", ""),
                # sequencing data the counts come from (paths relative to the dossier root)
                **check_engagement_data(reader, t, pdir),
            }
        )

    concomitant = None
    t = _case_table(reader, case, doc, pdir, "concomitant", dates)
    if t is not None:
        files["concomitant"] = t.path
        concomitant = _frame(
            {
                "day": t.frame["day"],
                "kind": t.frame["kind"],
                "description": t.frame["description"],
                "acts_on": _acts_on(reader, platform, t),
            }
        )

    adverse = None
    t = _case_table(reader, case, doc, pdir, "adverse_events", dates)
    if t is not None:
        files["adverse_events"] = t.path
        f = t.frame
        adverse = _frame(
            {
                "day": f["onset_day"],
                "term": f["term"],
                "serious": f["serious"],
                "relatedness": f["relatedness"],
                "grade": f["grade"] if "grade" in f else np.full(len(t), np.nan),
            }
        )

    offtarget = None
    t = _case_table(reader, case, doc, pdir, "offtarget", dates)
    if t is not None:
        files["offtarget"] = t.path
        offtarget = _offtarget_rows(reader, case, t)

    if measurements is None:
        measurements = _empty("day", "endpoint", "value")
    if events is None:
        events = _empty("start_day", "end_day", "endpoint", "count")
    if engagement is None:
        engagement = _empty(
            "assay", "source", "edited", "total", "minimum_fraction", "replicate", "tissue"
        )  # the sequencing-data columns exist only when a table was read
    if concomitant is None:
        concomitant = _empty("day", "kind", "description", "acts_on")
    if adverse is None:
        adverse = _empty("day", "term", "serious", "relatedness", "grade")
    record = PatientRecord(
        case, pdir, variants, measurements, events, engagement, concomitant, adverse, files
    )
    if offtarget is not None:
        record.offtarget = offtarget
    return record, doc


def _offtarget_rows(reader: _Reader, case: Case, t: CheckedTable) -> pd.DataFrame:
    """The off-target table's rows for the therapy's own spacer; rows of other guides are a warning."""
    f = t.frame
    columns = [c.name for c in T.OFFTARGET.columns]
    frame = pd.DataFrame({c: f[c] if c in f else np.full(len(t), np.nan) for c in columns})
    spacers = frame["aligned_guide"].astype(str).str.replace("-", "", regex=False)
    spacer = case.therapy.targeting_sequence.upper()
    own = spacers.str.upper().str.startswith(spacer) & (spacers.str.len() >= len(spacer))
    if len(frame) and not own.any():
        reader.error(
            t.path,
            t.line(0),
            "aligned_guide",
            f"no site of the therapy's spacer {spacer} (guides: {', '.join(sorted(set(frame['guide'].astype(str))))})",
            "the SITES.tsv that `pmpath mechanism offtarget` wrote for the therapy's targeting_sequence",
        )
    elif not own.all():
        others = sorted(set(frame.loc[~own, "guide"].astype(str)))
        reader.warn(
            t.path,
            t.line(int(np.flatnonzero(~own.to_numpy())[0])),
            "guide",
            f"{int((~own).sum())} rows of other guides ({', '.join(others)}), not used",
            "only the therapy's own guide's sites (the others are not this patient's therapy)",
        )
    if "patient_specific" in f:
        frame["patient_specific"] = (
            pd.Series(f["patient_specific"]).fillna(False).astype(bool).to_numpy()
        )
    else:
        frame["patient_specific"] = False
    return frame[own.to_numpy()].reset_index(drop=True)


# --------------------------------------------------------------------------- the whole dossier


def _case_files(reader: _Reader) -> list[str]:
    """Every folder under patients/ is a patient (with case.yaml) or a finding."""
    pdir = reader.root / PATIENTS_DIR
    out: list[str] = []
    if not pdir.is_dir():
        return out
    try:
        entries = sorted(os.scandir(pdir), key=lambda e: e.name)
    except OSError as exc:
        reader.error(
            PATIENTS_DIR,
            None,
            "",
            f"a folder that cannot be listed ({exc.strerror})",
            "a readable folder",
        )
        return out
    for entry in entries:
        rel = f"{PATIENTS_DIR}/{entry.name}"
        if entry.name.startswith(".") or not entry.is_dir():
            continue  # files are covered by the inventory
        case = Path(entry.path) / CASE_FILE
        if case.is_file():
            out.append(f"{rel}/{CASE_FILE}")
            continue
        try:
            names = sorted(os.listdir(entry.path))
        except OSError:
            names = []
        lookalikes = [
            n
            for n in names
            if n.lower() in ("case.yaml", "case.yml") or n.lower().startswith("case.")
        ]
        if lookalikes:
            reader.error(
                f"{rel}/{lookalikes[0]}",
                None,
                "",
                f"a patient folder whose case file is named {lookalikes[0]!r}",
                f"{CASE_FILE!r} (rename it; pmpath reads only {CASE_FILE})",
            )
        else:
            reader.error(
                rel,
                None,
                "",
                f"a folder under {PATIENTS_DIR}/ without {CASE_FILE}"
                + (f" (it holds {', '.join(names[:5])})" if names else " (it is empty)"),
                f"one folder per dosed patient, each with {CASE_FILE} (move other material out of {PATIENTS_DIR}/)",
            )
    return out


def _inventory(reader: _Reader) -> None:
    """Every file in the dossier is read, a known companion, or a warning."""
    root = reader.root
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in VCS_DIRS)
        for name in sorted(filenames):
            rel = Path(dirpath, name).relative_to(root).as_posix()
            if rel in reader.inputs:
                continue
            if any(rel.startswith(d + "/") for d in reader.unchecked_dirs):
                continue
            lower = name.lower()
            if lower in COMPANION_NAMES:
                continue
            if lower.endswith(COMPANION_SUFFIXES) and rel.rsplit(".", 1)[0] in reader.inputs:
                continue
            if lower.endswith(".gzi") or (
                lower.endswith(".fai") and rel[: -len(".fai")] in reader.inputs
            ):
                continue
            reader.warn(
                rel,
                None,
                "",
                "a file no YAML file of the dossier references (it was not used)",
                "every file to be referenced from platform.yaml, cohort.yaml or a case.yaml, or removed",
            )


def _check_reference(
    reader: _Reader, platform: Platform, patients: list[tuple[PatientRecord, YamlDocument | None]]
) -> None:
    from pmpath.dossier.reference_check import ReferenceTarget, check_reference

    vcf_lines = reader.vcf_lines
    targets = []
    for record, doc in patients:
        case_rel = record.files["case"]
        inline = len(record.case.variants)
        for vi, v in enumerate(record.variants):
            if vi < inline:
                targets.append(
                    ReferenceTarget.of_variant(
                        v,
                        case_rel,
                        doc.line_of(("variants", vi, "pos")),
                        f"variants.{vi}.pos",
                        ref_line=doc.line_of(("variants", vi, "ref")),
                        ref_field=f"variants.{vi}.ref",
                    )
                )
            else:  # from the VCF, at the record's own line
                lines = vcf_lines.get(case_rel, [])
                line = lines[vi - inline] if vi - inline < len(lines) else None
                src = record.files.get("variants_vcf", case_rel)
                targets.append(ReferenceTarget.of_variant(v, src, line, "POS", ref_field="REF"))
        site = record.case.therapy.acts_on
        if site is not None:
            targets.append(
                ReferenceTarget.of_site(
                    site, case_rel, doc.line_of(("therapy", "acts_on")), "therapy.acts_on"
                )
            )
    reader.findings.extend(check_reference(reader.root, platform.reference_fasta, targets))


def load_dossier(
    path: str | Path, *, strict: bool = False, progress: Progress | None = None
) -> Dossier:
    """Load and validate the dossier at ``path``.

    Raises :class:`DossierError` listing every finding when any is an error (with ``strict``, when
    there is any finding at all); warnings of a valid dossier are in :attr:`Dossier.warnings`.
    ``progress`` receives a line for each long step.
    """
    root = Path(path)
    if not root.is_dir():
        raise DossierError(
            [
                Finding(
                    str(path),
                    None,
                    "",
                    "no directory" if not root.exists() else "a file, not a directory",
                    f"a dossier directory with {PLATFORM_FILE}",
                )
            ]
        )
    reader = _Reader(root, progress)
    platform, pdoc = _load_platform(reader)
    if platform is None:
        raise DossierError(reader.findings)
    fasta_ok = (
        reader.bytes(
            platform.reference_fasta,
            PLATFORM_FILE,
            "reference_fasta",
            pdoc.line_of(("reference_fasta",)),
        )
        is not None
    )
    if platform.annotation is not None:
        # hashed as an input here; read (gffutils) by criterion 2, whose errors name the file
        reader.bytes(
            platform.annotation, PLATFORM_FILE, "annotation", pdoc.line_of(("annotation",))
        )
    cohorts = _load_cohorts(reader, platform)
    case_files = _case_files(reader)
    if progress is not None and len(case_files) >= 50:
        progress(f"validating {len(case_files)} patients")
    patients: list[PatientRecord] = []
    docs: list[tuple[PatientRecord, YamlDocument]] = []
    seen: dict[str, str] = {}
    for case_rel in case_files:
        loaded = _load_patient(reader, platform, cohorts, case_rel)
        if loaded is None:
            continue
        record, case_doc = loaded
        if record.id in seen:
            reader.error(
                case_rel,
                case_doc.line_of(("id",)),
                "id",
                f"patient id {record.id!r}, also in {seen[record.id]}",
                "each patient once",
            )
            continue
        seen[record.id] = case_rel
        patients.append(record)
        docs.append((record, case_doc))
    if fasta_ok:
        _check_reference(reader, platform, docs)
    _inventory(reader)
    patients.sort(key=lambda p: (p.first_dose, p.id))
    if patients and platform.analysis_plan.fixed_on > patients[0].first_dose:
        reader.warn(
            PLATFORM_FILE,
            pdoc.line_of(("analysis_plan", "fixed_on")),
            "analysis_plan.fixed_on",
            f"a plan fixed on {platform.analysis_plan.fixed_on}, after the platform's first dose {patients[0].first_dose}",
            "an analysis plan fixed before the first patient was dosed",
        )
    findings = reader.findings
    if strict:
        findings = [f.as_error() for f in findings]
    if any(f.severity is Severity.error for f in findings):
        raise DossierError(findings)
    return Dossier(
        root,
        platform,
        cohorts,
        patients,
        dict(sorted(reader.inputs.items())),
        plan_hash(platform),
        sorted(findings, key=lambda f: f.sort_key),
        dict(sorted(reader.ignored_columns.items())),
    )
