"""The dossier writer is the inverse of loading: what it writes loads back to the same dossier.

The round-trip property runs over generated dossiers (random but valid: unique keys, dates
between birth and the data cutoff, periods that do not overlap, variants that match the
reference) and compares what the loader returns with what the spec said, converting dates to
days from first dose by this file's own arithmetic, not the loader's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmpath.dossier import load_dossier
from pmpath.dossier.model import (
    Case,
    Cohort,
    EndpointCategory,
    IntercurrentEvent,
    IntercurrentStrategy,
    Platform,
    SubjectsTable,
)
from pmpath.dossier.tables import (
    CONCOMITANT,
    CONCOMITANT_KINDS,
    ENGAGEMENT_SOURCES,
    MEASUREMENTS,
    NH_SUBJECTS,
    RELATEDNESS,
)
from pmpath.dossier.units import DOSE_UNIT_CODES, ENDPOINT_UNIT_CODES
from pmpath.dossier.write import (
    CohortSpec,
    DossierSpec,
    FastaRecord,
    PatientSpec,
    YamlNotes,
    dossier_files,
    fasta_index_text,
    fasta_text,
    table_bytes,
    write_dossier,
    yaml_text,
)
from pmpath.errors import UsageError

# --------------------------------------------------------------------------- strategies

# Text a dossier may hold: no control characters (tab and line feed are fine inside a value), no
# line or paragraph separators, no bidirectional overrides; no space at either end, which the
# loader strips from table cells.
_BIDI = "".join(chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_CHARS = st.characters(
    blacklist_categories=("Cs", "Cc", "Cn", "Co", "Zl", "Zp"),
    blacklist_characters=_BIDI + "\ufeff",
)
TEXT = (
    st.text(st.one_of(_CHARS, st.sampled_from("\t\n,\"' #:-{}[]")), min_size=1, max_size=16)
    .map(str.strip)
    .filter(bool)
)
IDENT = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,8}", fullmatch=True)
GENE = st.from_regex(r"[A-Z][A-Z0-9-]{0,5}", fullmatch=True)
BASE = st.sampled_from("ACGT")
FINITE = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
AGE = st.floats(min_value=0, max_value=80, allow_nan=False)
CUTOFF = st.dates(dt.date(2021, 1, 1), dt.date(2030, 12, 31))


def unique_ids(draw, n_min: int, n_max: int, pattern: str = r"[A-Za-z][A-Za-z0-9_-]{0,6}"):
    return draw(
        st.lists(
            st.from_regex(pattern, fullmatch=True), min_size=n_min, max_size=n_max, unique=True
        )
    )


@st.composite
def effect_sizes(draw, endpoint: dict, strict: bool) -> dict:
    """An mcid (``strict`` False) or plausible effect (True) valid for ``endpoint``."""
    relative = endpoint["kind"] == "count" or endpoint.get("scale") == "log"
    unit = draw(
        st.sampled_from([endpoint["unit"], "ratio", "%"] if relative else [endpoint["unit"]])
    )
    lower = endpoint["direction"] == "lower_is_better"
    low = 0.01 if strict else 0.0
    if unit == endpoint["unit"]:
        value = draw(st.floats(low, 100))
    elif unit == "ratio":
        value = draw(
            st.floats(0.01, 0.99 if strict else 1.0)
            if lower
            else st.floats(1.01 if strict else 1.0, 10)
        )
    else:
        value = draw(st.floats(low, 99.0 if lower else 500))
    return {"value": value, "unit": unit}


@st.composite
def endpoint_plans(draw, endpoint: dict) -> dict:
    measures = {
        "continuous": ["mean_deviation", "slope_change"],
        "count": ["rate_ratio", "event_free_time"],
        "time_to_event": ["event_free_time"],
    }[endpoint["kind"]]
    plan: dict = {}
    if draw(st.booleans()):
        plan["mcid"] = draw(effect_sizes(endpoint, strict=False))
    if draw(st.booleans()):
        plan["plausible_effect"] = draw(effect_sizes(endpoint, strict=True))
    if draw(st.booleans()):
        plan["onset_days"] = draw(st.integers(0, 400))
    if draw(st.booleans()):
        plan["justification"] = draw(TEXT)
    if draw(st.booleans()):
        plan["summary_measure"] = draw(st.sampled_from(measures))
    if draw(st.booleans()):
        plan["intercurrent"] = draw(
            st.dictionaries(
                st.sampled_from([e.value for e in IntercurrentEvent]),
                st.sampled_from([s.value for s in IntercurrentStrategy]),
                max_size=3,
            )
        )
    return plan


@st.composite
def platforms(draw) -> Platform:
    n_diseases = draw(st.integers(1, 2))
    kinds = draw(
        st.lists(st.sampled_from(["continuous", "count", "time_to_event"]), min_size=1, max_size=4)
    )
    endpoint_ids = unique_ids(draw, len(kinds), len(kinds))
    primary = draw(st.integers(0, len(kinds) - 1))
    # one primary endpoint, sometimes more (combined by Holm's procedure)
    primaries = {primary} | set(draw(st.lists(st.integers(0, len(kinds) - 1), max_size=2)))
    endpoints = []
    for i, (eid, kind) in enumerate(zip(endpoint_ids, kinds, strict=True)):
        e = {
            "id": eid,
            "name": draw(TEXT),
            "kind": kind,
            "unit": draw(st.sampled_from(ENDPOINT_UNIT_CODES)),
            "direction": draw(st.sampled_from(["higher_is_better", "lower_is_better"])),
            "role": "primary" if i in primaries else "supportive",
        }
        if draw(st.booleans()):
            e["scale"] = draw(st.sampled_from(["identity", "log"]))
        if draw(st.booleans()):
            e["category"] = draw(st.sampled_from([c.value for c in EndpointCategory]))
        if e.get("category") == "biomarker_established" or draw(st.booleans()):
            e["citation"] = draw(TEXT)
        endpoints.append(e)
    plan_entries = {e["id"]: draw(endpoint_plans(e)) for e in endpoints if draw(st.booleans())}
    modality = draw(
        st.sampled_from(["adenine_base_editor", "nuclease", "splice_switching_aso", "gapmer_aso"])
    )
    components = unique_ids(draw, 1, 3)
    data: dict = {
        "id": draw(IDENT),
        "name": draw(TEXT),
        "synthetic": draw(st.booleans()),
        "modality": modality,
        "genome_build": draw(st.sampled_from(["GRCh37", "GRCh38", "T2T-CHM13"])),
        "reference_fasta": draw(st.sampled_from(["ref.fa", "reference/targets.fa"])),
        "data_cutoff": draw(CUTOFF),
        "invariant_components": [
            {
                "name": c,
                "description": draw(TEXT),
                "version": draw(TEXT),
                **({"sha256": "ab" * 32} if draw(st.booleans()) else {}),
            }
            for c in components
        ],
        "variable_component": {
            "kind": "aso" if "aso" in modality else "guide_rna",
            "description": draw(TEXT),
        },
        "diseases": [
            {
                "id": f"dis{i}",
                "name": draw(TEXT),
                "gene": draw(GENE),
                "inheritance": draw(st.sampled_from(["autosomal_recessive", "x_linked"])),
                **({"mondo": "MONDO:0009861"} if draw(st.booleans()) else {}),
                "cohort": f"nh{i}",
            }
            for i in range(n_diseases)
        ],
        "endpoints": endpoints,
        "analysis_plan": {
            "fixed_on": draw(st.dates(dt.date(2019, 1, 1), dt.date(2030, 12, 31))),
            "improvement": {
                **(
                    {"decision": draw(st.sampled_from(["frequentist", "bayesian"]))}
                    if draw(st.booleans())
                    else {}
                ),
                **(
                    {"posterior_threshold": draw(st.floats(0.51, 0.999))}
                    if draw(st.booleans())
                    else {}
                ),
                **(
                    {
                        "prior": {
                            "mean": draw(st.floats(-5, 5)),
                            "sd": draw(st.none() | st.floats(0.01, 10)),
                        }
                    }
                    if draw(st.booleans())
                    else {}
                ),
                **({"endpoints": plan_entries} if plan_entries else {}),
            },
        },
    }
    if modality in ("adenine_base_editor", "nuclease"):
        data["editor"] = {"pam": "NGG", "editing_window": [4, 8]}
    return Platform.model_validate(data)


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def optional_columns(draw, names: list[str]) -> list[str]:
    return [n for n in names if draw(st.booleans())]


@st.composite
def cohorts(draw, platform: Platform, index: int) -> CohortSpec:
    subjects = unique_ids(draw, 1, 5, r"S[0-9]{1,3}")
    covariates = optional_columns(draw, ["genotype_class", "age_at_onset", "sex"])
    sub_rows = []
    for s in subjects:
        row: dict = {"subject": s}
        for c in covariates:
            missing = draw(st.booleans()) and draw(st.booleans())
            row[c] = None if missing else (draw(AGE) if c == "age_at_onset" else draw(TEXT))
        sub_rows.append(row)
    # the file may call the columns its own way (cohort.yaml's `columns:` maps ours to theirs)
    renamed = {c: f"{c}_{index}" for c in ["subject", *covariates] if draw(st.booleans())}
    data_entries, frames = [], []
    by_kind = {}
    for e in platform.endpoints:
        by_kind.setdefault(e.kind.value, []).append(e.id)
    for kind, endpoint_ids in sorted(by_kind.items()):
        rows = []
        if kind == "continuous":
            seen = set()
            for _ in range(draw(st.integers(0, 6))):
                key = (
                    draw(st.sampled_from(subjects)),
                    draw(AGE),
                    draw(st.sampled_from(endpoint_ids)),
                )
                if key not in seen:
                    seen.add(key)
                    rows.append(
                        dict(
                            zip(["subject", "age", "endpoint"], key, strict=True),
                            value=draw(FINITE),
                        )
                    )
            data_kind, columns = "longitudinal", ["subject", "age", "endpoint", "value"]
        elif kind == "count":
            for s in subjects:
                for eid in endpoint_ids:
                    age = draw(st.floats(0, 10))
                    for _ in range(draw(st.integers(0, 2))):
                        length = draw(st.floats(0.01, 3))
                        count = draw(st.integers(0, 50))
                        rows.append(
                            {
                                "subject": s,
                                "age_start": age,
                                "age_end": age + length,
                                "endpoint": eid,
                                "count": count,
                            }
                        )
                        age = age + length + draw(st.floats(0, 1))
            data_kind, columns = "events", ["subject", "age_start", "age_end", "endpoint", "count"]
        else:
            for s in subjects:
                for eid in endpoint_ids:
                    if draw(st.booleans()):
                        rows.append(
                            {
                                "subject": s,
                                "age": draw(AGE),
                                "event": draw(st.sampled_from([0, 1, "0", "1"])),
                                "endpoint": eid,
                            }
                        )
            data_kind, columns = "time_to_event", ["subject", "age", "event", "endpoint"]
        suffix = draw(st.sampled_from([".csv", ".tsv", ".parquet"]))
        entry: dict = {"kind": data_kind, "path": f"c{index}/{data_kind}{suffix}"}
        if data_kind != "time_to_event":
            entry["units"] = {eid: platform.endpoint(eid).unit for eid in endpoint_ids}
        data_entries.append(entry)
        frames.append(_frame(rows, columns))
    cohort = Cohort.model_validate(
        {
            "id": f"nh{index}",
            "disease": f"dis{index}",
            "provenance": {"source": draw(TEXT), "collection": "synthetic"},
            "subjects": SubjectsTable(
                path=f"c{index}/subjects.csv", columns={"subject": "subject", **renamed}
            ),
            "data": data_entries,
        }
    )
    return CohortSpec(cohort, _frame(sub_rows, ["subject", *covariates]), frames)


@st.composite
def references(draw) -> list[FastaRecord]:
    names = unique_ids(draw, 1, 2, r"chr[0-9A-Z]{1,2}")
    return [FastaRecord(n, "".join(draw(st.lists(BASE, min_size=30, max_size=130)))) for n in names]


def _when(draw, offset: int, first: dt.date, date_column: str, study_column: str) -> dict:
    """A day as a date, a study day, or both (agreeing)."""
    form = draw(st.sampled_from(["date", "study_day", "both"]))
    study = offset + 1 if offset >= 0 else offset  # CDISC: no study day 0
    out: dict = {}
    if form in ("date", "both"):
        out[date_column] = first + dt.timedelta(days=offset)
    if form in ("study_day", "both"):
        out[study_column] = study
    return out


def _dated_frame(
    rows: list[dict], columns: list[str], pairs: list[tuple[str, str]]
) -> pd.DataFrame:
    """Rows with only one form of a day keep the other form's column empty."""
    present = [c for c in columns if any(c in r for r in rows)] or [
        c for c in columns if c not in {b for _, b in pairs}
    ]
    for a, b in pairs:  # a table declares at least one column of each pair
        if a not in present and b not in present:
            present.append(a)
    ordered = [c for c in columns if c in present]
    return pd.DataFrame(rows, columns=ordered)


