"""Assessing a loaded dossier: every criterion for every patient, then the platform rule."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from pmpath import __version__
from pmpath.dossier import Dossier, PatientRecord
from pmpath.dossier.model import Platform, Therapy
from pmpath.dossier.vocabulary import study_day
from pmpath.pathway import flags as flag_kinds
from pmpath.pathway.assessment import (
    AdverseEvent,
    Assessment,
    IgnoredColumns,
    InputFinding,
    PatientAssessment,
    PatientRole,
    PlatformAssessment,
    PlatformStatus,
    PooledEffect,
    PooledPatient,
)
from pmpath.pathway.context import AssessmentContext
from pmpath.pathway.flags import Flag, FlagSeverity
from pmpath.pathway.results import Interval, Quantity
from pmpath.pathway.rule import PatientStanding, apply_rule
from pmpath.pathway.verdict import Evidence, Verdict

Evaluator = Callable[[AssessmentContext, PatientRecord], Verdict]


def default_evaluators() -> dict[int, Evaluator]:
    from pmpath.pathway.criteria import cause, characterization, engagement, improvement, targeting

    return {
        1: cause.evaluate,
        2: targeting.evaluate,
        3: characterization.evaluate,
        4: engagement.evaluate,
        5: improvement.evaluate,
    }


def _pooled_effect(
    patients: list[PatientAssessment], platform: Platform | None = None
) -> PooledEffect | None:
    """Partial pooling of the primary endpoint's per-patient effects (patients not excluded).

    Continuous endpoints pool the mean deviation on the model scale (a log ratio, shown as a ratio,
    for a log-scale endpoint); event endpoints pool log rate ratios, shown as ratios. When the
    ``platform``'s plan asks for NUTS, the hierarchical model is fitted beside it.
    """
    from pmpath.outcomes.pooling import pool_effects
    from pmpath.pathway.criteria.decision_rules import uses_nuts
    from pmpath.pathway.criteria.sampled import hierarchical_pooled
    from pmpath.pathway.results import (
        EventRateComparisonResult,
        ImprovementResult,
        TrajectoryComparisonResult,
    )

    rows: list[tuple[str, float, float]] = []
    endpoint, ratio, unit = None, False, ""
    for p in patients:
        if p.role == PatientRole.excluded:
            continue
        verdict = next((v for v in p.criteria if v.number == 5), None)
        result = verdict.result if verdict is not None else None
        if not isinstance(result, ImprovementResult):
            continue
        primary = result.primary
        if isinstance(primary, TrajectoryComparisonResult) and primary.effect_se:
            if primary.effect_model_scale is None:
                continue
            rows.append((p.id, primary.effect_model_scale, primary.effect_se**2))
            ratio, unit = primary.scale == "log", primary.unit
        elif (
            isinstance(primary, EventRateComparisonResult)
            and primary.rate_ratio is not None
            and primary.rate_ratio.value
            and primary.log_rate_ratio_se
        ):
            rows.append((p.id, math.log(primary.rate_ratio.value), primary.log_rate_ratio_se**2))
            ratio, unit = True, "ratio"
        else:
            continue
        endpoint = endpoint or primary.endpoint
    if len(rows) < 2 or endpoint is None:
        return None
    ids, y, v = zip(*rows, strict=True)
    res = pool_effects(y, v, ids)
    hierarchical = None
    if platform is not None and uses_nuts(platform):
        hierarchical = hierarchical_pooled(platform, endpoint, ids, y, v, ratio, unit)

    def shown(x: float) -> Quantity:
        return Quantity.of(math.exp(x), "ratio") if ratio else Quantity.of(x, unit)

    return PooledEffect(
        endpoint=endpoint,
        method=res.method,
        n_patients=len(ids),
        estimate=shown(res.mean),
        interval=Interval.of(
            *(math.exp(x) if ratio else x for x in (res.ci_low, res.ci_high)),
            "ratio" if ratio else unit,
            res.level,
        ),
        tau=math.sqrt(res.tau2),
        i2=res.i2,
        patients=[
            PooledPatient(id=i, own=shown(own), pooled=shown(pooled))
            for i, own, pooled in zip(ids, res.effects, res.shrunk, strict=True)
        ],
        hierarchical=hierarchical,
    )


def component_mismatches(platform: Platform, therapy: Therapy) -> list[str]:
    """How the product differs from the platform's invariant components (name, version, content hash)."""
    used = {c.name: c for c in therapy.components}
    problems = []
    for comp in platform.invariant_components:
        u = used.get(comp.name)
        if u is None:
            problems.append(f"{comp.name}: missing")
        elif u.version != comp.version:
            problems.append(f"{comp.name}: version {u.version!r}, platform {comp.version!r}")
        elif comp.sha256 and u.sha256 != comp.sha256:
            problems.append(
                f"{comp.name}: content hash {u.sha256 or 'not given'}, platform {comp.sha256}"
            )
    return problems


def _int_or_none(x: float) -> int | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else int(x)


def _study_day(day: float) -> int | None:
    """Days from first dose -> CDISC study day (day 0 is study day 1; no study day 0)."""
    d = _int_or_none(day)
    return None if d is None else study_day(d)


