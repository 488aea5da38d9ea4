"""The edit's coordinates on an amplicon: where the guide sits (either strand), the quantification
window, the editor's base and product, and which bases are the intended target or bystanders.

Protospacer positions are counted from the guide's PAM-distal (5') end: position 1 is the guide's
first base, 20 its last, 21-23 the PAM; 0 and below lie 5' of the guide. Each editor has a
default window in those positions (adenine and cytosine base editors 4-8, nuclease and prime
editor 17-18, the two bases beside the cut, as CRISPResso2's default window).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pmpath.errors import UsageError

__all__ = [
    "DEFAULT_WINDOWS",
    "EDITORS",
    "Amplicon",
    "EditTarget",
    "design_target",
    "parse_window",
    "read_amplicons",
    "reverse_complement",
]

EDITORS = ("abe", "cbe", "nuclease", "prime")
#: Protospacer positions of each editor's default quantification window (inclusive).
DEFAULT_WINDOWS = {"abe": (4, 8), "cbe": (4, 8), "nuclease": (17, 18), "prime": (17, 18)}
#: The base each base editor converts and its product, on the guide's strand.
CONVERSIONS = {"abe": ("A", "G"), "cbe": ("C", "T")}

_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")
_WINDOW = re.compile(r"^\s*(-?\d+)\s*(?:-|\.\.|:)\s*(-?\d+)\s*$")


def reverse_complement(seq: str) -> str:
    """Reverse complement of an upper-case ACGTN sequence.

    >>> reverse_complement("AACGTN")
    'NACGTT'
    """
    return seq.translate(_COMPLEMENT)[::-1]


@dataclass(frozen=True)
class Amplicon:
    """A named reference amplicon (upper case, ACGTN), as on its + strand."""

    name: str
    sequence: str


def _clean(seq: str, what: str) -> str:
    s = re.sub(r"\s+", "", seq).upper()
    if not s:
        raise UsageError(f"{what}: empty sequence (expected A, C, G, T or N letters)")
    bad = set(s) - set("ACGTN")
    if bad:
        raise UsageError(
            f"{what}: found {''.join(sorted(bad))!r} in the sequence (expected A, C, G, T or N)"
        )
    return s


def read_amplicons(value: str, name: str | None = None) -> list[Amplicon]:
    """Amplicons from a sequence or a FASTA file of one or more records.

    Parameters
    ----------
    value : str
        The amplicon sequence itself, or the path of a FASTA file.
    name : str, optional
        The name of a single amplicon given as a sequence (default ``"Reference"``, as CRISPResso2).
    """
    path = Path(value)
    if len(value) < 4096 and path.is_file():
        amplicons: list[Amplicon] = []
        current, parts = None, []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith(">"):
                if current is not None:
                    amplicons.append(Amplicon(current, _clean("".join(parts), f"{path} {current}")))
                current, parts = line[1:].split(None, 1)[0] if line[1:].strip() else "", []
                if not current:
                    raise UsageError(f"{path}, line {number}: a FASTA header without a name")
            elif line.strip():
                if current is None:
                    raise UsageError(
                        f"{path}, line {number}: sequence before the first '>' header "
                        "(expected a FASTA file)"
                    )
                parts.append(line.strip())
        if current is not None:
            amplicons.append(Amplicon(current, _clean("".join(parts), f"{path} {current}")))
        if not amplicons:
            raise UsageError(f"{path}: no FASTA records (expected '>name' then the sequence)")
        names = [a.name for a in amplicons]
        if len(set(names)) != len(names):
            raise UsageError(f"{path}: amplicon names repeat (expected unique names): {names}")
        return amplicons
    return [Amplicon(name or "Reference", _clean(value, "amplicon"))]


def parse_window(text: str) -> tuple[int, int]:
    """``"4-8"`` -> ``(4, 8)``: protospacer positions, inclusive; ``"-2..23"`` for ones outside 1-20.

    >>> parse_window("4-8")
    (4, 8)
    >>> parse_window("-3..22")
    (-3, 22)
    """
    match = _WINDOW.match(text)
    if not match:
        raise UsageError(
            f"window: found {text!r} (expected FIRST-LAST protospacer positions, e.g. 4-8)"
        )
    lo, hi = int(match.group(1)), int(match.group(2))
    if lo > hi:
        raise UsageError(f"window: found {text!r}, first after last (expected e.g. 4-8)")
    return lo, hi


@dataclass(frozen=True)
class EditTarget:
    """An amplicon with its guide, editor and window resolved to 0-based amplicon indices.

    Attributes
    ----------
    amplicon : Amplicon
    guide : str
        The guide (protospacer) as given, 5' to 3'.
    strand : str
        ``"+"`` when the guide reads on the amplicon as given, ``"-"`` on its reverse complement.
    guide_start, guide_end : int
        0-based half-open interval of the protospacer on the amplicon.
    editor : str
        One of :data:`EDITORS`.
    window : tuple of int
        The protospacer positions of the window (inclusive).
    window_indices : tuple of int
        0-based amplicon indices of the window, ascending.
    cut : int
        Amplicon index of the base 5' of the cut (on the amplicon), i.e. the cut lies between
        ``cut`` and ``cut + 1``.
    from_base, to_base : str or None
        The base editor's conversion as it reads on the amplicon (+) strand (``T``/``C`` for an
        adenine editor whose guide is on the minus strand); ``None`` for a nuclease.
    editable : tuple of int
        Window indices whose reference base is ``from_base``.
    intended : tuple of int
        The editable indices named as the target (default all of them).
    prime_edits : tuple of (int, str)
        For a prime editor: the amplicon indices and bases of the intended edit.
    """

    amplicon: Amplicon
    guide: str
    strand: str
    guide_start: int
    guide_end: int
    editor: str
    window: tuple[int, int]
    window_indices: tuple[int, ...]
    cut: int
    from_base: str | None
    to_base: str | None
    editable: tuple[int, ...]
    intended: tuple[int, ...]
    prime_edits: tuple[tuple[int, str], ...] = ()

    def index_of(self, position: int) -> int:
        """Amplicon index (0-based) of protospacer ``position`` (1 = the guide's 5' base)."""
        if self.strand == "+":
            return self.guide_start + position - 1
        return self.guide_end - position

    def position_of(self, index: int) -> int:
        """Protospacer position of amplicon ``index`` (the inverse of :meth:`index_of`)."""
        if self.strand == "+":
            return index - self.guide_start + 1
        return self.guide_end - index

    @property
    def bystanders(self) -> tuple[int, ...]:
        return tuple(i for i in self.editable if i not in self.intended)


def _find_guide(amplicon: Amplicon, guide: str) -> tuple[str, int]:
    seq = amplicon.sequence
    fwd = [m.start() for m in re.finditer(f"(?={guide})", seq)]
    rc = reverse_complement(guide)
    rev = [m.start() for m in re.finditer(f"(?={rc})", seq)]
    hits = [("+", i) for i in fwd] + [("-", i) for i in rev if rc != guide or not fwd]
    if not hits:
        raise UsageError(
            f"amplicon {amplicon.name!r}: the guide {guide} is not in the amplicon on either "
            "strand (expected the protospacer, 5' to 3', without the PAM)"
        )
    if len(hits) > 1:
        raise UsageError(
            f"amplicon {amplicon.name!r}: the guide {guide} occurs {len(hits)} times "
            f"(at {', '.join(f'{i + 1}{s}' for s, i in hits)}); expected once"
        )
    return hits[0]


def _prime_edits(
    amplicon: Amplicon, strand: str, start: int, end: int, extension: str
) -> tuple[tuple[int, str], ...]:
    # The pegRNA extension is RT template then primer binding site, 5'->3'. Its reverse complement
    # starts with the PBS's target (the protospacer's bases 5' of the nick) and goes on with the
    # new flap, which replaces the same number of bases 3' of the nick (substitution edits).
    plus = amplicon.sequence if strand == "+" else reverse_complement(amplicon.sequence)
    g0 = start if strand == "+" else len(plus) - end
    nick = g0 + 17
    flap_full = reverse_complement(extension)
    pbs = 0
    for p in range(min(17, len(flap_full) - 1), 4, -1):
        if plus[nick - p : nick] == flap_full[:p]:
            pbs = p
            break
    if not pbs:
        raise UsageError(
            "pe-extension: its 3' end (the primer binding site) does not pair with the protospacer "
            "5' of the nick (expected the RT template then the PBS, 5' to 3')"
        )
    flap = flap_full[pbs:]
    edits = []
    for k, base in enumerate(flap):
        i = nick + k
        if i < len(plus) and plus[i] != base:
            edits.append((i, base))
    if not edits:
        raise UsageError("pe-extension: the RT template encodes no change to the amplicon")
    if strand == "-":
        n = len(plus)
        edits = [(n - 1 - i, reverse_complement(b)) for i, b in edits]
    return tuple(sorted(edits))


def design_target(
    amplicon: Amplicon | str,
    guide: str,
    editor: str = "abe",
    window: tuple[int, int] | str | None = None,
    intended_positions: tuple[int, ...] | list[int] | int | None = None,
    pe_extension: str | None = None,
) -> EditTarget:
    """Resolve a guide and editor on an amplicon.

    Parameters
    ----------
    amplicon : Amplicon or str
        The amplicon (a bare sequence is named ``"Reference"``).
    guide : str
        The protospacer, 5' to 3', on either strand of the amplicon.
    editor : {"abe", "cbe", "nuclease", "prime"}
    window : (first, last) or "first-last", optional
        Protospacer positions of the quantification window (default per editor, see
        :data:`DEFAULT_WINDOWS`).
    intended_positions : int or sequence of int, optional
        Protospacer positions of the target base(s); default every editable base in the window.
    pe_extension : str, optional
        A prime editor's pegRNA extension (RT template + primer binding site), required for ``prime``.

    Raises
    ------
    UsageError
        Unknown editor, a guide absent from the amplicon (or present twice), a window outside the
        amplicon, an intended position that is not an editable base of the window.

    Examples
    --------
    >>> t = design_target("TTTTACGTACGTACGTACGTACGTAGGTTTT", "ACGTACGTACGTACGTACGT", "abe")
    >>> t.strand, t.window_indices, t.editable
    ('+', (7, 8, 9, 10, 11), (8,))
    """
    if isinstance(amplicon, str):
        amplicon = Amplicon("Reference", _clean(amplicon, "amplicon"))
    editor = editor.lower()
    if editor not in EDITORS:
        raise UsageError(f"editor: found {editor!r} (expected one of {', '.join(EDITORS)})")
    guide = _clean(guide, "guide")
    strand, start = _find_guide(amplicon, guide)
    end = start + len(guide)
    if window is None:
        window = DEFAULT_WINDOWS[editor]
    elif isinstance(window, str):
        window = parse_window(window)
    lo, hi = int(window[0]), int(window[1])
    if lo > hi:
        raise UsageError(f"window: first position {lo} after last {hi}")

    def idx(p: int) -> int:
        return start + p - 1 if strand == "+" else end - p

    indices = tuple(sorted(idx(p) for p in range(lo, hi + 1)))
    n = len(amplicon.sequence)
    if indices[0] < 0 or indices[-1] >= n:
        raise UsageError(
            f"window {lo}-{hi}: reaches beyond amplicon {amplicon.name!r} "
            f"(amplicon indices {indices[0] + 1}..{indices[-1] + 1} of 1..{n})"
        )
    cut = idx(17) if strand == "+" else idx(18)
    from_base = to_base = None
    editable: tuple[int, ...] = ()
    prime: tuple[tuple[int, str], ...] = ()
    if editor in CONVERSIONS:
        f, t = CONVERSIONS[editor]
        if strand == "-":
            f, t = reverse_complement(f), reverse_complement(t)
        from_base, to_base = f, t
        editable = tuple(i for i in indices if amplicon.sequence[i] == f)
    elif editor == "prime":
        if not pe_extension:
            raise UsageError("editor prime: --pe-extension (RT template + PBS) is required")
        prime = _prime_edits(amplicon, strand, start, end, _clean(pe_extension, "pe-extension"))
        outside = [i for i, _ in prime if i not in indices]
        if outside:
            indices = tuple(sorted(set(indices) | {i for i, _ in prime}))
    if intended_positions is None:
        intended = editable
    else:
        if isinstance(intended_positions, int):
            intended_positions = (intended_positions,)
        if editor not in CONVERSIONS:
            raise UsageError(
                f"intended position: only base editors have one, not editor {editor!r}"
            )
        intended = tuple(sorted(idx(int(p)) for p in intended_positions))
        wrong = [p for p, i in zip(intended_positions, intended, strict=True) if i not in editable]
        if wrong:
            raise UsageError(
                f"intended position {wrong[0]}: not an editable {from_base} of the window "
                f"{lo}-{hi} on amplicon {amplicon.name!r} (editable positions: "
                f"{', '.join(str(_position(i, strand, start, end)) for i in editable) or 'none'})"
            )
    return EditTarget(
        amplicon=amplicon,
        guide=guide,
        strand=strand,
        guide_start=start,
        guide_end=end,
        editor=editor,
        window=(lo, hi),
        window_indices=indices,
        cut=cut,
        from_base=from_base,
        to_base=to_base,
        editable=editable,
        intended=intended,
        prime_edits=prime,
    )


def _position(i: int, strand: str, start: int, end: int) -> int:
    return i - start + 1 if strand == "+" else end - i
