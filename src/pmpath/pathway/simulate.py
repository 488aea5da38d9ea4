"""Simulated platforms: how often the consecutive-patient rule is reached with and without an effect.

``pmpath simulate`` draws many platforms of treated patients from the dossier's own evidence: each
simulated patient has a disease in the proportion of the platform's dosed patients and the visit
schedule (or event-recording grid) and age at dosing of one of them, resampled; their primary
endpoint is drawn from that disease's fitted natural-history model, untreated (scenario
``no_effect``) or with the plan's ``plausible_effect`` (scenario ``plausible_effect``), and judged
by the plan's criterion-5 rule. Criteria 1-4 are taken as met. The rule of consecutive patients is
then applied to every platform and every required streak length at once
(:func:`pmpath.pathway.operating.ready_within`).

The per-patient algebra runs batched: all simulated patients that share one resampled schedule are
simulated and judged in one call (:func:`pmpath.outcomes.judge_trajectory_batch`,
:func:`pmpath.outcomes.judge_event_rates_batch`), and one simulated sequence of patients serves every
streak length. Both scenarios use the same draws of schedules (common random numbers), so their
difference is the effect's alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pmpath.dossier import Dossier, PatientRecord
from pmpath.dossier.model import Endpoint, EndpointKind
from pmpath.dossier.vocabulary import DAYS_PER_YEAR, Status
from pmpath.errors import AnalysisError, UsageError
from pmpath.outcomes import (
    DECISION_CODES,
    EventRule,
    TrajectoryRule,
    UntreatedModel,
    UntreatedRate,
    judge_event_rates_batch,
    judge_trajectory_batch,
    simulate_event_patients,
    simulate_trajectory_patients,
)
from pmpath.pathway.context import AssessmentContext
from pmpath.pathway.operating import FAILURE, SUCCESS, UNDECIDED, ReadyProbability, ready_within

__all__ = [
    "SCENARIOS",
    "OperatingCharacteristics",
    "PatientTemplate",
    "simulate_platform",
]

SCENARIOS = ("no_effect", "plausible_effect")
DEFAULT_REQUIRED = (2, 3, 4, 5, 6)

_CODE = {Status.met: SUCCESS, Status.insufficient: UNDECIDED, Status.not_met: FAILURE}

Progress = Callable[[int, int], None]  # (done, total) simulated patient groups


@dataclass(frozen=True)
class PatientTemplate:
    """One dosed patient whose disease, schedule and age at dosing simulated patients resample."""

    patient: str
    disease: str
    age_at_dosing: float  # years
    pre_days: np.ndarray  # continuous: visit days before the first dose (<= 0)
    post_days: np.ndarray  # continuous: visit days after it (> 0)
    start_day: np.ndarray  # count: recording periods [start, end) in days from the first dose
    end_day: np.ndarray
    schedule_source: str  # "patient" or "default" (the patient had no record of the endpoint)


@dataclass(frozen=True)
class OperatingCharacteristics:
    """What a platform simulation found: P(ready) by scenario and streak length, and its inputs."""

    platform: str
    endpoint: str
    endpoint_kind: str
    n_sim: int
    seed: int
    max_patients: int
    effect: float | None  # the plausible effect on the model scale (see effect_description)
    effect_description: str
    rows: dict[str, list[ReadyProbability]]  # scenario -> one row per required streak length
    patient_success: dict[str, float]  # scenario -> share of simulated patients judged met
    patient_insufficient: dict[str, float]
    templates: list[PatientTemplate]
    assumptions: list[str] = field(default_factory=list)

    def table_rows(self) -> list[dict[str, Any]]:
        """The rows of ``operating_characteristics.tsv``."""
        return [
            {
                "scenario": scenario,
                "required_consecutive": r.required_consecutive,
                "max_patients": r.max_patients,
                "p_ready": r.p_ready,
                "mc_se": r.mc_se,
                "n_sim": r.n_sim,
                "seed": self.seed,
            }
            for scenario, rows in self.rows.items()
            for r in rows
        ]


# --------------------------------------------------------------------------- the dossier's inputs


def _default_schedule(kind: EndpointKind) -> tuple[np.ndarray, ...]:
    """The issue's reference design: 5 visits over the year before dosing, 6 over 18 months after
    (continuous); 6 monthly periods before, 9 after (events)."""
    month = DAYS_PER_YEAR / 12
    pre = np.linspace(-DAYS_PER_YEAR, 0.0, 5)
    post = np.linspace(0.25 * DAYS_PER_YEAR, 1.5 * DAYS_PER_YEAR, 6)
    edges = np.arange(-6, 10) * month
    return pre, post, edges[:-1], edges[1:]


def _templates(dossier: Dossier, endpoint: Endpoint) -> list[PatientTemplate]:
    from pmpath.pathway.criteria.improvement import LAST_PRE_DAY, _PatientData

    out = []
    pre0, post0, start0, end0 = _default_schedule(endpoint.kind)
    patients: Sequence[PatientRecord] = dossier.patients
    for patient in patients:
        disease = dossier.platform.disease(patient.case.diagnosis.disease)
        if disease is None:
            continue
        data = _PatientData.of(patient)
        source = "patient"
        if endpoint.kind == EndpointKind.continuous:
            day = data.measured(endpoint.id).day
            pre, post = day[day <= LAST_PRE_DAY], day[day > LAST_PRE_DAY]
            if post.size == 0:
                pre, post, source = pre0, post0, "default"
            start = end = np.empty(0)
        else:
            periods = data.events(endpoint.id)
            start, end = periods.start_day, periods.end_day
            if start.size == 0 or not np.any(start >= 0):
                start, end, source = start0, end0, "default"
            pre = post = np.empty(0)
        out.append(
            PatientTemplate(
                patient=patient.id,
                disease=disease.id,
                age_at_dosing=float(patient.case.diagnosis.age_at_first_dose_years),
                pre_days=np.asarray(pre, dtype=float),
                post_days=np.asarray(post, dtype=float),
                start_day=np.asarray(start, dtype=float),
                end_day=np.asarray(end, dtype=float),
                schedule_source=source,
            )
        )
    return out


def _fits(ctx: AssessmentContext, endpoint: Endpoint) -> dict[str, Any]:
    """Disease id -> its cohort's fit of the endpoint, for every disease whose fit exists."""
    from pmpath.pathway.criteria.characterization import cohort_fits

    out: dict[str, Any] = {}
    for disease in ctx.dossier.platform.diseases:
        try:
            fit = cohort_fits(ctx, disease.cohort).get(endpoint.id)
        except KeyError:
            continue
        if fit is None:
            continue
        if (endpoint.kind == EndpointKind.continuous and hasattr(fit, "random_effects_cov")) or (
            endpoint.kind == EndpointKind.count and hasattr(fit, "rate_per_year")
        ):
            out[disease.id] = fit
    return out


