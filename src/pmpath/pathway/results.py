"""Typed results of the criteria: the numbers a verdict rests on, with their units, as models.

Each result renders itself once for the terminal (:meth:`to_text`, also ``str()``) and once for the
report (:meth:`to_html`), through :mod:`pmpath.pathway.numbers`, so the report never formats a
number generically. ``Verdict.result`` holds one of them, told apart by ``criterion``.

For criterion 5, :class:`ImprovementResult` declares the decision quantity the overview shows:
``decision_estimate`` (value and unit), ``decision_interval``, the ``threshold`` it was judged
against and the ``decision_rule`` in words.
"""

from __future__ import annotations

import math
from html import escape
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from pmpath.dossier.vocabulary import Status
from pmpath.pathway.numbers import (
    MISSING,
    format_interval,
    format_number,
    format_p_value,
    format_percent,
    format_quantity,
)

__all__ = [
    "BystanderEdit",
    "CauseResult",
    "CharacterizationCheck",
    "ComparabilityRow",
    "ConcomitantChange",
    "CriterionResult",
    "EndpointComparison",
    "EndpointFit",
    "EndpointStatus",
    "EngagementAssay",
    "EngagementResult",
    "EngagementTier",
    "EventRateComparisonResult",
    "GenotypeCall",
    "HierarchicalPooledResult",
    "ImprovementResult",
    "IntercurrentEventResult",
    "Interval",
    "Mismatch",
    "NaturalHistoryResult",
    "OfftargetSite",
    "OfftargetSummary",
    "Quantity",
    "RateRatioPosteriorResult",
    "SamplerDiagnosticsResult",
    "SensitivityResult",
    "SplineAic",
    "TargetingResult",
    "TimeToEventComparisonResult",
    "TrajectoryComparisonResult",
    "VisitRow",
]


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)

    def __str__(self) -> str:
        """A criterion result prints its terminal rendering (``to_text``); a part prints as pydantic does."""
        to_text = getattr(self, "to_text", None)
        return to_text() if callable(to_text) else super().__str__()


