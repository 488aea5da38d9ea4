"""Off-target search around the kernel: regions from a GFF3, the patient's own genome from a VCF, the panel, the command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pysam
import pytest
from typer.testing import CliRunner

from pmpath.cli import app
from pmpath.errors import UsageError
from pmpath.mechanism.offtarget import Genome, Guide, SearchSettings, search_offtargets
from pmpath.mechanism.offtarget.annotate import read_annotation
from pmpath.mechanism.offtarget.output import PANEL_FLANK, panel_table
from pmpath.mechanism.offtarget.patient import read_germline_vcf
from pmpath.mechanism.offtarget.pipeline import run_offtarget
from pmpath.mechanism.sequence import reverse_complement

GUIDE = "GACGCATAAAGATGAGACGC"


def _background(seed: int, n: int) -> list[str]:
    return list(np.random.default_rng(seed).choice(list("ACGT"), n))


def _place(bases: list[str], at: int, text: str) -> None:
    bases[at : at + len(text)] = list(text)


@pytest.fixture()
def small_genome(tmp_path):
    bases = _background(4, 6000)
    _place(bases, 1000, GUIDE + "TGG")  # on-target, inside a CDS
    _place(bases, 3000, reverse_complement(GUIDE[:19] + "T" + "AGG"))  # 1 mm, minus strand, intron
    one_off = GUIDE[:6] + ("T" if GUIDE[6] != "T" else "C") + GUIDE[7:]
    _place(bases, 4500, one_off + "CGG")  # 1 mm that a patient SNV corrects, intergenic
    seq = "".join(bases)
    fasta = tmp_path / "genome.fa"
    fasta.write_text(
        ">chr1 test\n" + "\n".join(seq[i : i + 60] for i in range(0, len(seq), 60)) + "\n"
    )
    gff = tmp_path / "genes.gff3"
    gff.write_text(
        "##gff-version 3\n"
        "chr1\ttest\tgene\t801\t3600\t.\t+\t.\tID=gene1;Name=GENE1\n"
        "chr1\ttest\tmRNA\t801\t3600\t.\t+\t.\tID=tx1;Parent=gene1\n"
        "chr1\ttest\texon\t801\t1200\t.\t+\t.\tID=ex1;Parent=tx1\n"
        "chr1\ttest\tCDS\t950\t1200\t.\t+\t0\tID=cds1;Parent=tx1\n"
        "chr1\ttest\texon\t3400\t3600\t.\t+\t.\tID=ex2;Parent=tx1\n"
    )
    guides = tmp_path / "guides.tsv"
    guides.write_text(f"name\tspacer\ng1\t{GUIDE}\n")
    return {"fasta": fasta, "gff": gff, "guides": guides, "seq": seq, "one_off_at": 4500}


def test_regions_from_gff3(small_genome):
    ann = read_annotation(small_genome["gff"])
    assert ann.region("chr1", 1000, 1023) == "coding_exon:GENE1"
    assert ann.region("chr1", 850, 870) == "exon:GENE1"  # 5' UTR part of exon 1
    assert ann.region("chr1", 3000, 3023) == "intron:GENE1"
    assert ann.region("chr1", 4500, 4523) == "intergenic"
    assert ann.region("chr2", 0, 10) == "intergenic"


def test_bad_annotation_names_the_line(tmp_path):
    bad = tmp_path / "bad.gff3"
    bad.write_text("##gff-version 3\nchr1\tx\tgene\tten\t20\t.\t+\t.\tID=g\n")
    with pytest.raises(UsageError, match=r"line 2.*whole numbers"):
        read_annotation(bad)


def _write_vcf(path, records, *, sample=True):
    header = pysam.VariantHeader()
    header.add_line("##contig=<ID=chr1,length=6000>")
    header.add_line('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    if sample:
        header.add_sample("patient")
    with pysam.VariantFile(str(path), "w", header=header) as vcf:
        for chrom, pos, ref, alt, gt in records:
            rec = vcf.new_record(contig=chrom, start=pos - 1, alleles=(ref, alt))
            if sample:
                rec.samples["patient"]["GT"] = gt
            vcf.write(rec)


def test_patient_snv_creates_a_perfect_site(small_genome, tmp_path):
    genome = Genome.from_strings({"chr1": small_genome["seq"]})
    at = small_genome["one_off_at"] + 6  # the base that differs from the guide
    ref_base = small_genome["seq"][at]
    vcf = tmp_path / "germline.vcf"
    _write_vcf(
        vcf,
        [
            ("chr1", at + 1, ref_base, GUIDE[6], (0, 1)),
            (
                "chr1",
                200,
                small_genome["seq"][199],
                "A" if small_genome["seq"][199] != "A" else "C",
                (0, 0),
            ),
            (
                "chr1",
                300,
                "ACGT".replace(small_genome["seq"][299], "")[0],
                small_genome["seq"][299],
                (0, 1),
            ),
        ],
    )
    patient = read_germline_vcf(vcf, genome)
    assert len(patient.variants) == 1  # the 0/0 call carries nothing; the wrong REF is listed
    assert len(patient.skipped) == 1 and "REF" in patient.skipped[0][1]  # the wrong REF at 300
    st_ = SearchSettings(mismatches=3, dna_bulge=1, rna_bulge=1)
    result = run_offtarget(genome, [Guide("g1", GUIDE)], st_, patient=patient)
    specific = result.sites[result.sites["patient_specific"]]
    perfect = specific[
        (specific["mismatches"] == 0) & (specific["dna_bulge"] == 0) & (specific["rna_bulge"] == 0)
    ]
    assert list(perfect["start"]) == [small_genome["one_off_at"]]
    # the same locus in the reference has one mismatch
    ref_row = result.sites[
        (~result.sites["patient_specific"])
        & (result.sites["pam_position"] == small_genome["one_off_at"] + 20)
    ]
    assert list(ref_row["mismatches"]) == [1]
    assert result.summary.loc[0, "patient_specific_sites"] == len(specific)


def test_patient_insertion_maps_back_to_reference_coordinates(tmp_path):
    # a site missing one base (an RNA-bulge-like site) becomes perfect with the patient's insertion
    bases = _background(9, 3000)
    broken = GUIDE[:10] + GUIDE[11:]  # base 11 deleted
    _place(bases, 1500, broken + "TGG")
    seq = "".join(bases)
    genome = Genome.from_strings({"chr1": seq})
    vcf = tmp_path / "ins.vcf"
    anchor = 1500 + 9  # 0-based position of guide base 10 in the reference
    _write_vcf(vcf, [("chr1", anchor + 1, seq[anchor], seq[anchor] + GUIDE[10], (1, 1))])
    patient = read_germline_vcf(vcf, genome)
    st_ = SearchSettings(mismatches=2, dna_bulge=1, rna_bulge=1)
    result = run_offtarget(genome, [Guide("g1", GUIDE)], st_, patient=patient)
    specific = result.sites[result.sites["patient_specific"] & (result.sites["mismatches"] == 0)]
    specific = specific[(specific["dna_bulge"] == 0) & (specific["rna_bulge"] == 0)]
    assert len(specific) == 1
    row = specific.iloc[0]
    assert row["site"] == GUIDE + "TGG"
    assert (row["start"], row["end"]) == (
        1500,
        1500 + len(broken) + 3,
    )  # the reference span it covers
    assert row["pam_position"] == 1500 + len(broken)


def test_panel_holds_each_site_with_flanks(small_genome):
    genome = Genome.from_strings({"chr1": small_genome["seq"]})
    sites = search_offtargets(
        genome, [Guide("g1", GUIDE)], SearchSettings(mismatches=1, dna_bulge=0, rna_bulge=0)
    )
    panel = panel_table(sites, genome)
    assert len(panel) == len(sites)
    for p, s in zip(panel.itertuples(), sites.itertuples(), strict=True):
        assert p.site_id == f"g1:chr1:{s.start}:{s.strand}"
        assert p.amplicon_start == s.start - PANEL_FLANK
        inner = p.amplicon[p.start - p.amplicon_start : p.end - p.amplicon_start]
        assert inner == (s.site if s.strand == "+" else reverse_complement(s.site))
        assert len(p.amplicon) == (s.end - s.start) + 2 * PANEL_FLANK


def test_command_writes_sites_summary_and_panel(small_genome, tmp_path):
    out = tmp_path / "SITES.tsv"
    panel = tmp_path / "PANEL.tsv"
    args = [
        "mechanism", "offtarget", "--genome", str(small_genome["fasta"]), "--guides",
        str(small_genome["guides"]), "--annotation", str(small_genome["gff"]), "--mismatches", "3",
        "--panel", str(panel), "-o", str(out), "--format", "json",
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    sites = pd.read_csv(out, sep="\t")
    summary = pd.read_csv(tmp_path / "SITES.summary.tsv", sep="\t")
    assert payload["counts"]["g1"] == summary.loc[0, "mismatch_counts"]
    on = sites[(sites["mismatches"] == 0) & (sites["dna_bulge"] == 0) & (sites["rna_bulge"] == 0)]
    assert list(on["region"]) == ["coding_exon:GENE1"]
    assert {"guide", "chrom", "start", "end", "strand", "site", "pam", "aligned_guide", "aligned_site",
            "mismatches", "mismatch_positions", "dna_bulge", "rna_bulge", "bulge_position", "cfd", "mit",
            "region", "patient_specific"} <= set(sites.columns)  # fmt: skip
    assert sites.loc[sites["dna_bulge"] + sites["rna_bulge"] > 0, "mit"].isna().all()
    assert len(pd.read_csv(panel, sep="\t")) == len(sites)
    # a second run refuses to replace the files without --force
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 2 and "--force" in again.stderr
    parquet = tmp_path / "SITES.parquet"
    base = args[: args.index("--panel")]
    forced = CliRunner().invoke(app, [*base, "-o", str(parquet)])
    assert forced.exit_code == 0, forced.output
    assert pd.read_parquet(parquet).shape[0] == len(sites)


@pytest.mark.parametrize(
    ("content", "flag", "message"),
    [
        ("name\tspacer\ng1\tACGTNACGTACGTACGTACG\n", "--guides", "line 2"),
        (">c\nACGT\n", "--pam", "IUPAC"),
        ("not a fasta\n", "--genome", "line 1"),
    ],
)
def test_command_bad_input_exits_2(small_genome, tmp_path, content, flag, message):
    args = {
        "--genome": str(small_genome["fasta"]),
        "--guides": str(small_genome["guides"]),
        "--pam": "NGG",
    }
    if flag == "--pam":
        args["--pam"] = "NGX"
    else:
        bad = tmp_path / "bad.txt"
        bad.write_text(content)
        args[flag] = str(bad)
    argv = [
        "mechanism",
        "offtarget",
        *[x for kv in args.items() for x in kv],
        "-o",
        str(tmp_path / "o.tsv"),
    ]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