def _models(
    ctx: AssessmentContext,
    endpoint: Endpoint,
    fits: dict[str, Any],
    templates: list[PatientTemplate],
) -> list[Any]:
    """The untreated model each template's patients are drawn from: for a continuous endpoint with
    covariates in the cohort's fit, at the dosed patient's own covariates (genotype class, sex, age
    at onset), as criterion 5 judges that patient."""
    from pmpath.pathway.criteria.decision_rules import untreated_model, untreated_rate

    disease = {d.id: d for d in ctx.dossier.platform.diseases}
    case = {p.id: p.case for p in ctx.dossier.patients}
    return [
        untreated_model(ctx, fits[t.disease], case[t.patient])
        if endpoint.kind == EndpointKind.continuous
        else untreated_rate(ctx, disease[t.disease].cohort, endpoint, fits[t.disease])
        for t in templates
    ]


# --------------------------------------------------------------------------- simulation


def _judge_continuous(
    model: UntreatedModel,
    template: PatientTemplate,
    n: int,
    rng: np.random.Generator,
    benefit: float,
    rule: TrajectoryRule,
    direction: str,
) -> np.ndarray:
    data = simulate_trajectory_patients(
        model,
        n,
        rng,
        pre_offsets_years=template.pre_days / DAYS_PER_YEAR,
        post_offsets_years=template.post_days / DAYS_PER_YEAR,
        dosing_ages=template.age_at_dosing,
        benefit=benefit,
        onset_days=rule.onset_days,
        direction=direction,
    )
    out = judge_trajectory_batch(model, *data, direction, rule, dosing_ages=template.age_at_dosing)
    return np.array([_CODE[DECISION_CODES[c]] for c in range(3)])[out.decision]


