"""The dossier's vocabulary, defined once at the bottom layer: time constants, study days, ACMG classes, zygosity.

Every other module imports these; none keeps its own copy.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

DAYS_PER_YEAR = 365.25
"""Julian year: ages in years and days from first dose convert with this factor everywhere."""

DAYS_PER_MONTH = DAYS_PER_YEAR / 12


def study_day(offset: int) -> int:
    """CDISC study day of a day offset from the first dose: offset 0 is study day 1, offset -1 is day -1.

    There is no study day 0 (SDTM Implementation Guide, --DY variables).
    """
    offset = int(offset)
    return offset + 1 if offset >= 0 else offset


def offset_of_study_day(day: int) -> int:
    """Inverse of :func:`study_day`; raises ValueError for study day 0, which does not exist."""
    day = int(day)
    if day == 0:
        raise ValueError(
            "study day 0 does not exist (day 1 is the first dose, day -1 the day before)"
        )
    return day - 1 if day > 0 else day


def study_day_of_date(date: dt.date, first_dose: dt.date) -> int:
    return study_day((date - first_dose).days)


class AcmgClass(StrEnum):
    """ACMG/AMP 2015 five-tier variant classification."""

    pathogenic = "pathogenic"
    likely_pathogenic = "likely_pathogenic"
    uncertain_significance = "uncertain_significance"
    likely_benign = "likely_benign"
    benign = "benign"


class Zygosity(StrEnum):
    heterozygous = "heterozygous"
    homozygous = "homozygous"
    hemizygous = "hemizygous"


class Status(StrEnum):
    """A verdict or check outcome, ordered met < insufficient < not_met.

    The order is by how much a result stands in the way: ``max(statuses)`` is the worst of several
    verdicts. The values are the strings written to ``assessment.json``.
    """

    met = "met"
    insufficient = "insufficient"
    not_met = "not_met"

    @property
    def rank(self) -> int:
        return _STATUS_RANK[self.value]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Status):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Status):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Status):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Status):
            return NotImplemented
        return self.rank >= other.rank

    __hash__ = StrEnum.__hash__


_STATUS_RANK = {"met": 0, "insufficient": 1, "not_met": 2}
