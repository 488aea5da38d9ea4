"""Loading a dossier directory into typed, unit-checked data, collecting every problem on the way.

`load_dossier` either returns a complete :class:`Dossier` or raises :class:`DossierError` with all
findings at once (`pmpath validate` prints them). Time inside pmpath is days from first dose
(study day 1 = day 0, CDISC convention: there is no study day 0) and ages in years from birth.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from pmpath.dossier.model import (
    CONCOMITANT_KINDS,
    ENGAGEMENT_SOURCES,
    RELATEDNESS,
    Case,
    Cohort,
    CohortFile,
    EndpointKind,
    EventData,
    LongitudinalData,
    Platform,
    TimeToEventData,
    Variant,
)
from pmpath.dossier.source import (
    Table,
    YamlDocument,
    read_table,
    read_yaml,
    sha256_bytes,
    validate_model,
)
from pmpath.dossier.units import UnitError, conversion_factor
from pmpath.errors import DossierError, Finding

PLATFORM_FILE = "platform.yaml"
COHORT_FILE = "natural_history/cohort.yaml"
PATIENTS_DIR = "patients"
DAYS_PER_YEAR = 365.25


@dataclass
class CohortTables:
    """A natural-history cohort with its tables, values in each endpoint's declared unit."""

    cohort: Cohort
    subjects: pd.DataFrame  # subject, and any of genotype_class, age_at_onset, sex
    longitudinal: pd.DataFrame  # subject, age, endpoint, value
    events: pd.DataFrame  # subject, age_start, age_end, endpoint, count
    time_to_event: pd.DataFrame  # subject, age, event, endpoint
    files: list[str] = field(default_factory=list)


@dataclass
class PatientRecord:
    """One patient's case with its tables; times are days from first dose."""

    case: Case
    directory: str  # relative POSIX path of the patient's folder
    variants: list[Variant]
    measurements: pd.DataFrame  # day, endpoint, value
    events: pd.DataFrame  # start_day, end_day, endpoint, count
    engagement: pd.DataFrame  # assay, source, edited, total, minimum_fraction, replicate, tissue
    concomitant: pd.DataFrame  # day, kind, description
    adverse_events: pd.DataFrame  # day, term, serious, relatedness, grade
    files: dict[str, str] = field(default_factory=dict)  # role -> relative path

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

    def cohort_for(self, patient: PatientRecord) -> CohortTables | None:
        disease = self.platform.disease(patient.case.diagnosis.disease)
        return self.cohorts.get(disease.cohort) if disease else None


class _Reader:
    """Reads files below the dossier root, hashing each and turning problems into findings."""

    def __init__(self, root: Path):
        self.root = root
        self.findings: list[Finding] = []
        self.warnings: list[Finding] = []
        self.inputs: dict[str, str] = {}

    def bytes(
        self,
        rel: str,
        referenced_from: str | None = None,
        field_name: str = "",
        line: int | None = None,
    ) -> bytes | None:
        full = (self.root / rel).resolve()
        try:
            full.relative_to(self.root.resolve())
        except ValueError:
            self.findings.append(
                Finding(
                    referenced_from or rel,
                    line,
                    field_name,
                    f"found {rel!r}, expected a path inside the dossier",
                )
            )
            return None
        if not full.is_file():
            where = referenced_from or rel
            self.findings.append(
                Finding(
                    where,
                    line,
                    field_name,
                    f"referenced file {rel!r} does not exist, expected a file in the dossier",
                )
            )
            return None
        raw = full.read_bytes()
        self.inputs[rel] = sha256_bytes(raw)
        return raw

    def error(self, path: str, line: int | None, field_name: str, message: str) -> None:
        self.findings.append(Finding(path, line, field_name, message))


def _join(base_dir: str, rel: str) -> str:
    return str(PurePosixPath(base_dir) / rel) if base_dir else rel


# --------------------------------------------------------------------------- typed columns


