"""The dossier's schema: pydantic models for platform.yaml, natural_history/cohort.yaml and case.yaml.

Every model forbids unknown fields, so a typo is a finding rather than a silently ignored key.
`pmpath schema` writes these models as JSON Schema.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from pmpath.dossier.units import (
    DOSE_UNIT_CODES,
    ENDPOINT_UNIT_CODES,
    normalize_dose_unit,
    normalize_unit,
)
from pmpath.dossier.vocabulary import AcmgClass, Zygosity

__all__ = [
    "ACMG_CRITERION",
    "DEFAULT_INTERCURRENT",
    "RELATIVE_UNITS",
    "SCHEMA_VERSION",
    "SUMMARY_MEASURES",
    "AnalysisPlan",
    "Case",
    "Cohort",
    "CohortData",
    "CohortFile",
    "ComponentUse",
    "Decision",
    "Diagnosis",
    "Direction",
    "Disease",
    "DnaSequence",
    "Dose",
    "DoseUnit",
    "EditorSpec",
    "EffectSize",
    "Endpoint",
    "EndpointCategory",
    "EndpointKind",
    "EndpointPlan",
    "EndpointUnit",
    "EngagementPlan",
    "Era",
    "EventData",
    "FileRef",
    "Identifier",
    "ImprovementPlan",
    "Inheritance",
    "IntercurrentEvent",
    "IntercurrentStrategy",
    "InvariantComponent",
    "LiteratureSummary",
    "LongitudinalData",
    "Modality",
    "NaturalHistoryEndpointPlan",
    "NaturalHistoryPlan",
    "NormalPrior",
    "Outcome",
    "Phenotype",
    "Platform",
    "PooledPrior",
    "PositivePrior",
    "Provenance",
    "PublishedEndpoint",
    "PublishedGrowth",
    "PublishedRate",
    "PublishedSurvival",
    "RelPath",
    "SamplerMethod",
    "SamplerPlan",
    "SchemaVersion",
    "Sha256",
    "SpliceSite",
    "SubjectsTable",
    "SummaryMeasure",
    "SurvivalPoint",
    "TableRef",
    "TargetingPlan",
    "Therapy",
    "TimeToEventData",
    "VariableComponent",
    "Variant",
    "VisitSchedule",
    "comparability_fields_markdown",
    "literature_fields_markdown",
    "natural_history_plan_markdown",
    "plan_fields_markdown",
]

SCHEMA_VERSION = 3
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


def _located_errors(model: type[BaseModel], errors: list[tuple[tuple, str, object]]) -> None:
    """Raise ``errors`` (location below ``model``, message, input) as one pydantic ValidationError.

    A cross-field check of a model validator would otherwise be reported at the model itself;
    this puts each finding on the field (and so the line) it is about, and reports all of them.
    """
    if errors:
        raise ValidationError.from_exception_data(
            model.__name__,
            [
                InitErrorDetails(
                    type=PydanticCustomError("value_error", "{message}", {"message": msg}),
                    loc=loc,
                    input=value,
                )
                for loc, msg, value in errors
            ],
        )


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


class EndpointCategory(StrEnum):
    """What kind of evidence an endpoint is (the agency's draft guidance accepts established biomarkers)."""

    clinical_outcome = "clinical_outcome"  # how a patient feels, functions or survives
    biomarker_established = "biomarker_established"  # with the citation that establishes it
    biomarker_exploratory = "biomarker_exploratory"
    clinician_set = "clinician_set"  # a protein allowance, a drug dose: set by treating clinicians


class Endpoint(Strict):
    id: Identifier
    name: str
    kind: EndpointKind
    unit: EndpointUnit
    direction: Direction
    role: Literal["primary", "supportive"] = Field(
        default="supportive",
        description="primary endpoints decide criterion 5 (several are combined by Holm's procedure); supportive ones are descriptive.",
    )
    scale: Literal["identity", "log"] = Field(
        default="identity", description="Scale the natural-history model is fitted on."
    )
    category: EndpointCategory = Field(
        default=EndpointCategory.clinical_outcome,
        description="clinical_outcome, biomarker_established (needs `citation`), biomarker_exploratory, or clinician_set (a value set by clinicians who know the patient was treated, such as a protein allowance or a drug dose). An exploratory-biomarker or clinician-set primary endpoint gives at most `insufficient` unless its plan entry gives a `justification`.",
    )
    citation: str | None = Field(
        default=None,
        min_length=1,
        description="Publication or guidance establishing the biomarker as reasonably likely to predict clinical benefit; required for biomarker_established.",
    )

    @model_validator(mode="after")
    def _cited(self) -> Endpoint:
        if self.category == EndpointCategory.biomarker_established and self.citation is None:
            _located_errors(
                Endpoint,
                [
                    (
                        ("citation",),
                        f"found a biomarker_established endpoint {self.id!r} without a citation, "
                        "expected citation: the publication or guidance that establishes it "
                        "(or category: biomarker_exploratory)",
                        None,
                    )
                ],
            )
        return self


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


class NaturalHistoryEndpointPlan(Strict):
    """How one continuous endpoint's natural-history growth curve is fitted (criteria 3 and 5)."""

    age_shape: Literal["linear", "spline"] = Field(
        default="linear",
        description="linear: a straight line in age; spline: a natural cubic spline in age (R's ns, knots at quantiles of the observed ages).",
    )
    spline_df: int | None = Field(
        default=None,
        ge=1,
        le=8,
        description="Degrees of freedom of the spline (1 is the straight line); null: chosen by AIC among 1-4 and shown. Only with age_shape spline.",
    )
    covariates: list[Literal["genotype_class", "sex", "age_at_onset"]] = Field(
        default_factory=list,
        description="Columns of the cohort's subjects table entered as fixed effects; the patient's own values (case.yaml diagnosis sex and genotype_class, the earliest phenotype onset_age_years) enter the counterfactual.",
    )

    @model_validator(mode="after")
    def _df_needs_spline(self) -> NaturalHistoryEndpointPlan:
        if self.spline_df is not None and self.age_shape != "spline":
            raise ValueError(
                f"found spline_df {self.spline_df} with age_shape {self.age_shape}, expected age_shape spline (or no spline_df)"
            )
        if len(set(self.covariates)) < len(self.covariates):
            raise ValueError(f"found covariates {self.covariates}, expected each at most once")
        return self


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
    endpoints: dict[Identifier, NaturalHistoryEndpointPlan] = Field(
        default_factory=dict,
        description="Continuous endpoint id -> how its growth curve is fitted (age shape, spline df, covariates); endpoints not listed: a straight line without covariates.",
    )

    def for_endpoint(self, endpoint_id: str) -> NaturalHistoryEndpointPlan:
        """The growth-curve options of ``endpoint_id`` (the defaults when the plan does not list it)."""
        return self.endpoints.get(endpoint_id, NaturalHistoryEndpointPlan())


class TargetingPlan(Strict):
    """Criterion 2's rules for the genome-wide off-target search (the case's ``offtarget`` table)."""

    offtarget_max_cfd: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="A site other than the on-target with CFD above this in a coding exon is flagged.",
    )
    offtarget_rule: Literal["caveat", "not_met"] = Field(
        default="caveat",
        description="caveat: flagged sites are caveats beside the verdict (default); not_met: a flagged "
        "site makes criterion 2 not met.",
    )


