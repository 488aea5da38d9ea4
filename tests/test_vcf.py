"""Variants in VCF: write_variants/read_variants round trip, malformed files, and VCFs used by a dossier."""

from __future__ import annotations

from pathlib import Path

import pysam
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmpath.dossier import load_dossier
from pmpath.dossier.model import Variant
from pmpath.dossier.scaffold import init_dossier
from pmpath.dossier.vcf import read_variants, write_variants
from pmpath.errors import DossierError, Finding

HEADER = (
    "##fileformat=VCFv4.3\n"
    "##contig=<ID=chr12>\n"
    '##INFO=<ID=GENE,Number=1,Type=String,Description="gene">\n'
    '##INFO=<ID=ACMG,Number=1,Type=String,Description="class">\n'
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tP1\n"
)  # 6 lines, no ##FILTER=<ID=PASS>: htslib adds one to its own copy of the header
GOOD = "chr12\t1000\t.\tG\tA\t.\tPASS\tGENE=PAH;ACMG=pathogenic\tGT\t0|1\n"


def v(**kw) -> Variant:
    base = dict(
        gene="PAH",
        chrom="chr12",
        pos=1000,
        ref="G",
        alt="A",
        zygosity="heterozygous",
        acmg_class="pathogenic",
    )
    return Variant(**(base | kw))


def read(path: Path, rel: str = "case/variants.vcf") -> tuple[list[Variant], list[Finding]]:
    findings: list[Finding] = []
    return read_variants(path, rel, findings), findings


def by_position(variants: list[Variant]) -> list[Variant]:
    return sorted(variants, key=lambda x: (x.chrom, x.pos, x.ref, x.alt))


def test_round_trip_keeps_zygosity_phase_acmg_and_criteria(tmp_path: Path) -> None:
    variants = [
        v(
            pos=2000,
            ref="C",
            alt="T",
            allele=2,
            phase_evidence="parental_testing",
            acmg_class="likely_pathogenic",
            acmg_criteria=["PM2_Supporting", "PP3"],
        ),
        v(
            pos=1000,
            allele=1,
            phase_evidence="long_read",
            acmg_criteria=["PVS1", "PS3_Moderate"],
            hgvs_c="NM_000277.3:c.1222C>T",
            hgvs_p="p.(Arg408Trp)",
        ),
        v(
            chrom="chrX",
            gene="OTC",
            pos=38_000_000,
            zygosity="hemizygous",
            acmg_class="uncertain_significance",
            functional_evidence="OTC activity 2% of normal; assay=radiometric, n=3",
        ),
        v(
            chrom="chr1",
            gene="GBA1",
            pos=155_000_000,
            ref="AG",
            alt="A",
            zygosity="homozygous",
            acmg_class="benign",
        ),
        v(
            pos=3000, hgvs_c="NM_000277.3:c.[1A>G;2C>T]"
        ),  # ';' and '=' in free text are percent-encoded
    ]
    path = tmp_path / "p.vcf"
    write_variants(variants, path, sample="P1", contigs={"chr12": 133_275_309})
    got, findings = read(path)
    assert findings == []
    assert got == by_position(variants)  # written in genomic order, every field back
    assert [x.allele for x in got if x.gene == "PAH"] == [1, 2, None]


def test_written_genotypes_follow_vcf_conventions(tmp_path: Path) -> None:
    """GT per the VCF 4.3 spec: phased het 1|0 (allele 1 on the first haplotype), haploid '1', hom 1/1."""
    path = tmp_path / "p.vcf"
    write_variants(
        [
            v(pos=1, allele=1),
            v(pos=2, allele=2),
            v(pos=3),
            v(pos=4, zygosity="homozygous"),
            v(pos=5, zygosity="hemizygous"),
        ],
        path,
        sample="P1",
    )
    with pysam.VariantFile(str(path)) as vcf:
        gts = [(r.pos, r.samples["P1"]["GT"], r.samples["P1"].phased) for r in vcf]
    # htslib reports a haploid GT as phased: there is nothing to phase
    assert gts == [
        (1, (1, 0), True),
        (2, (0, 1), True),
        (3, (0, 1), False),
        (4, (1, 1), False),
        (5, (1,), True),
    ]


