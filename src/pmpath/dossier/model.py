"""The dossier's schema: pydantic models for platform.yaml, natural_history/cohort.yaml and case.yaml.

Every model forbids unknown fields, so a typo is a finding rather than a silently ignored key.
`pmpath schema` writes these models as JSON Schema.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from pmpath.dossier.units import (
    DOSE_UNIT_CODES,
    ENDPOINT_UNIT_CODES,
    normalize_dose_unit,
    normalize_unit,
)
from pmpath.dossier.vocabulary import AcmgClass, Zygosity

SCHEMA_VERSION = 2
"""Version of the dossier format; every change to it bumps this, and `pmpath migrate` converts older dossiers."""


def _schema_version(value: object) -> int:
    if value == SCHEMA_VERSION:
        return SCHEMA_VERSION
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value < SCHEMA_VERSION:
        raise ValueError(
            f"found schema_version {value}, expected {SCHEMA_VERSION} "
            "(convert the dossier with `pmpath migrate DIR --out NEW`)"
        )
    raise ValueError(f"found schema_version {value!r}, expected {SCHEMA_VERSION}")


SchemaVersion = Annotated[
    int,
    BeforeValidator(_schema_version),
    Field(
        description=f"Dossier format version: {SCHEMA_VERSION}.",
        json_schema_extra={"const": SCHEMA_VERSION},
    ),
]

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)]
DnaSequence = Annotated[str, Field(pattern=r"^[ACGTacgt]+$")]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


EndpointUnit = Annotated[
    str,
    BeforeValidator(normalize_unit),
    Field(
        description="UCUM code from pmpath's endpoint unit vocabulary (docs/dossier.md); display forms such as µmol/L or mL/min/1.73 m² are accepted and normalized.",
        json_schema_extra={"enum": list(ENDPOINT_UNIT_CODES)},
    ),
]
DoseUnit = Annotated[
    str,
    BeforeValidator(normalize_dose_unit),
    Field(
        description="UCUM code from pmpath's dosing unit vocabulary (docs/dossier.md); display forms such as mcg/kg or vg/kg are accepted and normalized.",
        json_schema_extra={"enum": list(DOSE_UNIT_CODES)},
    ),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _relative_path(value: str) -> str:
    """File references stay inside the dossier: relative, POSIX, no '..'."""
    if not value or value.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", value):
        raise ValueError(f"found {value!r}, expected a path relative to the dossier directory")
    parts = value.replace("\\", "/").split("/")
    if ".." in parts:
        raise ValueError(
            f"found {value!r}, expected a path that stays inside the dossier ('..' is not allowed)"
        )
    return "/".join(p for p in parts if p not in ("", "."))


RelPath = Annotated[str, Field(min_length=1)]


class FileRef(Strict):
    path: RelPath = Field(
        description="Path relative to the YAML file's directory, inside the dossier."
    )
    ignore_columns: list[str] = Field(
        default_factory=list,
        description="Columns of the file pmpath does not use (registry extracts carry extra ones); hashed with the file and listed in the report's provenance as not used. Any other unknown column is a finding.",
    )

    _check_path = field_validator("path")(classmethod(lambda cls, v: _relative_path(v)))


# --------------------------------------------------------------------------- platform.yaml


class Modality(StrEnum):
    adenine_base_editor = "adenine_base_editor"
    cytosine_base_editor = "cytosine_base_editor"
    nuclease = "nuclease"
    prime_editor = "prime_editor"
    splice_switching_aso = "splice_switching_aso"
    gapmer_aso = "gapmer_aso"


class Inheritance(StrEnum):
    autosomal_recessive = "autosomal_recessive"
    autosomal_dominant = "autosomal_dominant"
    x_linked = "x_linked"
    x_linked_recessive = "x_linked_recessive"
    x_linked_dominant = "x_linked_dominant"


class InvariantComponent(Strict):
    """A component every patient's product shares (delivery vehicle, editor mRNA, backbone chemistry)."""

    name: Identifier
    description: str
    version: str = Field(min_length=1)
    sha256: Sha256 | None = Field(
        default=None, description="Content hash of the component's specification, when kept."
    )


class VariableComponent(Strict):
    kind: Literal["guide_rna", "aso"]
    description: str


