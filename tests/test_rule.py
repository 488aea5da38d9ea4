"""The consecutive-patient rule, case by case, against the rule as the issue states it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pmpath.pathway import PatientRole, PatientStanding, Status, apply_rule

M, N, I = Status.met, Status.not_met, Status.insufficient  # noqa: E741


def p(pid: str, *statuses: Status, shares: bool = True) -> PatientStanding:
    return PatientStanding(pid, dict(enumerate(statuses, 1)), shares)


ALL_MET = (M, M, M, M, M)


def test_three_consecutive_successes_make_the_platform_ready() -> None:
    out = apply_rule([p("a", *ALL_MET), p("b", *ALL_MET), p("c", *ALL_MET)], 3)
    assert out.ready and out.streak == 3 and out.streak_patients == ["a", "b", "c"]


def test_failure_on_engagement_or_improvement_breaks_the_streak() -> None:
    for failing in ((M, M, M, N, M), (M, M, M, M, N)):
        out = apply_rule([p("a", *ALL_MET), p("b", *failing), p("c", *ALL_MET)], 3)
        assert out.roles["b"] == PatientRole.failure
        assert out.streak == 1 and out.streak_patients == ["c"] and not out.ready


def test_cause_or_targeting_not_met_excludes_without_breaking() -> None:
    for bad in ((N, M, M, M, M), (M, N, M, M, M)):
        out = apply_rule([p("a", *ALL_MET), p("b", *bad), p("c", *ALL_MET), p("d", *ALL_MET)], 3)
        assert out.roles["b"] == PatientRole.excluded
        assert "not a version of the platform" in out.flags["b"][0]
        assert out.streak == 3 and out.ready


def test_insufficient_neither_counts_nor_breaks_but_blocks_readiness() -> None:
    out = apply_rule(
        [p("a", *ALL_MET), p("b", M, M, M, I, M), p("c", *ALL_MET), p("d", *ALL_MET)], 3
    )
    assert out.roles["b"] == PatientRole.undecided
    assert out.streak == 3 and not out.ready
    assert "b" in out.platform_flags[0]


def test_insufficient_latest_patient_does_not_block() -> None:
    out = apply_rule(
        [p("a", *ALL_MET), p("b", *ALL_MET), p("c", *ALL_MET), p("d", M, M, M, M, I)], 3
    )
    assert out.ready and out.streak == 3


def test_natural_history_not_met_means_no_success_yet() -> None:
    out = apply_rule([p("a", M, M, N, M, M)], 1)
    assert out.roles["a"] == PatientRole.undecided and out.streak == 0 and not out.ready


def test_product_outside_the_platform_does_not_count() -> None:
    out = apply_rule([p("a", *ALL_MET, shares=False), p("b", *ALL_MET)], 2)
    assert out.roles["a"] == PatientRole.excluded and out.streak == 1 and not out.ready


statuses = st.sampled_from([M, N, I])
standings = st.lists(
    st.tuples(statuses, statuses, statuses, statuses, statuses, st.booleans()), max_size=12
)


@given(standings, st.integers(1, 5))
def test_streak_is_the_run_of_successes_since_the_last_failure(rows, required) -> None:
    patients = [p(f"p{i}", *r[:5], shares=r[5]) for i, r in enumerate(rows)]
    out = apply_rule(patients, required)
    roles = [out.roles[x.id] for x in patients]
    last_failure = max((i for i, r in enumerate(roles) if r == PatientRole.failure), default=-1)
    expected = [x.id for x, r in zip(patients, roles, strict=True)][last_failure + 1 :]
    expected = [pid for pid in expected if out.roles[pid] == PatientRole.success]
    assert out.streak_patients == expected and out.streak == len(expected)
    assert not out.ready or out.streak >= required
    # a success needs all five criteria met and the platform's components
    for x in patients:
        if out.roles[x.id] == PatientRole.success:
            assert x.shares_invariant_components and all(s == M for s in x.statuses.values())


def test_status_is_ordered_so_the_worst_verdict_is_max() -> None:
    from pmpath.dossier.vocabulary import Status as S

    assert S.met < S.insufficient < S.not_met
    assert max([S.met, S.not_met, S.insufficient]) is S.not_met
    assert max([S.met, S.insufficient]) is S.insufficient
    assert [s.value for s in S] == ["met", "insufficient", "not_met"]
    assert S("not_met") == "not_met"  # the JSON values stay the strings
