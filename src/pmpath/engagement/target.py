"""Where a guide's editable bases sit on an amplicon: the amplicon positions of the editor's base
inside the editing window, counted from the protospacer's PAM-distal end on the guide's strand.
"""

from __future__ import annotations

from dataclasses import dataclass

from pmpath.engagement.crispresso import reverse_complement
from pmpath.errors import AnalysisError

__all__ = ["EditableSite", "editable_sites", "target_site"]


@dataclass(frozen=True)
class EditableSite:
    """An editable base: 1-based amplicon position, protospacer position (1 = PAM-distal end),
    the guide's strand on the amplicon and the amplicon's reference base there."""

    amplicon_position: int
    protospacer_position: int
    strand: str
    ref: str


def editable_sites(
    amplicon: str, guide: str, edit_from: str, window: tuple[int, int]
) -> tuple[EditableSite, ...]:
    """The editor's bases (``edit_from`` on the guide's strand) in the window, on the amplicon.

    The guide is looked for on both strands; it must occur exactly once.

    >>> [s.amplicon_position for s in editable_sites("TTTACAGAAGGG", "ACAGA", "A", (1, 5))]
    [4, 6, 8]
    >>> [s.amplicon_position for s in editable_sites("CCCTTCTGTAAA", "ACAGA", "A", (1, 5))]
    [5, 7, 9]
    """
    amplicon, guide = amplicon.upper(), guide.upper()
    plus = [i for i in range(len(amplicon) - len(guide) + 1) if amplicon.startswith(guide, i)]
    rc = reverse_complement(guide)
    minus = [i for i in range(len(amplicon) - len(guide) + 1) if amplicon.startswith(rc, i)]
    if len(plus) + len(minus) != 1:
        found = "nowhere" if not plus and not minus else f"{len(plus) + len(minus)} times"
        raise AnalysisError(
            f"guide {guide}: found {found} on the amplicon (either strand), expected exactly once"
        )
    length = len(guide)
    lo, hi = window
    out = []
    for p in range(max(lo, 1), min(hi, length) + 1):
        if plus:
            pos = plus[0] + p  # 1-based: start (0-based) + p
            ref = amplicon[pos - 1]
            if ref == edit_from:
                out.append(EditableSite(pos, p, "+", ref))
        else:
            pos = minus[0] + length - p + 1
            ref = amplicon[pos - 1]
            if ref == reverse_complement(edit_from):
                out.append(EditableSite(pos, p, "-", ref))
    return tuple(sorted(out, key=lambda s: s.amplicon_position))


def target_site(
    amplicon: str,
    guide: str,
    edit_from: str,
    window: tuple[int, int],
    target_position: int | None = None,
) -> EditableSite:
    """The one editable base an engagement count is made at.

    ``target_position`` (1-based amplicon position) picks it when given; otherwise the window
    must hold exactly one editable base.
    """
    sites = editable_sites(amplicon, guide, edit_from, window)
    if target_position is not None:
        for s in sites:
            if s.amplicon_position == target_position:
                return s
        raise AnalysisError(
            f"target_position: found {target_position}, expected an editable base of the window "
            f"(amplicon positions {', '.join(str(s.amplicon_position) for s in sites) or 'none'})"
        )
    if len(sites) != 1:
        listed = ", ".join(str(s.amplicon_position) for s in sites) or "none"
        raise AnalysisError(
            f"editing window {window[0]}-{window[1]}: found {len(sites)} editable {edit_from} bases "
            f"(amplicon positions {listed}), expected one; give target_position"
        )
    return sites[0]
