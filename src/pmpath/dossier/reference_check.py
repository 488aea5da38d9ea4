"""Validation of the reference FASTA against the dossier: a readable FASTA, a matching ``.fai``, every target inside it.

Criterion 2 reads the bases around each targeted variant from the platform's ``reference_fasta``.
Evidence that validates must be evidence criterion 2 can assess, so a garbage or empty FASTA, a
``.fai`` that does not match it, a variant or ASO site outside every record, and a declared REF
allele that differs from the reference are validation findings here, never an ``insufficient``
verdict later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pmpath.dossier.fasta import (
    FaiEntry,
    FastaIndex,
    covering_span,
    read_fasta,
    records_on,
)
from pmpath.dossier.model import SpliceSite, Variant
from pmpath.errors import Finding

EXPECTED_FAI = "an index matching the FASTA (delete it; pmpath will index the FASTA itself)"
_SHOWN_RECORDS = 6


@dataclass(frozen=True)
class ReferenceTarget:
    """An interval the dossier declares on the reference, and where the dossier declares it.

    ``start`` and ``end`` are 1-based and inclusive. ``expected_ref``, when given, is the allele the
    dossier says the reference holds there (a variant's REF). A mismatch is reported at
    ``ref_field`` and ``ref_line`` when given (``variants.0.ref``), else at ``field`` and ``line``.
    """

    path: str
    line: int | None
    field: str
    chrom: str
    start: int
    end: int
    expected_ref: str | None = None
    ref_field: str | None = None
    ref_line: int | None = None

    @classmethod
    def of_variant(
        cls,
        variant: Variant,
        path: str,
        line: int | None,
        field: str,
        *,
        ref_line: int | None = None,
        ref_field: str | None = None,
    ) -> ReferenceTarget:
        """A variant's REF allele: ``pos`` to ``pos + len(ref) - 1``, which must hold ``ref``."""
        return cls(
            path,
            line,
            field,
            variant.chrom,
            variant.pos,
            variant.pos + len(variant.ref) - 1,
            variant.ref,
            ref_field,
            ref_line,
        )

    @classmethod
    def of_site(cls, site: SpliceSite, path: str, line: int | None, field: str) -> ReferenceTarget:
        """An ASO's ``therapy.acts_on`` site, which must lie inside one record."""
        return cls(path, line, field, site.chrom, site.start, site.end)

    @property
    def where(self) -> str:
        return f"{self.chrom}:{self.start}" + (f"-{self.end}" if self.end != self.start else "")


def check_reference(
    root: Path, fasta_rel: str, targets: Sequence[ReferenceTarget]
) -> list[Finding]:
    """Every finding on the reference FASTA ``root / fasta_rel`` and on the targets declared on it.

    Parameters
    ----------
    root : Path
        The dossier directory.
    fasta_rel : str
        The FASTA's path relative to ``root`` (platform.yaml's ``reference_fasta``).
    targets : sequence of ReferenceTarget
        Every interval the dossier declares on the reference: each variant (inline or from a VCF)
        with its REF allele, each ASO ``acts_on`` site.

    Returns
    -------
    list of Finding
        Empty when the FASTA is a FASTA pmpath can index, a ``.fai`` beside it matches it, every
        target lies within one record and every declared REF equals the reference's bases. When
        the FASTA itself is unreadable only its findings are returned, since no target can be
        checked against it.
    """
    findings: list[Finding] = []
    path = root / fasta_rel
    index = read_fasta(path, fasta_rel, findings)
    if index is None:
        return findings
    _check_fai(root, fasta_rel, index, findings)
    if targets:
        with path.open("rb") as stream:
            for target in targets:
                _check_target(target, index, stream, fasta_rel, findings)
    return findings


# --------------------------------------------------------------------------- the .fai beside the FASTA


def _parse_fai_line(text: str) -> tuple[str, int, int, int, int] | None:
    parts = text.rstrip("\r\n").split("\t")
    if len(parts) not in (5, 6) or not all(p.isdigit() for p in parts[1:5]):
        return None  # samtools writes 5 columns for FASTA (6 for FASTQ)
    return parts[0], int(parts[1]), int(parts[2]), int(parts[3]), int(parts[4])


def _differences(theirs: tuple[str, int, int, int, int], ours: FaiEntry) -> str:
    names = ("length", "offset", "bases per line", "bytes per line")
    values = (ours.length, ours.offset, ours.line_bases, ours.line_width)
    parts = [
        f"{label} {t} here, {o} in the FASTA"
        for label, t, o in zip(names, theirs[1:], values, strict=True)
        if t != o
    ]
    return f"record {ours.name!r}: " + "; ".join(parts)


def _check_fai(root: Path, fasta_rel: str, index: FastaIndex, findings: list[Finding]) -> None:
    fai_rel = f"{fasta_rel}.fai"
    fai = root / fai_rel
    if not fai.exists() and not fai.is_symlink():
        return
    try:
        raw = fai.read_bytes()
    except OSError as exc:
        findings.append(
            Finding(
                fai_rel, None, "", f"an index that cannot be read ({exc.strerror})", EXPECTED_FAI
            )
        )
        return
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        findings.append(Finding(fai_rel, None, "", "bytes that are not UTF-8 text", EXPECTED_FAI))
        return
    # the first difference is the finding: everything after it follows from it
    for number, (text, ours) in enumerate(zip(lines, index.entries, strict=False), start=1):
        theirs = _parse_fai_line(text)
        if theirs is None:
            detail = f"{text[:60]!r}, not name, length, offset, bases and bytes per line separated by tabs"
        elif theirs[0] != ours.name:
            detail = f"record {theirs[0]!r} where record {number} of {fasta_rel} is {ours.name!r}"
        elif theirs[1:] != (ours.length, ours.offset, ours.line_bases, ours.line_width):
            detail = _differences(theirs, ours)
        else:
            continue
        findings.append(Finding(fai_rel, number, "", f"an index line {detail}", EXPECTED_FAI))
        return
    if len(lines) != len(index.entries):
        findings.append(
            Finding(
                fai_rel,
                min(len(lines), len(index.entries)) + 1
                if len(lines) > len(index.entries)
                else None,
                "",
                f"an index of {len(lines)} record(s) for a FASTA of {len(index.entries)}",
                EXPECTED_FAI,
            )
        )


# --------------------------------------------------------------------------- targets


def _records_shown(index: FastaIndex, chrom: str) -> str:
    on_chrom = records_on(index.spans, chrom)
    if on_chrom:
        shown = on_chrom
        prefix = f"the records on {chrom}: "
    else:
        shown = list(index.spans)
        prefix = f"no record on {chrom}; the records: "
    text = ", ".join(s.label for s in shown[:_SHOWN_RECORDS])
    if len(shown) > _SHOWN_RECORDS:
        text += f" and {len(shown) - _SHOWN_RECORDS} more"
    return prefix + text


def _check_target(
    target: ReferenceTarget,
    index: FastaIndex,
    stream: BinaryIO,
    fasta_rel: str,
    findings: list[Finding],
) -> None:
    if target.start < 1 or target.end < target.start:
        findings.append(
            Finding(
                target.path,
                target.line,
                target.field,
                f"the interval {target.chrom}:{target.start}-{target.end}",
                "1 <= start <= end (1-based, inclusive)",
            )
        )
        return
    span = covering_span(index.spans, target.chrom, target.start, target.end)
    if span is None:
        flank = 1000
        example = f"{target.chrom}:{max(1, target.start - flank)}-{target.end + flank}"
        findings.append(
            Finding(
                target.path,
                target.line,
                target.field,
                f"{target.where}, outside every record of {fasta_rel} ({_records_shown(index, target.chrom)})",
                f"a position inside one record: a record named {target.chrom}, or a region record "
                f"such as {example} that contains it",
            )
        )
        return
    if target.expected_ref is None:
        return
    bases = index.bases(stream, span.name, target.start - span.start, target.end - target.start + 1)
    if bases.upper() != target.expected_ref.upper():
        findings.append(
            Finding(
                target.path,
                target.line if target.ref_line is None else target.ref_line,
                target.field if target.ref_field is None else target.ref_field,
                f"REF {target.expected_ref!r}",
                f"{bases.upper()!r} (the reference at {target.where}, record {span.name} of {fasta_rel})",
            )
        )