class EngagementPlan(Strict):
    confidence: float = Field(default=0.95, gt=0, lt=1)


class Decision(StrEnum):
    frequentist = "frequentist"
    bayesian = "bayesian"


class SummaryMeasure(StrEnum):
    """How an endpoint's effect is summarized (the estimand's population-level summary)."""

    mean_deviation = "mean_deviation"  # mean deviation from the untreated prediction
    slope_change = "slope_change"  # change in slope against the untreated prediction
    rate_ratio = "rate_ratio"  # post/pre event rate
    event_free_time = "event_free_time"  # event-free time against the untreated survival


SUMMARY_MEASURES: dict[EndpointKind, tuple[SummaryMeasure, ...]] = {
    EndpointKind.continuous: (SummaryMeasure.mean_deviation, SummaryMeasure.slope_change),
    EndpointKind.count: (SummaryMeasure.rate_ratio, SummaryMeasure.event_free_time),
    EndpointKind.time_to_event: (SummaryMeasure.event_free_time,),
}
"""Endpoint kind -> the summary measures it allows; the first is the default."""


class IntercurrentEvent(StrEnum):
    """Events after treatment starts that change what the endpoint's data mean (ICH E9(R1))."""

    concomitant_change = "concomitant_change"  # a concomitant row whose acts_on names the endpoint
    transplant = "transplant"  # a concomitant row of kind transplant
    death = "death"  # case.yaml outcome.status died
    withdrawal = "withdrawal"  # outcome.status withdrew
    lost_to_follow_up = "lost_to_follow_up"  # outcome.status lost_to_follow_up


class IntercurrentStrategy(StrEnum):
    """The ICH E9(R1) strategies for an intercurrent event."""

    hypothetical = "hypothetical"  # as if it had not happened: the data after it are not used
    treatment_policy = "treatment_policy"  # the data are used as observed
    composite = "composite"  # the event is an outcome: a failure
    while_on_treatment = "while_on_treatment"  # the data up to it are used
    principal_stratum = "principal_stratum"


DEFAULT_INTERCURRENT: dict[IntercurrentEvent, IntercurrentStrategy] = {
    IntercurrentEvent.concomitant_change: IntercurrentStrategy.hypothetical,
    IntercurrentEvent.transplant: IntercurrentStrategy.composite,
    IntercurrentEvent.death: IntercurrentStrategy.composite,
    IntercurrentEvent.withdrawal: IntercurrentStrategy.while_on_treatment,
    IntercurrentEvent.lost_to_follow_up: IntercurrentStrategy.while_on_treatment,
}
"""The strategy for each intercurrent event a plan does not name."""

RELATIVE_UNITS = ("ratio", "%")
"""Units of a relative effect (treated/untreated ratio, percent change), for log-scale and count endpoints."""


class EffectSize(Strict):
    """An effect size with its unit: the endpoint's unit, or ``ratio``/``%`` as a relative change."""

    value: float = Field(
        allow_inf_nan=False,
        description="Size of the effect in the benefit direction: an amount in the endpoint's unit, a percent change (`%`), or the treated/untreated ratio (`ratio`, below 1 for a lower_is_better endpoint).",
    )
    unit: str = Field(
        min_length=1,
        description="The endpoint's unit, or `ratio` / `%` for a relative change (log-scale and count endpoints only). For an endpoint whose unit is `%`, `%` is that unit.",
    )

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        return v if v in RELATIVE_UNITS else normalize_unit(v)

    def is_relative_for(self, endpoint: Endpoint) -> bool:
        """True when this is a relative change (``ratio`` or ``%``) for ``endpoint``."""
        return self.unit != endpoint.unit and self.unit in RELATIVE_UNITS


class NormalPrior(Strict):
    """A normal prior on the effect, on the scale of the primary endpoint's summary measure."""

    mean: float = Field(default=0.0, allow_inf_nan=False, description="Prior mean of the effect.")
    sd: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="Prior standard deviation; null is a flat prior.",
    )


class SamplerMethod(StrEnum):
    closed_form = "closed_form"
    nuts = "nuts"