def _numbers(
    table: Table,
    column: str,
    reader: _Reader,
    *,
    integer: bool = False,
    minimum: float | None = None,
) -> np.ndarray:
    out = np.full(len(table.frame), np.nan)
    for i, text in enumerate(table.frame[column].astype(str)):
        text = text.strip()
        try:
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
            if integer and value != int(value):
                raise ValueError
        except ValueError:
            kind = "a whole number" if integer else "a number"
            reader.error(table.path, table.line(i), column, f"found {text!r}, expected {kind}")
            continue
        if minimum is not None and value < minimum:
            reader.error(
                table.path, table.line(i), column, f"found {text}, expected a value >= {minimum:g}"
            )
            continue
        out[i] = value
    return out


def _booleans(table: Table, column: str, reader: _Reader) -> list[bool | None]:
    out: list[bool | None] = []
    for i, text in enumerate(table.frame[column].astype(str)):
        t = text.strip().lower()
        if t in ("true", "yes", "1", "y"):
            out.append(True)
        elif t in ("false", "no", "0", "n"):
            out.append(False)
        else:
            reader.error(
                table.path, table.line(i), column, f"found {text!r}, expected true or false"
            )
            out.append(None)
    return out


def _choices(table: Table, column: str, allowed: tuple[str, ...], reader: _Reader) -> None:
    for i, text in enumerate(table.frame[column].astype(str)):
        if text.strip() not in allowed:
            reader.error(
                table.path,
                table.line(i),
                column,
                f"found {text!r}, expected one of {', '.join(allowed)}",
            )


def _require_columns(table: Table, required: tuple[str, ...], reader: _Reader) -> bool:
    missing = [c for c in required if c not in table.frame.columns]
    if missing:
        reader.error(
            table.path,
            1,
            ", ".join(missing),
            f"missing column(s); found {list(table.frame.columns)}, expected {list(required)}",
        )
    return not missing


def _days(
    table: Table, name: str, first_dose: dt.date, cutoff: dt.date, reader: _Reader
) -> np.ndarray | None:
    """Column `name` (ISO date) or `name_study_day`/`study_day` (CDISC study day) -> days from first dose."""
    study_col = "study_day" if name == "date" else f"{name}_study_day"
    frame = table.frame
    if name not in frame.columns and study_col not in frame.columns:
        reader.error(
            table.path,
            1,
            name,
            f"missing column; expected {name!r} (ISO date) or {study_col!r} (study day, 1 = first dose)",
        )
        return None
    out = np.full(len(frame), np.nan)
    for i in range(len(frame)):
        date_text = str(frame[name].iloc[i]).strip() if name in frame.columns else ""
        day_text = str(frame[study_col].iloc[i]).strip() if study_col in frame.columns else ""
        if date_text:
            try:
                date = dt.date.fromisoformat(date_text)
            except ValueError:
                reader.error(
                    table.path,
                    table.line(i),
                    name,
                    f"found {date_text!r}, expected an ISO date (YYYY-MM-DD)",
                )
                continue
            if date > cutoff:
                reader.error(
                    table.path,
                    table.line(i),
                    name,
                    f"found {date}, expected a date on or before the data cutoff {cutoff}",
                )
                continue
            out[i] = (date - first_dose).days
        elif day_text:
            try:
                study_day = int(day_text)
            except ValueError:
                reader.error(
                    table.path,
                    table.line(i),
                    study_col,
                    f"found {day_text!r}, expected a whole study day",
                )
                continue
            if study_day == 0:
                reader.error(
                    table.path,
                    table.line(i),
                    study_col,
                    "found 0, expected a study day other than 0 (day 1 is the first dose, day -1 the day before)",
                )
                continue
            day = study_day - 1 if study_day > 0 else study_day
            if first_dose + dt.timedelta(days=day) > cutoff:
                reader.error(
                    table.path,
                    table.line(i),
                    study_col,
                    f"found study day {study_day} ({first_dose + dt.timedelta(days=day)}), expected a day on or before the data cutoff {cutoff}",
                )
                continue
            out[i] = day
        else:
            reader.error(
                table.path, table.line(i), name, f"empty, expected {name!r} or {study_col!r}"
            )
    return out


# --------------------------------------------------------------------------- platform


