"""Variants from a VCF (pysam): the patient's calls with gene, ACMG class and phase.

Expected annotations: INFO `GENE` (HGNC symbol), `ACMG` (pathogenic, likely_pathogenic,
uncertain_significance, likely_benign, benign), optional `ACMG_CRITERIA` (comma-separated codes),
`HGVSC`, `HGVSP`, `FUNCTIONAL_EVIDENCE`, `PHASE_EVIDENCE`; one sample whose GT gives zygosity and,
when phased (`0|1`), the phase group. Free-text values use VCF 4.3 percent-encoding (`%3B` for `;`,
`%2C` for `,`, ...). `write_variants` writes the same layout, so a dossier round-trips; it writes
records in genomic order, so indices into the list (`therapy.target_variant`) follow that order.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pysam
from pydantic import ValidationError

from pmpath import atomic
from pmpath.dossier.model import Variant, Zygosity
from pmpath.dossier.source import pydantic_expected
from pmpath.errors import Finding

_INFO_HEADER = [
    '##INFO=<ID=GENE,Number=1,Type=String,Description="HGNC gene symbol">',
    '##INFO=<ID=ACMG,Number=1,Type=String,Description="ACMG/AMP classification">',
    '##INFO=<ID=ACMG_CRITERIA,Number=.,Type=String,Description="ACMG/AMP criteria codes met">',
    '##INFO=<ID=HGVSC,Number=1,Type=String,Description="HGVS c. expression">',
    '##INFO=<ID=HGVSP,Number=1,Type=String,Description="HGVS p. expression">',
    '##INFO=<ID=FUNCTIONAL_EVIDENCE,Number=1,Type=String,Description="Functional assay supporting loss of function">',
    '##INFO=<ID=PHASE_EVIDENCE,Number=1,Type=String,Description="How phase was established: parental_testing, long_read, read_backed, none">',
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
]


VCF_MAX_POS = 2**31 - 1
"""The largest POS a VCF can hold: VCF 4.3 section 1.3 types POS as a 32-bit signed Integer."""

# VCF 4.3 section 1.2: characters with a meaning in INFO are percent-encoded in values.
_PERCENT = {
    "%": "%25",
    ":": "%3A",
    ";": "%3B",
    "=": "%3D",
    ",": "%2C",
    "\r": "%0D",
    "\n": "%0A",
    "\t": "%09",
}


def _encode(text: str) -> str:
    return "".join(_PERCENT.get(c, c) for c in text)


def _text(value: object) -> str | None:
    """An INFO string as written: htslib splits on commas even for Number=1, so join them back."""
    if value is None:
        return None
    if isinstance(value, tuple):
        value = ",".join(str(v) for v in value)
    return unquote(str(value))


def _info(rec: pysam.VariantRecord, key: str) -> object:
    """INFO value or None; pysam raises on a key the header does not define."""
    if key not in rec.header.info:
        return None
    return rec.info.get(key)


def _zygosity(gt: tuple[int | None, ...], chrom: str, sex: str | None) -> Zygosity | None:
    alleles = [a for a in gt if a is not None]
    if not alleles or not any(alleles):
        return None
    if len(alleles) == 1:
        return Zygosity.hemizygous
    if all(a > 0 for a in alleles):
        return Zygosity.homozygous
    return Zygosity.heterozygous


def _record_lines(path: Path, rel: str, findings: list[Finding]) -> list[int] | None:
    """Line number of each record; structural problems htslib reports without a line become findings."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            findings.append(
                Finding(
                    rel,
                    None,
                    "",
                    f"a compressed file that cannot be decompressed ({exc})",
                    "a (b)gzip-compressed VCF",
                )
            )
            return None
    lines = raw.decode("utf-8", errors="replace").splitlines()
    n_columns = None
    records: list[int] = []
    ok = True
    for number, text in enumerate(lines, start=1):
        if text.startswith("##"):
            continue
        if text.startswith("#"):
            n_columns = len(text.split("\t"))
            continue
        if not text.strip():
            if any(t.strip() for t in lines[number:]):  # a trailing blank line is harmless
                findings.append(
                    Finding(rel, number, "", "an empty line", "a tab-separated VCF record")
                )
                ok = False
            continue
        records.append(number)
        if n_columns is None:
            continue  # pysam reports the missing #CHROM line
        columns = text.split("\t")
        if len(columns) != n_columns:
            findings.append(
                Finding(
                    rel,
                    number,
                    "",
                    f"{len(columns)} tab-separated columns",
                    f"{n_columns} as in the #CHROM header line",
                )
            )
            ok = False
            continue
        pos = columns[1]
        if not (pos.isascii() and pos.isdigit()) or int(pos) < 1:
            findings.append(Finding(rel, number, "POS", repr(pos), "a positive whole number"))
            ok = False
        elif int(pos) > VCF_MAX_POS:
            findings.append(
                Finding(
                    rel,
                    number,
                    "POS",
                    pos,
                    f"a position of at most {VCF_MAX_POS} (VCF's 32-bit Integer; no chromosome is longer)",
                )
            )
            ok = False
    return records if ok else None