def assess_dossier(
    dossier: Dossier,
    evaluators: Mapping[int, Evaluator] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Assessment:
    """Evaluate the five criteria for each patient and apply the platform's consecutive-patient rule."""
    evaluators = evaluators or default_evaluators()
    ctx = AssessmentContext(dossier)
    platform = dossier.platform
    patients: list[PatientAssessment] = []
    standings: list[PatientStanding] = []
    for record in dossier.patients:
        if progress:
            progress(record.id)
        verdicts = [evaluators[n](ctx, record) for n in sorted(evaluators)]
        mismatches = component_mismatches(platform, record.case.therapy)
        standings.append(
            PatientStanding(record.id, {v.number: v.status for v in verdicts}, not mismatches)
        )
        disease = platform.disease(record.case.diagnosis.disease)
        flags = [
            Flag(
                kind="invariant_component_differs",
                severity=FlagSeverity.warning,
                message=f"invariant component differs: {m}",
            )
            for m in mismatches
        ]
        if disease and disease.fatal_in_childhood:
            flags.append(
                Flag(
                    kind="priority",
                    severity=FlagSeverity.info,
                    message="priority: fatal childhood disease",
                )
            )
        if record.case.outcome.status in ("died", "withdrew", "lost_to_follow_up"):
            day = record.day_of(record.case.outcome.date) if record.case.outcome.date else None
            flags.append(
                Flag(
                    kind=flag_kinds.STOPPED_EARLY,
                    severity=FlagSeverity.info,
                    message=f"{record.case.outcome.status} (study day {_study_day(day) if day is not None else '?'})",
                )
            )
        ae = record.adverse_events
        adverse = [
            AdverseEvent(
                study_day=_study_day(r.day),
                term=str(r.term),
                serious=r.serious,
                relatedness=str(r.relatedness),
                grade=_int_or_none(r.grade),
            )
            for r in ae.sort_values(["day", "term"]).itertuples()
        ]
        concomitant = [
            {"study_day": _study_day(r.day), "kind": str(r.kind), "description": str(r.description)}
            for r in record.concomitant.sort_values(["day", "kind"]).itertuples()
        ]
        patients.append(
            PatientAssessment(
                id=record.id,
                first_dose=record.first_dose,
                disease=record.case.diagnosis.disease,
                fatal_in_childhood=bool(disease and disease.fatal_in_childhood),
                outcome=record.case.outcome.status,
                success=False,
                role=PatientRole.undecided,
                counts_toward_platform=False,
                flags=flags,
                criteria=verdicts,
                adverse_events=adverse,
                concomitant=concomitant,
            )
        )
    outcome = apply_rule(standings, platform.required_consecutive)
    for p in patients:
        p.role = outcome.roles[p.id]
        p.success = p.role == PatientRole.success
        p.counts_toward_platform = p.role in (PatientRole.success, PatientRole.failure)
        standing = [
            Flag(kind=flag_kinds.STANDING, severity=FlagSeverity.info, message=m)
            for m in outcome.flags[p.id]
        ]
        p.flags = standing + p.flags
    first_dose = min((p.first_dose for p in dossier.patients), default=None)
    changed = first_dose is not None and platform.analysis_plan.fixed_on > first_dose
    platform_flags = [
        Flag(kind=flag_kinds.STANDING, severity=FlagSeverity.info, message=m)
        for m in outcome.platform_flags
    ]
    if changed:
        platform_flags.append(
            Flag(
                kind=flag_kinds.PLAN_AFTER_FIRST_DOSE,
                severity=FlagSeverity.caveat,
                message=f"analysis plan fixed on {platform.analysis_plan.fixed_on}, after the first dose on {first_dose}: results may reflect a plan chosen after seeing data",
            )
        )
    if platform.synthetic:
        platform_flags.append(
            Flag(
                kind=flag_kinds.SYNTHETIC_DATA,
                severity=FlagSeverity.info,
                message="synthetic example data: not evidence about any real therapy",
            )
        )
    priority = any(d.fatal_in_childhood for d in platform.diseases)
    pooled = _pooled_effect(patients, platform)
    return Assessment(
        pmpath_version=__version__,
        platform=PlatformAssessment(
            id=platform.id,
            name=platform.name,
            modality=platform.modality.value,
            synthetic=platform.synthetic,
            status=PlatformStatus.ready_for_marketing_authorization
            if outcome.ready
            else PlatformStatus.collecting,
            streak=outcome.streak,
            required_consecutive=platform.required_consecutive,
            streak_patients=outcome.streak_patients,
            data_cutoff=platform.data_cutoff,
            analysis_plan_sha256=dossier.plan_sha256,
            analysis_plan_fixed_on=platform.analysis_plan.fixed_on,
            analysis_plan_changed_after_first_dose=changed,
            priority_fatal_childhood=priority,
            flags=platform_flags,
            pooled_effect=pooled,
        ),
        patients=patients,
        inputs=[Evidence(path=p, sha256=h) for p, h in dossier.inputs.items()],
        input_warnings=[
            InputFinding(
                file=f.path,
                line=f.line,
                field=f.field,
                found=f.found,
                expected=f.expected,
                severity=f.severity.value,
            )
            for f in dossier.warnings
        ],
        ignored_columns=[
            IgnoredColumns(path=path, columns=cols)
            for path, cols in dossier.ignored_columns.items()
        ],
    )
