"""The outcomes every mechanism check shares: a three-way status and the class of mechanism."""

from __future__ import annotations

from enum import StrEnum

from pmpath.dossier.vocabulary import Status

CheckStatus = Status
"""Whether a check passed; ``insufficient`` when named extra evidence could settle it."""


class MechanismClass(StrEnum):
    """How a therapy acts on the cause.

    ``corrects``: the edit restores the reference allele. ``works_around``: the therapy leaves the
    variant in place and compensates (splice switching, knockdown, disruption, a non-reference edit).
    """

    corrects = "corrects"
    works_around = "works_around"