@dataclass(frozen=True)
class VcfVariant:
    """A variant read from a VCF and the line of its record, for findings about it (REF, POS)."""

    line: int
    variant: Variant


def read_variants(
    path: Path, rel: str, findings: list[Finding], sex: str | None = None
) -> list[Variant]:
    """Read the first sample's non-reference calls; problems become findings on ``rel`` with line numbers."""
    return [r.variant for r in read_vcf_variants(path, rel, findings, sex)]


def read_vcf_variants(
    path: Path, rel: str, findings: list[Finding], sex: str | None = None
) -> list[VcfVariant]:
    """:func:`read_variants` with the line of each variant's record in the file."""
    variants: list[VcfVariant] = []
    verbosity = pysam.set_verbosity(0)  # htslib's own messages repeat ours without the line number
    try:
        try:
            vcf = pysam.VariantFile(str(path))
        except (OSError, ValueError):
            # pysam's message repeats the absolute path; say instead what a readable header is
            findings.append(
                Finding(
                    rel,
                    None,
                    "",
                    "a malformed VCF header",
                    "a VCF 4.x file: ##fileformat=VCFv4.x, ## meta lines, then the #CHROM line "
                    "with one sample column",
                )
            )
            return variants
        with vcf:
            samples = list(vcf.header.samples)
            record_lines = _record_lines(path, rel, findings)
            if record_lines is None:
                return variants
            if not samples:
                header_line = next(
                    (
                        i
                        for i, t in enumerate(path.read_text(errors="replace").splitlines(), 1)
                        if t.startswith("#CHROM")
                    ),
                    None,
                )
                findings.append(
                    Finding(rel, header_line, "#CHROM", "no sample column", "one sample with GT")
                )
                return variants
            records = iter(vcf)
            for line in record_lines:
                try:
                    rec = next(records)
                except StopIteration:
                    break
                except (OSError, ValueError) as exc:
                    findings.append(
                        Finding(
                            rel,
                            line,
                            "",
                            f"a malformed VCF record ({exc})",
                            "CHROM POS ID REF ALT QUAL FILTER INFO FORMAT and a sample",
                        )
                    )
                    continue
                variant = _variant(rec, samples[0], rel, line, findings, sex)
                if variant is not None:
                    variants.append(VcfVariant(line, variant))
    finally:
        pysam.set_verbosity(verbosity)
    return variants