@st.composite
def patients(
    draw, platform: Platform, reference: list[FastaRecord], pid: str, folder: str
) -> PatientSpec:
    cutoff = platform.data_cutoff
    age = draw(st.floats(1.5, 40))
    first = cutoff - dt.timedelta(days=draw(st.integers(0, 700)))
    earliest = -min(int(age * 365.25), 500)  # days before the first dose that are after birth
    latest = (cutoff - first).days
    day = st.integers(earliest, latest)
    disease = draw(st.sampled_from(platform.diseases))
    n_doses = draw(st.integers(1, 3))
    dose_days = sorted(
        draw(st.lists(st.integers(0, latest), min_size=n_doses - 1, max_size=n_doses - 1))
    )
    variants = []
    for _ in range(draw(st.integers(0, 2))):
        record = draw(st.sampled_from(reference))
        pos = draw(st.integers(1, len(record.sequence) - 1))
        length = draw(st.integers(1, 2))
        ref = record.sequence[pos - 1 : pos - 1 + length]
        variants.append(
            {
                "gene": disease.gene,
                "chrom": record.name,
                "pos": pos,
                "ref": ref,
                "alt": draw(BASE.filter(lambda b, r=ref: b != r[0])),
                "zygosity": draw(st.sampled_from(["heterozygous", "homozygous", "hemizygous"])),
                "acmg_class": draw(st.sampled_from(["pathogenic", "uncertain_significance"])),
                "acmg_criteria": draw(
                    st.lists(st.sampled_from(["PS3", "PM2_Supporting", "PVS1"]), unique=True)
                ),
                **({"allele": draw(st.sampled_from([1, 2]))} if draw(st.booleans()) else {}),
                **({"hgvs_c": draw(TEXT)} if draw(st.booleans()) else {}),
            }
        )
    status = draw(st.sampled_from(["ongoing", "completed", "died", "withdrew"]))
    outcome: dict = {"status": status}
    if status in ("died", "withdrew"):
        outcome["date"] = first + dt.timedelta(days=draw(st.integers(0, latest)))
        outcome["reason"] = draw(TEXT)
    record = reference[0]
    case = {
        "id": pid,
        "synthetic": draw(st.booleans()),
        "diagnosis": {
            "disease": disease.id,
            "basis": draw(st.sampled_from(["molecular", "clinical"])),
            "sex": draw(st.sampled_from(["male", "female"])),
            "age_at_first_dose_years": age,
            **({"genotype_class": draw(TEXT)} if draw(st.booleans()) else {}),
        },
        "phenotypes": [
            {
                "id": f"HP:{draw(st.integers(0, 9999999)):07d}",
                "label": draw(TEXT),
                "excluded": draw(st.booleans()),
            }
            for _ in range(draw(st.integers(0, 2)))
        ],
        "variants": variants,
        "therapy": {
            "product_id": draw(IDENT),
            "batch": draw(IDENT),
            "components": [
                {"name": c.name, "version": draw(TEXT)} for c in platform.invariant_components
            ],
            "targeting_sequence": "".join(draw(st.lists(BASE, min_size=15, max_size=25))),
            **(
                {
                    "acts_on": {
                        "chrom": record.name,
                        "start": 2,
                        "end": 10,
                        "description": draw(TEXT),
                    }
                }
                if draw(st.booleans())
                else {}
            ),
        },
        "dosing": [
            {
                "date": first + dt.timedelta(days=d),
                "dose": draw(st.floats(0.001, 100)),
                "unit": draw(st.sampled_from(DOSE_UNIT_CODES)),
            }
            for d in [0, *dose_days]
        ],
        "outcome": outcome,
    }
    tables: dict[str, pd.DataFrame] = {}
    continuous = [e for e in platform.endpoints if e.kind.value == "continuous"]
    counts = [e for e in platform.endpoints if e.kind.value == "count"]
    if continuous and draw(st.booleans()):
        rows, seen = [], set()
        for _ in range(draw(st.integers(0, 6))):
            e, offset = draw(st.sampled_from(continuous)), draw(day)
            if (e.id, offset) in seen:
                continue
            seen.add((e.id, offset))
            row = {
                **_when(draw, offset, first, "date", "study_day"),
                "endpoint": e.id,
                "value": draw(FINITE),
                "unit": e.unit,
            }
            if draw(st.booleans()):
                row["sample_id"] = draw(TEXT)
            rows.append(row)
        tables["measurements"] = _dated_frame(
            rows, [c.name for c in MEASUREMENTS.columns], [("date", "study_day")]
        )
    if counts and draw(st.booleans()):
        rows = []
        for e in counts:
            start = earliest
            for _ in range(draw(st.integers(0, 3))):
                a = start + draw(st.integers(0, 30))
                b = a + draw(st.integers(0, 60))
                if b > latest:
                    break
                rows.append(
                    {
                        **_when(draw, a, first, "start", "start_study_day"),
                        **_when(draw, b, first, "end", "end_study_day"),
                        "endpoint": e.id,
                        "count": draw(st.integers(0, 20)),
                    }
                )
                start = b + 1
        tables["events"] = _dated_frame(
            rows,
            ["start", "start_study_day", "end", "end_study_day", "endpoint", "count"],
            [("start", "start_study_day"), ("end", "end_study_day")],
        )
    if draw(st.booleans()):
        rows = []
        for assay in unique_ids(draw, 0, 3):
            source, minimum = draw(st.sampled_from(ENGAGEMENT_SOURCES)), draw(st.floats(0, 1))
            for rep in unique_ids(draw, 1, 3, r"[0-9a-z]{1,3}"):
                total = draw(st.integers(1, 10_000))
                rows.append(
                    {
                        "assay": assay,
                        "source": source,
                        "replicate": rep,
                        "tissue": draw(TEXT),
                        "edited": draw(st.integers(0, total)),
                        "total": total,
                        "minimum_fraction": minimum,
                    }
                )
        tables["engagement"] = _frame(
            rows, ["assay", "source", "replicate", "tissue", "edited", "total", "minimum_fraction"]
        )
    if draw(st.booleans()):
        endpoint_ids = [e.id for e in platform.endpoints]
        with_acts_on = draw(st.booleans())
        rows = []
        for i in range(draw(st.integers(0, 3))):
            row = {
                **_when(draw, draw(day), first, "date", "study_day"),
                "kind": draw(st.sampled_from(CONCOMITANT_KINDS)),
                "description": f"{draw(TEXT)} #{i}",
            }
            if with_acts_on:
                # endpoint ids as a tuple or as the file's text; none when it acts on none
                ids = draw(st.lists(st.sampled_from(endpoint_ids), unique=True, max_size=2))
                row["acts_on"] = draw(st.sampled_from([tuple(ids), ";".join(ids)]))
            rows.append(row)
        tables["concomitant"] = _dated_frame(
            rows, [c.name for c in CONCOMITANT.columns], [("date", "study_day")]
        )
    if draw(st.booleans()):
        rows = []
        for i in range(draw(st.integers(0, 3))):
            row = {
                **_when(draw, draw(day), first, "onset", "onset_study_day"),
                "term": f"{draw(TEXT)} #{i}",
                "serious": draw(st.booleans()),
                "relatedness": draw(st.sampled_from(RELATEDNESS)),
            }
            if draw(st.booleans()):
                row["grade"] = draw(st.integers(1, 5))
            rows.append(row)
        tables["adverse_events"] = _dated_frame(
            rows,
            ["onset", "onset_study_day", "term", "serious", "relatedness", "grade"],
            [("onset", "onset_study_day")],
        )
    # a table may be named by case.yaml under another name, in another format
    for name in list(tables):
        if draw(st.booleans()):
            case[name] = f"{name}_{pid}{draw(st.sampled_from(['.csv', '.tsv', '.parquet']))}"
    return PatientSpec(Case.model_validate(case), tables, directory=folder)