class SamplerPlan(Strict):
    """How the Bayesian models are computed: closed form (default) or sampled with NUTS (NumPyro)."""

    method: SamplerMethod = Field(
        default=SamplerMethod.closed_form,
        description="closed_form: the conjugate posteriors, dispersion taken as known; nuts: NUTS (needs jax and numpyro) for the event-rate comparison with an uncertain dispersion (bayesian decision) and the hierarchical pooled effect beside the DerSimonian-Laird one.",
    )
    chains: int = Field(default=4, ge=1, description="NUTS: independent chains.")
    warmup: int = Field(
        default=1000, ge=1, description="NUTS: adaptation iterations per chain (discarded)."
    )
    draws: int = Field(default=1000, ge=2, description="NUTS: kept draws per chain.")
    seed: int = Field(
        default=1, ge=0, description="NUTS: random seed; the same seed gives the same draws."
    )
    max_rhat: float = Field(
        default=1.01,
        gt=1,
        allow_inf_nan=False,
        description="NUTS: largest acceptable split R-hat of any parameter; above it the result is insufficient.",
    )
    min_ess: float = Field(
        default=400,
        gt=0,
        allow_inf_nan=False,
        description="NUTS: smallest acceptable bulk effective sample size of any parameter; below it (or with any divergent transition) the result is insufficient.",
    )


class PositivePrior(Strict):
    """A prior of a positive parameter (a dispersion, a between-patient SD)."""

    distribution: Literal["half_normal", "half_cauchy", "lognormal"] = Field(
        default="half_normal",
        description="half_normal or half_cauchy (with scale), or lognormal (with median and scale, the SD of the log).",
    )
    scale: float | None = Field(
        default=1.0,
        gt=0,
        allow_inf_nan=False,
        description="Scale of a half-normal or half-Cauchy prior, or the SD of the log of a lognormal one; null (half-normal or half-Cauchy) takes it from the data.",
    )
    median: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="Lognormal only: the prior median.",
    )

    @model_validator(mode="after")
    def _shape(self) -> PositivePrior:
        if self.distribution == "lognormal" and (self.median is None or self.scale is None):
            _located_errors(
                PositivePrior,
                [
                    (
                        ("median" if self.median is None else "scale",),
                        "found a lognormal prior without a median and a scale, expected both",
                        None,
                    )
                ],
            )
        if self.distribution != "lognormal" and self.median is not None:
            _located_errors(
                PositivePrior,
                [
                    (
                        ("median",),
                        f"found median {self.median:g} for a {self.distribution} prior, expected none (only a lognormal prior has a median)",
                        self.median,
                    )
                ],
            )
        return self


class PooledPrior(Strict):
    """NUTS: priors of the hierarchical pooled effect across patients (model scale)."""

    mu: NormalPrior = Field(
        default=NormalPrior(),
        description="Normal prior of the platform's mean effect {mean, sd} on the model scale (the log rate ratio for a count endpoint); sd null is flat.",
    )
    tau: PositivePrior = Field(
        default=PositivePrior(distribution="half_cauchy", scale=None),
        description="Prior of the between-patient SD; the default half-Cauchy takes the median of the patients' standard errors as its scale.",
    )


class EndpointPlan(Strict):
    """The plan for one endpoint: its estimand and what counts as a clinically important effect.

    Fields left out take their defaults; :meth:`ImprovementPlan.for_endpoint` fills them in for a
    given endpoint (the defaults of ``mcid``, ``summary_measure`` and ``intercurrent`` depend on it).
    """

    mcid: EffectSize | None = Field(
        default=None,
        description="Minimal clinically important difference, {value, unit}; default 0 in the endpoint's unit.",
    )
    onset_days: int = Field(
        default=0,
        ge=0,
        description="Days after the first dose before visits count: a slow-acting therapy is not judged on visits before it can work.",
    )
    plausible_effect: EffectSize | None = Field(
        default=None,
        description="The effect the therapy is expected to have, {value, unit}; used by `pmpath simulate` and shown in the report.",
    )
    justification: str | None = Field(
        default=None,
        min_length=1,
        description="Why this endpoint can decide although it is an exploratory biomarker or clinician-set; shown with the verdict.",
    )
    summary_measure: SummaryMeasure | None = Field(
        default=None,
        description="mean_deviation or slope_change (continuous, default mean_deviation), rate_ratio or event_free_time (count, default rate_ratio), event_free_time (time_to_event).",
    )
    intercurrent: dict[IntercurrentEvent, IntercurrentStrategy] = Field(
        default_factory=dict,
        description="Intercurrent event -> ICH E9(R1) strategy (hypothetical, treatment_policy, composite, while_on_treatment, principal_stratum). Defaults: concomitant_change hypothetical, transplant composite, death composite, withdrawal and lost_to_follow_up while_on_treatment.",
    )


REMOVED_IN_V3 = {
    "min_fraction_beyond_band": "the band rule no longer decides",
    "max_rate_ratio": "the rate ratio is judged by its one-sided confidence bound against 1 - mcid",
}
"""Plan fields of ``analysis_plan.improvement`` removed in schema version 3, and why."""