def _judge_events(
    untreated: UntreatedRate,
    template: PatientTemplate,
    n: int,
    rng: np.random.Generator,
    rate_ratio: float,
    rule: EventRule,
) -> np.ndarray:
    start, end = template.start_day, template.end_day
    pre = int(np.sum(end <= 0))
    post = int(np.sum(start >= 0))
    length = float(np.median(end - start))
    sim = simulate_event_patients(
        untreated,
        n,
        rng,
        pre_periods=pre,
        post_periods=post,
        period_days=length,
        rate_ratio=rate_ratio,
        onset_days=rule.onset_days,
        last_pre_worst=False,
    )
    out = judge_event_rates_batch(sim.start_day, sim.end_day, sim.counts, untreated, rule)
    return np.array([_CODE[Status(d)] for d in out.decision])


def simulate_platform(
    dossier: Dossier,
    *,
    n_sim: int = 10_000,
    seed: int = 20251101,
    max_patients: int = 10,
    required: Sequence[int] = DEFAULT_REQUIRED,
    progress: Progress | None = None,
) -> OperatingCharacteristics:
    """Simulate ``n_sim`` platforms of ``max_patients`` patients each, for both :data:`SCENARIOS`.

    Parameters
    ----------
    dossier
        A loaded dossier: its platform (primary endpoint, plan), cohorts (the fitted natural
        history) and dosed patients (the diseases' proportions, schedules and ages at dosing).
    n_sim
        Simulated platforms per scenario.
    seed
        Seed of the random generator (the same seed gives the same table).
    max_patients
        Treated patients per platform: the horizon within which readiness must be reached.
    required
        Numbers of consecutive successes to report (default 2 to 6).
    progress
        Called with (groups done, groups in all) as the simulation goes on.

    Returns
    -------
    OperatingCharacteristics

    Raises
    ------
    UsageError
        Bad arguments.
    AnalysisError
        The primary endpoint cannot be simulated (a time-to-event endpoint; no dosed patient of a
        disease with a fitted natural history).
    """
    from pmpath.pathway.criteria.decision_rules import (
        capped_at_insufficient,
        event_rule,
        plausible_effect,
        trajectory_rule,
    )

    if isinstance(n_sim, bool) or n_sim < 1:
        raise UsageError(f"--n-sim: found {n_sim!r}, expected at least 1 simulated platform")
    if max_patients < 1:
        raise UsageError(f"--max-patients: found {max_patients!r}, expected at least 1")
    required = sorted({int(r) for r in required})
    platform = dossier.platform
    endpoint = platform.primary_endpoint
    if endpoint.kind == EndpointKind.time_to_event:
        raise AnalysisError(
            f"primary endpoint {endpoint.id!r} is a time-to-event endpoint: simulate supports "
            "continuous and count endpoints"
        )
    ctx = AssessmentContext(dossier)
    fits = _fits(ctx, endpoint)
    templates = [t for t in _templates(dossier, endpoint) if t.disease in fits]
    if not templates:
        raise AnalysisError(
            f"no dosed patient has a disease whose cohort fits the primary endpoint {endpoint.id!r}: "
            "nothing to resample"
        )
    models = _models(ctx, endpoint, fits, templates)
    effect, effect_text = plausible_effect(platform, endpoint)
    scenarios = SCENARIOS if effect is not None else SCENARIOS[:1]
    rule = (
        trajectory_rule(platform, endpoint)
        if endpoint.kind == EndpointKind.continuous
        else event_rule(platform, endpoint)
    )
    capped = capped_at_insufficient(platform, endpoint)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(templates), size=(n_sim, max_patients))
    groups = [np.flatnonzero(picks.ravel() == i) for i in range(len(templates))]
    total = len(scenarios) * sum(1 for g in groups if g.size)
    done = 0
    rows: dict[str, list[ReadyProbability]] = {}
    success: dict[str, float] = {}
    insufficient: dict[str, float] = {}
    for scenario in scenarios:
        codes = np.zeros(n_sim * max_patients, dtype=np.int8)
        for i, where in enumerate(groups):
            if where.size == 0:
                continue
            template, model = templates[i], models[i]
            # one stream per (scenario, template), both scenarios drawing the same patients
            sub = np.random.default_rng([seed, i])
            if endpoint.kind == EndpointKind.continuous:
                benefit = effect if scenario == "plausible_effect" else 0.0
                got = _judge_continuous(
                    model, template, where.size, sub, benefit, rule, endpoint.direction.value
                )
            else:
                ratio = (1.0 - effect) if scenario == "plausible_effect" else 1.0
                got = _judge_events(model, template, where.size, sub, ratio, rule)
            codes[where] = got
            done += 1
            if progress is not None:
                progress(done, total)
        if capped:  # the criterion gives at most insufficient for this endpoint
            codes[codes == SUCCESS] = UNDECIDED
        matrix = codes.reshape(n_sim, max_patients)
        rows[scenario] = ready_within(matrix, required, max_patients)
        success[scenario] = float(np.mean(matrix == SUCCESS))
        insufficient[scenario] = float(np.mean(matrix == UNDECIDED))
    assumptions = [
        "criteria 1-4 are taken as met for every simulated patient; only criterion 5 is simulated",
        f"each simulated patient resamples one of the {len(templates)} dosed patients with a fitted "
        "natural history: their disease (so diseases come in the dosed patients' proportions), their "
        "visit schedule or recording grid of the primary endpoint, their age at dosing and, where the "
        "natural-history fit has covariates, their covariates",
        "untreated courses are drawn from the fitted natural-history model with its estimates as the "
        "truth; the decision rule is the plan's criterion-5 rule for the primary endpoint",
        f"a platform is ready when the platform rule is met within {max_patients} treated patients; "
        "an insufficient patient neither counts nor breaks the streak and blocks readiness once a later "
        "patient is decided, as in the rule applied to a real dossier",
    ]
    assumptions.append(
        "no intercurrent events (concomitant changes, transplant, death, withdrawal) are simulated"
    )
    if capped:
        assumptions.append(
            f"the primary endpoint {endpoint.id!r} is {endpoint.category.value.replace('_', ' ')} without a "
            "justification in the plan: criterion 5 gives at most insufficient, so no platform becomes ready"
        )
    defaults = sorted({t.patient for t in templates if t.schedule_source == "default"})
    if defaults:
        assumptions.append(
            "no record of the primary endpoint for "
            + ", ".join(defaults)
            + ": their schedule is the reference design (5 visits over the year before dosing and 6 "
            "over 18 months after; or 6 monthly periods before and 9 after)"
        )
    stated = sorted({n for m in models for n in getattr(m, "notes", ())})
    if stated:
        assumptions.append("untreated models: " + "; ".join(stated))
    if effect is None:
        assumptions.append(
            f"the plan declares no plausible_effect for {endpoint.id!r}: only the no-effect scenario is simulated"
        )
    return OperatingCharacteristics(
        platform=platform.id,
        endpoint=endpoint.id,
        endpoint_kind=endpoint.kind.value,
        n_sim=n_sim,
        seed=seed,
        max_patients=max_patients,
        effect=effect,
        effect_description=effect_text,
        rows=rows,
        patient_success=success,
        patient_insufficient=insufficient,
        templates=templates,
        assumptions=assumptions,
    )