@st.composite
def dossier_specs(draw) -> DossierSpec:
    platform = draw(platforms())
    reference = draw(references())
    cohort_specs = [draw(cohorts(platform, i)) for i in range(len(platform.diseases))]
    ids = unique_ids(draw, 1, 3, r"P[0-9]{1,2}")
    patient_specs = [draw(patients(platform, reference, pid, f"{pid}-folder")) for pid in ids]
    return DossierSpec(platform, reference, cohort_specs, patient_specs)


# --------------------------------------------------------------------------- expectations


def _offset(row: pd.Series, date_column: str, study_column: str, first: dt.date) -> float:
    date = row.get(date_column)
    if date is not None and not pd.isna(date):
        return float((date - first).days)
    study = int(row[study_column])
    return float(study - 1 if study > 0 else study)


def _days(frame: pd.DataFrame, date_column: str, study_column: str, first: dt.date) -> list[float]:
    return [_offset(r, date_column, study_column, first) for _, r in frame.iterrows()]


def _text_or_empty(values) -> list[str]:
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]


def _floats(values) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def assert_same_patient(loaded, spec: PatientSpec) -> None:
    assert loaded.case == spec.case
    assert loaded.variants == list(spec.case.variants)
    assert loaded.directory == f"patients/{spec.directory}"
    first = spec.case.first_dose
    t = spec.tables
    if "measurements" in t:
        f, got = t["measurements"], loaded.measurements
        assert list(got["day"]) == _days(f, "date", "study_day", first)
        assert list(got["endpoint"]) == list(f["endpoint"])
        np.testing.assert_array_equal(got["value"].to_numpy(float), _floats(f["value"]))
        if "sample_id" in f:
            assert list(got["sample_id"]) == _text_or_empty(f["sample_id"])
    else:
        assert len(loaded.measurements) == 0
    if "events" in t:
        f, got = t["events"], loaded.events
        assert list(got["start_day"]) == _days(f, "start", "start_study_day", first)
        # the loader's periods end after their last day: [start, end + 1)
        assert list(got["end_day"]) == [d + 1 for d in _days(f, "end", "end_study_day", first)]
        assert list(got["endpoint"]) == list(f["endpoint"])
        assert list(got["count"]) == [float(c) for c in f["count"]]
    if "engagement" in t:
        f, got = t["engagement"], loaded.engagement
        for c in ("assay", "source", "replicate", "tissue"):
            assert list(got[c]) == list(f[c])
        for c in ("edited", "total", "minimum_fraction"):
            np.testing.assert_array_equal(got[c].to_numpy(float), _floats(f[c]))
    if "concomitant" in t:
        f, got = t["concomitant"], loaded.concomitant
        assert list(got["day"]) == _days(f, "date", "study_day", first)
        assert list(got["kind"]) == list(f["kind"])
        assert list(got["description"]) == list(f["description"])
        if "acts_on" in f:
            wanted = [
                tuple(a.split(";")) if isinstance(a, str) and a else tuple(a or ())
                for a in f["acts_on"]
            ]
            assert list(got["acts_on"]) == wanted
        else:
            assert all(a == () for a in got["acts_on"])
    if "adverse_events" in t:
        f, got = t["adverse_events"], loaded.adverse_events
        assert list(got["day"]) == _days(f, "onset", "onset_study_day", first)
        assert list(got["term"]) == list(f["term"])
        assert list(got["serious"]) == list(f["serious"])
        assert list(got["relatedness"]) == list(f["relatedness"])
        grades = f["grade"] if "grade" in f else [None] * len(f)
        np.testing.assert_array_equal(got["grade"].to_numpy(float), _floats(grades))