dna = st.text(alphabet="ACGT", min_size=1, max_size=6)
free_text = st.text(
    alphabet=st.characters(categories=("L", "N", "P", "S", "Zs"), max_codepoint=0x2FFF),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() == s)
criteria = st.lists(
    st.sampled_from(["PVS1", "PS1", "PS3_Moderate", "PM2_Supporting", "PP3", "BS1", "BP4_Strong"]),
    max_size=4,
)


@st.composite
def variants(draw) -> Variant:
    zygosity = draw(st.sampled_from(["heterozygous", "homozygous", "hemizygous"]))
    return Variant(
        gene=draw(st.from_regex(r"[A-Z][A-Z0-9]{0,6}", fullmatch=True)),
        chrom=draw(st.sampled_from(["chr1", "chr2", "chr12", "chrX"])),
        pos=draw(st.integers(1, 250_000_000)),
        ref=draw(dna),
        alt=draw(dna),
        hgvs_c=draw(st.none() | free_text),
        hgvs_p=draw(st.none() | free_text),
        zygosity=zygosity,
        acmg_class=draw(
            st.sampled_from(
                [
                    "pathogenic",
                    "likely_pathogenic",
                    "uncertain_significance",
                    "likely_benign",
                    "benign",
                ]
            )
        ),
        acmg_criteria=draw(criteria),
        # phase groups exist only for heterozygous calls: a 1|1 or haploid GT has no second haplotype to name
        allele=draw(st.none() | st.sampled_from([1, 2])) if zygosity == "heterozygous" else None,
        phase_evidence=draw(
            st.sampled_from(["parental_testing", "long_read", "read_backed", "none"])
        ),
        functional_evidence=draw(st.none() | free_text),
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(variants(), min_size=1, max_size=6))
def test_round_trip_property(tmp_path: Path, generated: list[Variant]) -> None:
    path = tmp_path / "p.vcf"
    write_variants(generated, path, sample="P1")
    got, findings = read(path)
    assert findings == []
    # phase evidence 'read_backed' is also what a phased GT without PHASE_EVIDENCE implies
    assert by_position(got) == by_position(generated)


@pytest.mark.parametrize(
    ("record", "line", "field", "message"),
    [
        (
            "chr12\tabc\t.\tG\tA\t.\tPASS\tGENE=PAH;ACMG=pathogenic\tGT\t0|1\n",
            8,
            "POS",
            "found 'abc', expected a positive whole number",
        ),
        (
            "chr12\t1001\t.\tG\tA\t.\tPASS\tGENE=PAH;ACMG=pathogenic\n",
            8,
            "",
            "found 8 tab-separated columns, expected 10",
        ),
        (
            "chr12\t1001\t.\tG\tA\t.\tPASS\tGENE=PAH;ACMG=pathogenic\tGT\ta/b\n",
            8,
            "",
            "malformed VCF record",
        ),
        (
            "chr12\t1001\t.\tG\tA\t.\tPASS\tGENE=PAH;ACMG=bad_class\tGT\t0/1\n",
            8,
            "acmg_class",
            "found 'bad_class'",
        ),
        (
            "chr12\t1001\t.\tG\tA,T\t.\tPASS\tGENE=PAH;ACMG=benign\tGT\t1/2\n",
            8,
            "ALT",
            "expected exactly one ALT allele",
        ),
        (
            "chr12\t1001\t.\tG\tA\t.\tPASS\tACMG=benign\tGT\t0/1\n",
            8,
            "INFO",
            "found no GENE, expected INFO GENE=<HGNC symbol>;ACMG=<class>",
        ),
        ("chr12\t1001\t.\tG\tN\t.\tPASS\tGENE=PAH;ACMG=benign\tGT\t0/1\n", 8, "alt", "found 'N'"),
    ],
)
def test_malformed_record_names_file_line_and_field(
    tmp_path: Path, record: str, line: int, field: str, message: str
) -> None:
    path = tmp_path / "p.vcf"
    path.write_text(
        HEADER + GOOD + record
    )  # header: lines 1-6, GOOD: line 7, the bad record: line 8
    _, findings = read(path)
    assert len(findings) == 1
    (f,) = findings
    assert (f.path, f.line, f.field) == ("case/variants.vcf", line, field)
    assert message in f.message


