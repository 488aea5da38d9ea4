"""Typed plot data of the criteria: what each criterion hands the report to draw, with units and labels.

A verdict's ``figures`` is a list of these models, told apart by ``kind`` (a discriminated
union, :data:`FigureData`); :mod:`pmpath.report.plots` draws each kind and reads nothing else.
Days are days from the first dose (day 0 = first dose, negative before it), not CDISC study
days; ages are in years. Numbers are ``None`` where unknown (a gap in a curve). Lists that
describe the same points (``age`` and ``value``, say) have the same length: the models check it.

The natural-history figures (:class:`NaturalHistoryCurve`, :class:`CohortRates`,
:class:`SurvivalCurve`) describe the cohort and are the same for every patient compared with it;
a :class:`NaturalHistoryCurve` may carry the patient's own measurements (``patient``), which the
report draws over the shared cohort part.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pmpath.pathway.results import GenotypeCall

__all__ = [
    "AlignmentBlock",
    "CohortRate",
    "CohortRates",
    "ConcomitantMark",
    "ConversionProfile",
    "EngagementForest",
    "EventsFigure",
    "FigureData",
    "ForestAssay",
    "GenotypeTable",
    "NaturalHistoryCurve",
    "PatientMeasurements",
    "QuantileBands",
    "SurvivalCurve",
    "TrajectoryFigure",
]

Numbers = list[float | None]


class _Figure(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _same_length(model: BaseModel, *names: str) -> None:
    """Raise ValueError (a pydantic validation error) if the named lists differ in length."""
    lengths = {n: len(getattr(model, n)) for n in names}
    if len(set(lengths.values())) > 1:
        found = ", ".join(f"{n}: {k}" for n, k in lengths.items())
        raise ValueError(f"lists of different lengths ({found}), expected equal lengths")


# ---------------------------------------------------------------------- criteria 1 and 2


class GenotypeTable(_Figure):
    """Criterion 1: the patient's variant calls with the role each played in the genotype rule."""

    kind: Literal["genotype_table"] = "genotype_table"
    title: str = "Genotype"
    calls: list[GenotypeCall] = Field(default_factory=list)


class AlignmentBlock(_Figure):
    """Criterion 2: the guide or ASO aligned to the patient's allele, as monospace lines."""

    kind: Literal["alignment"] = "alignment"
    title: str = "Alignment"
    lines: list[str]
    legend: list[str] = Field(
        default_factory=list,
        description="One line per mark: the variant and each bystander with its consequence.",
    )


# ---------------------------------------------------------------------- criterion 3


class QuantileBands(_Figure):
    """Observed quantiles by age over every cohort observation (not only the subjects drawn)."""

    age: Numbers
    lower: Numbers
    median: Numbers
    upper: Numbers
    level: float = Field(gt=0, lt=1, description="Central coverage of lower..upper, e.g. 0.95.")
    n_observations: list[int] = Field(
        default_factory=list, description="Observations behind each age's quantiles."
    )

    @model_validator(mode="after")
    def _lengths(self) -> Self:
        _same_length(self, "age", "lower", "median", "upper")
        if self.n_observations:
            _same_length(self, "age", "n_observations")
        return self


class PatientMeasurements(_Figure):
    """One patient's own measurements of an endpoint, on the cohort's axes (age in years)."""

    patient: str
    age: Numbers
    value: Numbers
    age_at_first_dose: float = Field(description="Years.")

    @model_validator(mode="after")
    def _lengths(self) -> Self:
        _same_length(self, "age", "value")
        return self