def assert_same_cohort(loaded, spec: CohortSpec) -> None:
    assert loaded.cohort == spec.cohort
    sub = spec.subjects
    assert list(loaded.subjects.columns) == [
        c for c in ("subject", "genotype_class", "age_at_onset", "sex") if c in sub
    ]
    assert list(loaded.subjects["subject"]) == list(sub["subject"])
    for c in ("genotype_class", "sex"):
        if c in sub:
            assert list(loaded.subjects[c]) == _text_or_empty(sub[c])
    if "age_at_onset" in sub:
        np.testing.assert_array_equal(
            loaded.subjects["age_at_onset"].to_numpy(float), _floats(sub["age_at_onset"])
        )
    for data, frame in zip(spec.cohort.data, spec.data, strict=True):
        got = getattr(loaded, data.kind)
        got = got.iloc[: len(frame)]  # one file of each kind per cohort here
        assert list(got["subject"]) == list(frame["subject"])
        assert list(got["endpoint"]) == list(frame["endpoint"])
        numeric = {
            "longitudinal": ("age", "value"),
            "events": ("age_start", "age_end", "count"),
            "time_to_event": ("age", "event"),
        }[data.kind]
        for c in numeric:
            np.testing.assert_array_equal(got[c].to_numpy(float), _floats(frame[c]))