def _load_platform(reader: _Reader) -> tuple[Platform | None, YamlDocument | None]:
    raw = reader.bytes(PLATFORM_FILE)
    if raw is None:
        return None, None
    doc = read_yaml(raw, PLATFORM_FILE, reader.findings)
    if doc is None:
        return None, None
    platform = validate_model(Platform, doc, reader.findings)
    if platform is not None:
        reader.bytes(
            platform.reference_fasta,
            PLATFORM_FILE,
            "reference_fasta",
            doc.line_of(("reference_fasta",)),
        )
    return platform, doc


def load_platform(path: str | Path) -> Platform:
    """Read and validate only ``platform.yaml`` of the dossier at ``path``; raises DossierError."""
    reader = _Reader(Path(path))
    platform, _ = _load_platform(reader)
    if platform is None or reader.findings:
        raise DossierError(reader.findings)
    return platform


def plan_hash(platform: Platform) -> str:
    """SHA-256 of the analysis plan in canonical JSON: changes when any threshold changes."""
    payload = json.dumps(
        platform.analysis_plan.model_dump(mode="json"), sort_keys=True, separators=(",", ":")
    )
    return sha256_bytes(payload.encode())


# --------------------------------------------------------------------------- natural history


def _unit_factor(
    reader: _Reader,
    path: str,
    line: int | None,
    field_name: str,
    platform: Platform,
    endpoint_id: str,
    unit: str,
) -> float | None:
    endpoint = platform.endpoint(endpoint_id)
    if endpoint is None:
        known = ", ".join(e.id for e in platform.endpoints)
        reader.error(
            path,
            line,
            field_name,
            f"unknown endpoint {endpoint_id!r}, expected one of platform.yaml's endpoints: {known}",
        )
        return None
    try:
        return conversion_factor(unit, endpoint.unit)
    except UnitError as exc:
        reader.error(
            path,
            line,
            field_name,
            f"unit mismatch for endpoint {endpoint_id!r}: found {unit!r}, expected {endpoint.unit!r} ({exc})",
        )
        return None


def _cohort_factor(
    reader: _Reader,
    doc: YamlDocument,
    dloc: tuple,
    spec,
    table: Table,
    i: int,
    platform: Platform,
    endpoint_id: str,
    expected_kind: EndpointKind,
) -> float:
    """Unit factor for one endpoint in one cohort data file; NaN (with a finding) when unusable."""
    endpoint = platform.endpoint(endpoint_id)
    if endpoint is None:
        reader.error(
            table.path,
            table.line(i),
            "endpoint",
            f"unknown endpoint {endpoint_id!r}, expected one of platform.yaml's endpoints: {', '.join(e.id for e in platform.endpoints)}",
        )
        return np.nan
    if endpoint.kind != expected_kind:
        reader.error(
            table.path,
            table.line(i),
            "endpoint",
            f"endpoint {endpoint_id!r} is {endpoint.kind.value}, expected a {expected_kind.value} endpoint in a {spec.kind} file",
        )
        return np.nan
    if spec.kind == "time_to_event":
        return 1.0
    unit = spec.units.get(endpoint_id)
    field_name = ".".join(map(str, (*dloc, "units")))
    if unit is None:
        reader.error(
            COHORT_FILE,
            doc.line_of((*dloc, "units")),
            field_name,
            f"no unit declared for endpoint {endpoint_id!r}, expected units: {{{endpoint_id}: {endpoint.unit}}}",
        )
        return np.nan
    factor = _unit_factor(
        reader,
        COHORT_FILE,
        doc.line_of((*dloc, "units", endpoint_id)),
        f"{field_name}.{endpoint_id}",
        platform,
        endpoint_id,
        unit,
    )
    return np.nan if factor is None else factor


def _cohort_table(reader: _Reader, spec, base: str, doc: YamlDocument, loc: tuple) -> Table | None:
    rel = _join(base, spec.path)
    raw = reader.bytes(
        rel, doc.path, ".".join(map(str, (*loc, "path"))), doc.line_of((*loc, "path"))
    )
    if raw is None:
        return None
    table = read_table(raw, rel, reader.findings)
    if table is None:
        return None
    table.frame = table.frame.rename(columns={v: k for k, v in spec.columns.items()})
    return table


