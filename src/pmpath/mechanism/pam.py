"""Cas variants (PAM, protospacer length) and editors (window, conversion), named or user-defined.

The table is data so the methods document and ``pmpath mechanism design --help`` print it. Windows
are protospacer positions counted from the PAM-distal end (1-based, inclusive), the convention of
the base-editing literature; every value can be overridden.

References: SpCas9 NGG (Jinek et al. 2012, Science 337:816); SpCas9-NG NG (Nishimasu et al. 2018,
Science 361:1259); SpRY NRN > NYN (Walton et al. 2020, Science 368:290); SaCas9 NNGRRT with a 21-nt
protospacer (Ran et al. 2015, Nature 520:186); ABE8e window 4-8, widest activity 4-8 (Richter et al.
2020, Nat Biotechnol 38:883); BE4max window 4-8 (Koblan et al. 2018, Nat Biotechnol 36:843).

Examples
--------
>>> editor("abe8e", cas="sacas9").pam, editor("abe8e", cas="sacas9").protospacer_length
('NNGRRT', 21)
>>> parse_pam("nrn")
'NRN'
"""

from __future__ import annotations

from dataclasses import dataclass

from pmpath.errors import UsageError
from pmpath.mechanism.guide import Editor
from pmpath.mechanism.sequence import IUPAC

__all__ = [
    "CAS_VARIANTS",
    "EDITORS",
    "CasVariant",
    "EditorKind",
    "editor",
    "editors_for",
    "parse_pam",
]


@dataclass(frozen=True)
class CasVariant:
    """A Cas protein: PAM(s) in IUPAC 3' of the protospacer, protospacer length, a note on activity."""

    name: str
    pams: tuple[str, ...]
    protospacer_length: int = 20
    note: str = ""


CAS_VARIANTS: dict[str, CasVariant] = {
    "spcas9": CasVariant("SpCas9", ("NGG",), 20),
    "spcas9-ng": CasVariant("SpCas9-NG", ("NGN",), 20, "NGG > NGA ~ NGT > NGC"),
    "spry": CasVariant("SpRY", ("NRN", "NYN"), 20, "NRN PAMs are edited more than NYN"),
    "sacas9": CasVariant("SaCas9", ("NNGRRT",), 21),
}
"""Named Cas variants; keys are what ``--cas`` and :func:`editor` accept."""


@dataclass(frozen=True)
class EditorKind:
    """An editor: its conversion on the protospacer strand (None for a nuclease) and default window."""

    name: str
    edit_from: str | None
    edit_to: str | None
    window: tuple[int, int] = (4, 8)
    default_cas: str = "spcas9"


EDITORS: dict[str, EditorKind] = {
    "abe8e": EditorKind("ABE8e", "A", "G", (4, 8)),
    "be4max": EditorKind("BE4max", "C", "T", (4, 8)),
    "spcas9": EditorKind("SpCas9 nuclease", None, None, (1, 20)),
}
"""Named editors; ``spcas9`` is the nuclease (its window is unused: the cut decides)."""


def parse_pam(text: str) -> str:
    """An IUPAC PAM, upper-cased; UsageError naming the letters that are not IUPAC."""
    pam = text.strip().upper()
    bad = sorted(set(pam) - set(IUPAC))
    if not pam or bad:
        raise UsageError(
            f"PAM: found {text!r}{' with ' + ''.join(bad) if bad else ''}, expected IUPAC letters "
            f"(ACGT RYSWKMBDHVN) such as NGG or NNGRRT"
        )
    return pam


def editors_for(
    name: str,
    cas: str | None = None,
    pam: str | None = None,
    window: tuple[int, int] | None = None,
    protospacer_length: int | None = None,
    max_cut_distance: int = 10,
) -> list[Editor]:
    """One :class:`~pmpath.mechanism.guide.Editor` per PAM of the chosen Cas (SpRY has two).

    Parameters
    ----------
    name
        A key of :data:`EDITORS` (``abe8e``, ``be4max``, ``spcas9``).
    cas
        A key of :data:`CAS_VARIANTS`; by default the editor's own (SpCas9).
    pam
        A user-defined IUPAC PAM replacing the Cas variant's; or the name of a Cas variant.
    window
        Editing window (first, last), 1-based from the PAM-distal end.
    protospacer_length
        Overrides the Cas variant's.
    max_cut_distance
        Nuclease only: largest cut-to-variant distance counted as disrupting the variant.
    """
    key = name.strip().lower()
    if key not in EDITORS:
        raise UsageError(f"editor: found {name!r}, expected one of {', '.join(EDITORS)}")
    kind = EDITORS[key]
    if pam is not None and pam.strip().lower() in CAS_VARIANTS:
        cas, pam = pam.strip().lower(), None
    cas_key = (cas or kind.default_cas).strip().lower()
    if cas_key not in CAS_VARIANTS:
        raise UsageError(f"cas: found {cas!r}, expected one of {', '.join(CAS_VARIANTS)}")
    variant = CAS_VARIANTS[cas_key]
    pams = (parse_pam(pam),) if pam is not None else variant.pams
    length = protospacer_length or variant.protospacer_length
    lo_hi = window or (kind.window if kind.edit_from else (1, length))
    return [
        Editor(
            pam=p,
            protospacer_length=length,
            editing_window=lo_hi,
            edit_from=kind.edit_from,
            edit_to=kind.edit_to,
            max_cut_distance=max_cut_distance,
        )
        for p in pams
    ]


def editor(name: str, cas: str | None = None, **options: object) -> Editor:
    """The first (preferred) :class:`~pmpath.mechanism.guide.Editor` of :func:`editors_for`."""
    return editors_for(name, cas, **options)[0]  # type: ignore[arg-type]
