"""The dossier's tables, declared once: columns, types, units, required or optional, keys.

One :class:`TableKind` per kind of CSV/TSV/Parquet file drives loading and validation
(:mod:`pmpath.dossier.load`), the generated part of ``docs/dossier.md`` (:func:`tables_markdown`)
and the JSON Schema that ``pmpath schema`` writes as ``tables/<kind>.schema.json``
(:func:`table_json_schema`), so the four cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pmpath.dossier.vocabulary import AcmgClass  # noqa: F401  (the vocabulary lives there)

ColumnType = Literal[
    "text", "identifier", "number", "integer", "boolean", "choice", "date", "study_day", "age"
]

ENGAGEMENT_SOURCES = ("patient", "animal_model", "patient_derived_cells", "other_in_vitro")
CONCOMITANT_KINDS = ("diet", "medication", "transplant", "hospitalization", "procedure", "other")
RELATEDNESS = ("not_related", "unlikely", "possible", "probable", "definite")
SEX = ("male", "female", "unknown")


@dataclass(frozen=True)
class Column:
    """One column of a table kind.

    ``date`` columns take an ISO ``YYYY-MM-DD`` date; their ``study_day`` partner (named by
    ``pair``) takes a CDISC study day instead, and a row needs one of the two. ``age`` columns are
    years from birth.
    """

    name: str
    type: ColumnType
    description: str
    required: bool = False
    unit: str | None = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    pair: str | None = None  # the date <-> study-day alternative of this column
    separator: str | None = None  # a list of values in one cell, separated by this

    @property
    def type_label(self) -> str:
        labels = {
            "text": "text",
            "identifier": "identifier",
            "number": "number",
            "integer": "whole number",
            "boolean": "true/false",
            "choice": "one of " + ", ".join(f"`{c}`" for c in self.choices),
            "date": "date `YYYY-MM-DD`",
            "study_day": "CDISC study day (1 = first dose, no day 0)",
            "age": "years from birth",
        }
        label = labels[self.type]
        if self.separator is not None:
            label = f"{label}s separated by `{self.separator}`"
        if self.minimum is not None:
            op = ">" if self.exclusive_minimum else "≥"
            label += f", {op} {self.minimum:g}"
        if self.maximum is not None:
            label += f", ≤ {self.maximum:g}"
        return label


@dataclass(frozen=True)
class TableKind:
    """A kind of table in the dossier: what its columns are, which of them identify a row."""

    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    keys: tuple[str, ...] = ()  # a row's identity; two rows with the same key are a finding
    key_extra: tuple[str, ...] = ()  # optional columns added to the key when the table has them
    key_note: str = ""

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        """Columns every file of this kind must have (a date pair counts as one)."""
        return tuple(c.name for c in self.columns if c.required)

    @property
    def date_pairs(self) -> tuple[tuple[str, str], ...]:
        return tuple((c.name, c.pair) for c in self.columns if c.type == "date" and c.pair)


def _date(name: str, what: str, required: bool = True) -> tuple[Column, Column]:
    study = "study_day" if name == "date" else f"{name}_study_day"
    return (
        Column(name, "date", f"{what} (or `{study}`)", required=False, pair=study),
        Column(study, "study_day", f"{what} as a study day (or `{name}`)", pair=name),
    )


MEASUREMENTS = TableKind(
    "measurements",
    "Endpoint measurements",
    "One row per measurement of a continuous endpoint.",
    (
        *_date("date", "day of the measurement"),
        Column("time", "text", "clock time `HH:MM`, when several measurements share a day"),
        Column("sample_id", "text", "laboratory sample identifier"),
        Column("endpoint", "identifier", "a continuous endpoint of platform.yaml", required=True),
        Column("value", "number", "the measured value", required=True),
        Column(
            "unit",
            "text",
            "UCUM unit of the value; converted to the endpoint's unit",
            required=True,
        ),
    ),
    keys=("endpoint", "day"),
    key_extra=("time", "sample_id"),
    key_note="endpoint and day, and `time` or `sample_id` when the table has them",
)

PATIENT_EVENTS = TableKind(
    "events",
    "Event counts",
    "One row per observation period of a count endpoint; periods of one endpoint must not overlap. A time-to-event endpoint's event is a row with a count of 1 on the day it happened (no row: event-free to the data cutoff).",
    (
        *_date("start", "first day of the period (inclusive)"),
        *_date("end", "last day of the period (inclusive)"),
        Column(
            "endpoint",
            "identifier",
            "a count or time-to-event endpoint of platform.yaml",
            required=True,
        ),
        Column("count", "integer", "events in the period", required=True, minimum=0),
    ),
    keys=("endpoint", "start_day", "end_day"),
    key_note="endpoint, start and end",
)

ENGAGEMENT = TableKind(
    "engagement",
    "Target-engagement assays",
    "One row per replicate of an assay; an assay has one source. A row gives its counts "
    "(`edited`, `total`) or the sequencing data they come from: reads (`reads_r1`, optionally "
    "`reads_r2`, with `amplicon`), a CRISPResso2 output folder (`crispresso_dir`) or spliced "
    "alignments (`bam` with `aberrant_junction` and `corrected_junction`); paths are relative to "
    "the case.yaml folder. A row with `control_of` is the untreated control of the replicate it "
    "names: it sets the background, never the fraction.",
    (
        Column("assay", "identifier", "assay name", required=True),
        Column("source", "choice", "what was assayed", required=True, choices=ENGAGEMENT_SOURCES),
        Column("replicate", "text", "replicate label (default `1`)"),
        Column("tissue", "text", "tissue or cell type"),
        Column(
            "edited",
            "integer",
            "reads or molecules edited (base editor) or correctly spliced (ASO); empty when the "
            "row names its sequencing data",
            minimum=0,
        ),
        Column(
            "total",
            "integer",
            "reads or molecules assayed; empty when the row names its sequencing data",
            minimum=1,
        ),
        Column(
            "minimum_fraction",
            "number",
            "pre-specified minimum edited or corrected fraction",
            required=True,
            minimum=0,
            maximum=1,
        ),
        Column("description", "text", "how the assay was done"),
        Column("reads_r1", "text", "amplicon reads, FASTQ or FASTQ.gz (R1 of a pair)"),
        Column("reads_r2", "text", "R2 FASTQ of paired-end reads (with `reads_r1`)"),
        Column(
            "crispresso_dir",
            "text",
            "a CRISPResso2 output folder (`CRISPResso_on_<name>/`): counts at the therapy's target base",
        ),
        Column("bam", "text", "RNA-seq spliced alignments (BAM) for a splice-switching ASO"),
        Column(
            "aberrant_junction",
            "text",
            "with `bam`: the aberrant intron `CHR:START-END`, 1-based first and last intron base (STAR's SJ.out.tab)",
        ),
        Column(
            "corrected_junction",
            "text",
            "with `bam`: the corrected intron `CHR:START-END`, same convention",
        ),
        Column(
            "amplicon",
            "text",
            "with `reads_r1`: the amplicon, a record name of the platform's reference FASTA or a FASTA file",
        ),
        Column(
            "target_position",
            "integer",
            "1-based amplicon position of the target base, when the editing window holds more than one editable base",
            minimum=1,
        ),
        Column(
            "control_of",
            "text",
            "the replicate label (same assay) this untreated sample controls",
        ),
    ),
    keys=("assay", "replicate"),
    key_note="assay and replicate",
)

ENGAGEMENT_DATA_COLUMNS = ("reads_r1", "crispresso_dir", "bam")
"""Engagement columns naming the sequencing data a row's counts come from (one per row at most)."""