def test_line_numbers_count_the_files_own_lines(tmp_path: Path) -> None:
    """Regression: the header pysam renders has an extra ##FILTER=PASS line; findings use the file's lines."""
    path = tmp_path / "p.vcf"
    path.write_text(
        HEADER
        + GOOD
        + GOOD.replace("1000", "1001")
        + GOOD.replace("1000", "1002").replace("pathogenic", "nope")
    )
    got, findings = read(path)
    assert [x.pos for x in got] == [1000, 1001]
    assert [(f.line, f.field) for f in findings] == [(9, "acmg_class")]


def test_blank_line_inside_the_records(tmp_path: Path) -> None:
    path = tmp_path / "p.vcf"
    path.write_text(
        HEADER + GOOD + "\n" + GOOD.replace("1000", "1001") + "\n"
    )  # the trailing blank line is harmless
    _, findings = read(path)
    assert [(f.line, f.message) for f in findings] == [
        (8, "found an empty line, expected a tab-separated VCF record")
    ]


def test_info_key_missing_from_the_header_is_not_a_crash(tmp_path: Path) -> None:
    """Regression: pysam raises on `info.get` of a key the header does not define (ACMG_CRITERIA here)."""
    path = tmp_path / "p.vcf"
    path.write_text(HEADER + GOOD)
    got, findings = read(path)
    assert findings == [] and got == [v(allele=2, phase_evidence="read_backed")]


@pytest.mark.parametrize("text", ["", "hello world\n", "##fileformat=VCFv4.3\nchr1\t1\n"])
def test_not_a_vcf(tmp_path: Path, text: str) -> None:
    path = tmp_path / "p.vcf"
    path.write_text(text)
    got, findings = read(path)
    assert got == []
    (f,) = findings
    assert (
        f.path == "case/variants.vcf"
        and "malformed VCF header" in f.message
        and "#CHROM" in f.message
    )


def test_no_sample_column(tmp_path: Path) -> None:
    path = tmp_path / "p.vcf"
    path.write_text(
        HEADER.replace("\tFORMAT\tP1", "")
        + "chr12\t1000\t.\tG\tA\t.\tPASS\tGENE=PAH;ACMG=pathogenic\n"
    )
    _, findings = read(path)
    assert [(f.line, f.field) for f in findings] == [(6, "#CHROM")]


def test_bgzipped_vcf_keeps_line_numbers(tmp_path: Path) -> None:
    plain = tmp_path / "p.vcf"
    plain.write_text(HEADER + GOOD + GOOD.replace("1000", "1001").replace("pathogenic", "nope"))
    gz = tmp_path / "p.vcf.gz"
    pysam.tabix_compress(str(plain), str(gz))
    got, findings = read(gz)
    assert [x.pos for x in got] == [1000]
    assert [(f.line, f.field) for f in findings] == [(8, "acmg_class")]


def test_reference_calls_are_not_variants(tmp_path: Path) -> None:
    path = tmp_path / "p.vcf"
    path.write_text(HEADER + GOOD.replace("0|1", "0/0") + GOOD.replace("0|1", "./."))
    assert read(path) == ([], [])


# --------------------------------------------------------------------------- in a dossier