def _load_cohorts(reader: _Reader, platform: Platform) -> dict[str, CohortTables]:
    raw = reader.bytes(COHORT_FILE)
    if raw is None:
        return {}
    doc = read_yaml(raw, COHORT_FILE, reader.findings)
    if doc is None:
        return {}
    cohort_file = validate_model(CohortFile, doc, reader.findings)
    if cohort_file is None:
        return {}
    base = "natural_history"
    out: dict[str, CohortTables] = {}
    for ci, cohort in enumerate(cohort_file.cohorts):
        loc = ("cohorts", ci)
        if cohort.id in out:
            reader.error(
                COHORT_FILE,
                doc.line_of((*loc, "id")),
                f"cohorts.{ci}.id",
                f"duplicate cohort id {cohort.id!r}, expected each id once",
            )
            continue
        if platform.disease(cohort.disease) is None:
            reader.error(
                COHORT_FILE,
                doc.line_of((*loc, "disease")),
                f"cohorts.{ci}.disease",
                f"unknown disease {cohort.disease!r}, expected one of platform.yaml's diseases: {', '.join(d.id for d in platform.diseases)}",
            )
        files: list[str] = []
        subjects = _cohort_table(reader, cohort.subjects, base, doc, (*loc, "subjects"))
        subject_frame = pd.DataFrame({"subject": pd.Series(dtype=str)})
        if subjects is not None and _require_columns(subjects, ("subject",), reader):
            files.append(subjects.path)
            subject_frame = subjects.frame[
                [
                    c
                    for c in ("subject", "genotype_class", "age_at_onset", "sex")
                    if c in subjects.frame.columns
                ]
            ].copy()
            if "age_at_onset" in subject_frame:
                subject_frame["age_at_onset"] = _numbers(
                    subjects, "age_at_onset", reader, minimum=0
                )
            dupes = subject_frame["subject"][subject_frame["subject"].duplicated()].unique()
            for d in dupes:
                reader.error(
                    subjects.path,
                    None,
                    "subject",
                    f"duplicate subject {d!r}, expected one row per subject",
                )
        known_subjects = set(subject_frame["subject"])
        parts: dict[str, list[pd.DataFrame]] = {
            "longitudinal": [],
            "events": [],
            "time_to_event": [],
        }
        for di, spec in enumerate(cohort.data):
            dloc = (*loc, "data", di)
            table = _cohort_table(reader, spec, base, doc, dloc)
            if table is None:
                continue
            files.append(table.path)
            if isinstance(spec, LongitudinalData):
                cols = ("subject", "age", "endpoint", "value")
            elif isinstance(spec, EventData):
                cols = ("subject", "age_start", "age_end", "endpoint", "count")
            else:
                cols = ("subject", "age", "event", "endpoint")
            if not _require_columns(table, cols, reader):
                continue
            frame = table.frame[list(cols)].copy()
            expected_kind = {
                LongitudinalData: EndpointKind.continuous,
                EventData: EndpointKind.count,
                TimeToEventData: EndpointKind.time_to_event,
            }[type(spec)]
            factor_of: dict[str, float] = {}  # one finding per endpoint and file, not per row
            for i, endpoint_id in enumerate(frame["endpoint"]):
                if endpoint_id not in factor_of:
                    factor_of[endpoint_id] = _cohort_factor(
                        reader, doc, dloc, spec, table, i, platform, endpoint_id, expected_kind
                    )
            factors = frame["endpoint"].map(factor_of).to_numpy(dtype=float)
            if known_subjects:
                for i, s in enumerate(frame["subject"]):
                    if s not in known_subjects:
                        reader.error(
                            table.path,
                            table.line(i),
                            "subject",
                            f"subject {s!r} is not in the subjects table {cohort.subjects.path!r}",
                        )
            if isinstance(spec, LongitudinalData):
                frame["age"] = _numbers(table, "age", reader, minimum=0)
                frame["value"] = _numbers(table, "value", reader) * factors
            elif isinstance(spec, EventData):
                frame["age_start"] = _numbers(table, "age_start", reader, minimum=0)
                frame["age_end"] = _numbers(table, "age_end", reader, minimum=0)
                frame["count"] = _numbers(table, "count", reader, integer=True, minimum=0)
                for i in np.flatnonzero(
                    frame["age_end"].to_numpy() <= frame["age_start"].to_numpy()
                ):
                    reader.error(
                        table.path,
                        table.line(int(i)),
                        "age_end",
                        f"found {frame['age_end'].iloc[i]:g} <= age_start {frame['age_start'].iloc[i]:g}, expected the window to end after it starts",
                    )
            else:
                frame["age"] = _numbers(table, "age", reader, minimum=0)
                frame["event"] = _numbers(table, "event", reader, integer=True, minimum=0)
                for i in np.flatnonzero(frame["event"].to_numpy() > 1):
                    reader.error(
                        table.path,
                        table.line(int(i)),
                        "event",
                        f"found {frame['event'].iloc[i]:g}, expected 1 (event) or 0 (censored)",
                    )
            parts[spec.kind].append(frame)

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