CONCOMITANT = TableKind(
    "concomitant",
    "Concomitant changes",
    "Dated changes that could confound improvement (diet, medication, transplant ...).",
    (
        *_date("date", "day of the change"),
        Column("kind", "choice", "kind of change", required=True, choices=CONCOMITANT_KINDS),
        Column("description", "text", "what changed", required=True),
        Column(
            "acts_on",
            "identifier",
            "endpoints of platform.yaml the change acts on (its intercurrent-event strategy "
            "applies to them); empty when it acts on none",
            separator=";",
        ),
    ),
)

ADVERSE_EVENTS = TableKind(
    "adverse_events",
    "Adverse events",
    "One row per adverse event.",
    (
        *_date("onset", "onset day"),
        Column("term", "text", "adverse event term", required=True),
        Column("serious", "boolean", "serious adverse event", required=True),
        Column(
            "relatedness",
            "choice",
            "relatedness to the therapy",
            required=True,
            choices=RELATEDNESS,
        ),
        Column("grade", "integer", "CTCAE grade", minimum=1, maximum=5),
        Column("meddra_pt", "text", "MedDRA preferred term"),
        Column("outcome", "text", "outcome of the event"),
    ),
)

NH_SUBJECTS = TableKind(
    "subjects",
    "Natural-history subjects",
    "One row per cohort subject, with covariates.",
    (
        Column("subject", "identifier", "subject identifier", required=True),
        Column("genotype_class", "text", "matches case.yaml's diagnosis.genotype_class"),
        Column("age_at_onset", "age", "age at onset", unit="a", minimum=0),
        Column("sex", "text", "sex"),
    ),
    keys=("subject",),
    key_note="subject",
)