class EditorSpec(Strict):
    """How the modality acts on DNA or RNA; defaults describe an ABE8e-like SpCas9 adenine base editor."""

    pam: str = Field(
        default="NGG",
        pattern=r"^[ACGTNRYSWKMBDHV]+$",
        description="PAM in IUPAC, 3' of the protospacer.",
    )
    protospacer_length: int = Field(default=20, ge=15, le=30)
    editing_window: tuple[int, int] = Field(
        default=(4, 8),
        description="Protospacer positions edited, counted from the PAM-distal end (1-based, inclusive).",
    )
    edit_from: Literal["A", "C", "G", "T"] | None = Field(
        default=None, description="Base converted, on the protospacer strand."
    )
    edit_to: Literal["A", "C", "G", "T"] | None = None

    @model_validator(mode="after")
    def _window(self) -> EditorSpec:
        lo, hi = self.editing_window
        if not 1 <= lo <= hi <= self.protospacer_length:
            raise ValueError(
                f"found editing_window {list(self.editing_window)}, expected 1 <= start <= end <= protospacer_length ({self.protospacer_length})"
            )
        return self


class Direction(StrEnum):
    higher_is_better = "higher_is_better"
    lower_is_better = "lower_is_better"


class EndpointKind(StrEnum):
    continuous = "continuous"  # measured repeatedly; progressive disease
    count = "count"  # events over exposure time; flaring disease
    time_to_event = "time_to_event"  # death, milestone loss


class Endpoint(Strict):
    id: Identifier
    name: str
    kind: EndpointKind
    unit: EndpointUnit
    direction: Direction
    role: Literal["primary", "supportive"] = "supportive"
    scale: Literal["identity", "log"] = Field(
        default="identity", description="Scale the natural-history model is fitted on."
    )


class Disease(Strict):
    id: Identifier
    name: str
    gene: str = Field(
        pattern=r"^[A-Z0-9][A-Z0-9-]*$", description="HGNC symbol of the causal gene."
    )
    inheritance: Inheritance
    mondo: str | None = Field(default=None, pattern=r"^MONDO:\d{7}$")
    omim: str | None = Field(default=None, pattern=r"^(OMIM:)?\d{6}$")
    fatal_in_childhood: bool = False
    cohort: Identifier = Field(
        description="Natural-history cohort (id in natural_history/cohort.yaml) this disease is compared with."
    )


class NaturalHistoryPlan(Strict):
    min_subjects: int = Field(default=20, ge=1)
    min_person_years: float = Field(default=40.0, ge=0)
    max_slope_relative_se: float = Field(
        default=0.5,
        gt=0,
        description="Largest acceptable SE/|slope| of the population progression estimate.",
    )
    min_events: int = Field(
        default=20, ge=0, description="Fewest events for a rate model to count as characterized."
    )


class EngagementPlan(Strict):
    confidence: float = Field(default=0.95, gt=0, lt=1)


class ImprovementPlan(Strict):
    alpha_one_sided: float = Field(default=0.025, gt=0, lt=0.5)
    prediction_level: float = Field(default=0.95, gt=0, lt=1)
    min_fraction_beyond_band: float = Field(default=2 / 3, gt=0, le=1)
    min_post_dose_visits: int = Field(default=2, ge=1)
    max_rate_ratio: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Flaring disease: largest acceptable post/pre event rate ratio (point estimate); its upper bound must also be below 1.",
    )
    max_gap_probability: float = Field(
        default=0.05,
        gt=0,
        lt=1,
        description="Flaring disease: largest acceptable chance of the longest event-free gap under the untreated rate.",
    )


class AnalysisPlan(Strict):
    fixed_on: dt.date = Field(
        description="Date the plan was fixed; a plan changed after the first dose is flagged."
    )
    natural_history: NaturalHistoryPlan = NaturalHistoryPlan()
    engagement: EngagementPlan = EngagementPlan()
    improvement: ImprovementPlan = ImprovementPlan()


class Platform(Strict):
    schema_version: SchemaVersion = SCHEMA_VERSION
    id: Identifier
    name: str
    synthetic: bool = Field(default=False, description="True for invented example data.")
    modality: Modality
    genome_build: Literal["GRCh37", "GRCh38", "T2T-CHM13"]
    reference_fasta: RelPath = Field(
        description="FASTA of the reference sequence around the targets (indexed with .fai or indexable)."
    )
    data_cutoff: dt.date
    required_consecutive: int = Field(default=3, ge=1)
    invariant_components: list[InvariantComponent] = Field(min_length=1)
    variable_component: VariableComponent
    editor: EditorSpec | None = Field(
        default=None, description="Required for base editors and nucleases."
    )
    diseases: list[Disease] = Field(min_length=1)
    endpoints: list[Endpoint] = Field(min_length=1)
    analysis_plan: AnalysisPlan

    _check_fasta = field_validator("reference_fasta")(classmethod(lambda cls, v: _relative_path(v)))

    @model_validator(mode="after")
    def _consistency(self) -> Platform:
        for label, ids in (
            ("invariant_components", [c.name for c in self.invariant_components]),
            ("diseases", [d.id for d in self.diseases]),
            ("endpoints", [e.id for e in self.endpoints]),
        ):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"found {label} ids {dupes} more than once, expected each id once")
        if sum(e.role == "primary" for e in self.endpoints) != 1:
            n = sum(e.role == "primary" for e in self.endpoints)
            raise ValueError(
                f"found {n} endpoints with role: primary, expected exactly one endpoint with role: primary"
            )
        if (
            self.modality
            in (Modality.adenine_base_editor, Modality.cytosine_base_editor, Modality.nuclease)
            and self.editor is None
        ):
            raise ValueError(
                f"found no editor for a {self.modality.value} platform, expected editor: (PAM, protospacer length, window)"
            )
        return self

    def endpoint(self, endpoint_id: str) -> Endpoint | None:
        return next((e for e in self.endpoints if e.id == endpoint_id), None)

    @property
    def primary_endpoint(self) -> Endpoint:
        return next(e for e in self.endpoints if e.role == "primary")

    def disease(self, disease_id: str) -> Disease | None:
        return next((d for d in self.diseases if d.id == disease_id), None)