# --------------------------------------------------------------------------- the property


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=dossier_specs())
def test_loading_what_the_writer_wrote_gives_the_same_dossier(tmp_path_factory, spec) -> None:
    root = tmp_path_factory.mktemp("written") / "dossier"
    written = write_dossier(spec, root)
    dossier = load_dossier(root)  # raises DossierError on any error
    assert [f for f in dossier.warnings if "plan fixed on" not in f.found] == []
    assert dossier.platform == spec.platform
    assert set(dossier.inputs) == {p.relative_to(root).as_posix() for p in written}
    assert {c.cohort.id for c in spec.cohorts} == set(dossier.cohorts)
    for c in spec.cohorts:
        assert_same_cohort(dossier.cohorts[c.cohort.id], c)
    assert sorted(p.id for p in dossier.patients) == sorted(p.case.id for p in spec.patients)
    by_id = {p.id: p for p in dossier.patients}
    for p in spec.patients:
        assert_same_patient(by_id[p.case.id], p)
    # writing the same spec again gives the same bytes
    assert dossier_files(spec) == {p.relative_to(root).as_posix(): p.read_bytes() for p in written}


# --------------------------------------------------------------------------- examples


def test_minimal_dossier_loads_without_findings(minimal_loaded) -> None:
    assert minimal_loaded.warnings == []
    (patient,) = minimal_loaded.patients
    assert len(patient.measurements) == 6 and len(patient.engagement) == 2
    # study day -1 is the day before the first dose; day 1 is the first dose itself
    assert list(patient.measurements["day"][:3]) == [-300, -150, -1]
    assert list(patient.measurements["day"][3:]) == [59, 119, 239]