# --------------------------------------------------------------------------- patients


def _empty(*cols: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})


def _case_table(
    reader: _Reader,
    patient_dir: str,
    rel: str | None,
    doc: YamlDocument,
    field_name: str,
    required: tuple[str, ...],
) -> Table | None:
    if rel is None:
        return None
    full_rel = _join(patient_dir, rel)
    raw = reader.bytes(full_rel, doc.path, field_name, doc.line_of((field_name,)))
    if raw is None:
        return None
    table = read_table(raw, full_rel, reader.findings)
    if table is None or not _require_columns(table, required, reader):
        return None
    return table


def _load_patient(
    reader: _Reader, platform: Platform, cohorts: dict[str, CohortTables], case_rel: str
) -> PatientRecord | None:
    raw = reader.bytes(case_rel)
    if raw is None:
        return None
    doc = read_yaml(raw, case_rel, reader.findings)
    if doc is None:
        return None
    case = validate_model(Case, doc, reader.findings)
    if case is None:
        return None
    pdir = str(PurePosixPath(case_rel).parent)
    cutoff = platform.data_cutoff
    files = {"case": case_rel}

    # diagnosis and disease
    disease = platform.disease(case.diagnosis.disease)
    if disease is None:
        reader.error(
            case_rel,
            doc.line_of(("diagnosis", "disease")),
            "diagnosis.disease",
            f"unknown disease {case.diagnosis.disease!r}, expected one of platform.yaml's diseases: {', '.join(d.id for d in platform.diseases)}",
        )
    elif disease.cohort not in cohorts:
        reader.error(
            PLATFORM_FILE,
            None,
            "diseases.cohort",
            f"disease {disease.id!r} names cohort {disease.cohort!r}, which is not in {COHORT_FILE}",
        )

    # dosing dates: in order, not after the cutoff
    dates = [d.date for d in case.dosing]
    for i, d in enumerate(dates):
        if d > cutoff:
            reader.error(
                case_rel,
                doc.line_of(("dosing", i, "date")),
                f"dosing.{i}.date",
                f"found {d}, expected a date on or before the data cutoff {cutoff}",
            )
        if i and d < dates[i - 1]:
            reader.error(
                case_rel,
                doc.line_of(("dosing", i, "date")),
                f"dosing.{i}.date",
                f"found {d} after {dates[i - 1]}, expected doses in date order",
            )
    if case.outcome.date is not None:
        if case.outcome.date < case.first_dose:
            reader.error(
                case_rel,
                doc.line_of(("outcome", "date")),
                "outcome.date",
                f"found {case.outcome.date}, expected a date on or after the first dose {case.first_dose}",
            )
        if case.outcome.date > cutoff:
            reader.error(
                case_rel,
                doc.line_of(("outcome", "date")),
                "outcome.date",
                f"found {case.outcome.date}, expected a date on or before the data cutoff {cutoff}",
            )

    # the product declares the platform's invariant components
    used = {c.name: c for c in case.therapy.components}
    for comp in platform.invariant_components:
        if comp.name not in used:
            reader.error(
                case_rel,
                doc.line_of(("therapy", "components")),
                "therapy.components",
                f"does not declare the platform's invariant component {comp.name!r}, expected {comp.name} version {comp.version}",
            )

    # variants, inline or from a VCF
    variants = list(case.variants)
    if case.variants_vcf is not None:
        vcf_rel = _join(pdir, case.variants_vcf)
        if (
            reader.bytes(vcf_rel, case_rel, "variants_vcf", doc.line_of(("variants_vcf",)))
            is not None
        ):
            files["variants_vcf"] = vcf_rel
            from pmpath.dossier.vcf import read_variants

            variants += read_variants(reader.root / vcf_rel, vcf_rel, reader.findings)
    if case.therapy.target_variant >= max(len(variants), 1) and variants:
        reader.error(
            case_rel,
            doc.line_of(("therapy", "target_variant")),
            "therapy.target_variant",
            f"found {case.therapy.target_variant}, expected an index below {len(variants)} (the number of variants)",
        )

    first = case.first_dose

    # measurements
    measurements = _empty("day", "endpoint", "value")
    t = _case_table(
        reader, pdir, case.measurements, doc, "measurements", ("endpoint", "value", "unit")
    )
    if t is not None:
        files["measurements"] = t.path
        days = _days(t, "date", first, cutoff, reader)
        values = _numbers(t, "value", reader)
        for i, (endpoint_id, unit) in enumerate(
            zip(t.frame["endpoint"], t.frame["unit"], strict=True)
        ):
            endpoint = platform.endpoint(endpoint_id)
            if endpoint is not None and endpoint.kind != EndpointKind.continuous:
                reader.error(
                    t.path,
                    t.line(i),
                    "endpoint",
                    f"endpoint {endpoint_id!r} is {endpoint.kind.value}, expected a continuous endpoint in measurements (counts go in events)",
                )
                continue
            factor = _unit_factor(
                reader,
                t.path,
                t.line(i),
                "unit" if endpoint else "endpoint",
                platform,
                endpoint_id,
                unit.strip(),
            )
            values[i] = values[i] * factor if factor is not None else np.nan
        if days is not None:
            measurements = pd.DataFrame(
                {"day": days, "endpoint": t.frame["endpoint"], "value": values}
            )

    # events: counts over periods
    events = _empty("start_day", "end_day", "endpoint", "count")
    t = _case_table(reader, pdir, case.events, doc, "events", ("endpoint", "count"))
    if t is not None:
        files["events"] = t.path
        start = _days(t, "start", first, cutoff, reader)
        end = _days(t, "end", first, cutoff, reader)
        counts = _numbers(t, "count", reader, integer=True, minimum=0)
        for i, endpoint_id in enumerate(t.frame["endpoint"]):
            endpoint = platform.endpoint(endpoint_id)
            if endpoint is None:
                reader.error(
                    t.path,
                    t.line(i),
                    "endpoint",
                    f"unknown endpoint {endpoint_id!r}, expected one of platform.yaml's endpoints: {', '.join(e.id for e in platform.endpoints)}",
                )
            elif endpoint.kind != EndpointKind.count:
                reader.error(
                    t.path,
                    t.line(i),
                    "endpoint",
                    f"endpoint {endpoint_id!r} is {endpoint.kind.value}, expected a count endpoint in events",
                )
        if start is not None and end is not None:
            for i in np.flatnonzero(end < start):
                reader.error(
                    t.path,
                    t.line(int(i)),
                    "end",
                    "dates out of order: the period ends before it starts, expected end on or after start",
                )
            # an event period covers whole days: end inclusive
            events = pd.DataFrame(
                {
                    "start_day": start,
                    "end_day": end + 1,
                    "endpoint": t.frame["endpoint"],
                    "count": counts,
                }
            )

    # engagement assays
    engagement = _empty(
        "assay", "source", "edited", "total", "minimum_fraction", "replicate", "tissue"
    )
    t = _case_table(
        reader,
        pdir,
        case.engagement,
        doc,
        "engagement",
        ("assay", "source", "edited", "total", "minimum_fraction"),
    )
    if t is not None:
        files["engagement"] = t.path
        _choices(t, "source", ENGAGEMENT_SOURCES, reader)
        edited = _numbers(t, "edited", reader, integer=True, minimum=0)
        total = _numbers(t, "total", reader, integer=True, minimum=1)
        minimum = _numbers(t, "minimum_fraction", reader, minimum=0)
        for i in np.flatnonzero(edited > total):
            reader.error(
                t.path,
                t.line(int(i)),
                "edited",
                f"found {edited[i]:g} edited of {total[i]:g}, expected edited <= total",
            )
        for i in np.flatnonzero(minimum > 1):
            reader.error(
                t.path,
                t.line(int(i)),
                "minimum_fraction",
                f"found {minimum[i]:g}, expected a fraction between 0 and 1",
            )
        engagement = pd.DataFrame(
            {
                "assay": t.frame["assay"].str.strip(),
                "source": t.frame["source"].str.strip(),
                "edited": edited,
                "total": total,
                "minimum_fraction": minimum,
                "replicate": t.frame.get("replicate", "1"),
                "tissue": t.frame.get("tissue", ""),
            }
        )

    # concomitant changes
    concomitant = _empty("day", "kind", "description")
    t = _case_table(reader, pdir, case.concomitant, doc, "concomitant", ("kind", "description"))
    if t is not None:
        files["concomitant"] = t.path
        _choices(t, "kind", CONCOMITANT_KINDS, reader)
        days = _days(t, "date", first, cutoff, reader)
        if days is not None:
            concomitant = pd.DataFrame(
                {
                    "day": days,
                    "kind": t.frame["kind"].str.strip(),
                    "description": t.frame["description"],
                }
            )

    # adverse events
    adverse = _empty("day", "term", "serious", "relatedness", "grade")
    t = _case_table(
        reader, pdir, case.adverse_events, doc, "adverse_events", ("term", "serious", "relatedness")
    )
    if t is not None:
        files["adverse_events"] = t.path
        _choices(t, "relatedness", RELATEDNESS, reader)
        days = _days(t, "onset", first, cutoff, reader)
        grade = (
            _numbers(t, "grade", reader, integer=True, minimum=1)
            if "grade" in t.frame
            else np.full(len(t.frame), np.nan)
        )
        if days is not None:
            adverse = pd.DataFrame(
                {
                    "day": days,
                    "term": t.frame["term"],
                    "serious": _booleans(t, "serious", reader),
                    "relatedness": t.frame["relatedness"].str.strip(),
                    "grade": grade,
                }
            )

    return PatientRecord(
        case, pdir, variants, measurements, events, engagement, concomitant, adverse, files
    )