class NaturalHistoryCurve(_Figure):
    """A continuous endpoint's natural history: cohort observations, the fitted mean and its band.

    ``subject``, ``age`` and ``value`` are the observations of ``n_subjects_shown`` whole subjects
    (a seeded random sample of the ``n_subjects`` when there are more than a chart can show);
    ``grid_*`` the fitted population mean and the range of untreated values at ``band_level``,
    from every subject. ``patient`` is the patient's own measurements, drawn over the cohort.
    """

    kind: Literal["natural_history_curve"] = "natural_history_curve"
    endpoint: str
    name: str
    unit: str = ""
    age_unit: Literal["years"] = "years"
    subject: list[str] = Field(default_factory=list)
    age: Numbers = Field(default_factory=list)
    value: Numbers = Field(default_factory=list)
    grid_age: Numbers = Field(default_factory=list)
    grid_mean: Numbers = Field(default_factory=list)
    grid_lower: Numbers = Field(default_factory=list)
    grid_upper: Numbers = Field(default_factory=list)
    band_level: float = Field(0.95, gt=0, lt=1)
    quantiles: QuantileBands | None = None
    n_subjects: int = Field(ge=0)
    n_subjects_shown: int = Field(ge=0)
    patient: PatientMeasurements | None = None
    age_extent: tuple[float, float] | None = Field(
        None,
        description="Ages the chart shows: the cohort's and those of every patient compared with "
        "it, so that one shared chart holds each patient's points.",
    )
    value_extent: tuple[float, float] | None = Field(
        None, description="Values the chart shows, likewise."
    )
    published: str | None = Field(
        None,
        description="The citation when the natural history is a published summary (literature-only): "
        "no subjects' data are drawn.",
    )

    @model_validator(mode="after")
    def _lengths(self) -> Self:
        _same_length(self, "subject", "age", "value")
        _same_length(self, "grid_age", "grid_mean", "grid_lower", "grid_upper")
        return self

    @property
    def sampled(self) -> bool:
        """Whether the observations are a random sample of the cohort's subjects."""
        return self.published is None and self.n_subjects_shown < self.n_subjects


class CohortRate(_Figure):
    """A count endpoint's cohort event rate with its confidence interval, and subjects' own rates."""

    endpoint: str
    name: str
    rate_per_year: float | None
    lower: float | None = None
    upper: float | None = None
    subject_rates: Numbers = Field(
        default_factory=list, description="Per year; of n_subjects_shown subjects."
    )
    n_subjects: int = Field(ge=0)
    n_subjects_shown: int = Field(ge=0)
    published: str | None = Field(
        None,
        description="The citation when the natural history is a published summary (literature-only): "
        "no subjects' data are drawn.",
    )


class CohortRates(_Figure):
    """Criterion 3: one forest plot of the cohort's event rates, one row per count endpoint."""

    kind: Literal["cohort_rates"] = "cohort_rates"
    unit: Literal["events per person-year"] = "events per person-year"
    confidence: float = Field(0.95, gt=0, lt=1)
    rates: list[CohortRate] = Field(min_length=1)


class SurvivalCurve(_Figure):
    """A time-to-event endpoint's Kaplan-Meier curve on age (years), with its confidence band."""

    kind: Literal["survival_curve"] = "survival_curve"
    endpoint: str
    name: str
    age: Numbers
    survival: Numbers
    lower: Numbers
    upper: Numbers
    confidence: float = Field(0.95, gt=0, lt=1)
    n_subjects: int = Field(ge=0)
    weibull_age: Numbers = Field(
        default_factory=list, description="The Weibull fit on a grid of ages."
    )
    weibull_survival: Numbers = Field(default_factory=list)
    left_truncated: bool = False
    published: str | None = Field(
        None,
        description="The citation when the natural history is a published summary (literature-only): "
        "no subjects' data are drawn.",
    )
    comparator: str | None = Field(
        None,
        description="For a published summary: the assumption of the comparator curve drawn in "
        "weibull_age/weibull_survival (``age``... are then the published points).",
    )

    @model_validator(mode="after")
    def _lengths(self) -> Self:
        _same_length(self, "age", "survival", "lower", "upper")
        _same_length(self, "weibull_age", "weibull_survival")
        return self


# ---------------------------------------------------------------------- criterion 4


class ForestAssay(_Figure):
    """One assay's row in the engagement forest plot (fractions, 0 to 1)."""

    assay: str
    tier: str = Field(description="patient, animal_model, patient_derived_cells or other_in_vitro")
    fraction: float | None
    lower: float | None = None
    upper: float | None = None
    minimum: float | None = Field(None, description="Pre-specified minimum fraction.")
    deciding: bool = False


class EngagementForest(_Figure):
    """Criterion 4: the measured fraction per assay with its interval, grouped by evidence tier."""

    kind: Literal["engagement_forest"] = "engagement_forest"
    measure: str = Field(
        "edited fraction", description="'edited fraction' or 'corrected splicing'."
    )
    unit: Literal["fraction"] = "fraction"
    confidence: float = Field(gt=0, lt=1)
    assays: list[ForestAssay] = Field(min_length=1)


