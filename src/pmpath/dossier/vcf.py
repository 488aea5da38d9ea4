"""Variants from a VCF (pysam): the patient's calls with gene, ACMG class and phase.

Expected annotations: INFO `GENE` (HGNC symbol), `ACMG` (pathogenic, likely_pathogenic,
uncertain_significance, likely_benign, benign), optional `ACMG_CRITERIA` (comma-separated codes),
`HGVSC`, `FUNCTIONAL_EVIDENCE`; one sample whose GT gives zygosity and, when phased (`0|1`), the
phase group. `write_variants` writes the same layout, so a dossier round-trips.
"""

from __future__ import annotations

from pathlib import Path

import pysam
from pydantic import ValidationError

from pmpath import atomic
from pmpath.dossier.model import Variant, Zygosity
from pmpath.errors import Finding

_INFO_HEADER = [
    '##INFO=<ID=GENE,Number=1,Type=String,Description="HGNC gene symbol">',
    '##INFO=<ID=ACMG,Number=1,Type=String,Description="ACMG/AMP classification">',
    '##INFO=<ID=ACMG_CRITERIA,Number=.,Type=String,Description="ACMG/AMP criteria codes met">',
    '##INFO=<ID=HGVSC,Number=1,Type=String,Description="HGVS c. expression">',
    '##INFO=<ID=FUNCTIONAL_EVIDENCE,Number=1,Type=String,Description="Functional assay supporting loss of function">',
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
]


def _zygosity(gt: tuple[int | None, ...], chrom: str, sex: str | None) -> Zygosity | None:
    alleles = [a for a in gt if a is not None]
    if not alleles or not any(alleles):
        return None
    if len(alleles) == 1:
        return Zygosity.hemizygous
    if all(a > 0 for a in alleles):
        return Zygosity.homozygous
    return Zygosity.heterozygous


def read_variants(path: Path, rel: str, findings: list[Finding], sex: str | None = None) -> list[Variant]:
    """Read the first sample's non-reference calls; problems become findings on ``rel`` with line numbers."""
    variants: list[Variant] = []
    try:
        vcf = pysam.VariantFile(str(path))
    except (OSError, ValueError) as exc:
        findings.append(Finding(rel, None, "", f"malformed VCF: {exc}, expected a VCF 4.x file"))
        return variants
    with vcf:
        header_lines = len(str(vcf.header).splitlines())
        samples = list(vcf.header.samples)
        if not samples:
            findings.append(Finding(rel, header_lines, "#CHROM", "found no sample column, expected one sample with GT"))
            return variants
        try:
            records = list(vcf)
        except (OSError, ValueError) as exc:
            findings.append(Finding(rel, None, "", f"malformed VCF record: {exc}"))
            return variants
        for i, rec in enumerate(records):
            line = header_lines + i + 1
            info = rec.info
            sample = rec.samples[samples[0]]
            gt = sample.get("GT") or ()
            zyg = _zygosity(tuple(gt), rec.chrom, sex)
            if zyg is None:
                continue
            if rec.alts is None or len(rec.alts) != 1:
                findings.append(Finding(rel, line, "ALT", f"found {rec.alts}, expected exactly one ALT allele per record (split multi-allelic sites)"))
                continue
            gene = info.get("GENE")
            acmg = info.get("ACMG")
            if gene is None or acmg is None:
                findings.append(Finding(rel, line, "INFO", "missing GENE or ACMG, expected INFO GENE=<HGNC symbol>;ACMG=<class>"))
                continue
            allele = None
            if sample.phased and zyg == Zygosity.heterozygous:
                allele = 1 if gt[0] else 2
            criteria = info.get("ACMG_CRITERIA") or ()
            if isinstance(criteria, str):
                criteria = criteria.split(",")
            try:
                variants.append(
                    Variant(
                        gene=gene,
                        chrom=rec.chrom,
                        pos=rec.pos,
                        ref=rec.ref,
                        alt=rec.alts[0],
                        hgvs_c=info.get("HGVSC"),
                        zygosity=zyg,
                        acmg_class=acmg,
                        acmg_criteria=list(criteria),
                        allele=allele,
                        phase_evidence="read_backed" if allele else "none",
                        functional_evidence=info.get("FUNCTIONAL_EVIDENCE"),
                    )
                )
            except ValidationError as exc:
                for err in exc.errors():
                    field = ".".join(map(str, err["loc"]))
                    findings.append(Finding(rel, line, field, f"found {err.get('input')!r}, expected: {err['msg']}"))
    return variants


def write_variants(variants: list[Variant], path: Path, sample: str, contigs: dict[str, int] | None = None) -> None:
    """Write ``variants`` as a one-sample VCF atomically (temporary file, then rename)."""
    contigs = contigs or {}
    names = sorted({v.chrom for v in variants} | set(contigs))
    lines = ["##fileformat=VCFv4.3", "##source=pmpath"]
    for name in names:
        length = contigs.get(name)
        lines.append(f"##contig=<ID={name}{f',length={length}' if length else ''}>")
    lines += _INFO_HEADER
    lines.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", sample]))
    for v in sorted(variants, key=lambda v: (names.index(v.chrom), v.pos, v.ref, v.alt)):
        info = [f"GENE={v.gene}", f"ACMG={v.acmg_class.value}"]
        if v.acmg_criteria:
            info.append("ACMG_CRITERIA=" + ",".join(v.acmg_criteria))
        if v.hgvs_c:
            info.append("HGVSC=" + v.hgvs_c.replace(";", "%3B").replace("=", "%3D").replace(" ", "_"))
        if v.functional_evidence:
            info.append("FUNCTIONAL_EVIDENCE=" + v.functional_evidence.replace(";", "%3B").replace("=", "%3D").replace(" ", "_"))
        if v.zygosity == Zygosity.hemizygous:
            gt = "1"
        elif v.zygosity == Zygosity.homozygous:
            gt = "1/1" if v.allele is None else "1|1"
        elif v.allele is None:
            gt = "0/1"
        else:
            gt = "1|0" if v.allele == 1 else "0|1"
        lines.append("\t".join([v.chrom, str(v.pos), ".", v.ref, v.alt, ".", "PASS", ";".join(info), "GT", gt]))
    atomic.write_bytes(path, ("\n".join(lines) + "\n").encode())
