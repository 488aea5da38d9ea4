"""A variant in VCF terms and the patient's allele sequence around it, with a map back to reference coordinates."""

from __future__ import annotations

from dataclasses import dataclass

from pmpath.errors import AnalysisError, UsageError
from pmpath.mechanism.reference import ReferenceSequence
from pmpath.mechanism.sequence import check_dna


@dataclass(frozen=True)
class SequenceVariant:
    """A small variant in VCF convention: 1-based ``pos`` of the first ``ref`` base, a shared anchor base for indels.

    Examples
    --------
    >>> SequenceVariant("chrX", 1036, "G", "A").kind
    'substitution'
    >>> SequenceVariant("chr1", 100, "CTT", "C").trimmed()
    (101, 'TT', '')
    """

    chrom: str
    pos: int
    ref: str
    alt: str

    def __post_init__(self) -> None:
        if self.pos < 1:
            raise UsageError(f"variant pos: found {self.pos}, expected a 1-based position >= 1")
        object.__setattr__(self, "ref", check_dna(self.ref, "variant ref"))
        object.__setattr__(self, "alt", check_dna(self.alt, "variant alt"))
        if self.ref == self.alt:
            raise UsageError(f"variant {self}: ref equals alt, expected a change")

    @property
    def end(self) -> int:
        """Last reference position the ``ref`` allele covers."""
        return self.pos + len(self.ref) - 1

    def trimmed(self) -> tuple[int, str, str]:
        """(first changed reference position, changed ref bases, changed alt bases): shared prefix, then suffix, removed."""
        ref, alt, pos = self.ref, self.alt, self.pos
        while ref and alt and ref[0] == alt[0]:
            ref, alt, pos = ref[1:], alt[1:], pos + 1
        while ref and alt and ref[-1] == alt[-1]:
            ref, alt = ref[:-1], alt[:-1]
        return pos, ref, alt

    @property
    def kind(self) -> str:
        """``substitution`` (SNV or MNV), ``deletion``, ``insertion`` or ``delins``."""
        _, ref, alt = self.trimmed()
        if len(ref) == len(alt):
            return "substitution"
        if not alt:
            return "deletion"
        return "insertion" if not ref else "delins"

    def __str__(self) -> str:
        return f"{self.chrom}:{self.pos} {self.ref}>{self.alt}"


@dataclass(frozen=True)
class AlleleWindow:
    """Reference and patient sequence (forward strand) around a variant.

    ``reference`` covers ``chrom:start-...``; ``patient`` is the same stretch with ``ref``
    replaced by ``alt``. ``changed`` holds the patient indices of the bases the variant changes; for a
    pure deletion, the two bases on either side of the junction.
    """

    chrom: str
    start: int
    reference: str
    patient: str
    variant: SequenceVariant
    changed: tuple[int, ...]
    _offset: int  # patient index of the first changed base
    _ref_len: int
    _alt_len: int

    @property
    def end(self) -> int:
        """Reference coordinate of the window's last base."""
        return self.start + len(self.reference) - 1

    def reference_position(self, index: int) -> int | None:
        """Reference coordinate of patient base ``index``; None for a base the variant inserted."""
        if index < self._offset:
            return self.start + index
        if index < self._offset + self._alt_len:
            return self.start + index if index - self._offset < self._ref_len else None
        return self.start + index - self._alt_len + self._ref_len

    def patient_index(self, position: int) -> int | None:
        """Patient index of reference coordinate ``position``; None for a base the variant deleted or replaced."""
        index = position - self.start
        if index < self._offset:
            return index
        if index < self._offset + self._ref_len:
            return index if self._ref_len == self._alt_len else None
        return index - self._ref_len + self._alt_len


def check_reference_allele(reference: ReferenceSequence, variant: SequenceVariant) -> None:
    """Raise AnalysisError when the reference does not carry the variant's ``ref`` allele at ``pos``."""
    found = reference.fetch(variant.chrom, variant.pos, variant.end)
    if found != variant.ref:
        raise AnalysisError(
            f"variant {variant}: the reference has {found!r} at {variant.chrom}:{variant.pos}-{variant.end}, "
            f"expected the variant's ref allele {variant.ref!r} (is the genome build or the position right?)"
        )


def allele_window(
    reference: ReferenceSequence, variant: SequenceVariant, left: int, right: int
) -> AlleleWindow:
    """The patient's allele sequence from ``left`` bases before the variant to ``right`` bases after it.

    The window is clipped to what the reference covers around the variant (a FASTA snippet may
    end close to it); compare ``window.start`` and ``window.end`` with the request to tell.
    """
    check_reference_allele(reference, variant)
    lo, hi = reference.extent(variant.chrom, variant.pos, variant.end)
    start = max(lo, variant.pos - left)
    ref_seq = reference.fetch(variant.chrom, start, min(hi, variant.end + right))
    first, ref_bases, alt_bases = variant.trimmed()
    offset = first - start
    patient = ref_seq[:offset] + alt_bases + ref_seq[offset + len(ref_bases) :]
    if alt_bases:
        changed = tuple(range(offset, offset + len(alt_bases)))
    else:
        changed = tuple(i for i in (offset - 1, offset) if 0 <= i < len(patient))
    if not changed:
        raise AnalysisError(
            f"variant {variant}: no sequence around it, expected flanking bases in the reference"
        )
    return AlleleWindow(
        variant.chrom,
        start,
        ref_seq,
        patient,
        variant,
        changed,
        offset,
        len(ref_bases),
        len(alt_bases),
    )