NH_LONGITUDINAL = TableKind(
    "longitudinal",
    "Natural-history longitudinal measurements",
    "Long format: one row per subject, age and continuous endpoint.",
    (
        Column("subject", "identifier", "subject of the subjects table", required=True),
        Column("age", "age", "age at the measurement", required=True, unit="a", minimum=0),
        Column("endpoint", "identifier", "a continuous endpoint of platform.yaml", required=True),
        Column("value", "number", "value, in the unit cohort.yaml declares", required=True),
    ),
    keys=("subject", "age", "endpoint"),
    key_note="subject, age and endpoint",
)

NH_EVENTS = TableKind(
    "events_nh",
    "Natural-history event counts",
    "Event counts over observed exposure windows; a subject's windows of one endpoint must not overlap.",
    (
        Column("subject", "identifier", "subject of the subjects table", required=True),
        Column("age_start", "age", "start of the window", required=True, unit="a", minimum=0),
        Column("age_end", "age", "end of the window", required=True, unit="a", minimum=0),
        Column("endpoint", "identifier", "a count endpoint of platform.yaml", required=True),
        Column("count", "integer", "events in the window", required=True, minimum=0),
    ),
    keys=("subject", "endpoint", "age_start"),
    key_note="subject, endpoint and start",
)

NH_TIME_TO_EVENT = TableKind(
    "time_to_event",
    "Natural-history time to event",
    "One row per subject and time-to-event endpoint: age at the event or at censoring, and optionally the age "
    "at entry into the registry (delayed entry: the subject is at risk only from that age; empty or absent, "
    "followed from birth; it must not be after the age at the event or censoring).",
    (
        Column("subject", "identifier", "subject of the subjects table", required=True),
        Column("age", "age", "age at event or censoring", required=True, unit="a", minimum=0),
        Column(
            "entry_age",
            "age",
            "age at entry into the registry or study (left truncation); empty: from birth",
            unit="a",
            minimum=0,
        ),
        Column("event", "choice", "1 event, 0 censored", required=True, choices=("0", "1")),
        Column(
            "endpoint", "identifier", "a time-to-event endpoint of platform.yaml", required=True
        ),
    ),
    keys=("subject", "endpoint"),
    key_note="subject and endpoint",
)

OFFTARGET = TableKind(
    "offtarget",
    "Off-target sites",
    "The sites `pmpath mechanism offtarget` found for the patient's guide (its SITES.tsv or "
    ".parquet, unchanged): one row per locus. Criterion 2 flags sites above the plan's CFD threshold "
    "in a coding exon and sites only the patient's genome has (docs/offtarget.md).",
    (
        Column("guide", "text", "the guide's name in the search", required=True),
        Column("chrom", "text", "the genome record", required=True),
        Column("start", "integer", "0-based start on the + strand", required=True, minimum=0),
        Column("end", "integer", "end (exclusive) on the + strand", required=True, minimum=1),
        Column("strand", "choice", "strand of the site", required=True, choices=("+", "-")),
        Column("site", "text", "the site's bases, 5'->3' on its strand"),
        Column("pam", "text", "the PAM's bases"),
        Column(
            "aligned_guide",
            "text",
            "the guide as aligned (`-` for a gap), PAM pattern appended",
            required=True,
        ),
        Column("aligned_site", "text", "the site as aligned (`-` for a gap), PAM appended"),
        Column("mismatches", "integer", "mismatches", required=True, minimum=0),
        Column("mismatch_positions", "text", "guide positions of the mismatches (1 = PAM-distal)"),
        Column("dna_bulge", "integer", "DNA bulge length (0 for none)", minimum=0),
        Column("rna_bulge", "integer", "RNA bulge length (0 for none)", minimum=0),
        Column("bulge_position", "integer", "guide position of the bulge", minimum=1),
        Column("cfd", "number", "CFD score (empty where undefined)", minimum=0, maximum=1),
        Column(
            "mit", "number", "MIT hit score, 0-100 (empty where undefined)", minimum=0, maximum=100
        ),
        Column("region", "text", "coding_exon:GENE, exon:GENE, intron:GENE or intergenic"),
        Column(
            "patient_specific", "boolean", "a site the patient's own variants create or strengthen"
        ),
        Column(
            "pam_position",
            "integer",
            "the locus: + strand coordinate of the PAM's first base",
            required=True,
            minimum=0,
        ),
    ),
    keys=("guide", "chrom", "strand", "pam_position"),
    key_extra=("patient_specific",),
    key_note="guide, chrom, strand, PAM position and patient_specific",
)