def _variant(
    rec: pysam.VariantRecord,
    sample_name: str,
    rel: str,
    line: int,
    findings: list[Finding],
    sex: str | None,
) -> Variant | None:
    sample = rec.samples[sample_name]
    gt = sample.get("GT") or ()
    zyg = _zygosity(tuple(gt), rec.chrom, sex)
    if zyg is None:
        return None
    if rec.alts is None or len(rec.alts) != 1:
        findings.append(
            Finding(
                rel,
                line,
                "ALT",
                "no ALT allele"
                if not rec.alts
                else f"{len(rec.alts)} ALT alleles ({','.join(rec.alts)})",
                "exactly one ALT allele per record (split multi-allelic sites)",
            )
        )
        return None
    gene = _text(_info(rec, "GENE"))
    acmg = _text(_info(rec, "ACMG"))
    if gene is None or acmg is None:
        findings.append(
            Finding(
                rel,
                line,
                "INFO",
                "no "
                + " and no ".join(k for k, val in (("GENE", gene), ("ACMG", acmg)) if val is None),
                "INFO GENE=<HGNC symbol>;ACMG=<class>",
            )
        )
        return None
    allele = None
    if sample.phased and zyg == Zygosity.heterozygous:
        allele = 1 if gt[0] else 2
    criteria = _info(rec, "ACMG_CRITERIA") or ()
    if isinstance(criteria, str):
        criteria = criteria.split(",")
    phase_evidence = _text(_info(rec, "PHASE_EVIDENCE")) or ("read_backed" if allele else "none")
    try:
        return Variant(
            gene=gene,
            chrom=rec.chrom,
            pos=rec.pos,
            ref=rec.ref,
            alt=rec.alts[0],
            hgvs_c=_text(_info(rec, "HGVSC")),
            hgvs_p=_text(_info(rec, "HGVSP")),
            zygosity=zyg,
            acmg_class=acmg,
            acmg_criteria=list(criteria),
            allele=allele,
            phase_evidence=phase_evidence,
            functional_evidence=_text(_info(rec, "FUNCTIONAL_EVIDENCE")),
        )
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(map(str, err["loc"]))
            findings.append(
                Finding(rel, line, field, repr(err.get("input")), pydantic_expected(err["msg"]))
            )
        return None


def write_variants(
    variants: list[Variant], path: Path, sample: str, contigs: dict[str, int] | None = None
) -> None:
    """Write ``variants`` as a one-sample VCF atomically (temporary file, then rename)."""
    contigs = contigs or {}
    names = sorted({v.chrom for v in variants} | set(contigs))
    lines = ["##fileformat=VCFv4.3", "##source=pmpath"]
    for name in names:
        length = contigs.get(name)
        lines.append(f"##contig=<ID={name}{f',length={length}' if length else ''}>")
    lines += _INFO_HEADER
    lines.append(
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", sample])
    )
    for v in sorted(variants, key=lambda v: (names.index(v.chrom), v.pos, v.ref, v.alt)):
        info = [f"GENE={v.gene}", f"ACMG={v.acmg_class.value}"]
        if v.acmg_criteria:
            info.append("ACMG_CRITERIA=" + ",".join(v.acmg_criteria))
        if v.hgvs_c:
            info.append("HGVSC=" + _encode(v.hgvs_c))
        if v.hgvs_p:
            info.append("HGVSP=" + _encode(v.hgvs_p))
        if v.functional_evidence:
            info.append("FUNCTIONAL_EVIDENCE=" + _encode(v.functional_evidence))
        # written whenever it differs from what the reader would infer from the genotype's phasing
        if v.phase_evidence != "none" or v.allele is not None:
            info.append("PHASE_EVIDENCE=" + v.phase_evidence)
        if v.zygosity == Zygosity.hemizygous:
            gt = "1"
        elif v.zygosity == Zygosity.homozygous:
            gt = "1/1" if v.allele is None else "1|1"
        elif v.allele is None:
            gt = "0/1"
        else:
            gt = "1|0" if v.allele == 1 else "0|1"
        lines.append(
            "\t".join(
                [v.chrom, str(v.pos), ".", v.ref, v.alt, ".", "PASS", ";".join(info), "GT", gt]
            )
        )
    atomic.write_bytes(path, ("\n".join(lines) + "\n").encode())