def dossier_with_vcf(
    tmp_path: Path, vcf_text: str | None = None, variants: list[Variant] | None = None
) -> Path:
    root = tmp_path / "dossier"
    init_dossier(root, platform_id="P1", name="P", modality="adenine_base_editor")
    case_path = root / "patients" / "EXAMPLE-01" / "case.yaml"
    case = yaml.safe_load(case_path.read_text())
    inline = [Variant(**x) for x in case.pop("variants")]
    case["variants_vcf"] = "variants.vcf"
    case_path.write_text(yaml.safe_dump(case, sort_keys=False))
    vcf = root / "patients" / "EXAMPLE-01" / "variants.vcf"
    if vcf_text is None:
        write_variants(variants if variants is not None else inline, vcf, sample="EXAMPLE-01")
    else:
        vcf.write_text(vcf_text)
    return root


def reference_base(root: Path, pos: int) -> str:
    """The base at ``pos`` of the one-record FASTA ``init`` writes, read from its lines."""
    lines = (root / "reference" / "reference.fa").read_text().splitlines()
    assert lines[0].startswith(">") and not any(x.startswith(">") for x in lines[1:])
    return "".join(lines[1:])[pos - 1]


def test_dossier_loads_variants_from_vcf(tmp_path: Path) -> None:
    init_dossier(tmp_path / "probe", platform_id="P1", name="P", modality="adenine_base_editor")
    base = reference_base(tmp_path / "probe", 150)
    second = v(
        gene="GENE1",
        chrom="synthetic1",
        pos=150,
        ref=base,
        alt="T" if base != "T" else "C",
        acmg_class="uncertain_significance",
        functional_evidence="residual activity 5%, n=2",
    )
    first = v(
        gene="GENE1",
        chrom="synthetic1",
        pos=101,
        ref="G",
        alt="A",
        zygosity="homozygous",
        acmg_criteria=["PS3", "PM2_Supporting"],
    )
    root = dossier_with_vcf(tmp_path, variants=[second, first])
    dossier = load_dossier(root)
    patient = dossier.patients[0]
    assert patient.variants == [
        first,
        second,
    ]  # genomic order: target_variant 0 is the pos-101 variant
    assert patient.files["variants_vcf"] == "patients/EXAMPLE-01/variants.vcf"
    assert "patients/EXAMPLE-01/variants.vcf" in dossier.inputs


def test_dossier_with_malformed_vcf_names_file_and_line(tmp_path: Path) -> None:
    root = dossier_with_vcf(tmp_path, vcf_text=HEADER + GOOD.replace("1000", "1x0"))
    with pytest.raises(DossierError) as info:
        load_dossier(root)
    assert [(f.path, f.line, f.field) for f in info.value.findings] == [
        ("patients/EXAMPLE-01/variants.vcf", 7, "POS")
    ]


def test_vcf_ref_that_differs_from_the_reference_is_a_finding(tmp_path: Path) -> None:
    """The declared REF must be the reference's base: criterion 2 cannot assess the variant otherwise."""
    init_dossier(tmp_path / "probe", platform_id="P1", name="P", modality="adenine_base_editor")
    base = reference_base(tmp_path / "probe", 150)
    wrong = next(b for b in "ACGT" if b != base)
    target = reference_base(tmp_path / "probe", 101)
    variants = [
        v(
            gene="GENE1",
            chrom="synthetic1",
            pos=101,
            ref=target,
            alt="A" if target != "A" else "G",
            zygosity="homozygous",
        ),
        v(gene="GENE1", chrom="synthetic1", pos=150, ref=wrong, alt=base),  # REF and ALT swapped
    ]
    root = dossier_with_vcf(tmp_path, variants=variants)
    with pytest.raises(DossierError) as info:
        load_dossier(root)
    (f,) = info.value.findings
    assert f.path == "patients/EXAMPLE-01/variants.vcf"
    assert f.found == f"REF {wrong!r}"
    assert f.expected.startswith(f"{base!r} (the reference at synthetic1:150")


def test_vcf_position_beyond_a_32_bit_integer_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "p.vcf"
    path.write_text(HEADER + GOOD.replace("1000", str(10**23)))
    got, findings = read(path)
    assert got == []
    assert [(f.line, f.field, f.found) for f in findings] == [(7, "POS", str(10**23))]