# --------------------------------------------------------------------------- natural_history/cohort.yaml


class Provenance(Strict):
    source: str
    citation: str | None = None
    collection: Literal[
        "prospective_registry",
        "retrospective_chart_review",
        "published_aggregate",
        "trial_control_arm",
        "synthetic",
    ]
    description: str | None = None


class SubjectsTable(FileRef):
    """One row per cohort subject, with covariates."""

    columns: dict[Literal["subject", "genotype_class", "age_at_onset", "sex"], str] = Field(
        default_factory=lambda: {"subject": "subject"},
        description="Our name -> column name in the file.",
    )


class LongitudinalData(FileRef):
    """Long format: one row per subject x time x endpoint."""

    kind: Literal["longitudinal"]
    columns: dict[Literal["subject", "age", "endpoint", "value"], str] = Field(
        default_factory=lambda: {
            "subject": "subject",
            "age": "age",
            "endpoint": "endpoint",
            "value": "value",
        }
    )
    units: dict[str, str] = Field(
        description="Endpoint id -> UCUM unit of its values in this file."
    )


class EventData(FileRef):
    """Event counts over observed exposure windows (ages in years)."""

    kind: Literal["events"]
    columns: dict[Literal["subject", "age_start", "age_end", "endpoint", "count"], str] = Field(
        default_factory=lambda: {
            "subject": "subject",
            "age_start": "age_start",
            "age_end": "age_end",
            "endpoint": "endpoint",
            "count": "count",
        }
    )
    units: dict[str, str]


class TimeToEventData(FileRef):
    """One row per subject x endpoint: age at event or censoring."""

    kind: Literal["time_to_event"]
    columns: dict[Literal["subject", "age", "event", "endpoint"], str] = Field(
        default_factory=lambda: {
            "subject": "subject",
            "age": "age",
            "event": "event",
            "endpoint": "endpoint",
        }
    )
    units: dict[str, str] = Field(default_factory=dict)


CohortData = Annotated[LongitudinalData | EventData | TimeToEventData, Field(discriminator="kind")]


class Cohort(Strict):
    id: Identifier
    disease: Identifier
    provenance: Provenance
    subjects: SubjectsTable
    data: list[CohortData] = Field(min_length=1)


class CohortFile(Strict):
    schema_version: SchemaVersion = SCHEMA_VERSION
    cohorts: list[Cohort] = Field(min_length=1)


# --------------------------------------------------------------------------- patients/<id>/case.yaml


ACMG_CRITERION = r"^(PVS1|PS[1-4]|PM[1-6]|PP[1-5]|BA1|BS[1-4]|BP[1-7])(_(Supporting|Moderate|Strong|VeryStrong))?$"


class Variant(Strict):
    gene: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]*$")
    chrom: str
    pos: int = Field(
        ge=1,
        strict=True,
        description="1-based position on the platform's genome build (VCF convention).",
    )
    ref: DnaSequence
    alt: DnaSequence
    hgvs_c: str | None = None
    hgvs_p: str | None = None
    zygosity: Zygosity
    acmg_class: AcmgClass
    acmg_criteria: list[Annotated[str, Field(pattern=ACMG_CRITERION)]] = Field(default_factory=list)
    allele: Literal[1, 2] | None = Field(
        default=None,
        description="Phase group: variants with different allele numbers are in trans; null when phase is unknown.",
    )
    phase_evidence: Literal["parental_testing", "long_read", "read_backed", "none"] = "none"
    functional_evidence: str | None = Field(
        default=None, description="Assay showing loss of function, for a VUS."
    )

    @field_validator("ref", "alt")
    @classmethod
    def _upper(cls, v: str) -> str:
        return v.upper()


