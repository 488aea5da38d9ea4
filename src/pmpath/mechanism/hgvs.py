"""HGVS variants read, checked, normalized and mapped offline with biocommons ``hgvs`` over the user's GFF3 and FASTA.

biocommons ``hgvs`` parses, maps and normalizes; its data come from :class:`AnnotationDataProvider`,
an implementation of its data-provider interface over an :class:`~pmpath.mechanism.transcript.Annotation`
and a :class:`~pmpath.mechanism.reference.ReferenceSequence`. Nothing touches its network services
(UTA, SeqRepo): the transcript sequences are spliced from the reference FASTA, the genome sequence is
the FASTA. :class:`HgvsMapper` resolves a ``c.``, ``n.`` or ``g.`` string to genomic coordinates, checks
the stated reference allele against the FASTA, normalizes it (3' rule, as HGVS requires) and gives
both the form as written and the normalized one, with the VCF form pmpath's checks use.

Examples
--------
>>> mapper = HgvsMapper(FastaReference("genome.fa"), read_annotation("genes.gff3"))  # doctest: +SKIP
>>> v = mapper.resolve("NM_PLUS.1:c.35G>A")  # doctest: +SKIP
>>> v.g, v.p  # doctest: +SKIP
('chrT1:g.265G>A', 'NP_PLUS.1:p.(Trp12Ter)')
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from pmpath.errors import AnalysisError, DossierError, Finding, UsageError
from pmpath.mechanism.allele import SequenceVariant
from pmpath.mechanism.reference import ReferenceSequence
from pmpath.mechanism.transcript import Annotation, Transcript

__all__ = [
    "ALIGNMENT_METHOD",
    "AnnotationDataProvider",
    "HgvsMapper",
    "ResolvedVariant",
    "parse_hgvs",
]

ALIGNMENT_METHOD = (
    "splign"  # the name biocommons hgvs asks for by default; ours is the annotation's
)


def _hgvs_modules():
    """biocommons hgvs, imported on first use (it is slow to import and optional for most commands)."""
    import hgvs.dataproviders.interface
    import hgvs.exceptions
    import hgvs.normalizer
    import hgvs.parser
    import hgvs.variantmapper

    return hgvs


_PARSER = None


def parse_hgvs(text: str, where: str = "variant") -> Any:
    """Parse an HGVS string (``NM_000531.6:c.1003C>T``) with biocommons hgvs.

    Raises
    ------
    UsageError
        The string does not parse; the message names ``where``, the string and the expected form.
    """
    global _PARSER
    hgvs = _hgvs_modules()
    if _PARSER is None:
        _PARSER = hgvs.parser.Parser()
    try:
        return _PARSER.parse_hgvs_variant(text.strip())
    except hgvs.exceptions.HGVSError as exc:
        raise UsageError(
            f"{where}: found {text!r}, which does not parse as HGVS ({exc}); expected e.g. "
            f"'NM_000531.6:c.1003C>T', 'NM_000531.6:c.1003+5G>A' or 'chrX:g.38260101G>A'"
        ) from None


def _make_provider_class():
    hgvs = _hgvs_modules()

    class _Provider(hgvs.dataproviders.interface.Interface):
        required_version = "1.1"

        def __init__(self, reference: ReferenceSequence, annotation: Annotation):
            self.reference = reference
            self.annotation = annotation
            self._mrna: dict[str, str] = {}
            self._proteins: dict[str, str] = {}
            super().__init__()

        # -- versions
        def data_version(self) -> str:
            return f"pmpath:{self.annotation.source}"

        def schema_version(self) -> str:
            return "1.1"

        # -- sequences
        def _tx(self, ac: str) -> Transcript | None:
            try:
                return self.annotation[ac]
            except KeyError:
                return None

        def get_seq(self, ac: str, start_i: int | None = None, end_i: int | None = None) -> str:
            from pmpath.mechanism.consequence import translate

            tx = self._tx(ac)
            if tx is not None:
                if tx.id not in self._mrna:
                    self._mrna[tx.id] = tx.mrna(self.reference)
                return self._mrna[tx.id][start_i:end_i]
            if ac in self._proteins:
                return self._proteins[ac][start_i:end_i]
            for tx in self.annotation.values():
                if tx.protein_id == ac:
                    protein = translate(tx.cds(self.reference)).rstrip("*")
                    self._proteins[ac] = protein
                    return protein[start_i:end_i]
            # a contig: 0-based half-open, clipped to what the reference covers
            lo = (start_i or 0) + 1
            try:
                first, last = self.reference.extent(ac, lo, lo)
            except AnalysisError as exc:
                raise hgvs.exceptions.HGVSDataNotAvailableError(str(exc)) from None
            hi = last if end_i is None else min(end_i, last)
            return self.reference.fetch(ac, max(lo, first), hi) if hi >= lo else ""

        def get_acs_for_protein_seq(self, seq: str) -> list[str]:
            return ["MD5_" + hashlib.md5(seq.encode()).hexdigest()]

        def get_pro_ac_for_tx_ac(self, tx_ac: str) -> str | None:
            tx = self._tx(tx_ac)
            return None if tx is None else tx.protein_id

        # -- genes and transcripts
        def get_assembly_map(self, assembly_name: str) -> dict[str, str]:
            return {}

        def get_gene_info(self, gene: str) -> dict[str, Any] | None:
            return {"hgnc": gene} if self.annotation.for_gene(gene) else None

        def get_similar_transcripts(self, tx_ac: str) -> list[dict[str, Any]]:
            return []

        def _require(self, tx_ac: str) -> Transcript:
            tx = self._tx(tx_ac)
            if tx is None:
                raise hgvs.exceptions.HGVSDataNotAvailableError(
                    f"no transcript {tx_ac} in {self.annotation.source}"
                )
            return tx

        def _cds_i(self, tx: Transcript) -> tuple[int | None, int | None]:
            if tx.cds_n is None:
                return None, None
            return tx.cds_n[0] - 1, tx.cds_n[1]

        def get_tx_exons(
            self, tx_ac: str, alt_ac: str, alt_aln_method: str
        ) -> list[dict[str, Any]]:
            tx = self._require(tx_ac)
            rows = []
            n = 0
            ordered = tx.exons_in_order
            for order, (s, e) in enumerate(ordered):
                size = e - s + 1
                rows.append(
                    {
                        "tx_ac": tx.id,
                        "alt_ac": alt_ac,
                        "alt_strand": 1 if tx.strand == "+" else -1,
                        "alt_aln_method": alt_aln_method,
                        "ord": order,
                        "tx_start_i": n,
                        "tx_end_i": n + size,
                        "alt_start_i": s - 1,
                        "alt_end_i": e,
                        "cigar": f"{size}=",
                    }
                )
                n += size
            return sorted(rows, key=lambda r: r["alt_start_i"])

        def get_tx_for_gene(self, gene: str) -> list[dict[str, Any]]:
            return [self._info(t) for t in self.annotation.for_gene(gene)]

        def get_tx_for_region(
            self, alt_ac: str, alt_aln_method: str, start_i: int, end_i: int
        ) -> list[dict[str, Any]]:
            return [
                self._info(t, alt_ac)
                for t in self.annotation.overlapping(alt_ac, start_i + 1, end_i)
            ]

        def _info(self, tx: Transcript, alt_ac: str | None = None) -> dict[str, Any]:
            cds_start_i, cds_end_i = self._cds_i(tx)
            return {
                "hgnc": tx.gene,
                "cds_start_i": cds_start_i,
                "cds_end_i": cds_end_i,
                "tx_ac": tx.id,
                "alt_ac": alt_ac or tx.chrom,
                "alt_aln_method": ALIGNMENT_METHOD,
                "start_i": tx.start - 1,
                "end_i": tx.end,
            }

        def get_tx_identity_info(self, tx_ac: str) -> dict[str, Any]:
            tx = self._require(tx_ac)
            cds_start_i, cds_end_i = self._cds_i(tx)
            return {
                "tx_ac": tx.id,
                "alt_ac": tx.id,
                "alt_aln_method": "transcript",
                "cds_start_i": cds_start_i,
                "cds_end_i": cds_end_i,
                "lengths": [e - s + 1 for s, e in tx.exons_in_order],
                "hgnc": tx.gene,
            }

        def get_tx_info(self, tx_ac: str, alt_ac: str, alt_aln_method: str) -> dict[str, Any]:
            tx = self._require(tx_ac)
            return self._info(tx, alt_ac)

        def get_tx_mapping_options(self, tx_ac: str) -> list[dict[str, Any]]:
            tx = self._tx(tx_ac)
            if tx is None:
                return []
            return [
                {
                    "hgnc": tx.gene,
                    "tx_ac": tx.id,
                    "alt_ac": tx.chrom,
                    "alt_aln_method": ALIGNMENT_METHOD,
                }
            ]

    return _Provider


_PROVIDER_CLASS = None


def AnnotationDataProvider(reference: ReferenceSequence, annotation: Annotation) -> Any:
    """A biocommons ``hgvs`` data provider over an annotation and a reference (no network).

    A factory, so importing :mod:`pmpath.mechanism` does not import ``hgvs``; the object is an
    instance of ``hgvs.dataproviders.interface.Interface``.
    """
    global _PROVIDER_CLASS
    if _PROVIDER_CLASS is None:
        _PROVIDER_CLASS = _make_provider_class()
    return _PROVIDER_CLASS(reference, annotation)


@dataclass(frozen=True)
class ResolvedVariant:
    """An HGVS variant resolved on the transcript model and the reference.

    Attributes
    ----------
    given
        The string as written.
    transcript
        Accession of the transcript (None for a ``g.`` variant given without one).
    c_given, c
        The coding form as written (with the transcript's full accession) and normalized (3' rule
        on the transcript's strand); None for a non-coding transcript or a ``g.`` input without a
        transcript.
    g_given, g
        The genomic form mapped from the input, and normalized (3' rule on the forward strand).
    p
        The predicted protein change from biocommons hgvs (``NP_x:p.(Trp12Ter)``); None when it
        cannot be predicted (intronic, non-coding).
    vcf
        The variant in VCF terms (anchor base for indels), for the allele and guide checks.
    """

    given: str
    transcript: str | None
    c_given: str | None
    c: str | None
    g_given: str
    g: str
    p: str | None
    vcf: SequenceVariant

    @property
    def normalized_differs(self) -> bool:
        """True when normalization moved the variant (the form written was not the 3'-most)."""
        return (self.c_given or self.g_given) != (self.c or self.g)

    def forms(self) -> list[str]:
        """Lines showing both forms: as written and normalized, then genomic and protein."""
        lines = [f"as written: {self.given}"]
        if self.c is not None:
            lines.append(f"normalized: {self.c}" + ("" if self.c == self.c_given else " (3' rule)"))
        lines.append(
            f"genomic: {self.g}" + ("" if self.g == self.g_given else f" (written {self.g_given})")
        )
        if self.p:
            lines.append(f"protein: {self.p}")
        lines.append(f"VCF: {self.vcf.chrom} {self.vcf.pos} {self.vcf.ref} {self.vcf.alt}")
        return lines


class HgvsMapper:
    """Resolve HGVS strings on a transcript model and a reference, offline.

    Parameters
    ----------
    reference
        Reference bases (a FASTA file or region records).
    annotation
        The transcripts (:func:`~pmpath.mechanism.transcript.read_annotation`).
    where
        How messages name the variant's source (``--variant``, ``case.yaml variants[0].hgvs_c``).
    """

    def __init__(
        self, reference: ReferenceSequence, annotation: Annotation, where: str = "variant"
    ):
        hgvs = _hgvs_modules()
        self.reference = reference
        self.annotation = annotation
        self.where = where
        self.hdp = AnnotationDataProvider(reference, annotation)
        self._vm = hgvs.variantmapper.VariantMapper(
            self.hdp, replace_reference=False, prevalidation_level=None, add_gene_symbol=False
        )
        self._norm_3 = hgvs.normalizer.Normalizer(
            self.hdp,
            cross_boundaries=False,
            shuffle_direction=3,
            alt_aln_method=ALIGNMENT_METHOD,
            validate=False,
        )
        self._hgvs = hgvs

    def _source(self) -> str:
        return str(getattr(self.reference, "source", "reference"))

    def _check_contig(self, chrom: str, start: int, end: int) -> None:
        try:
            self.reference.extent(chrom, start, end)
        except AnalysisError as exc:
            raise DossierError(
                [
                    Finding(
                        self._source(),
                        None,
                        "contig",
                        f"no record covering {chrom}:{start}-{end}",
                        f"a FASTA record named {chrom} (or a region record holding it) ({exc})",
                    )
                ]
            ) from None

    def transcript(self, accession: str) -> Transcript:
        return self.annotation.get_transcript(accession)

    def resolve(self, text: str) -> ResolvedVariant:
        """Parse, check and normalize ``text``; map it to the genome (and to c. when on a transcript).

        Raises
        ------
        UsageError
            The string does not parse, or its kind (p., r., m.) cannot be mapped.
        DossierError
            The transcript is not in the annotation, the contig is not in the FASTA, or the stated
            reference allele differs from the FASTA (findings naming the file, found, expected).
        """
        hgvs = self._hgvs
        var = parse_hgvs(text, self.where)
        try:
            if var.type in ("c", "n"):
                tx = self.transcript(var.ac)
                var.ac = tx.id
                c_given = str(var)
                self._check_contig(tx.chrom, tx.start, tx.end)
                self._check_ref_t(var, tx, text)
                var_g = self._vm.t_to_g(var, tx.chrom, alt_aln_method=ALIGNMENT_METHOD)
                var_n = self._normalize_t(var, tx, var_g)
                var_g_norm = self._normalize_g(var_g)
                p = self._protein(var_n) if var.type == "c" else None
                return ResolvedVariant(
                    text,
                    tx.id,
                    c_given,
                    str(var_n),
                    str(var_g),
                    str(var_g_norm),
                    p,
                    self._vcf(var_g_norm),
                )
            if var.type == "g":
                start, end = var.posedit.pos.start.base, var.posedit.pos.end.base
                self._check_contig(var.ac, start, end)
                self._check_ref_g(var, text)
                var_g_norm = self._normalize_g(var)
                return ResolvedVariant(
                    text, None, None, None, str(var), str(var_g_norm), None, self._vcf(var_g_norm)
                )
        except hgvs.exceptions.HGVSError as exc:
            raise UsageError(f"{self.where}: {text!r} cannot be mapped ({exc})") from None
        raise UsageError(
            f"{self.where}: found a {var.type}. variant {text!r}, expected a c., n. or g. variant (p. is for display only)"
        )

    def g_to_c(self, variant: SequenceVariant, transcript: str) -> ResolvedVariant:
        """A VCF-style variant written on ``transcript`` (normalized c.), with its genomic forms."""
        tx = self.transcript(transcript)
        g = self._from_vcf(variant)
        g_norm = self._normalize_g(g)
        var_c = self._vm.g_to_t(g, tx.id, alt_aln_method=ALIGNMENT_METHOD)
        var_c = self._normalize_t(var_c, tx, g)
        p = self._protein(var_c) if var_c.type == "c" else None
        return ResolvedVariant(
            str(var_c), tx.id, str(var_c), str(var_c), str(g), str(g_norm), p, self._vcf(g_norm)
        )

    # ------------------------------------------------------------------ internals

    def _normalize_t(self, var_t: Any, tx: Transcript, var_g: Any) -> Any:
        """The 3'-most form on the transcript's strand.

        biocommons hgvs normalizes exonic c. variants itself; for intronic ones and those at an
        exon-UTR border it refuses, so the genomic form is shifted toward the transcript's 3' end
        (forward for a + strand gene, backward for -) and mapped back.
        """
        hgvs = self._hgvs
        try:
            return self._norm_3.normalize(var_t)
        except hgvs.exceptions.HGVSUnsupportedOperationError:
            pass
        norm = hgvs.normalizer.Normalizer(
            self.hdp,
            cross_boundaries=True,
            shuffle_direction=3 if tx.strand == "+" else 5,
            validate=False,
        )
        shifted = norm.normalize(var_g)
        return self._vm.g_to_t(shifted, tx.id, alt_aln_method=ALIGNMENT_METHOD)

    def _normalize_g(self, var_g: Any) -> Any:
        norm = self._hgvs.normalizer.Normalizer(
            self.hdp, cross_boundaries=True, shuffle_direction=3, validate=False
        )
        return norm.normalize(var_g)

    def _protein(self, var_c: Any) -> str | None:
        try:
            var_p = self._vm.c_to_p(var_c)
        except (self._hgvs.exceptions.HGVSError, NotImplementedError):
            return None
        text = str(var_p)
        return None if text.endswith(":p.?") else text

    def _ref_mismatch(self, found: str, stated: str, where: str, text: str) -> DossierError:
        return DossierError(
            [
                Finding(
                    self._source(),
                    None,
                    f"{self.where} reference allele",
                    f"{found!r} at {where}",
                    f"{stated!r} as {text!r} states (is the transcript version or the genome build right?)",
                )
            ]
        )

    def _stated_ref(self, var: Any) -> str | None:
        edit = var.posedit.edit
        ref = getattr(edit, "ref", None)
        return ref if isinstance(ref, str) and ref and ref.isalpha() else None

    def _check_ref_t(self, var: Any, tx: Transcript, text: str) -> None:
        stated = self._stated_ref(var)
        if stated is None:
            return
        start = tx.c_to_g(_c_of(var.posedit.pos.start)) if var.type == "c" else None
        end = tx.c_to_g(_c_of(var.posedit.pos.end)) if var.type == "c" else None
        if start is None or end is None:
            return
        lo, hi = min(start, end), max(start, end)
        from pmpath.mechanism.sequence import reverse_complement

        found = self.reference.fetch(tx.chrom, lo, hi)
        if tx.strand == "-":
            found = reverse_complement(found)
        if found != stated.upper():
            raise self._ref_mismatch(
                found, stated, f"{tx.chrom}:{lo}-{hi} ({tx.strand} strand)", text
            )

    def _check_ref_g(self, var: Any, text: str) -> None:
        stated = self._stated_ref(var)
        if stated is None:
            return
        lo, hi = var.posedit.pos.start.base, var.posedit.pos.end.base
        found = self.reference.fetch(var.ac, lo, hi)
        if found != stated.upper():
            raise self._ref_mismatch(found, stated, f"{var.ac}:{lo}-{hi}", text)

    def _vcf(self, var_g: Any) -> SequenceVariant:
        """The g. variant in VCF terms: substitution as is, indels with the base before them."""
        edit = var_g.posedit.edit
        kind = edit.type
        chrom = var_g.ac
        start, end = var_g.posedit.pos.start.base, var_g.posedit.pos.end.base
        fetch = self.reference.fetch
        if kind in ("sub", "delins") and edit.alt and (end - start + 1) == len(edit.alt):
            return SequenceVariant(chrom, start, fetch(chrom, start, end), edit.alt)
        anchor = start - 1
        before = fetch(chrom, anchor, anchor)
        if kind == "del":
            return SequenceVariant(chrom, anchor, before + fetch(chrom, start, end), before)
        if kind == "dup":
            seq = fetch(chrom, start, end)
            last = fetch(chrom, end, end)
            return SequenceVariant(chrom, end, last, last + seq)
        if kind == "ins":
            base = fetch(chrom, start, start)
            return SequenceVariant(chrom, start, base, base + edit.alt)
        if kind == "delins":
            return SequenceVariant(
                chrom, anchor, before + fetch(chrom, start, end), before + (edit.alt or "")
            )
        if kind == "identity":
            raise UsageError(f"{self.where}: {var_g} states no change, expected a variant")
        raise UsageError(
            f"{self.where}: {var_g}: found a {kind} edit, expected sub, del, ins, dup or delins"
        )

    def _from_vcf(self, v: SequenceVariant) -> Any:
        """A VCF-style variant as a biocommons g. variant."""
        pos, ref, alt = v.trimmed()
        if ref and alt and len(ref) == len(alt) == 1:
            text = f"{v.chrom}:g.{pos}{ref}>{alt}"
        elif ref and not alt:
            span = f"{pos}_{pos + len(ref) - 1}" if len(ref) > 1 else f"{pos}"
            text = f"{v.chrom}:g.{span}del"
        elif alt and not ref:
            text = f"{v.chrom}:g.{pos - 1}_{pos}ins{alt}"
        else:
            span = f"{pos}_{pos + len(ref) - 1}" if len(ref) > 1 else f"{pos}"
            text = f"{v.chrom}:g.{span}delins{alt}"
        return parse_hgvs(text, self.where)


def _c_of(pos: Any) -> Any:
    """A biocommons BaseOffsetPosition as our CPosition."""
    from pmpath.mechanism.transcript import CPosition

    base = pos.base
    datum = pos.datum.name if hasattr(pos.datum, "name") else str(pos.datum)
    if datum == "CDS_END":
        return CPosition("*", base, pos.offset)
    if base < 0:
        return CPosition("-", -base, pos.offset)
    return CPosition("", base, pos.offset)
