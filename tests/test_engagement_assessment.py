"""The evidence hierarchy: the highest tier present decides, conservatively within the tier."""

from __future__ import annotations

import pytest

from pmpath.engagement import EVIDENCE_TIERS, AssayResult, assess_engagement, clopper_pearson

# One replicate each, so each assay's interval is plain Clopper-Pearson and its status is clear:
# 900/1000 (CI ~0.88-0.92) is far above a 0.2 minimum, 10/1000 (~0.005-0.018) far below it,
# and 20/100 (~0.13-0.29) contains it.
ABOVE = [(900, 1000)]
BELOW = [(10, 1000)]
STRADDLE = [(20, 100)]
MINIMUM = 0.2


def assay(name: str, source: str, replicates: list[tuple[int, int]]) -> AssayResult:
    return AssayResult(name, source, replicates, MINIMUM)  # type: ignore[arg-type]


def test_the_fixture_counts_are_what_the_table_says() -> None:
    assert clopper_pearson(900, 1000)[0] > MINIMUM
    assert clopper_pearson(10, 1000)[1] < MINIMUM
    lo, hi = clopper_pearson(20, 100)
    assert lo < MINIMUM < hi


def test_no_assay_is_insufficient() -> None:
    result = assess_engagement([])
    assert result.status == "insufficient"
    assert result.deciding_tier is None
    assert [t.tier for t in result.tiers] == list(EVIDENCE_TIERS)
    assert all(t.assays == () and t.status is None for t in result.tiers)


# (assays as (source, replicates), expected status, expected deciding tier)
DECISION_TABLE = [
    pytest.param([("patient", ABOVE)], "met", "patient", id="patient-above"),
    pytest.param([("patient", BELOW)], "not_met", "patient", id="patient-below"),
    pytest.param([("patient", STRADDLE)], "insufficient", "patient", id="patient-straddles"),
    pytest.param(
        [("patient", ABOVE), ("animal_model", BELOW)],
        "met",
        "patient",
        id="patient-overrules-animal",
    ),
    pytest.param(
        [("patient", BELOW), ("patient_derived_cells", ABOVE)],
        "not_met",
        "patient",
        id="patient-below-cells-above",
    ),
    pytest.param(
        [("patient", STRADDLE), ("animal_model", ABOVE)],
        "insufficient",
        "patient",
        id="lower-tier-cannot-rescue",
    ),
    pytest.param(
        [("animal_model", ABOVE), ("patient_derived_cells", BELOW)],
        "met",
        "animal_model",
        id="animal-decides-without-patient",
    ),
    pytest.param(
        [("patient_derived_cells", STRADDLE), ("other_in_vitro", ABOVE)],
        "insufficient",
        "patient_derived_cells",
        id="cells-over-in-vitro",
    ),
    pytest.param([("other_in_vitro", ABOVE)], "met", "other_in_vitro", id="only-in-vitro"),
    pytest.param(
        [("other_in_vitro", BELOW)], "not_met", "other_in_vitro", id="only-in-vitro-below"
    ),
    # several assays in the deciding tier
    pytest.param([("patient", ABOVE), ("patient", ABOVE)], "met", "patient", id="tier-all-above"),
    pytest.param(
        [("patient", ABOVE), ("patient", STRADDLE)],
        "insufficient",
        "patient",
        id="tier-above-and-straddle",
    ),
    pytest.param(
        [("patient", ABOVE), ("patient", BELOW)], "not_met", "patient", id="tier-above-and-below"
    ),
    pytest.param(
        [("patient", STRADDLE), ("patient", BELOW)],
        "not_met",
        "patient",
        id="tier-straddle-and-below",
    ),
    pytest.param(
        [("patient", STRADDLE), ("patient", STRADDLE)],
        "insufficient",
        "patient",
        id="tier-all-straddle",
    ),
]


@pytest.mark.parametrize(("assays", "status", "tier"), DECISION_TABLE)
def test_tier_decision_table(
    assays: list[tuple[str, list[tuple[int, int]]]], status: str, tier: str
) -> None:
    result = assess_engagement(
        [assay(f"a{i}", source, reps) for i, (source, reps) in enumerate(assays)]
    )
    assert result.status == status
    assert result.deciding_tier == tier
    assert result.tier(tier).status == status
    assert tier in result.reason


def test_hierarchy_lists_every_tier_with_its_assays_strongest_first() -> None:
    result = assess_engagement(
        [
            assay("dish", "other_in_vitro", ABOVE),
            assay("mouse_liver", "animal_model", BELOW),
            assay("biopsy", "patient", ABOVE),
            assay("mouse_blood", "animal_model", STRADDLE),
        ]
    )
    assert [t.tier for t in result.tiers] == [
        "patient",
        "animal_model",
        "patient_derived_cells",
        "other_in_vitro",
    ]
    assert [[a.assay for a in t.assays] for t in result.tiers] == [
        ["biopsy"],
        ["mouse_liver", "mouse_blood"],
        [],
        ["dish"],
    ]
    assert [t.status for t in result.tiers] == ["met", "not_met", None, "met"]
    assert [a.assay for a in result.assays] == ["biopsy", "mouse_liver", "mouse_blood", "dish"]
    frame = result.to_frame()
    assert frame["deciding"].tolist() == [True, False, False, False]
    assert frame["status"].tolist() == ["met", "not_met", "insufficient", "met"]


def test_assay_status_uses_each_assays_own_minimum() -> None:
    # 310/1000: CI ~0.28-0.34 clears 0.2 but not 0.4
    result = assess_engagement(
        [
            AssayResult("a", "patient", [(310, 1000)], 0.2),
            AssayResult("b", "patient", [(310, 1000)], 0.4),
        ]
    )
    assert [a.status for a in result.assays] == ["met", "not_met"]
    assert result.status == "not_met"


def test_zero_minimum_with_nothing_edited_is_not_engagement() -> None:
    # lower bound 0 is not above a minimum of 0; the upper bound cannot be below it
    result = assess_engagement([AssayResult("a", "patient", [(0, 500)], 0.0)])
    assert result.status == "insufficient"


def test_replicate_variation_can_turn_met_into_insufficient() -> None:
    # Pooled 1030/4000 = 0.2575: naive CI (~0.244-0.271) clears 0.24, but the replicates
    # (0.15 .. 0.35) disagree so much that the widened interval does not.
    replicates = [(150, 1000), (350, 1000), (200, 1000), (330, 1000)]
    assert clopper_pearson(1030, 4000)[0] > 0.24
    result = assess_engagement([AssayResult("biopsy", "patient", replicates, 0.24)])
    assert result.status == "insufficient"
    assert result.assays[0].interval.method == "beta_binomial_design_effect"


def test_confidence_level_is_passed_to_every_interval() -> None:
    result = assess_engagement([assay("a", "patient", STRADDLE)], confidence=0.8)
    assert result.confidence == 0.8
    assert (result.assays[0].lower, result.assays[0].upper) == clopper_pearson(20, 100, 0.8)


def test_refuses_bad_assays() -> None:
    with pytest.raises(ValueError, match="found source 'mouse'"):
        AssayResult("a", "mouse", ABOVE, 0.2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"minimum_fraction 1\.5"):
        AssayResult("a", "patient", ABOVE, 1.5)
    with pytest.raises(ValueError, match="no replicates"):
        AssayResult("a", "patient", [], 0.2)
    with pytest.raises(ValueError, match="appears twice"):
        assess_engagement([assay("a", "patient", ABOVE), assay("a", "animal_model", ABOVE)])
    with pytest.raises(ValueError, match="confidence"):
        assess_engagement([], confidence=95)