def test_yaml_puts_schema_version_first_and_keeps_the_models_order() -> None:
    case = Case.model_validate(
        {
            "dosing": [{"unit": "mg/kg", "dose": 1, "date": "2025-01-10"}],
            "therapy": {
                "targeting_sequence": "acgt",
                "components": [{"name": "lnp", "version": "1"}],
                "batch": "b",
                "product_id": "p",
            },
            "diagnosis": {"sex": "male", "disease": "d", "basis": "molecular", "age_at_first_dose_years": 2},
            "id": "P1",
        }
    )  # fmt: skip
    text = yaml_text(case)
    keys = [line.split(":")[0] for line in text.splitlines() if line and not line.startswith(" ")]
    assert keys == ["schema_version", "id", "diagnosis", "therapy", "dosing"]
    assert "targeting_sequence: ACGT" in text  # as the model holds it
    assert "outcome" not in text  # a default nobody gave is not written
    assert Case.model_validate(yaml.safe_load(text)) == case


def test_comments_land_where_they_were_placed_and_change_nothing() -> None:
    case = Case.model_validate(
        {
            "id": "P1",
            "diagnosis": {"disease": "d", "basis": "molecular", "sex": "male", "age_at_first_dose_years": 2},
            "therapy": {"product_id": "p", "batch": "b", "components": [{"name": "lnp", "version": "1"}], "targeting_sequence": "ACGT"},
            "dosing": [{"date": "2025-01-10", "dose": 1, "unit": "mg/kg"}],
        }
    )  # fmt: skip
    notes = YamlNotes(
        header="first line\n\nsecond paragraph",
        inline={("diagnosis", "sex"): "male or female", ("dosing", 0, "dose"): "per kg"},
        above={("therapy",): "\nThe product", ("dosing", 0): "the first dose"},
        below={("therapy", "components", 0, "version"): "sha256: optional"},
    )
    lines = yaml_text(case, notes, header="generated").splitlines()
    assert lines[:5] == ["# generated", "# first line", "#", "# second paragraph", ""]
    assert "  sex: male  # male or female" in lines
    i = lines.index("# The product")
    assert lines[i - 1] == "" and lines[i + 1] == "therapy:"
    j = lines.index("      version: '1'")
    assert lines[j + 1] == "      # sha256: optional"
    k = lines.index("  # the first dose")
    assert lines[k + 1] == "  - date: 2025-01-10" and "    dose: 1.0  # per kg" in lines
    assert Case.model_validate(yaml.safe_load("\n".join(lines))) == case