class ImprovementPlan(Strict):
    """Criterion 5's plan: the decision rule and, per endpoint, the estimand (``endpoints``)."""

    alpha_one_sided: float = Field(
        default=0.025,
        gt=0,
        lt=0.5,
        description="One-sided error rate of the frequentist decision (the lower confidence bound is at 1 - alpha_one_sided).",
    )
    prediction_level: float = Field(
        default=0.95,
        gt=0,
        lt=1,
        description="Coverage of the natural-history prediction band drawn around the untreated course.",
    )
    min_post_dose_visits: int = Field(
        default=2,
        ge=1,
        description="Fewest counted post-dose visits for a verdict other than insufficient.",
    )
    max_gap_probability: float = Field(
        default=0.05,
        gt=0,
        lt=1,
        description="Flaring disease: the event rule's whole false-success budget; the rate-ratio route spends alpha_one_sided of it and the event-free-run route the rest (time to event: the largest acceptable chance of remaining event-free untreated).",
    )
    decision: Decision = Field(
        default=Decision.frequentist,
        description="frequentist: the one-sided lower confidence bound of the effect exceeds the mcid; bayesian: the posterior probability that it does is at least posterior_threshold.",
    )
    posterior_threshold: float = Field(
        default=0.975,
        gt=0.5,
        lt=1,
        description="Bayesian decision: smallest posterior probability that the effect exceeds the mcid.",
    )
    prior: NormalPrior = Field(
        default=NormalPrior(),
        description="Bayesian decision: normal prior on the primary endpoint's effect {mean, sd} (in the endpoint's unit for a mean deviation, the endpoint's unit per year for a slope change, the natural log of the ratio for a rate ratio); sd null is flat.",
    )
    sampler: SamplerPlan = Field(
        default=SamplerPlan(),
        description="How the Bayesian models are computed {method: closed_form|nuts, chains, warmup, draws, seed, max_rhat, min_ess}.",
    )
    dispersion_prior: PositivePrior = Field(
        default=PositivePrior(),
        description="NUTS, count endpoint: prior of the cohort's negative binomial dispersion {distribution, scale, median}.",
    )
    pooled_prior: PooledPrior = Field(
        default=PooledPrior(),
        description="NUTS: priors of the hierarchical pooled effect {mu, tau}.",
    )
    endpoints: dict[Identifier, EndpointPlan] = Field(
        default_factory=dict,
        description="Endpoint id -> its plan (estimand, mcid, onset_days, plausible_effect, justification); endpoints not listed take the defaults.",
    )

    @model_validator(mode="before")
    @classmethod
    def _removed_fields(cls, data: object) -> object:
        if isinstance(data, dict):
            _located_errors(
                ImprovementPlan,
                [
                    (
                        (key,),
                        f"found {key}, removed in schema version 3 ({why}), expected no such "
                        "field: run pmpath migrate DIR --out NEW on a version-2 dossier, or "
                        "delete the line",
                        data[key],
                    )
                    for key, why in REMOVED_IN_V3.items()
                    if key in data
                ],
            )
        return data

    def for_endpoint(self, endpoint: Endpoint) -> EndpointPlan:
        """The plan of ``endpoint`` with every default filled in.

        Examples
        --------
        >>> e = Endpoint(id="seizures", name="Seizures", kind="count", unit="{seizures}",
        ...              direction="lower_is_better", role="primary")
        >>> plan = ImprovementPlan().for_endpoint(e)
        >>> plan.summary_measure.value, plan.mcid.value, plan.mcid.unit
        ('rate_ratio', 0.0, '{seizures}')
        >>> plan.intercurrent[IntercurrentEvent.concomitant_change].value
        'hypothetical'
        """
        given = self.endpoints.get(endpoint.id, EndpointPlan())
        return given.model_copy(
            update={
                "mcid": given.mcid or EffectSize(value=0.0, unit=endpoint.unit),
                "summary_measure": given.summary_measure or SUMMARY_MEASURES[endpoint.kind][0],
                "intercurrent": {**DEFAULT_INTERCURRENT, **given.intercurrent},
            }
        )


class AnalysisPlan(Strict):
    fixed_on: dt.date = Field(
        description="Date the plan was fixed; a plan changed after the first dose is flagged."
    )
    natural_history: NaturalHistoryPlan = NaturalHistoryPlan()
    targeting: TargetingPlan = TargetingPlan()
    engagement: EngagementPlan = EngagementPlan()
    improvement: ImprovementPlan = ImprovementPlan()