class Phenotype(Strict):
    id: str = Field(pattern=r"^HP:\d{7}$")
    label: str
    excluded: bool = False
    onset_age_years: float | None = Field(default=None, ge=0)


class Diagnosis(Strict):
    disease: Identifier = Field(description="Disease id from platform.yaml.")
    basis: Literal["molecular", "clinical"] = Field(
        description="molecular: confirmed by the variants below; clinical: by symptoms only."
    )
    sex: Literal["male", "female"]
    age_at_first_dose_years: float = Field(ge=0, le=120)
    genotype_class: str | None = Field(
        default=None, description="Matches the cohort subjects' genotype_class covariate."
    )


class ComponentUse(Strict):
    name: Identifier
    version: str
    sha256: Sha256 | None = None


class SpliceSite(Strict):
    """The site an ASO acts on when it is not the variant itself (a splice site, an exon)."""

    chrom: str
    start: int = Field(ge=1)
    end: int = Field(ge=1)
    description: str

    @model_validator(mode="after")
    def _order(self) -> SpliceSite:
        if self.end < self.start:
            raise ValueError(
                f"found end {self.end} before start {self.start}, expected end >= start"
            )
        return self


class Therapy(Strict):
    product_id: Identifier
    batch: Identifier
    components: list[ComponentUse] = Field(
        min_length=1, description="The invariant components this product used."
    )
    targeting_sequence: DnaSequence = Field(
        description="Guide spacer (5'->3', DNA letters) or ASO sequence (5'->3')."
    )
    target_variant: int = Field(
        default=0, ge=0, description="Index in `variants` of the variant the therapy targets."
    )
    acts_on: SpliceSite | None = Field(
        default=None, description="For an ASO acting on a site other than the variant."
    )

    @field_validator("targeting_sequence")
    @classmethod
    def _upper(cls, v: str) -> str:
        return v.upper()


class Dose(Strict):
    date: dt.date
    dose: float = Field(gt=0)
    unit: DoseUnit


class Outcome(Strict):
    status: Literal["ongoing", "completed", "died", "withdrew", "lost_to_follow_up"] = "ongoing"
    date: dt.date | None = None
    reason: str | None = None

    @model_validator(mode="after")
    def _dated(self) -> Outcome:
        if self.status in ("died", "withdrew", "lost_to_follow_up") and self.date is None:
            raise ValueError(f"found status {self.status!r} without a date, expected outcome.date")
        return self


class TableRef(FileRef):
    """A table named by case.yaml in its long form: ``{path: labs.csv, ignore_columns: [site]}``."""


class Case(Strict):
    schema_version: SchemaVersion = SCHEMA_VERSION
    id: Identifier
    synthetic: bool = False
    diagnosis: Diagnosis
    phenotypes: list[Phenotype] = Field(default_factory=list)
    variants: list[Variant] = Field(default_factory=list)
    variants_vcf: RelPath | None = Field(
        default=None,
        description="VCF with the patient's variants (INFO GENE, ACMG, ACMG_CRITERIA; FORMAT GT with phase).",
    )
    therapy: Therapy
    dosing: list[Dose] = Field(min_length=1)
    engagement: RelPath | TableRef | None = Field(
        default=None, description="Table of target-engagement assays."
    )
    measurements: RelPath | TableRef | None = Field(
        default=None, description="Table of endpoint measurements (date or study_day)."
    )
    events: RelPath | TableRef | None = Field(
        default=None, description="Table of event counts per observation period."
    )
    concomitant: RelPath | TableRef | None = Field(
        default=None,
        description="Table of dated concomitant changes that could confound improvement.",
    )
    adverse_events: RelPath | TableRef | None = Field(
        default=None, description="Table of adverse events."
    )
    outcome: Outcome = Outcome()

    _check_paths = field_validator("variants_vcf")(
        classmethod(lambda cls, v: None if v is None else _relative_path(v))
    )

    @field_validator("engagement", "measurements", "events", "concomitant", "adverse_events")
    @classmethod
    def _check_table_paths(cls, v: str | TableRef | None) -> str | TableRef | None:
        return _relative_path(v) if isinstance(v, str) else v

    def table(self, field_name: str) -> TableRef | None:
        """The table a case field names, as a :class:`TableRef` whichever form the file used."""
        value = getattr(self, field_name)
        return TableRef(path=value) if isinstance(value, str) else value

    @property
    def first_dose(self) -> dt.date:
        return min(d.date for d in self.dosing)


from pmpath.dossier.tables import CONCOMITANT_KINDS, ENGAGEMENT_SOURCES, RELATEDNESS  # noqa: E402, F401