PATIENT_TABLES: dict[str, TableKind] = {
    t.name: t
    for t in (MEASUREMENTS, PATIENT_EVENTS, ENGAGEMENT, CONCOMITANT, ADVERSE_EVENTS, OFFTARGET)
}
"""case.yaml field -> the kind of table it names."""

COHORT_TABLES: dict[str, TableKind] = {
    "subjects": NH_SUBJECTS,
    "longitudinal": NH_LONGITUDINAL,
    "events": NH_EVENTS,
    "time_to_event": NH_TIME_TO_EVENT,
}
"""cohort.yaml ``subjects`` and ``data[].kind`` -> the kind of table."""

ALL_TABLES: tuple[TableKind, ...] = (*PATIENT_TABLES.values(), *COHORT_TABLES.values())


def tables_markdown() -> str:
    """The table reference of ``docs/dossier.md``, generated from the declarations."""
    out: list[str] = []
    for where, kinds in (("patients/<id>/", PATIENT_TABLES), ("natural_history/", COHORT_TABLES)):
        for field_name, kind in kinds.items():
            out.append(f"#### {kind.title} (`{where}`, `{field_name}`)\n")
            out.append(kind.description)
            if kind.key_note:
                out.append(f" Rows are identified by {kind.key_note}: a repeated key is a finding.")
            out.append("\n\n| column | required | type | meaning |\n|---|---|---|---|\n")
            for c in kind.columns:
                if c.required:
                    req = "yes"
                elif c.pair:
                    req = f"this or `{c.pair}`"
                else:
                    req = "no"
                unit = f" ({c.unit})" if c.unit else ""
                out.append(f"| `{c.name}` | {req} | {c.type_label}{unit} | {c.description} |\n")
            out.append("\n")
    return "".join(out).rstrip() + "\n"


_JSON_TYPES: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "identifier": {"type": "string", "pattern": r"^\S(.*\S)?$"},
    "number": {"type": "number"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
    "study_day": {"type": "integer", "not": {"const": 0}},
    "age": {"type": "number"},
}


def table_json_schema(kind: TableKind) -> dict[str, Any]:
    """JSON Schema of one row of ``kind`` (a table is an array of such rows)."""
    props: dict[str, Any] = {}
    for c in kind.columns:
        if c.type == "choice":
            prop: dict[str, Any] = {"enum": list(c.choices)}
        elif c.separator is not None:
            prop = {"type": "string"}
        else:
            prop = dict(_JSON_TYPES[c.type])
        if c.minimum is not None:
            prop["exclusiveMinimum" if c.exclusive_minimum else "minimum"] = c.minimum
        if c.maximum is not None:
            prop["maximum"] = c.maximum
        prop["description"] = c.description + (f" (unit: {c.unit})" if c.unit else "")
        props[c.name] = prop
    row: dict[str, Any] = {
        "type": "object",
        "properties": props,
        "required": list(kind.required),
        "additionalProperties": False,
    }
    pairs = kind.date_pairs
    if pairs:
        row["allOf"] = [{"anyOf": [{"required": [a]}, {"required": [b]}]} for a, b in pairs]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": kind.title,
        "description": kind.description
        + (f" Row identity: {kind.key_note}." if kind.key_note else ""),
        "type": "array",
        "items": row,
    }