def load_dossier(path: str | Path) -> Dossier:
    """Load and validate the dossier at ``path``; raises DossierError listing every problem found."""
    root = Path(path)
    if not root.is_dir():
        raise DossierError(
            [
                Finding(
                    str(path),
                    None,
                    "",
                    "not a directory, expected a dossier directory with platform.yaml",
                )
            ]
        )
    reader = _Reader(root)
    platform, _ = _load_platform(reader)
    if platform is None:
        raise DossierError(reader.findings)
    cohorts = _load_cohorts(reader, platform)
    patients: list[PatientRecord] = []
    case_files = sorted(
        p.relative_to(root).as_posix() for p in (root / PATIENTS_DIR).glob("*/case.yaml")
    )
    seen: dict[str, str] = {}
    for case_rel in case_files:
        record = _load_patient(reader, platform, cohorts, case_rel)
        if record is None:
            continue
        if record.id in seen:
            reader.error(
                case_rel,
                1,
                "id",
                f"duplicate patient id {record.id!r} (also in {seen[record.id]}), expected each patient once",
            )
            continue
        seen[record.id] = case_rel
        patients.append(record)
    if reader.findings:
        raise DossierError(reader.findings)
    patients.sort(key=lambda p: (p.first_dose, p.id))
    if patients and platform.analysis_plan.fixed_on > patients[0].first_dose:
        reader.warnings.append(
            Finding(
                PLATFORM_FILE,
                None,
                "analysis_plan.fixed_on",
                f"the analysis plan was fixed on {platform.analysis_plan.fixed_on}, after the platform's first dose {patients[0].first_dose}",
            )
        )
    return Dossier(
        root,
        platform,
        cohorts,
        patients,
        dict(sorted(reader.inputs.items())),
        plan_hash(platform),
        reader.warnings,
    )