def _effect_size_errors(
    name: str, size: EffectSize, endpoint: Endpoint
) -> list[tuple[str, str, object]]:
    """Findings (key, message, input) for an mcid or plausible effect that does not fit ``endpoint``."""
    relative_ok = endpoint.kind == EndpointKind.count or endpoint.scale == "log"
    lower = endpoint.direction == Direction.lower_is_better
    if size.unit == endpoint.unit:
        if size.value < 0 or (name == "plausible_effect" and size.value == 0):
            bound = "> 0" if name == "plausible_effect" else ">= 0"
            return [
                (
                    "value",
                    f"found {name} {size.value:g} {size.unit}, expected a size {bound} in the benefit direction ({endpoint.direction.value})",
                    size.value,
                )
            ]
        return []
    if size.unit not in RELATIVE_UNITS or not relative_ok:
        allowed = repr(endpoint.unit) + (
            ", 'ratio' or '%' (a relative change)" if relative_ok else ""
        )
        why = (
            ""
            if relative_ok or size.unit not in RELATIVE_UNITS
            else f" (a relative change needs a count or log-scale endpoint; {endpoint.id!r} is {endpoint.kind.value} on the {endpoint.scale} scale)"
        )
        return [
            (
                "unit",
                f"found {name} unit {size.unit!r} for endpoint {endpoint.id!r}{why}, expected {allowed}",
                size.unit,
            )
        ]
    strict = name == "plausible_effect"
    if size.unit == "ratio":
        ok = size.value > 0 and (
            (size.value < 1 if strict else size.value <= 1)
            if lower
            else (size.value > 1 if strict else size.value >= 1)
        )
        side = ("below" if strict else "at most") if lower else ("above" if strict else "at least")
        expected = f"a treated/untreated ratio {side} 1 for a {endpoint.direction.value} endpoint"
    else:
        ok = (size.value > 0 if strict else size.value >= 0) and (not lower or size.value < 100)
        expected = f"a percent change in the benefit direction, {'> 0' if strict else '>= 0'}" + (
            " and below 100" if lower else ""
        )
    if ok:
        return []
    return [("value", f"found {name} {size.value:g} {size.unit}, expected {expected}", size.value)]


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
    annotation: RelPath | None = Field(
        default=None,
        description="GFF3 or GTF of the transcripts on reference_fasta's coordinates: criterion 2 predicts "
        "the consequence of the variant, of the correction and of each bystander edit from it.",
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
        if not any(e.role == "primary" for e in self.endpoints):
            raise ValueError(
                "found no endpoint with role: primary, expected at least one endpoint with role: primary"
            )
        if (
            self.modality
            in (Modality.adenine_base_editor, Modality.cytosine_base_editor, Modality.nuclease)
            and self.editor is None
        ):
            raise ValueError(
                f"found no editor for a {self.modality.value} platform, expected editor: (PAM, protospacer length, window)"
            )
        _located_errors(Platform, self._plan_errors())
        return self

    def _plan_errors(self) -> list[tuple[tuple, str, object]]:
        """Cross-checks of analysis_plan.improvement.endpoints against the endpoints declared."""
        errors: list[tuple[tuple, str, object]] = []
        where = ("analysis_plan", "improvement", "endpoints")
        known = [e.id for e in self.endpoints]
        nh = ("analysis_plan", "natural_history", "endpoints")
        for eid in self.analysis_plan.natural_history.endpoints:
            endpoint = self.endpoint(eid)
            if endpoint is None or endpoint.kind != EndpointKind.continuous:
                what = "unknown endpoint" if endpoint is None else f"{endpoint.kind.value} endpoint"
                continuous = [e.id for e in self.endpoints if e.kind == EndpointKind.continuous]
                errors.append(
                    (
                        (*nh, eid),
                        f"found growth-curve options for {what} {eid!r}, expected one of platform.yaml's "
                        f"continuous endpoints: {', '.join(continuous) or 'none'}",
                        eid,
                    )
                )
        for eid, plan in self.analysis_plan.improvement.endpoints.items():
            endpoint = self.endpoint(eid)
            if endpoint is None:
                errors.append(
                    (
                        (*where, eid),
                        f"found a plan for unknown endpoint {eid!r}, expected one of platform.yaml's endpoints: {', '.join(known)}",
                        eid,
                    )
                )
                continue
            allowed = SUMMARY_MEASURES[endpoint.kind]
            if plan.summary_measure is not None and plan.summary_measure not in allowed:
                errors.append(
                    (
                        (*where, eid, "summary_measure"),
                        f"found summary_measure {plan.summary_measure.value} for {endpoint.kind.value} endpoint {eid!r}, "
                        f"expected {' or '.join(m.value for m in allowed)}",
                        plan.summary_measure.value,
                    )
                )
            for name in ("mcid", "plausible_effect"):
                size = getattr(plan, name)
                if size is not None:
                    errors += [
                        ((*where, eid, name, key), msg, value)
                        for key, msg, value in _effect_size_errors(name, size, endpoint)
                    ]
        return errors

    def endpoint(self, endpoint_id: str) -> Endpoint | None:
        return next((e for e in self.endpoints if e.id == endpoint_id), None)

    @property
    def primary_endpoint(self) -> Endpoint:
        """The first endpoint with role primary (see :attr:`primary_endpoints` for all of them)."""
        return next(e for e in self.endpoints if e.role == "primary")

    @property
    def primary_endpoints(self) -> tuple[Endpoint, ...]:
        """Every endpoint with role primary, in the order declared (combined by Holm's procedure)."""
        return tuple(e for e in self.endpoints if e.role == "primary")

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


class Era(Strict):
    """The calendar years a cohort's data come from (its era of care), first and last inclusive."""

    first_year: int = Field(
        ge=1900, le=2100, strict=True, description="First calendar year of data, e.g. 2004."
    )
    last_year: int = Field(
        ge=1900, le=2100, strict=True, description="Last calendar year of data, e.g. 2021."
    )

    @model_validator(mode="after")
    def _order(self) -> Era:
        if self.last_year < self.first_year:
            raise ValueError(
                f"found last_year {self.last_year} before first_year {self.first_year}, "
                "expected last_year >= first_year"
            )
        return self

    def years_from(self, year: int) -> int:
        """Whole years between ``year`` and the era (0 inside it)."""
        if year < self.first_year:
            return self.first_year - year
        return max(0, year - self.last_year)

    def __str__(self) -> str:
        return (
            f"{self.first_year}"
            if self.first_year == self.last_year
            else f"{self.first_year}-{self.last_year}"
        )


class VisitSchedule(Strict):
    """How the cohort's visits were scheduled: by a protocol, by clinical care, or both."""

    kind: Literal["protocol_scheduled", "clinical_care", "mixed"] = Field(
        description="protocol_scheduled: visits at protocol-fixed times; clinical_care: visits when care "
        "needed them (can over-represent worse periods); mixed: both."
    )
    description: str | None = Field(
        default=None, description="Free text, e.g. 'yearly protocol visits plus admissions'."
    )


AssayName = Annotated[str, Field(min_length=1, max_length=200)]


# ---------------------------------------------------------------------- literature-only cohorts

_LITERATURE_REQUIRED = {
    "continuous": (
        "reference_age",
        "intercept",
        "slope",
        "sd_intercept",
        "sd_slope",
        "correlation",
        "residual_sd",
        "age_range",
    ),
    "count": ("rate_per_year", "dispersion"),
}


def _age_range_order(value: tuple[float, float] | None) -> tuple[float, float] | None:
    if value is not None and not 0 <= value[0] < value[1]:
        raise ValueError(
            f"found age_range {list(value)}, expected [youngest, oldest] with 0 <= youngest < oldest"
        )
    return value


AgeRange = Annotated[
    tuple[float, float] | None,
    Field(
        default=None,
        description="Youngest and oldest age (years) the publication observed the endpoint at.",
    ),
]


class PublishedGrowth(Strict):
    """A continuous endpoint's published linear mixed model (value on age, random intercept and slope)."""

    kind: Literal["continuous"] = Field(description="continuous: a published growth curve.")
    unit: str = Field(
        min_length=1,
        description="Unit of the intercept, slope (per year) and SDs; converted to the endpoint's unit.",
    )
    scale: Literal["identity", "log"] = Field(
        default="identity",
        description="Scale the published model was fitted on; must be the endpoint's declared scale.",
    )
    reference_age: float | None = Field(
        default=None, ge=0, description="Age (years) the intercept refers to."
    )
    intercept: float | None = Field(default=None, description="Population mean at reference_age.")
    slope: float | None = Field(default=None, description="Population change per year.")
    intercept_se: float | None = Field(
        default=None, gt=0, description="Standard error of the intercept, when published."
    )
    slope_se: float | None = Field(
        default=None, gt=0, description="Standard error of the slope, when published."
    )
    slope_intercept_cov: float | None = Field(
        default=None,
        description="Sampling covariance of intercept and slope estimates (needs both SEs); 0 when not given.",
    )
    sd_intercept: float | None = Field(
        default=None, ge=0, description="Between-subject SD of the intercepts (at reference_age)."
    )
    sd_slope: float | None = Field(
        default=None, ge=0, description="Between-subject SD of the slopes (per year)."
    )
    correlation: float | None = Field(
        default=None, ge=-1, le=1, description="Correlation of subject intercepts and slopes."
    )
    residual_sd: float | None = Field(default=None, gt=0, description="Within-subject residual SD.")
    age_range: AgeRange
    n_subjects: int | None = Field(
        default=None,
        ge=1,
        description="Subjects behind this endpoint, when not all of the publication's.",
    )

    _age_order = field_validator("age_range")(classmethod(lambda cls, v: _age_range_order(v)))

    @model_validator(mode="after")
    def _covariance(self) -> PublishedGrowth:
        cov = self.slope_intercept_cov
        if cov is None:
            return self
        if self.intercept_se is None or self.slope_se is None:
            _located_errors(
                PublishedGrowth,
                [
                    (
                        ("slope_intercept_cov",),
                        "found slope_intercept_cov without both intercept_se and slope_se, "
                        "expected the two standard errors beside it",
                        cov,
                    )
                ],
            )
        elif abs(cov) > self.intercept_se * self.slope_se * (1 + 1e-9):
            _located_errors(
                PublishedGrowth,
                [
                    (
                        ("slope_intercept_cov",),
                        f"found slope_intercept_cov {cov:g}, expected at most intercept_se x slope_se "
                        f"({self.intercept_se * self.slope_se:g}) in absolute value",
                        cov,
                    )
                ],
            )
        return self


class PublishedRate(Strict):
    """A count endpoint's published untreated event rate (negative binomial)."""

    kind: Literal["count"] = Field(description="count: a published event rate.")
    unit: str = Field(
        min_length=1,
        description="Unit of the events counted, e.g. '{crises}'; must convert to the endpoint's.",
    )
    rate_per_year: float | None = Field(default=None, ge=0, description="Events per person-year.")
    rate_ci: tuple[float, float] | None = Field(
        default=None, description="95% confidence interval of the rate, when published."
    )
    dispersion: float | None = Field(
        default=None,
        ge=0,
        description="NB2 dispersion alpha (variance mu + alpha mu^2; 0 for Poisson; 1/theta of R's glm.nb).",
    )
    person_years: float | None = Field(default=None, gt=0, description="Total exposure.")
    n_events: int | None = Field(default=None, ge=0)
    age_range: AgeRange
    n_subjects: int | None = Field(
        default=None,
        ge=1,
        description="Subjects behind this endpoint, when not all of the publication's.",
    )

    _age_order = field_validator("age_range")(classmethod(lambda cls, v: _age_range_order(v)))

    @model_validator(mode="after")
    def _interval(self) -> PublishedRate:
        ci, rate = self.rate_ci, self.rate_per_year
        if ci is not None and not (
            0 <= ci[0] <= ci[1] and (rate is None or ci[0] <= rate <= ci[1])
        ):
            _located_errors(
                PublishedRate,
                [
                    (
                        ("rate_ci",),
                        f"found rate_ci {list(ci)}, expected [lower, upper] with 0 <= lower <= "
                        "rate_per_year <= upper",
                        list(ci),
                    )
                ],
            )
        return self


class SurvivalPoint(Strict):
    """The published probability of being event-free at one age."""

    age: float = Field(gt=0, description="Age in years.")
    survival: float = Field(ge=0, le=1, description="Probability of being event-free at that age.")
    ci: tuple[float, float] | None = Field(
        default=None, description="Its 95% confidence interval, when published."
    )

    @model_validator(mode="after")
    def _interval(self) -> SurvivalPoint:
        if self.ci is not None and not 0 <= self.ci[0] <= self.survival <= self.ci[1] <= 1:
            _located_errors(
                SurvivalPoint,
                [
                    (
                        ("ci",),
                        f"found ci {list(self.ci)}, expected [lower, upper] with 0 <= lower <= "
                        f"survival ({self.survival:g}) <= upper <= 1",
                        list(self.ci),
                    )
                ],
            )
        return self


class PublishedSurvival(Strict):
    """A time-to-event endpoint's published survival: the median age with its interval, or survival at stated ages."""

    kind: Literal["time_to_event"] = Field(
        description="time_to_event: a published median or survival curve (ages in years)."
    )
    median: float | None = Field(default=None, gt=0, description="Median age at event (years).")
    median_ci: tuple[float | None, float | None] | None = Field(
        default=None,
        description="95% interval of the median; null for a limit the publication gives as not estimable.",
    )
    weibull_shape: float | None = Field(
        default=None,
        gt=0,
        description="Weibull shape rho, when published: the median alone then gives S(t) = exp(-(t/lambda)^rho); "
        "without it the median gives an exponential curve.",
    )
    survival_at: list[SurvivalPoint] = Field(
        default_factory=list,
        description="Probability of being event-free at stated ages, in increasing age.",
    )
    n_events: int | None = Field(default=None, ge=0)
    age_range: AgeRange
    n_subjects: int | None = Field(
        default=None,
        ge=1,
        description="Subjects behind this endpoint, when not all of the publication's.",
    )

    _age_order = field_validator("age_range")(classmethod(lambda cls, v: _age_range_order(v)))

    @model_validator(mode="after")
    def _consistent(self) -> PublishedSurvival:
        errors: list[tuple[tuple, str, object]] = []
        ci = self.median_ci
        if ci is not None:
            lo, hi = ci
            m = self.median
            bad = (lo is not None and hi is not None and lo > hi) or (
                m is not None and ((lo is not None and lo > m) or (hi is not None and hi < m))
            )
            if bad:
                errors.append(
                    (
                        ("median_ci",),
                        f"found median_ci {list(ci)}, expected [lower, upper] around the median "
                        f"({'not given' if m is None else format(m, 'g')})",
                        list(ci),
                    )
                )
        points = self.survival_at
        for i in range(1, len(points)):
            if points[i].age <= points[i - 1].age:
                errors.append(
                    (
                        ("survival_at", i, "age"),
                        f"found age {points[i].age:g} after {points[i - 1].age:g}, expected increasing ages",
                        points[i].age,
                    )
                )
            elif points[i].survival > points[i - 1].survival:
                errors.append(
                    (
                        ("survival_at", i, "survival"),
                        f"found survival {points[i].survival:g} after {points[i - 1].survival:g} at a "
                        "younger age, expected non-increasing survival",
                        points[i].survival,
                    )
                )
        _located_errors(PublishedSurvival, errors)
        return self


PublishedEndpoint = Annotated[
    PublishedGrowth | PublishedRate | PublishedSurvival, Field(discriminator="kind")
]


class LiteratureSummary(Strict):
    """A literature-only natural history: a publication's summary per endpoint, in place of subjects' data."""

    citation: str = Field(
        min_length=1,
        description="The publication the numbers come from (authors, journal, year, table).",
    )
    n_subjects: int | None = Field(
        default=None,
        ge=1,
        description="Subjects the publication reports (criterion 3 needs at least min_subjects).",
    )
    genotype_classes: dict[str, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict,
        description="Genotype class -> subjects, when the publication reports them (compared with the patient's).",
    )
    endpoints: dict[Identifier, PublishedEndpoint] = Field(
        min_length=1, description="Endpoint id -> its published summary."
    )

    def missing(self, endpoint_id: str) -> list[str]:
        """Quantities criterion 3 needs for ``endpoint_id`` that the summary does not give, as field names."""
        summary = self.endpoints.get(endpoint_id)
        if summary is None:
            return [f"endpoints.{endpoint_id}"]
        out = []
        if self.n_subjects is None and summary.n_subjects is None:
            out.append("n_subjects")
        if isinstance(summary, PublishedSurvival):
            if not summary.survival_at:
                if summary.median is None:
                    out.append("median (or survival_at)")
                elif summary.median_ci is None:
                    out.append("median_ci (or survival_at)")
            return out
        return out + [f for f in _LITERATURE_REQUIRED[summary.kind] if getattr(summary, f) is None]

    def subjects_for(self, endpoint_id: str) -> int | None:
        """Subjects behind ``endpoint_id``: its own ``n_subjects``, else the publication's."""
        summary = self.endpoints.get(endpoint_id)
        own = None if summary is None else summary.n_subjects
        return own if own is not None else self.n_subjects


class Cohort(Strict):
    id: Identifier
    disease: Identifier
    provenance: Provenance
    subjects: SubjectsTable | None = Field(
        default=None, description="The subjects table; required unless the cohort is `literature`."
    )
    data: list[CohortData] = Field(
        default_factory=list,
        description="The cohort's data tables (at least one); absent for a `literature` cohort.",
    )
    literature: LiteratureSummary | None = Field(
        default=None,
        description="A literature-only natural history: a publication's per-endpoint summary in place of "
        "`subjects` and `data`.",
    )
    era: Era | None = Field(
        default=None,
        description="Era of care: first and last calendar year of the cohort's data (compared with the "
        "patient's first-dose year).",
    )
    countries: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list, description="Countries the cohort's subjects were followed in."
    )
    centres: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list, description="Centres (sites) the cohort's subjects were followed at."
    )
    assays: dict[Identifier, AssayName] = Field(
        default_factory=dict,
        description="Endpoint id -> the assay or laboratory that measured it in the cohort (compared "
        "with the patient's case.yaml `assays`).",
    )
    visit_schedule: VisitSchedule | None = Field(
        default=None, description="How the cohort's visits were scheduled."
    )

    @model_validator(mode="after")
    def _one_source(self) -> Cohort:
        errors: list[tuple[tuple, str, object]] = []
        if self.literature is None:
            if self.subjects is None:
                errors.append(
                    (
                        ("subjects",),
                        "found no subjects table, expected `subjects` (with `data`), or `literature` "
                        "for a literature-only natural history",
                        None,
                    )
                )
            if not self.data:
                errors.append(
                    (
                        ("data",),
                        "found no data tables, expected at least one entry in `data`, or `literature` "
                        "for a literature-only natural history",
                        [],
                    )
                )
        else:
            for name in ("subjects", "data"):
                if getattr(self, name):
                    errors.append(
                        (
                            (name,),
                            f"found `{name}` beside `literature`, expected either patient-level tables "
                            "(`subjects` and `data`) or a literature summary, not both",
                            None,
                        )
                    )
        _located_errors(Cohort, errors)
        return self

    @property
    def literature_only(self) -> bool:
        """True when the cohort is a published summary (`literature`), not subjects' data."""
        return self.literature is not None


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
    country: str | None = Field(
        default=None,
        min_length=2,
        max_length=100,
        description="Country the patient is treated in: an ISO 3166-1 alpha-2 code (e.g. DE) or a name, "
        "written as the cohort's `countries` are (compared with them).",
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
    offtarget: RelPath | TableRef | None = Field(
        default=None,
        description="The off-target sites `pmpath mechanism offtarget` found for the patient's guide "
        "(SITES.tsv), searched on the reference and on the patient's own genome; a caveat on criterion 2.",
    )
    outcome: Outcome = Outcome()
    assays: dict[Identifier, AssayName] = Field(
        default_factory=dict,
        description="Endpoint id -> the assay or laboratory that measured it for this patient (compared "
        "with the cohort's `assays`).",
    )

    _check_paths = field_validator("variants_vcf")(
        classmethod(lambda cls, v: None if v is None else _relative_path(v))
    )

    @field_validator(
        "engagement", "measurements", "events", "concomitant", "adverse_events", "offtarget"
    )
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


def _default_text(info) -> str:
    if info.is_required():
        return "required"
    default = info.get_default(call_default_factory=True)
    if default is None:
        return "none"
    if isinstance(default, StrEnum):
        return f"`{default.value}`"
    if isinstance(default, BaseModel):
        dumped = default.model_dump(mode="json")
        shown = {
            k: "null" if v is None else f"{v:g}" if isinstance(v, float) else v
            for k, v in dumped.items()
        }
        return ", ".join(f"`{k}` {v}" for k, v in shown.items())
    if isinstance(default, dict):
        return "none listed" if not default else str(default)
    if isinstance(default, float):
        return f"{default:g}"
    return f"{default}"


def plan_fields_markdown() -> str:
    """The criterion-5 plan reference of ``docs/dossier.md``, generated from the models' fields.

    One table per model of ``analysis_plan.improvement`` (the plan, a per-endpoint entry, an
    effect size, the prior): field, default and the description the JSON Schema also carries.
    """
    resolved = {
        (EndpointPlan, "mcid"): "0 in the endpoint's unit",
        (EndpointPlan, "summary_measure"): "by kind (see meaning)",
        (EndpointPlan, "intercurrent"): "by event (see meaning)",
    }
    out: list[str] = []
    for title, model in (
        ("`analysis_plan.improvement`", ImprovementPlan),
        ("`analysis_plan.improvement.endpoints.<endpoint id>`", EndpointPlan),
        ("`mcid`, `plausible_effect`", EffectSize),
        ("`prior`", NormalPrior),
        ("`sampler`", SamplerPlan),
        ("`dispersion_prior`, `pooled_prior.tau`", PositivePrior),
        ("`pooled_prior`", PooledPrior),
    ):
        out.append(f"#### {title}\n\n| field | default | meaning |\n|---|---|---|\n")
        for name, info in model.model_fields.items():
            meaning = (info.description or "").replace("|", "\\|")
            default = resolved.get((model, name)) or _default_text(info)
            out.append(f"| `{name}` | {default} | {meaning} |\n")
        out.append("\n")
    return "".join(out).rstrip() + "\n"


def natural_history_plan_markdown() -> str:
    """The natural-history plan reference of ``docs/dossier.md``, generated from the models' fields."""
    out: list[str] = []
    for title, model in (
        ("`analysis_plan.natural_history`", NaturalHistoryPlan),
        ("`analysis_plan.natural_history.endpoints.<endpoint id>`", NaturalHistoryEndpointPlan),
    ):
        out.append(f"#### {title}\n\n| field | default | meaning |\n|---|---|---|\n")
        for name, info in model.model_fields.items():
            meaning = (info.description or "").replace("|", "\\|")
            default = "none listed" if info.default_factory in (list, dict) else _default_text(info)
            out.append(f"| `{name}` | {default} | {meaning} |\n")
        out.append("\n")
    return "".join(out).rstrip() + "\n"


def comparability_fields_markdown() -> str:
    """The comparability reference of ``docs/dossier.md``, generated from the models' fields.

    The optional fields of a ``cohort.yaml`` cohort and of ``case.yaml`` that describe how the
    external control compares with the treated patient: field, default and the description the
    JSON Schema also carries.
    """
    out: list[str] = []
    for title, model, names in (
        (
            "`cohorts[]` (cohort.yaml)",
            Cohort,
            ("era", "countries", "centres", "assays", "visit_schedule"),
        ),
        ("`era`", Era, tuple(Era.model_fields)),
        ("`visit_schedule`", VisitSchedule, tuple(VisitSchedule.model_fields)),
        ("case.yaml", Case, ("assays",)),
        ("case.yaml `diagnosis`", Diagnosis, ("country",)),
    ):
        out.append(f"#### {title}\n\n| field | default | meaning |\n|---|---|---|\n")
        for name in names:
            info = model.model_fields[name]
            meaning = (info.description or "").replace("|", "\\|")
            default = "none listed" if info.default_factory is list else _default_text(info)
            out.append(f"| `{name}` | {default} | {meaning} |\n")
        out.append("\n")
    return "".join(out).rstrip() + "\n"


def literature_fields_markdown() -> str:
    """The literature-only cohort reference of ``docs/dossier.md``, generated from the models' fields."""
    out: list[str] = []
    for title, model in (
        ("`literature`", LiteratureSummary),
        ("`literature.endpoints.<id>`, `kind: continuous`", PublishedGrowth),
        ("`kind: count`", PublishedRate),
        ("`kind: time_to_event`", PublishedSurvival),
        ("`survival_at[]`", SurvivalPoint),
    ):
        out.append(f"#### {title}\n\n| field | default | meaning |\n|---|---|---|\n")
        for name, info in model.model_fields.items():
            meaning = (info.description or "").replace("|", "\\|")
            if info.default_factory is list or info.default_factory is dict:
                default = "none listed"
            else:
                default = _default_text(info)
            out.append(f"| `{name}` | {default} | {meaning} |\n")
        out.append("\n")
    return "".join(out).rstrip() + "\n"
