"""The platform's consecutive-patient rule: which patients count, the streak, and readiness.

Patients are taken in order of first dose. A patient succeeds when all five criteria are met. A
`not_met` on criterion 4 or 5 breaks the streak; on 1 or 2 excludes the patient (the product was
not a version of the platform for a valid target); on 3 no patient of that disease can succeed yet,
so the patient waits like an `insufficient` one: neither counts nor breaks, and blocks readiness
while it sits before the streak's end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pmpath.pathway.assessment import PatientRole
from pmpath.pathway.verdict import Status


@dataclass(frozen=True)
class PatientStanding:
    """What the rule needs to know about one patient."""

    id: str
    statuses: dict[int, Status]  # criterion number -> status
    shares_invariant_components: bool = True


@dataclass
class RuleOutcome:
    roles: dict[str, PatientRole]
    flags: dict[str, list[str]]
    streak: int
    streak_patients: list[str]
    ready: bool
    platform_flags: list[str] = field(default_factory=list)


def classify(standing: PatientStanding) -> tuple[PatientRole, list[str]]:
    s = standing.statuses
    flags: list[str] = []
    if not standing.shares_invariant_components:
        flags.append(
            "product does not share the platform's invariant components: does not count toward the platform"
        )
        return PatientRole.excluded, flags
    if s.get(1) == Status.not_met or s.get(2) == Status.not_met:
        failed = [str(n) for n in (1, 2) if s.get(n) == Status.not_met]
        flags.append(
            f"criterion {' and '.join(failed)} not met: the therapy was not a version of the platform for a valid target; excluded"
        )
        return PatientRole.excluded, flags
    if s.get(3) == Status.not_met:
        flags.append(
            "natural history not characterized (criterion 3 not met): no patient of this disease can succeed yet"
        )
        return PatientRole.undecided, flags
    if s.get(4) == Status.not_met or s.get(5) == Status.not_met:
        failed = [str(n) for n in (4, 5) if s.get(n) == Status.not_met]
        flags.append(f"criterion {' and '.join(failed)} not met: breaks the streak")
        return PatientRole.failure, flags
    pending = [str(n) for n in range(1, 6) if s.get(n) != Status.met]
    if pending:
        flags.append(
            f"insufficient evidence on criterion {', '.join(pending)}: neither counts nor breaks the streak yet"
        )
        return PatientRole.undecided, flags
    return PatientRole.success, flags


def apply_rule(patients: Sequence[PatientStanding], required_consecutive: int) -> RuleOutcome:
    """Apply the consecutive-patient rule to ``patients`` given in order of first dose."""
    roles: dict[str, PatientRole] = {}
    flags: dict[str, list[str]] = {}
    run: list[str] = []
    last_decided = -1
    for i, p in enumerate(patients):
        role, f = classify(p)
        roles[p.id], flags[p.id] = role, f
        if role == PatientRole.success:
            run.append(p.id)
            last_decided = i
        elif role == PatientRole.failure:
            run = []
            last_decided = i
    waiting = [p.id for p in patients[: last_decided + 1] if roles[p.id] == PatientRole.undecided]
    platform_flags = []
    if waiting:
        platform_flags.append(
            f"cannot be ready while earlier patients are undecided: {', '.join(waiting)}"
        )
    ready = len(run) >= required_consecutive and not waiting
    return RuleOutcome(roles, flags, len(run), run, ready, platform_flags)