def _finite_or_none(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


class Quantity(_Result):
    """A number with its unit (``%`` and ``ratio`` values are fractions and ratios, not scaled).

    Examples
    --------
    >>> str(Quantity(value=0.4, unit="ratio")), str(Quantity(value=15.04, unit="points"))
    ('×0.4', '15 points')
    """

    value: float | None
    unit: str = ""

    @classmethod
    def of(cls, value: float | None, unit: str = "") -> Quantity:
        return cls(value=_finite_or_none(value), unit=unit)

    def __str__(self) -> str:
        return format_quantity(self.value, self.unit)


class Interval(_Result):
    """A confidence or prediction interval, with its level (e.g. 0.95) and unit."""

    low: float | None
    high: float | None
    unit: str = ""
    level: float | None = Field(None, description="Two-sided coverage, e.g. 0.95.")

    @classmethod
    def of(
        cls, low: float | None, high: float | None, unit: str = "", level: float | None = None
    ) -> Interval:
        return cls(low=_finite_or_none(low), high=_finite_or_none(high), unit=unit, level=level)

    def __str__(self) -> str:
        text = format_interval(self.low, self.high, self.unit)
        return f"{format_percent(self.level)} interval {text}" if self.level else text


# ---------------------------------------------------------------------- criterion 1


class GenotypeCall(_Result):
    """One variant of the patient and the role it played in the genotype rule."""

    variant: str
    gene: str
    acmg_class: str
    acmg_criteria: list[str] = Field(default_factory=list)
    zygosity: str
    phase_group: int | None = None
    phase_evidence: str | None = None
    role: str = Field(description="counted as P/LP, uncertain, benign or other gene")


class CauseResult(_Result):
    """Criterion 1: the genotype rule applied to the variants in the disease's gene."""

    criterion: Literal[1] = 1
    disease: str
    gene: str
    inheritance: str
    sex: str
    diagnosis_basis: str
    rule: str
    rule_genotype: str
    disease_ids: list[str] = Field(default_factory=list, description="MONDO and OMIM ids.")
    n_in_gene: int = 0
    n_pathogenic: int = Field(0, description="Variants counted as P/LP.")
    n_pathogenic_copies: int = Field(0, description="Copies of P/LP alleles (2 for a homozygote).")
    n_functional_vus: int = Field(0, description="VUS counted as P/LP on functional evidence.")
    n_uncertain: int = 0
    n_benign: int = 0
    n_other_genes: int = 0
    calls: list[GenotypeCall] = Field(default_factory=list)

    def to_text(self) -> str:
        lines = [
            f"{self.disease} ({self.gene}, {self.inheritance.replace('_', ' ')}), {self.sex}: "
            f"rule {self.rule} ({self.rule_genotype})"
        ]
        lines += [f"  {c.variant}: {c.acmg_class}, {c.zygosity}, {c.role}" for c in self.calls]
        return "\n".join(lines)

    def to_html(self) -> str:
        rows = "".join(
            f"<tr><td>{escape(c.variant)}</td><td>{escape(c.acmg_class.replace('_', ' '))}</td>"
            f"<td>{escape(', '.join(c.acmg_criteria))}</td><td>{escape(c.zygosity)}</td>"
            f"<td>{escape(c.role)}</td></tr>"
            for c in self.calls
        )
        return (
            f"<p>Rule <code>{escape(self.rule)}</code>: {escape(self.rule_genotype)}</p>"
            '<table class="result"><thead><tr><th>Variant</th><th>ACMG class</th>'
            "<th>ACMG criteria</th><th>Zygosity</th><th>Role</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )


# ---------------------------------------------------------------------- criterion 2


class Mismatch(_Result):
    """One mismatch between the guide or ASO and the patient's sequence at its best hit."""

    position: int = Field(description="1-based position in the guide or ASO.")
    therapy_base: str
    target_base: str
    genomic_position: int | None = None


class OfftargetSite(_Result):
    """One off-target site criterion 2 flags."""

    locus: str = Field(description="chrom:start-end (strand), + strand, 0-based start.")
    region: str
    mismatches: int
    dna_bulge: int = 0
    rna_bulge: int = 0
    cfd: float | None = Field(None, description="CFD score; None where undefined.")
    patient_specific: bool = False
    reason: str = Field(description="Why it is flagged.")


class OfftargetSummary(_Result):
    """The patient's guide's genome-wide off-target search (the case's ``offtarget`` table)."""

    sites: int = Field(
        description="Sites of the guide (reference and patient-specific), on-target included."
    )
    on_target: int = Field(description="Sites overlapping the targeted variant (not flagged).")
    mismatch_counts: str = Field(
        description="Mismatch-only reference sites by mismatches: '0-1-2-3-4'."
    )
    bulge_sites: int
    patient_specific_sites: int
    cfd_threshold: float = Field(description="analysis_plan.targeting.offtarget_max_cfd.")
    rule: str = Field(description="analysis_plan.targeting.offtarget_rule: caveat or not_met.")
    flagged: list[OfftargetSite] = Field(default_factory=list)
    file: str | None = None

    def to_text(self) -> str:
        lines = [
            f"off-target sites: {self.sites} ({self.on_target} on-target), mismatches {self.mismatch_counts}, "
            f"{self.bulge_sites} with a bulge, {self.patient_specific_sites} patient-specific; "
            f"{len(self.flagged)} flagged (CFD > {format_number(self.cfd_threshold)} in a coding exon, or patient-specific)"
        ]
        lines += [f"  {f.locus} {f.region}: {f.reason}" for f in self.flagged]
        return "\n".join(lines)

    def to_html(self) -> str:
        rows = "".join(
            f"<tr><td>{escape(f.locus)}</td><td>{escape(f.region)}</td><td>{f.mismatches}</td>"
            f"<td>{f.dna_bulge + f.rna_bulge}</td><td>{'' if f.cfd is None else escape(format_number(f.cfd))}</td>"
            f"<td>{'yes' if f.patient_specific else 'no'}</td><td>{escape(f.reason)}</td></tr>"
            for f in self.flagged
        )
        head = (
            f"<p>Off-target search: {self.sites} sites ({self.on_target} on-target), mismatches "
            f"<code>{escape(self.mismatch_counts)}</code>, {self.bulge_sites} with a bulge, "
            f"{self.patient_specific_sites} patient-specific; rule <code>{escape(self.rule)}</code>, "
            f"CFD threshold {escape(format_number(self.cfd_threshold))}.</p>"
        )
        if not self.flagged:
            return head + "<p>No site is flagged.</p>"
        return (
            head
            + '<table class="result"><thead><tr><th>Site</th><th>Region</th><th>Mismatches</th>'
            "<th>Bulge</th><th>CFD</th><th>Patient-specific</th><th>Why flagged</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )


class BystanderEdit(_Result):
    """A base in the editing window, besides the variant, that the editor converts, and what that does."""

    position: int = Field(description="Protospacer position, 1-based from the PAM-distal end.")
    genomic_position: int | None = None
    edit: str = Field(description="On the protospacer strand, e.g. 'A>G'.")
    consequence: str | None = Field(
        None, description="Predicted on the transcript, on the allele the intended edit leaves."
    )


class TargetingResult(_Result):
    """Criterion 2: where the guide or ASO pairs in the patient's allele and what it does there."""

    criterion: Literal[2] = 2
    target_variant: str
    molecule: Literal["guide", "ASO"]
    modality: str
    n_perfect_hits: int
    n_mismatches: int | None = None
    location: str | None = Field(None, description="chrom:start-end (strand) of the best hit.")
    mechanism_class: str | None = None
    cut_distance: Quantity | None = Field(
        None, description="Nuclease or nick: bp from the variant."
    )
    in_window: bool | None = Field(None, description="Base editor: variant in the editing window.")
    restores_reference: bool | None = None
    bystander_positions: list[int] = Field(default_factory=list)
    covers_variant: bool | None = Field(None, description="ASO: binding site covers the variant.")
    allele_selective: bool | None = None
    reference_allele_mismatches: int | None = None
    chrom: str | None = None
    start: int | None = Field(None, description="Protospacer or binding site start (1-based).")
    end: int | None = None
    strand: str | None = Field(None, description="Guide: strand of the protospacer.")
    pam: str | None = None
    pam_matches: bool | None = None
    mismatches: list[Mismatch] = Field(default_factory=list)
    variant_positions: list[int] = Field(default_factory=list)
    edit: str | None = Field(None, description="Base editor: the edit, e.g. 'A>G'.")
    editing_window: list[int] = Field(default_factory=list)
    max_cut_distance: Quantity | None = None
    gene_strand: str | None = Field(None, description="ASO: the gene's strand.")
    strand_inferred: bool | None = None
    site: str | None = Field(None, description="ASO: the declared site it acts on.")
    site_description: str | None = None
    site_overlap: int | None = Field(None, description="ASO: bases of overlap with the site.")
    alignment: list[str] = Field(default_factory=list)
    offtarget: OfftargetSummary | None = Field(
        None, description="The genome-wide off-target search, when the case has its table."
    )

    transcript: str | None = Field(
        None, description="Transcript the consequences are predicted on."
    )
    variant_consequence: str | None = Field(
        None, description="The patient's variant on the transcript, e.g. 'nonsense p.(Trp12Ter)'."
    )
    edit_consequence: str | None = Field(
        None,
        description="What the therapy's edit does: the correction, or the product against the reference.",
    )
    bystanders: list[BystanderEdit] = Field(default_factory=list)

    def to_text(self) -> str:
        lines = [
            f"{self.molecule} for {self.target_variant}: {self.n_perfect_hits} perfect hit(s)"
            + (f" at {self.location}" if self.location else "")
        ]
        if self.mechanism_class:
            lines.append(f"  mechanism: {self.mechanism_class.replace('_', ' ')}")
        if self.variant_consequence:
            lines.append(f"  variant on {self.transcript}: {self.variant_consequence}")
        if self.edit_consequence:
            lines.append(f"  edit: {self.edit_consequence}")
        for b in self.bystanders:
            lines.append(
                f"  bystander {b.position} {b.edit}: {b.consequence or 'consequence not predicted'}"
            )
        if self.cut_distance is not None:
            lines.append(f"  cut {self.cut_distance} from the variant")
        if self.bystander_positions:
            lines.append(f"  bystander positions: {', '.join(map(str, self.bystander_positions))}")
        text = "\n".join(lines + [f"  {line}" for line in self.alignment])
        return text + ("\n" + self.offtarget.to_text() if self.offtarget else "")

    def to_html(self) -> str:
        rows = [("Perfect hits", str(self.n_perfect_hits))]
        if self.location:
            rows.append(("Best hit", self.location))
        if self.mechanism_class:
            rows.append(("Mechanism", self.mechanism_class.replace("_", " ")))
        if self.cut_distance is not None:
            rows.append(("Cut distance from the variant", str(self.cut_distance)))
        for label, value in (
            ("Variant in the editing window", self.in_window),
            ("Restores the reference", self.restores_reference),
            ("Binding site covers the variant", self.covers_variant),
            ("Allele selective", self.allele_selective),
        ):
            if value is not None:
                rows.append((label, "yes" if value else "no"))
        if self.bystander_positions:
            rows.append(("Bystander positions", ", ".join(map(str, self.bystander_positions))))
        if self.variant_consequence:
            rows.append((f"Variant on {self.transcript}", self.variant_consequence))
        if self.edit_consequence:
            rows.append(("Edit", self.edit_consequence))
        for b in self.bystanders:
            rows.append(
                (f"Bystander {b.position} ({b.edit})", b.consequence or "consequence not predicted")
            )
        body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
        html = f'<table class="result"><tbody>{body}</tbody></table>'
        return html + (self.offtarget.to_html() if self.offtarget else "")


# ---------------------------------------------------------------------- criterion 3


class CharacterizationCheck(_Result):
    """One pre-specified threshold the cohort's fit is checked against."""

    name: str
    value: float | None
    threshold: float
    comparison: str = Field(description="'>=' or '<='.")
    passed: bool | None = Field(description="None when the value is not a number.")
    plan_field: str | None = Field(
        None,
        description="The analysis plan's threshold, e.g. 'analysis_plan.natural_history.min_subjects'.",
    )

    def describe(self) -> str:
        """'subjects 12 (required >= 20, analysis_plan.natural_history.min_subjects)'."""
        value = "undefined" if self.passed is None else format_number(self.value)
        where = f", {self.plan_field}" if self.plan_field else ""
        return f"{self.name} {value} (required {self.comparison} {format_number(self.threshold)}{where})"


class ComparabilityRow(_Result):
    """One line of the external control's comparability with the treated patient.

    ``status`` is ``ok`` or ``mismatch`` when both sides are known, ``not stated`` when the
    cohort or the patient does not say, ``reported`` for what only the cohort describes
    (centres, visit schedule; countries too when the case does not state its own).
    """

    field: str = Field(
        description="What is compared, e.g. 'age at first dose' or 'assay for protein_tolerance'."
    )
    cohort: str = Field(description="The cohort's side, in words ('not stated' when absent).")
    patient: str = Field(description="The patient's side, in words ('' when it has none).")
    status: Literal["ok", "mismatch", "not stated", "reported"]
    rule: str = Field(
        "", description="The rule applied, e.g. 'within 1 year of the observed ages'."
    )
    endpoint: str | None = None


class SplineAic(_Result):
    """One natural-spline degrees of freedom compared by AIC (maximum likelihood) for a growth curve."""

    df: int
    aic: float
    chosen: bool


class EndpointFit(_Result):
    """One endpoint's natural-history fit in the cohort, the same for every patient compared with it.

    Continuous endpoints give ``slope`` (per year, on the endpoint's declared scale) with its
    95% ``slope_interval``; count endpoints ``rate`` (per year) with ``rate_interval``;
    time-to-event endpoints ``median_age`` with ``median_age_interval``.
    """

    endpoint: str
    name: str
    unit: str = ""
    kind: Literal["continuous", "count", "time_to_event"]
    role: Literal["primary", "supportive"]
    model: str
    n_subjects: int
    n_observations: int | None = None
    n_events: int | None = None
    person_years: Quantity | None = None
    slope: Quantity | None = None
    slope_interval: Interval | None = None
    slope_relative_se: float | None = None
    age_shape: Literal["linear", "spline"] | None = Field(
        None, description="Continuous: the growth curve's shape in age."
    )
    spline_df: int | None = Field(
        None, description="Continuous: degrees of freedom in age kept (1 is the straight line)."
    )
    spline_aic: list[SplineAic] = Field(
        default_factory=list,
        description="Continuous, spline with df chosen by AIC: each df compared and its AIC.",
    )
    covariates: list[str] = Field(
        default_factory=list,
        description="Continuous: fixed-effect covariates of the growth curve (subjects table columns).",
    )
    rate: Quantity | None = None
    rate_interval: Interval | None = None
    dispersion: float | None = None
    median_age: Quantity | None = None
    median_age_interval: Interval | None = None
    weibull_scale: Quantity | None = Field(
        None, description="Weibull fit beside Kaplan-Meier: scale (years)."
    )
    weibull_shape: float | None = None
    weibull_median_age: Quantity | None = None
    weibull_median_interval: Interval | None = None
    left_truncated: bool | None = Field(
        None, description="Kaplan-Meier with delayed entry (entry_age)."
    )
    visits_per_subject_mean: float | None = Field(
        None, description="Rows (visits or observation windows) per subject, mean."
    )
    visits_per_subject_median: float | None = Field(
        None, description="Rows (visits or observation windows) per subject, median."
    )
    adequate: bool | None = None
    checks: list[CharacterizationCheck] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def estimate_text(self) -> str:
        """'slope 1.2 points (95% interval ...) per year' or the rate or median, as one phrase."""
        if self.slope is not None:
            interval = f" ({self.slope_interval})" if self.slope_interval else ""
            return f"slope {self.slope} per year{interval}"
        if self.rate is not None:
            interval = f" ({self.rate_interval})" if self.rate_interval else ""
            return f"rate {self.rate}{interval}"
        if self.median_age is not None:
            interval = f" ({self.median_age_interval})" if self.median_age_interval else ""
            text = f"median age {self.median_age}{interval}"
            if self.weibull_median_age is not None:
                w = f" ({self.weibull_median_interval})" if self.weibull_median_interval else ""
                text += (
                    f"; Weibull median {self.weibull_median_age}{w}, shape "
                    f"{format_number(self.weibull_shape)}"
                )
            return text
        return MISSING

    def quality_text(self) -> str:
        """'40 subjects, 120 person-years, 6 visits per subject (median 6), SE/|slope| 0.12'."""
        parts = [f"{self.n_subjects} subjects"]
        if self.person_years is not None and self.person_years.value is not None:
            parts.append(f"{format_number(self.person_years.value)} person-years")
        if self.visits_per_subject_mean is not None:
            rows = "observation windows" if self.kind == "count" else "visits"
            parts.append(
                f"{format_number(self.visits_per_subject_mean)} {rows} per subject "
                f"(median {format_number(self.visits_per_subject_median)})"
            )
        if self.n_events is not None:
            parts.append(f"{self.n_events} events")
        if self.kind == "continuous":
            parts.append(f"SE/|slope| {format_number(self.slope_relative_se)}")
        return ", ".join(parts)


class NaturalHistoryResult(_Result):
    """Criterion 3: the cohort's fit of the primary endpoint against the plan's thresholds."""

    criterion: Literal[3] = 3
    cohort: str
    cohort_source: str | None = None
    cohort_collection: str | None = None
    n_subjects: int
    primary_endpoint: str
    model: str | None = None
    adequate: bool | None = None
    checks: list[CharacterizationCheck] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    age_at_first_dose: Quantity
    cohort_age_range: Interval | None = Field(
        None, description="Ages the cohort observed for the primary endpoint."
    )
    age_within_cohort_range: bool | None = None
    cohort_subjects_same_genotype_class: int | None = None
    genotype_class: str | None = None
    cohort_citation: str | None = None
    literature_only: bool = Field(
        False,
        description="True when the natural history is a published summary (no subjects' data): "
        "criterion 3 judged what the publication reports and criterion 5 compares with its model.",
    )
    endpoints: list[EndpointFit] = Field(
        default_factory=list,
        description="Every fitted endpoint, primary first; supportive ones are reported only.",
    )
    failed_fits: dict[str, str] = Field(
        default_factory=dict, description="Endpoint id -> why its fit failed."
    )
    comparability: list[ComparabilityRow] = Field(
        default_factory=list,
        description="The external control against the treated patient, one row per compared field.",
    )

    @property
    def mismatches(self) -> list[ComparabilityRow]:
        """The comparability rows that do not match the patient."""
        return [r for r in self.comparability if r.status == "mismatch"]

    def to_text(self) -> str:
        lines = [
            f"cohort {self.cohort} ({self.cohort_collection}, {self.n_subjects} subjects), "
            f"primary endpoint {self.primary_endpoint}: {self.model or 'no fit'}"
        ]
        if self.literature_only:
            lines.append(
                "  literature-only natural history (a published summary, no subjects' data)"
            )
        for c in self.checks:
            verdict = {True: "passed", False: "failed", None: "undefined"}[c.passed]
            lines.append(
                f"  {c.name} {format_number(c.value)} (required {c.comparison} {format_number(c.threshold)}): {verdict}"
            )
        if self.cohort_age_range is not None:
            lines.append(
                f"  patient aged {self.age_at_first_dose} at first dose; cohort ages {self.cohort_age_range}"
            )
        for e in self.endpoints:
            lines.append(f"  {e.role} endpoint {e.endpoint}: {e.model}, {e.estimate_text()}")
            lines.append(f"    {e.quality_text()}")
        for endpoint, why in self.failed_fits.items():
            lines.append(f"  {endpoint}: not fitted ({why})")
        if self.comparability:
            lines.append("  comparability of the external control (cohort | patient: result):")
            for r in self.comparability:
                lines.append(f"    {r.field}: {r.cohort} | {r.patient or MISSING}: {r.status}")
        return "\n".join(lines)

    def to_html(self) -> str:
        rows = "".join(
            f"<tr><td>{escape(c.name)}</td><td>{format_number(c.value)}</td>"
            f"<td>{escape(c.comparison)} {format_number(c.threshold)}</td>"
            f"<td>{ {True: 'passed', False: 'failed', None: 'undefined'}[c.passed] }</td></tr>"
            for c in self.checks
        )
        return (
            f"<p>Cohort <code>{escape(self.cohort)}</code> ({escape(self.cohort_collection or 'collection not stated')}, "
            f"{self.n_subjects} subjects); primary endpoint <code>{escape(self.primary_endpoint)}</code>"
            f"{': ' + escape(self.model) if self.model else ''}.</p>"
            '<table class="result"><thead><tr><th>Check</th><th>Value</th><th>Required</th>'
            f"<th>Result</th></tr></thead><tbody>{rows}</tbody></table>"
            + self._endpoints_html()
            + self._comparability_html()
        )

    def _comparability_html(self) -> str:
        if not self.comparability:
            return ""
        rows = "".join(
            f'<tr class="{escape(r.status.replace(" ", "-"))}"><td>{escape(r.field)}</td>'
            f"<td>{escape(r.cohort)}</td><td>{escape(r.patient or MISSING)}</td>"
            f"<td>{escape(r.status)}</td><td>{escape(r.rule)}</td></tr>"
            for r in self.comparability
        )
        return (
            '<table class="result"><caption>Comparability of the external control</caption><thead><tr>'
            "<th>Field</th><th>Cohort</th><th>Patient</th><th>Result</th><th>Rule</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )

    def _endpoints_html(self) -> str:
        if not self.endpoints and not self.failed_fits:
            return ""

        def person_years(e: EndpointFit) -> str:
            return format_number(None if e.person_years is None else e.person_years.value)

        def visits(e: EndpointFit) -> str:
            if e.visits_per_subject_mean is None:
                return MISSING
            return f"{format_number(e.visits_per_subject_mean)} ({format_number(e.visits_per_subject_median)})"

        rows = "".join(
            f"<tr><td>{escape(e.name)}</td><td>{escape(e.role)}</td><td>{escape(e.model)}</td>"
            f"<td>{e.n_subjects}</td><td>{person_years(e)}</td><td>{visits(e)}</td>"
            f"<td>{format_number(e.slope_relative_se)}</td><td>{escape(e.estimate_text())}</td></tr>"
            for e in self.endpoints
        )
        rows += "".join(
            f"<tr><td>{escape(endpoint)}</td><td></td><td>not fitted</td><td></td><td></td><td></td>"
            f"<td></td><td>{escape(why)}</td></tr>"
            for endpoint, why in self.failed_fits.items()
        )
        return (
            '<table class="result"><caption>Natural-history fit of each endpoint</caption><thead><tr>'
            "<th>Endpoint</th><th>Role</th><th>Model</th><th>Subjects</th><th>Person-years</th>"
            "<th>Visits per subject, mean (median)</th><th>SE/|slope|</th><th>Estimate</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>"
        )


# ---------------------------------------------------------------------- criterion 4


class EngagementAssay(_Result):
    """One assay's pooled fraction (edited, or correctly spliced for an ASO) and its interval."""

    assay: str
    tier: str
    tissue: str = ""
    replicates: int
    edited: int
    total: int
    fraction: Quantity = Field(description="Edited or corrected fraction (unit %).")
    interval: Interval
    minimum: Quantity = Field(description="Pre-specified minimum fraction (unit %).")
    status: Status
    method: str
    deciding: bool
    intracluster_correlation: float | None = Field(
        None, description="Between-replicate correlation (rho) the interval allows for."
    )
    design_effect: float | None = None
    effective_total: float | None = Field(None, description="Reads after the design effect.")
    data: str = Field(
        "",
        description="Sequencing data the counts came from (crispresso2, reads or bam); empty for counts given in the table.",
    )
    target_position: int | None = Field(
        None, description="1-based amplicon position of the target base counted (sequenced assays)."
    )
    background: Quantity | None = Field(
        None,
        description="Untreated control's fraction at the target (unit %), when a row controls it.",
    )
    background_p_value: float | None = Field(
        None, description="One-sided Fisher's exact p, treated above the control."
    )


class EngagementTier(_Result):
    """One tier of the evidence hierarchy: its status and how many assays it has."""

    tier: str
    status: Status | None = Field(description="None when the tier has no assay.")
    n_assays: int


class EngagementResult(_Result):
    """Criterion 4: every assay against its minimum, decided by the strongest tier present."""

    criterion: Literal[4] = 4
    measure: str = Field(
        "edited fraction",
        description="What was measured: 'edited fraction' or 'corrected splicing'.",
    )
    confidence: float
    deciding_tier: str | None = None
    assays: list[EngagementAssay] = Field(default_factory=list)
    tiers: list[EngagementTier] = Field(default_factory=list, description="Strongest first.")

    def to_text(self) -> str:
        if not self.assays:
            return "no engagement assay"
        lines = [f"{self.measure} per assay ({format_percent(self.confidence)} interval):"]
        for a in self.assays:
            mark = " (deciding)" if a.deciding else ""
            lines.append(
                f"  {a.assay} [{a.tier}{mark}]: {a.fraction} ({format_interval(a.interval.low, a.interval.high, '%')}), "
                f"minimum {a.minimum}: {a.status.value.replace('_', ' ')}"
            )
        return "\n".join(lines)

    def to_html(self) -> str:
        rows = "".join(
            f"<tr><td>{escape(a.assay)}</td><td>{escape(a.tier.replace('_', ' '))}</td>"
            f"<td>{a.edited} of {a.total}</td><td>{a.fraction}</td>"
            f"<td>{format_interval(a.interval.low, a.interval.high, '%')}</td><td>{a.minimum}</td>"
            f"<td>{escape(a.status.value.replace('_', ' '))}</td></tr>"
            for a in self.assays
        )
        return (
            f'<table class="result"><caption>{escape(self.measure.capitalize())} per assay, '
            f"{format_percent(self.confidence)} interval</caption><thead><tr><th>Assay</th>"
            "<th>Evidence</th><th>Count</th><th>Fraction</th><th>Interval</th><th>Minimum</th>"
            f"<th>Status</th></tr></thead><tbody>{rows}</tbody></table>"
        )


# ---------------------------------------------------------------------- criterion 5


class VisitRow(_Result):
    """One post-dose visit against the predicted untreated course (values in the endpoint's unit)."""

    study_day: int = Field(description="CDISC study day (the first dose is study day 1).")
    age_years: float | None
    observed: float | None
    predicted_untreated: float | None
    interval_low: float | None
    interval_high: float | None
    beyond_band: bool = Field(description="Beyond the prediction band in the better direction.")


class SensitivityResult(_Result):
    """The analysis repeated without the last pre-treatment visit or period (regression to the mean)."""

    description: str
    effect: Quantity
    lower_bound: Quantity | None = Field(
        None, description="One-sided lower confidence bound (continuous endpoints)."
    )
    p_value_one_sided: float | None = None
    posterior_probability: float | None = None
    passes: bool
    deciding: bool = Field(
        description="True when the regression-to-the-mean flag fired, so met needed this analysis to pass too."
    )


class SamplerDiagnosticsResult(_Result):
    """Convergence of a NUTS fit: what was run, how well it mixed, and the thresholds it was held to."""

    chains: int
    warmup: int
    draws: int
    seed: int
    max_rhat: float | None = Field(description="Largest split R-hat over the parameters.")
    min_ess: float | None = Field(
        description="Smallest bulk effective sample size over the parameters."
    )
    rhat: dict[str, float | None] = Field(
        default_factory=dict, description="Per parameter, its largest split R-hat."
    )
    ess: dict[str, float | None] = Field(
        default_factory=dict, description="Per parameter, its smallest bulk ESS."
    )
    divergences: int
    max_rhat_allowed: float
    min_ess_required: float
    converged: bool
    problems: list[str] = Field(default_factory=list, description="Each failed check in words.")

    def describe(self) -> str:
        return (
            f"NUTS, {self.chains} chain(s) x {self.draws} draws ({self.warmup} warmup, seed {self.seed}): "
            f"max split R-hat {format_number(self.max_rhat, 4)} (at most {format_number(self.max_rhat_allowed, 4)}), "
            f"min bulk ESS {format_number(self.min_ess)} (at least {format_number(self.min_ess_required)}), "
            f"{self.divergences} divergence(s)"
        )


class RateRatioPosteriorResult(_Result):
    """The rate ratio's posterior with the cohort's dispersion uncertain, sampled with NUTS (it decides
    when the plan asks for ``sampler.method: nuts`` with the Bayesian rule)."""

    probability: float | None = Field(description="P(rate ratio < 1 - mcid).")
    probability_mcse: float | None = Field(None, description="Its Monte Carlo standard error.")
    null_ratio: float
    rate_ratio: Quantity = Field(description="Posterior median of the rate ratio.")
    interval: Interval = Field(description="Equal-tailed credible interval of the rate ratio.")
    dispersion: Quantity = Field(description="Posterior median of the cohort's NB2 dispersion.")
    dispersion_interval: Interval
    prior: str
    dispersion_prior: str
    period_dispersion: float | None = Field(
        None, description="Within-patient NB2 dispersion of a period, taken as known."
    )
    diagnostics: SamplerDiagnosticsResult


class HierarchicalPooledResult(_Result):
    """The hierarchical (normal-normal, NUTS) pooled effect across patients, beside the DerSimonian-Laird one."""

    status: Status = Field(
        description="insufficient when the sampler did not converge (the numbers are then not to be used)."
    )
    reason: str
    estimate: Quantity = Field(description="Posterior median of the platform's mean effect.")
    interval: Interval = Field(description="Its credible interval.")
    threshold: Quantity
    probability: float | None = Field(
        description="P(mean effect beyond the threshold, in the benefit direction)."
    )
    tau: float | None = Field(
        description="Posterior median of the between-patient SD (model scale)."
    )
    tau_interval: Interval
    mu_prior: str
    tau_prior: str
    patients: dict[str, Quantity] = Field(
        default_factory=dict, description="Patient id -> posterior mean effect."
    )
    diagnostics: SamplerDiagnosticsResult | None = Field(
        None, description="None when the sampler could not run."
    )

    def to_text(self) -> str:
        return (
            f"hierarchical model (NUTS): mean effect {self.estimate} ({self.interval}), "
            f"P(beyond {self.threshold}) {format_percent(self.probability)}; {self.status.value}: {self.reason}"
        )

    def to_html(self) -> str:
        rows = [
            ("Status", f"{self.status.value.replace('_', ' ')}: {self.reason}"),
            ("Mean effect, posterior median", f"{self.estimate} ({self.interval})"),
            (f"P(mean effect beyond {self.threshold})", format_percent(self.probability)),
            (
                "Between-patient SD (model scale)",
                f"{format_number(self.tau)} ({self.tau_interval})",
            ),
            ("Priors", f"{self.mu_prior}; {self.tau_prior}"),
        ]
        d = self.diagnostics
        if d is not None:
            rows += [
                (
                    "Chains x draws (warmup, seed)",
                    f"{d.chains} x {d.draws} ({d.warmup}, seed {d.seed})",
                ),
                (
                    "Max split R-hat / min bulk ESS / divergences",
                    f"{format_number(d.max_rhat, 4)} / {format_number(d.min_ess)} / {d.divergences}",
                ),
            ]
        body = "".join(
            f'<tr><th scope="row">{escape(k)}</th><td>{escape(v)}</td></tr>' for k, v in rows
        )
        patients = "".join(
            f"<tr><td>{escape(i)}</td><td>{escape(str(q))}</td></tr>"
            for i, q in self.patients.items()
        )
        out = (
            '<table class="result"><caption>Hierarchical model sampled with NUTS (beside the random-effects '
            f"estimate above)</caption><tbody>{body}</tbody></table>"
        )
        if patients:
            out += (
                '<table class="result"><caption>Each patient\'s effect, posterior mean under the hierarchical '
                f"model</caption><thead><tr><th>Patient</th><th>Shrunk effect</th></tr></thead><tbody>{patients}"
                "</tbody></table>"
            )
        return out


class _EndpointComparison(_Result):
    """What every criterion-5 comparison of one endpoint states: its verdict, why, the estimand
    and the decision rule it was judged by."""

    endpoint: str
    name: str
    status: Status
    reason: str
    estimand: str = ""
    decision_rule: str = ""


class TrajectoryComparisonResult(_EndpointComparison):
    """A continuous endpoint: the counted post-dose visits against the patient's predicted untreated course."""

    kind: Literal["trajectory"] = "trajectory"
    unit: str
    scale: str = Field(description="'identity', or 'log' (effects are then ratios).")
    direction: str
    n_pre: int
    n_post: int
    n_counted: int = Field(0, description="Post-dose visits after onset_days, the ones judged.")
    onset_days: float = 0.0
    effect: Quantity = Field(
        description="Mean benefit over the counted visits (observed - predicted, signed so that "
        "positive is better); a ratio for a log-scale model."
    )
    effect_interval: Interval = Field(description="Two-sided 1 - 2 alpha interval.")
    effect_model_scale: float | None = Field(
        None, description="The effect on the model scale (a mean log ratio for a log-scale model)."
    )
    effect_se: float | None = Field(None, description="Its standard error, model scale.")
    lower_bound: Quantity | None = Field(
        None, description="One-sided 1 - alpha lower confidence bound of the effect."
    )
    mcid: Quantity | None = None
    p_value_one_sided: float | None = Field(description="Tests effect <= mcid.")
    effect_early: Quantity | None = Field(
        None, description="Over the earlier half of the counted visits."
    )
    effect_late: Quantity | None = Field(None, description="Over the later half.")
    consistent: bool | None = Field(None, description="Both halves in the benefit direction.")
    posterior_probability: float | None = Field(
        None, description="P(effect > mcid), the plan's prior."
    )
    sceptical_probability: float | None = Field(
        None, description="P(effect > mcid), sceptical prior."
    )
    n_beyond_band: int = Field(
        0, description="Counted visits beyond the band (descriptive; it does not decide)."
    )
    prediction_level: float
    visits: list[VisitRow] = Field(default_factory=list)
    regression_to_mean: bool = False
    sensitivity: SensitivityResult | None = None


class EventRateComparisonResult(_EndpointComparison):
    """A count endpoint: post-dose events against the pre-dose record and the untreated rate."""

    kind: Literal["event_rates"] = "event_rates"
    pre_events: int
    pre_years: Quantity
    post_events: int
    post_years: Quantity
    n_counted_periods: int = 0
    pre_rate: Quantity
    post_rate: Quantity
    untreated_rate: Quantity = Field(description="The patient's expected untreated rate.")
    rate_ratio: Quantity | None = Field(
        None, description="Post/pre rate ratio (negative binomial)."
    )
    rate_ratio_interval: Interval | None = None
    rate_ratio_method: str | None = None
    log_rate_ratio_se: float | None = Field(None, description="SE of log(rate ratio).")
    robust_rate_ratio_interval: Interval | None = Field(
        None, description="Sandwich interval over the periods (reported, not deciding)."
    )
    rate_ratio_p_value_one_sided: float | None = Field(None, description="Tests ratio >= 1 - mcid.")
    early_ratio: Quantity | None = None
    late_ratio: Quantity | None = None
    consistent: bool | None = None
    longest_gap: Quantity = Field(description="Longest run of consecutive event-free periods.")
    gap_probability: float | None = Field(
        description="Probability of a run at least as long untreated, exact on the recording grid."
    )
    rate_route: bool | None = None
    run_route: bool | None = None
    posterior_probability: float | None = None
    sceptical_probability: float | None = None
    cohort_rate: Quantity | None = Field(None, description="The cohort's mean rate.")
    untreated_rate_interval: Interval | None = None
    regression_to_mean: bool = False
    sensitivity: SensitivityResult | None = None
    nuts: RateRatioPosteriorResult | None = Field(
        None,
        description="The NUTS posterior with the dispersion uncertain (plan sampler.method nuts).",
    )


class TimeToEventComparisonResult(_EndpointComparison):
    """A time-to-event endpoint: the patient's event-free time against the untreated curve."""

    kind: Literal["time_to_event"] = "time_to_event"
    age_at_treatment: Quantity
    event_free_to: Quantity = Field(
        description="Age the patient was event-free to (or had the event at)."
    )
    event_study_day: int | None = Field(None, description="Study day of the event, if it occurred.")
    probability: float | None = Field(
        description="Untreated chance of remaining event-free that long, given event-free at treatment."
    )
    max_probability: float
    beyond_curve: bool = False


EndpointComparison = Annotated[
    TrajectoryComparisonResult | EventRateComparisonResult | TimeToEventComparisonResult,
    Field(discriminator="kind"),
]


class EndpointStatus(_Result):
    """An endpoint criterion 5 could not compare with the natural history, and why."""

    endpoint: str
    status: Status
    reason: str


class ConcomitantChange(_Result):
    study_day: int
    kind: str
    description: str


class IntercurrentEventResult(_Result):
    """An intercurrent event (ICH E9(R1)) and what the estimand's strategy did to the data."""

    endpoint: str
    event: str
    study_day: int
    description: str
    strategy: str
    effect: str


class ImprovementResult(_Result):
    """Criterion 5: the primary endpoint decides; supportive endpoints are reported.

    ``decision_estimate``, ``decision_interval``, ``threshold`` and ``decision_rule`` are what the
    report's overview shows per patient.
    """

    criterion: Literal[5] = 5
    primary_endpoint: str
    primary: EndpointComparison | None = None
    supportive: list[EndpointComparison] = Field(default_factory=list)
    concomitant_since_baseline: list[ConcomitantChange] = Field(default_factory=list)
    decision_estimate: Quantity | None = None
    decision_interval: Interval | None = None
    threshold: Quantity | None = None
    decision_rule: str = ""
    not_compared: list[EndpointStatus] = Field(
        default_factory=list, description="Endpoints without a comparison (the primary one too)."
    )
    outcome_status: str | None = Field(None, description="The case's outcome (ongoing, died, ...).")
    age_at_first_dose: Quantity | None = None
    cohort: str | None = None
    estimand: str = ""
    effect: float | None = Field(
        None, description="The primary endpoint's effect on the model scale, benefit direction."
    )
    ci_low: float | None = None
    ci_high: float | None = None
    unit: str = ""
    p_one_sided: float | None = None
    posterior_probability: float | None = None
    intercurrent_events: list[IntercurrentEventResult] = Field(default_factory=list)
    category: str = "clinical_outcome"
    justification: str | None = None
    primaries: list[EndpointStatus] = Field(
        default_factory=list,
        description="With several primary endpoints: each one's status after Holm's procedure.",
    )

    def decision_text(self) -> str:
        """'×0.4 (95% interval ×0.2 to ×0.71), threshold ×0.5' or a dash without an estimate."""
        if self.decision_estimate is None:
            return MISSING
        text = str(self.decision_estimate)
        if self.decision_interval is not None:
            text += f" ({self.decision_interval})"
        if self.threshold is not None:
            text += f", threshold {self.threshold}"
        return text

    def to_text(self) -> str:
        lines = [f"primary endpoint {self.primary_endpoint}: {self.decision_text()}"]
        if self.decision_rule:
            lines.append(f"  rule: {self.decision_rule}")
        p = self.primary
        if isinstance(p, TrajectoryComparisonResult):
            lines.append(
                f"  {p.n_counted} of {p.n_post} post-dose visits counted, lower bound {p.lower_bound}, "
                f"one-sided p {format_p_value(p.p_value_one_sided)}; halves {p.effect_early} and {p.effect_late}"
            )
            for v in p.visits:
                lines.append(
                    f"  study day {v.study_day}: observed {format_number(v.observed)}, predicted untreated "
                    f"{format_number(v.predicted_untreated)} ({format_interval(v.interval_low, v.interval_high)})"
                    + (", beyond band" if v.beyond_band else "")
                )
        elif isinstance(p, EventRateComparisonResult):
            lines.append(
                f"  {p.pre_events} events in {p.pre_years} before, {p.post_events} in {p.post_years} after; "
                f"untreated rate {p.untreated_rate}, longest event-free gap {p.longest_gap}"
            )
            if p.nuts is not None:
                lines.append(
                    f"  NUTS: P(rate ratio < {format_number(p.nuts.null_ratio)}) {format_percent(p.nuts.probability)}, "
                    f"rate ratio {p.nuts.rate_ratio} ({p.nuts.interval}); {p.nuts.diagnostics.describe()}"
                )
        if self.estimand:
            lines.append(f"  estimand: {self.estimand}")
        for e in self.intercurrent_events:
            lines.append(f"  intercurrent event: {e.event} on study day {e.study_day}: {e.effect}")
        for c in self.concomitant_since_baseline:
            lines.append(f"  concomitant: {c.kind} on study day {c.study_day}: {c.description}")
        return "\n".join(lines)

    def to_html(self) -> str:
        parts = [
            f"<p><strong>{escape(self.primary_endpoint)}</strong>: {escape(self.decision_text())}</p>"
        ]
        if self.decision_rule:
            parts.append(f"<p>Rule: {escape(self.decision_rule)}</p>")
        if self.estimand:
            parts.append(f"<p>Estimand: {escape(self.estimand)}</p>")
        if self.justification:
            parts.append(
                f"<p>Endpoint category {escape(self.category.replace('_', ' '))}, justified in the plan: "
                f"{escape(self.justification)}</p>"
            )
        parts.append(self._numbers_html())
        if self.intercurrent_events:
            rows = "".join(
                f"<tr><td>{e.study_day}</td><td>{escape(e.event.replace('_', ' '))}</td>"
                f"<td>{escape(e.description)}</td><td>{escape(e.strategy.replace('_', ' '))}</td>"
                f"<td>{escape(e.effect)}</td></tr>"
                for e in self.intercurrent_events
            )
            parts.append(
                '<table class="result"><caption>Intercurrent events and their strategies (ICH E9(R1))'
                "</caption><thead><tr><th>Study day</th><th>Event</th><th>Description</th>"
                f"<th>Strategy</th><th>Effect on the data</th></tr></thead><tbody>{rows}</tbody></table>"
            )
        if self.primaries:
            rows = "".join(
                f"<tr><td>{escape(e.endpoint)}</td><td>{escape(e.status.value.replace('_', ' '))}</td>"
                f"<td>{escape(e.reason)}</td></tr>"
                for e in self.primaries
            )
            parts.append(
                '<table class="result"><caption>Primary endpoints, combined by Holm\'s procedure'
                "</caption><thead><tr><th>Endpoint</th><th>Status</th><th>Why</th></tr></thead>"
                f"<tbody>{rows}</tbody></table>"
            )
        p = self.primary
        if isinstance(p, TrajectoryComparisonResult) and p.visits:
            unit = f" ({escape(p.unit)})" if p.unit else ""
            rows = "".join(
                f"<tr><td>{v.study_day}</td><td>{format_number(v.observed)}</td>"
                f"<td>{format_number(v.predicted_untreated)}</td>"
                f"<td>{format_interval(v.interval_low, v.interval_high)}</td>"
                f"<td>{'yes' if v.beyond_band else 'no'}</td></tr>"
                for v in p.visits
            )
            parts.append(
                f'<table class="result"><caption>{escape(p.name)}{unit}: post-dose visits against '
                f"the {format_percent(p.prediction_level)} prediction interval of the untreated course"
                "</caption><thead><tr><th>Study day</th><th>Observed</th><th>Predicted untreated</th>"
                f"<th>Interval</th><th>Beyond band</th></tr></thead><tbody>{rows}</tbody></table>"
            )
        return "".join(parts)

    def _numbers_html(self) -> str:
        """The primary comparison's deciding numbers as one labelled table."""
        p = self.primary
        rows: list[tuple[str, str]] = []
        if isinstance(p, TrajectoryComparisonResult):
            rows = [
                (
                    "Counted post-dose visits",
                    f"{p.n_counted} of {p.n_post} (after day {format_number(p.onset_days)})",
                ),
                ("Mean effect (benefit direction)", f"{p.effect} ({p.effect_interval})"),
                (
                    "One-sided lower confidence bound",
                    str(p.lower_bound) if p.lower_bound else MISSING,
                ),
                ("Minimal clinically important difference", str(p.mcid) if p.mcid else MISSING),
                ("One-sided p (effect <= MCID)", format_p_value(p.p_value_one_sided)),
                (
                    "Earlier half / later half",
                    f"{p.effect_early or MISSING} / {p.effect_late or MISSING}",
                ),
            ]
        elif isinstance(p, EventRateComparisonResult):
            rows = [
                ("Counted post-dose periods", str(p.n_counted_periods)),
                (
                    "Rate ratio, post/pre",
                    f"{p.rate_ratio or MISSING} ({p.rate_ratio_interval or MISSING})",
                ),
                ("Robust interval (not deciding)", str(p.robust_rate_ratio_interval or MISSING)),
                ("One-sided p (ratio >= 1 - MCID)", format_p_value(p.rate_ratio_p_value_one_sided)),
                (
                    "Earlier half / later half ratio",
                    f"{p.early_ratio or MISSING} / {p.late_ratio or MISSING}",
                ),
                ("Longest event-free run", str(p.longest_gap)),
                (
                    "Its probability untreated (exact, recording grid)",
                    format_p_value(p.gap_probability),
                ),
            ]
        if p is not None:
            if p.posterior_probability is not None:  # the Bayesian rule decided
                rows.append(
                    (
                        "Posterior probability of a benefit beyond the MCID",
                        format_percent(p.posterior_probability),
                    )
                )
            rows.append(
                (
                    "Posterior probability, sceptical prior (shown, not deciding)",
                    format_percent(p.sceptical_probability),
                )
            )
        if isinstance(p, EventRateComparisonResult) and p.nuts is not None:
            rows += _nuts_rows(p.nuts)
        if p is not None and p.sensitivity is not None:
            sens = p.sensitivity
            rows.append(
                (
                    "Sensitivity: " + sens.description,
                    f"{sens.effect}, p {format_p_value(sens.p_value_one_sided)}; "
                    + ("passes" if sens.passes else "does not pass")
                    + (" (deciding)" if sens.deciding else " (reported)"),
                )
            )
        if not rows:
            return ""
        body = "".join(
            f'<tr><th scope="row">{escape(k)}</th><td>{escape(v)}</td></tr>' for k, v in rows
        )
        return f'<table class="result"><caption>The deciding numbers</caption><tbody>{body}</tbody></table>'


def _nuts_rows(n: RateRatioPosteriorResult) -> list[tuple[str, str]]:
    """The NUTS rate-ratio posterior and its diagnostics as labelled rows."""
    d = n.diagnostics
    return [
        (
            f"NUTS: P(rate ratio < {format_number(n.null_ratio)}), dispersion uncertain",
            f"{format_percent(n.probability)} (Monte Carlo SE {format_percent(n.probability_mcse)})",
        ),
        ("NUTS: rate ratio, posterior median", f"{n.rate_ratio} ({n.interval})"),
        (
            "NUTS: cohort dispersion, posterior median",
            f"{format_number(n.dispersion.value)} ({n.dispersion_interval})",
        ),
        ("NUTS: priors", f"{n.prior}; dispersion {n.dispersion_prior}"),
        (
            "NUTS: chains x draws (warmup, seed)",
            f"{d.chains} x {d.draws} ({d.warmup}, seed {d.seed})",
        ),
        (
            "NUTS: max split R-hat / min bulk ESS / divergences",
            f"{format_number(d.max_rhat, 4)} / {format_number(d.min_ess)} / {d.divergences}"
            + ("" if d.converged else "; not converged: " + "; ".join(d.problems)),
        ),
    ]


CriterionResult = Annotated[
    CauseResult | TargetingResult | NaturalHistoryResult | EngagementResult | ImprovementResult,
    Field(discriminator="criterion"),
]
"""The typed result a verdict carries, told apart by ``criterion``."""