class ConversionProfile(_Figure):
    """Criterion 4: one sequenced sample's conversion % at each editable amplicon position, with
    its interval, the untreated control's when there is one, the editing window and the target.

    Positions are 1-based on the amplicon; only positions whose reference base is the editor's
    (on the guide's strand) are listed. Percentages are in % (0 to 100), intervals Clopper-Pearson.
    """

    kind: Literal["conversion_profile"] = "conversion_profile"
    assay: str
    replicate: str = "1"
    amplicon: str = ""
    conversion: str = Field(description="e.g. 'A>G on the guide's strand (T>C on the amplicon)'.")
    source: str = Field("", description="Where the counts came from (CRISPResso2 folder, reads).")
    confidence: float = Field(0.95, gt=0, lt=1)
    position: list[int]
    ref: list[str]
    treated_pct: Numbers
    treated_low: Numbers
    treated_high: Numbers
    control_pct: Numbers = Field(default_factory=list, description="Empty without a control.")
    window_start: int | None = Field(None, description="Editing window on the amplicon, 1-based.")
    window_end: int | None = None
    target_position: int | None = None

    @model_validator(mode="after")
    def _lengths(self) -> Self:
        _same_length(self, "position", "ref", "treated_pct", "treated_low", "treated_high")
        if self.control_pct:
            _same_length(self, "position", "control_pct")
        return self


# ---------------------------------------------------------------------- criterion 5


class ConcomitantMark(_Figure):
    """A concomitant change drawn as a vertical line."""

    day: float = Field(description="Days from first dose.")
    kind: str
    description: str = ""


class TrajectoryFigure(_Figure):
    """A continuous endpoint of one patient: observed values against the predicted untreated course.

    ``prediction_*`` is the patient's own predicted untreated course (conditional on the
    pre-dose values) with its ``prediction_level`` prediction interval; ``population_*`` the
    cohort's population course at the patient's ages, with the same level.
    """

    kind: Literal["trajectory"] = "trajectory"
    role: Literal["primary", "supportive"] = "primary"
    endpoint: str
    name: str
    unit: str = ""
    direction: str = ""
    day: Numbers
    value: Numbers
    phase: list[Literal["pre", "post"]]
    prediction_day: Numbers = Field(default_factory=list)
    prediction_mean: Numbers = Field(default_factory=list)
    prediction_lower: Numbers = Field(default_factory=list)
    prediction_upper: Numbers = Field(default_factory=list)
    prediction_level: float = Field(0.95, gt=0, lt=1)
    population_mean: Numbers = Field(default_factory=list, description="On prediction_day.")
    population_lower: Numbers = Field(default_factory=list)
    population_upper: Numbers = Field(default_factory=list)
    concomitant: list[ConcomitantMark] = Field(default_factory=list)

    @model_validator(mode="after")
    def _lengths(self) -> Self:
        _same_length(self, "day", "value", "phase")
        _same_length(
            self, "prediction_day", "prediction_mean", "prediction_lower", "prediction_upper"
        )
        if self.population_mean:
            _same_length(
                self, "prediction_day", "population_mean", "population_lower", "population_upper"
            )
        return self


class EventsFigure(_Figure):
    """A count endpoint of one patient: events per observation period against the untreated rate."""

    kind: Literal["events"] = "events"
    role: Literal["primary", "supportive"] = "primary"
    endpoint: str
    name: str
    start_day: Numbers
    end_day: Numbers
    count: list[int]
    longest_gap: tuple[float, float] | None = Field(
        None, description="Start and end day of the longest event-free stretch."
    )
    untreated_rate_per_year: float | None = Field(
        None, description="The patient's expected untreated rate (per year)."
    )
    untreated_rate_interval: tuple[float, float] | None = None
    cohort_rate_per_year: float | None = None
    concomitant: list[ConcomitantMark] = Field(default_factory=list)

    @model_validator(mode="after")
    def _lengths(self) -> Self:
        _same_length(self, "start_day", "end_day", "count")
        return self


FigureData = Annotated[
    GenotypeTable
    | AlignmentBlock
    | NaturalHistoryCurve
    | CohortRates
    | SurvivalCurve
    | EngagementForest
    | ConversionProfile
    | TrajectoryFigure
    | EventsFigure,
    Field(discriminator="kind"),
]
"""The plot data a verdict carries, told apart by ``kind``."""