def test_tables_are_written_in_the_declared_column_order() -> None:
    frame = pd.DataFrame({"sex": ["female"], "subject": ["S1"], "age_at_onset": [0.5]})
    text = table_bytes(frame, NH_SUBJECTS, "subjects.tsv", rename={"subject": "id"}).decode()
    assert text == "id\tage_at_onset\tsex\nS1\t0.5\tfemale\n"


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"study_day": [0], "kind": ["diet"], "description": ["x"]}), "study day 0"),
        (
            pd.DataFrame({"date": ["2025-02-30"], "kind": ["diet"], "description": ["x"]}),
            "expected a date",
        ),
        (
            pd.DataFrame({"date": ["2025-02-03"], "kind": ["food"], "description": ["x"]}),
            "expected one of diet",
        ),
        (pd.DataFrame({"date": ["2025-02-03"], "kind": ["diet"], "notes": ["x"]}), "'notes'"),
        (pd.DataFrame({"kind": ["diet"], "description": ["x"]}), "no column date or study_day"),
    ],
)
def test_a_table_that_cannot_be_read_back_is_refused(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        table_bytes(frame, CONCOMITANT, "patients/P1/concomitant.csv")


def test_a_count_that_is_not_whole_is_refused() -> None:
    from pmpath.dossier.tables import PATIENT_EVENTS

    frame = pd.DataFrame(
        {"start_study_day": [1], "end_study_day": [30], "endpoint": ["e"], "count": [2.5]}
    )
    with pytest.raises(UsageError, match=r"column 'count', row 0: found 2\.5"):
        table_bytes(frame, PATIENT_EVENTS, "events.csv")


def test_a_case_naming_a_table_it_was_not_given_is_refused(small_dossier) -> None:
    case = small_dossier.case(first_dose="2025-01-10", age_at_first_dose=3.0)
    case = case.model_copy(update={"measurements": "labs.csv"})
    with pytest.raises(UsageError, match=r"names 'labs\.csv' as measurements"):
        PatientSpec(case, {})
    # a table given as bytes is written as it is
    spec = PatientSpec(case, {}, files={"labs.csv": b"study_day,endpoint,value,unit\n"})
    assert spec.case.measurements == "labs.csv"
    # a table given as a frame and not named by the case gets its default name
    spec = PatientSpec(
        case,
        {"events": pd.DataFrame(columns=["start", "end", "endpoint", "count"])},
        files=spec.files,
    )
    assert spec.case.events == "events.csv"


def test_two_files_at_one_path_are_refused(minimal_spec: DossierSpec) -> None:
    minimal_spec.documents = {"platform.yaml": "id: other\n"}
    with pytest.raises(
        UsageError, match=r"platform\.yaml: found a document at a path already written"
    ):
        dossier_files(minimal_spec)


def test_refuses_a_non_empty_directory_and_leaves_it_untouched(
    minimal_spec: DossierSpec, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("keep me\n")
    with pytest.raises(UsageError, match=r"non-empty directory \(notes.txt\)"):
        write_dossier(minimal_spec, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    target = tmp_path / "notes.txt"
    with pytest.raises(UsageError, match="existing file"):
        write_dossier(minimal_spec, target)
    assert target.read_text() == "keep me\n"


def test_an_unwritable_spec_leaves_nothing_behind(
    minimal_spec: DossierSpec, tmp_path: Path
) -> None:
    minimal_spec.patients[0].tables["concomitant"].loc[0, "kind"] = "food"
    with pytest.raises(UsageError):
        write_dossier(minimal_spec, tmp_path / "d")
    assert list(tmp_path.iterdir()) == []


def test_fasta_index_matches_what_samtools_writes(tmp_path: Path) -> None:
    pysam = pytest.importorskip("pysam")
    records = [
        FastaRecord("chr1", "ACGT" * 30 + "A"),
        FastaRecord("chr2", "GGCC" * 15, "a description"),
    ]
    fasta = tmp_path / "t.fa"
    fasta.write_text(fasta_text(records))
    pysam.faidx(str(fasta))
    assert (tmp_path / "t.fa.fai").read_text() == fasta_index_text(records)


def test_round_trip_keeps_every_letter_of_a_text() -> None:
    """Texts YAML would read as something else (null, a date, a number, a list) come back as text."""
    names = [
        "null",
        "2025-01-01",
        "1e3",
        "- dash",
        "a: b",
        "line\nbreak",
        "'quoted'",
        "#",
        "yes",
        "~",
        "Ünïcödé 😀",
    ]
    for name in names:
        platform = Platform.model_validate(
            {
                "id": "p", "name": name, "modality": "gapmer_aso", "genome_build": "GRCh38",
                "reference_fasta": "r.fa", "data_cutoff": "2025-01-01",
                "invariant_components": [{"name": "c", "description": name, "version": name}],
                "variable_component": {"kind": "aso", "description": name},
                "diseases": [{"id": "d", "name": name, "gene": "G", "inheritance": "x_linked", "cohort": "c"}],
                "endpoints": [{"id": "e", "name": name, "kind": "count", "unit": "1", "direction": "lower_is_better", "role": "primary"}],
                "analysis_plan": {"fixed_on": "2024-01-01"},
            }
        )  # fmt: skip
        assert Platform.model_validate(yaml.safe_load(yaml_text(platform))) == platform


def test_study_days_in_a_frame_of_floats_are_written_as_whole_days() -> None:
    frame = pd.DataFrame(
        {"study_day": [-1.0, 2.0, np.nan], "date": [None, None, dt.date(2025, 1, 3)], "kind": "diet", "description": ["a", "b", "c"]}
    )  # fmt: skip
    text = table_bytes(frame, CONCOMITANT, "c.csv").decode()
    assert text.splitlines() == [
        "date,study_day,kind,description",
        ",-1,diet,a",
        ",2,diet,b",
        "2025-01-03,,diet,c",
    ]
