"""The reference FASTA as validation sees it: a FASTA samtools can index, a matching .fai, every target inside a record.

Known truths come from FASTA files written here by hand and from ``samtools faidx`` (through
``pysam.faidx``), which writes the index pmpath computes in memory.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
from pathlib import Path

import pysam
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pmpath.dossier import load_dossier
from pmpath.dossier.fasta import IUPAC_DNA, index_fasta, read_fasta
from pmpath.dossier.model import SpliceSite, Variant
from pmpath.dossier.reference_check import EXPECTED_FAI, ReferenceTarget, check_reference
from pmpath.dossier.scaffold import init_dossier
from pmpath.errors import DossierError, Finding

# chrX:38400001-38400060 as a region record (3 lines of 20), then chr5 as a whole 30-base chromosome
REGION = "ACGTACGTAACCGGTTACGT" + "TTTTGGGGCCCCAAAATGCA" + "acgtnnnnACGTRYKMACGT"
CHR5 = "GATTACAGATTACAGATTACAGATTACAGA"
FASTA = (
    ">chrX:38400001-38400060 a region as samtools faidx writes it\n"
    + "".join(REGION[i : i + 20] + "\n" for i in range(0, 60, 20))
    + ">chr5\n"
    + CHR5[:25]
    + "\n"
    + CHR5[25:]
    + "\n"
)


def dossier(tmp_path: Path, text: str | bytes = FASTA, rel: str = "reference/targets.fa") -> Path:
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text)
    else:
        path.write_bytes(text)
    return tmp_path


def base(pos: int) -> str:
    """The base of the hand-written region at chrX:pos."""
    return REGION[pos - 38400001].upper()


def variant_target(pos: int, ref: str, chrom: str = "chrX", line: int = 12) -> ReferenceTarget:
    return ReferenceTarget(
        "patients/P1/case.yaml", line, "variants.0.pos", chrom, pos, pos + len(ref) - 1, ref
    )


def check(root: Path, *targets: ReferenceTarget) -> list[Finding]:
    return check_reference(root, "reference/targets.fa", list(targets))


def snapshot(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def samtools_fai(tmp_path: Path, data: bytes) -> str | None:
    """The .fai ``samtools faidx`` writes for ``data``, or None when samtools refuses the file."""
    path = tmp_path / f"s-{hashlib.sha256(data).hexdigest()[:16]}.fa"
    path.write_bytes(data)
    fai = Path(f"{path}.fai")
    try:
        pysam.faidx(str(path))
    except pysam.SamtoolsError:
        return None
    finally:
        path.unlink()
    text = fai.read_text()
    fai.unlink()
    return text


# --------------------------------------------------------------------------- targets


def test_targets_inside_records_with_their_ref_are_clean(tmp_path: Path) -> None:
    root = dossier(tmp_path)
    before = snapshot(root)
    assert (
        check(
            root,
            variant_target(38400001, "A"),  # the region's first base
            variant_target(38400021, "T"),  # first base of its second line
            variant_target(38400042, "cgtn"),  # lower case in the FASTA, any case in the case
            variant_target(38400060, "T"),  # its last base
            variant_target(30, "A", chrom="5"),  # whole chromosome, named without 'chr'
            ReferenceTarget.of_site(
                SpliceSite(chrom="X", start=38400010, end=38400030, description="exon 4 acceptor"),
                "patients/P1/case.yaml",
                20,
                "therapy.acts_on",
            ),
        )
        == []
    )
    assert snapshot(root) == before  # nothing written into the dossier


def test_ref_that_differs_from_the_reference(tmp_path: Path) -> None:
    root = dossier(tmp_path)
    assert base(38400021) == "T"
    (f,) = check(root, variant_target(38400021, "G"))
    assert (f.path, f.line, f.field) == ("patients/P1/case.yaml", 12, "variants.0.pos")
    assert f.found == "REF 'G'"
    assert f.expected.startswith("'T' (the reference at chrX:38400021")
    # a deletion's REF spans several bases; the finding shows the reference's
    (f,) = check(root, variant_target(38400019, "GTA"))
    assert f.expected.startswith("'GTT' (the reference at chrX:38400019-38400021")


def test_ref_mismatch_is_reported_at_the_ref_field_when_given(tmp_path: Path) -> None:
    root = dossier(tmp_path)
    v = Variant(
        gene="OTC",
        chrom="chrX",
        pos=38400002,
        ref="A",
        alt="G",
        zygosity="hemizygous",
        acmg_class="pathogenic",
    )
    target = ReferenceTarget.of_variant(
        v, "p/case.yaml", 7, "variants.1.pos", ref_line=8, ref_field="variants.1.ref"
    )
    assert (target.start, target.end, target.expected_ref) == (38400002, 38400002, "A")
    (f,) = check(root, target)
    assert (f.line, f.field, f.found) == (8, "variants.1.ref", "REF 'A'")
    assert f.expected.startswith("'C' (the reference at chrX:38400002")


@pytest.mark.parametrize("pos", [38400061, 38399999, 10**23])
def test_variant_outside_every_record(tmp_path: Path, pos: int) -> None:
    root = dossier(tmp_path)
    (f,) = check(root, variant_target(pos, "A"))
    assert (f.path, f.line, f.field) == ("patients/P1/case.yaml", 12, "variants.0.pos")
    assert f.found.startswith(f"chrX:{pos}, outside every record of reference/targets.fa")
    assert "chrX:38400001-38400060" in f.found  # the records there are
    assert "a record named chrX, or a region record such as chrX:" in f.expected


def test_chromosome_without_a_record_lists_the_records(tmp_path: Path) -> None:
    root = dossier(tmp_path)
    (f,) = check(root, variant_target(100, "A", chrom="chr9"))
    assert "no record on chr9; the records: chrX:38400001-38400060, chr5 (1-30)" in f.found


def test_interval_running_past_a_record_end(tmp_path: Path) -> None:
    root = dossier(tmp_path)
    site = ReferenceTarget("c.yaml", 3, "therapy.acts_on", "chrX", 38400050, 38400070)
    (f,) = check(root, site)
    assert f.found.startswith("chrX:38400050-38400070, outside every record")
    (f,) = check(root, variant_target(29, "AGA", chrom="chr5"))  # 29-31 on a 30-base chromosome
    assert "chr5 (1-30)" in f.found


def test_targets_are_not_checked_against_a_broken_fasta(tmp_path: Path) -> None:
    root = dossier(tmp_path, ">chrX:38400001-38400060\nACGT!\n")
    findings = check(root, variant_target(10**23, "A"))
    assert [(f.path, f.line) for f in findings] == [("reference/targets.fa", 2)]


# --------------------------------------------------------------------------- the FASTA itself


@pytest.mark.parametrize(
    ("text", "line", "column", "field", "found"),
    [
        (b"", None, None, "", "an empty file"),
        (b"\n\n\n", None, None, "", "a file of blank lines only"),
        (b"ACGT\n>chr1\nACGT\n", 1, None, "", "'ACGT' before the first '>' header line"),
        (b">chr1\nACGT\nAC-T\n", 3, 3, "chr1", "the character '-'"),
        (b">chr1\nACGT\nAC T\n", 3, 3, "chr1", "a space"),
        (b">chr1\nACGU\n", 2, 4, "chr1", "the character 'U'"),
        (b">chr1\nAC\xc3\xa9T\n", 2, 3, "chr1", "the byte 0xc3"),
        (
            b">chr1\nACGT\nAX\nAX\n",
            3,
            2,
            "chr1",
            "the character 'X' (and 1 more line like it in this record)",
        ),
        (b">chr1\n>chr2\nACGT\n", 1, None, "chr1", "record 'chr1' with no bases"),
        (
            b">chr1\nAC\n>chr1\nGG\n",
            3,
            None,
            "chr1",
            "a second record named 'chr1' (the first is at line 1)",
        ),
        (b"> chr1\nACGT\n", 1, None, "", "a header line with no name ('> chr1')"),
        (b">\nACGT\n", 1, None, "", "a header line with no name"),
        (b">chr1\nACG\nACGT\n", 3, None, "chr1", "a line of 4 bases after lines of 3"),
        (b">chr1\nACGT\nAC\nACGT\n", 4, None, "chr1", "bases after a shorter line at line 3"),
        (b">chr1\nACGT\n\nACGT\n", 4, None, "chr1", "bases after a blank line at line 3"),
        (
            b">chr1\nACGT\r\nACGT\nAC\n",
            3,
            None,
            "chr1",
            "a line ending in LF after lines ending in CRLF",
        ),
        (
            b">chr1:101-105\nACGTAC\n",
            1,
            None,
            "chr1:101-105",
            "record 'chr1:101-105' holding 6 bases",
        ),
        (b">chr1:0-5\nACGTA\n", 1, None, "chr1:0-5", "record 'chr1:0-5' starting at 0"),
        (
            b">chr1:200-100\nACGTA\n",
            1,
            None,
            "chr1:200-100",
            "record 'chr1:200-100', a region whose end is before its start",
        ),
        (b">chr1", 1, None, "chr1", "record 'chr1' with no bases"),
        (b"\x1f\x8b\x08\x00rest", None, None, "", "a gzip-compressed file"),
    ],
)
def test_malformed_fasta_names_the_line(
    tmp_path: Path, text: bytes, line: int | None, column: int | None, field: str, found: str
) -> None:
    root = dossier(tmp_path, text)
    findings = check(root)
    assert len(findings) == 1, [str(f) for f in findings]
    (f,) = findings
    assert (f.path, f.line, f.column, f.field) == ("reference/targets.fa", line, column, field)
    assert f.found.startswith(found)


def test_empty_record_between_records_is_refused_though_samtools_drops_it(tmp_path: Path) -> None:
    data = b">chr1\n>chr2\nACGT\n"
    assert samtools_fai(tmp_path, data) == "chr2\t4\t12\t4\t5\n"  # chr1 silently gone
    assert [f.field for f in check(dossier(tmp_path, data))] == ["chr1"]


def test_gzip_fasta_is_refused_with_the_fix(tmp_path: Path) -> None:
    plain = tmp_path / "plain.fa"
    plain.write_text(FASTA)
    pysam.tabix_compress(str(plain), str(tmp_path / "targets.fa.gz"))
    root = tmp_path
    (f,) = check_reference(root, "targets.fa.gz", [])
    assert f.found == "a gzip-compressed file" and "gunzip" in f.expected


def test_missing_and_directory_fasta(tmp_path: Path) -> None:
    (f,) = check(tmp_path)
    assert (f.path, f.found) == ("reference/targets.fa", "no such file")
    (tmp_path / "reference" / "targets.fa").mkdir(parents=True)
    (f,) = check(tmp_path)
    assert f.found == "a directory"


def test_line_numbers_and_fetches_across_records_crlf_and_blank_lines(tmp_path: Path) -> None:
    data = b"\r\n>a desc\r\nACGTA\r\nCC\r\n\r\n>b\r\nGGGG\r\nGG"
    findings: list[Finding] = []
    index = index_fasta(io.BytesIO(data), "x.fa", findings)
    assert findings == [] and index is not None
    assert index.fai_text() == samtools_fai(tmp_path, data)
    stream = io.BytesIO(data)
    assert index.bases(stream, "a", 0, 7) == "ACGTACC"
    assert index.bases(stream, "a", 4, 2) == "AC"
    assert index.bases(stream, "b", 3, 3) == "GGG"


# --------------------------------------------------------------------------- the .fai beside it


def test_matching_fai_from_samtools_is_accepted(tmp_path: Path) -> None:
    root = dossier(tmp_path)
    pysam.faidx(str(root / "reference/targets.fa"))
    assert check(root, variant_target(38400021, "T")) == []


def test_stale_fai_is_a_finding_whatever_its_modification_time(tmp_path: Path) -> None:
    root = dossier(tmp_path)
    fasta = root / "reference/targets.fa"
    pysam.faidx(str(fasta))
    # the FASTA changes (a shorter description moves every base), the index stays, and looks newer
    old_header = ">chrX:38400001-38400060 a region as samtools faidx writes it\n"
    new_header = ">chrX:38400001-38400060 shorter\n"
    fasta.write_text(FASTA.replace(old_header, new_header))
    os.utime(fasta, (1_000_000_000, 1_000_000_000))
    findings = check(root)
    assert [(f.path, f.line) for f in findings] == [("reference/targets.fa.fai", 1)]
    (f,) = findings
    assert f.expected == EXPECTED_FAI
    assert (
        f"record 'chrX:38400001-38400060': offset {len(old_header)} here, {len(new_header)} in the FASTA"
        in f.found
    )


@pytest.mark.parametrize(
    ("fai", "line", "found"),
    [
        (
            "chrX:38400001-38400060\t60\t61\t20\t21\n",
            None,
            "an index of 1 record(s) for a FASTA of 2",
        ),
        ("nonsense\n", 1, "an index line 'nonsense', not name, length"),
        (
            "chr5\t30\t61\t20\t21\nchrX\t60\t1\t20\t21\n",
            1,
            "an index line record 'chr5' where record 1",
        ),
    ],
)
def test_mismatching_fai(tmp_path: Path, fai: str, line: int | None, found: str) -> None:
    root = dossier(tmp_path)
    (root / "reference/targets.fa.fai").write_text(fai)
    (f,) = check(root)
    assert (f.path, f.line) == ("reference/targets.fa.fai", line)
    assert f.found.startswith(found)
    assert f.expected == EXPECTED_FAI


def test_fai_with_an_extra_record(tmp_path: Path) -> None:
    root = dossier(tmp_path)
    fasta = root / "reference/targets.fa"
    pysam.faidx(str(fasta))
    fai = Path(f"{fasta}.fai")
    fai.write_text(fai.read_text() + "chr9\t10\t200\t10\t11\n")
    (f,) = check(root)
    assert (f.line, f.found) == (3, "an index of 3 record(s) for a FASTA of 2")


# --------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.integers(1, 64))
def test_random_bytes_never_raise_and_chunking_does_not_matter(data: bytes, chunk: int) -> None:
    a: list[Finding] = []
    b: list[Finding] = []
    ia = index_fasta(io.BytesIO(data), "r.fa", a)
    ib = index_fasta(io.BytesIO(data), "r.fa", b, chunk_size=chunk)
    assert (ia, a) == (ib, b)
    assert (ia is None) == bool(a)


name_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.|-"


@st.composite
def fasta_files(draw) -> tuple[bytes, list[tuple[str, int, str]]]:
    """A valid FASTA's bytes and its records as (name, region start, sequence)."""
    eol = draw(st.sampled_from([b"\n", b"\r\n"]))
    n = draw(st.integers(1, 4))
    records = []
    names: set[str] = set()
    parts = [eol * draw(st.integers(0, 2))]
    for k in range(n):
        seq = draw(st.text(alphabet=IUPAC_DNA.decode(), min_size=1, max_size=150))
        if draw(st.booleans()):
            start = draw(st.integers(1, 10**9))
            name = f"chr{k}:{start}-{start + len(seq) - 1 + draw(st.integers(0, 5))}"
        else:
            start = 1
            name = draw(st.text(alphabet=name_chars, min_size=1, max_size=10))
            assume(name not in names)
        names.add(name)
        records.append((name, start, seq))
        desc = draw(st.sampled_from(["", " description", "\tsome text: 1-2"]))
        width = draw(st.integers(1, 70))
        lines = [seq[i : i + width] for i in range(0, len(seq), width)]
        parts.append(f">{name}{desc}".encode() + eol)
        parts.append(eol.join(x.encode() for x in lines))
        if k < n - 1 or draw(st.booleans()):
            parts.append(eol)
            if k < n - 1:
                parts.append(eol * draw(st.integers(0, 2)))
    return b"".join(parts), records


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fasta_files(), st.integers(1, 97), st.randoms(use_true_random=False))
def test_valid_fasta_round_trips_and_indexes_as_samtools_does(
    tmp_path: Path,
    generated: tuple[bytes, list[tuple[str, int, str]]],
    chunk: int,
    rng: random.Random,
) -> None:
    data, records = generated
    findings: list[Finding] = []
    index = index_fasta(io.BytesIO(data), "g.fa", findings, chunk_size=chunk)
    assert findings == [] and index is not None
    assert [(s.name, s.start, s.length) for s in index.spans] == [
        (name, start, len(seq)) for name, start, seq in records
    ]
    assert index.fai_text() == samtools_fai(tmp_path, data)
    stream = io.BytesIO(data)
    for name, _, seq in records:
        i = rng.randrange(len(seq))
        j = rng.randrange(i, len(seq)) + 1
        assert index.bases(stream, name, i, j - i) == seq[i:j]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fasta_files(),
    st.lists(
        st.tuples(st.integers(0, 10**6), st.sampled_from(b"ACGTX \r\n>@-"), st.integers(0, 2)),
        min_size=1,
        max_size=4,
    ),
)
def test_mutated_fasta_is_accepted_only_as_samtools_would_index_it(
    tmp_path: Path,
    generated: tuple[bytes, list[tuple[str, int, str]]],
    edits: list[tuple[int, int, int]],
) -> None:
    """Whatever pmpath accepts, samtools indexes identically: pmpath's rules are the stricter."""
    data = bytearray(generated[0])
    for where, byte, kind in edits:
        at = where % (len(data) + 1)
        if kind == 0:
            data[at:at] = bytes([byte])
        elif kind == 1 and at < len(data):
            del data[at]
        elif at < len(data):
            data[at] = byte
    findings: list[Finding] = []
    index = index_fasta(io.BytesIO(bytes(data)), "m.fa", findings, chunk_size=13)
    if index is not None:
        assert index.fai_text() == samtools_fai(tmp_path, bytes(data))


def test_whole_chromosome_is_indexed_quickly(tmp_path: Path) -> None:
    """A 50 Mb chromosome in 60-column lines: the fast path, with the last line shorter."""
    line = b"ACGTNacgtRYKMSWBDHVA" * 3
    path = tmp_path / "chr.fa"
    with path.open("wb") as f:
        f.write(b">chr1\n")
        f.write((line + b"\n") * 833_333)
        f.write(b"ACGT\n")
    findings: list[Finding] = []
    index = read_fasta(path, "chr.fa", findings)
    assert findings == [] and index is not None
    assert index.fai_text() == f"chr1\t{833_333 * 60 + 4}\t6\t60\t61\n"
    with path.open("rb") as stream:
        assert index.bases(stream, "chr1", 833_333 * 60 - 2, 6) == "VAACGT"


# --------------------------------------------------------------------------- through the loader


def scaffold(tmp_path: Path) -> tuple[Path, dict]:
    root = tmp_path / "d"
    init_dossier(root, platform_id="P1", name="P", modality="adenine_base_editor")
    case_path = root / "patients" / "EXAMPLE-01" / "case.yaml"
    return root, yaml.safe_load(case_path.read_text())


def write_case(root: Path, case: dict) -> None:
    (root / "patients" / "EXAMPLE-01" / "case.yaml").write_text(
        yaml.safe_dump(case, sort_keys=False)
    )


@pytest.mark.parametrize("pos", [10**23, 2**63, 201])
def test_loader_refuses_a_variant_outside_the_reference(tmp_path: Path, pos: int) -> None:
    root, case = scaffold(tmp_path)
    case["variants"][0]["pos"] = pos
    write_case(root, case)
    with pytest.raises(DossierError) as info:
        load_dossier(root)
    found = [f for f in info.value.findings if "outside every record" in f.found]
    assert [f.path for f in found] == ["patients/EXAMPLE-01/case.yaml"]
    assert found[0].line is not None and found[0].field.startswith("variants.0")


def test_loader_refuses_pos_1e23_cleanly(tmp_path: Path) -> None:
    root, _ = scaffold(tmp_path)
    case_path = root / "patients" / "EXAMPLE-01" / "case.yaml"
    text = case_path.read_text()
    assert "pos: 101" in text
    case_path.write_text(text.replace("pos: 101", "pos: 1e23"))
    with pytest.raises(DossierError) as info:
        load_dossier(root)
    (f,) = info.value.errors
    assert (f.path, f.field, f.found) == (
        "patients/EXAMPLE-01/case.yaml",
        "variants.0.pos",
        "'1e23'",
    )
    assert f.line == next(i for i, x in enumerate(text.splitlines(), 1) if "pos: 101" in x)


def test_loader_refuses_a_ref_that_differs_from_the_reference(tmp_path: Path) -> None:
    root, case = scaffold(tmp_path)
    ref = case["variants"][0]["ref"]
    case["variants"][0]["ref"] = next(b for b in "ACGT" if b != ref)
    write_case(root, case)
    with pytest.raises(DossierError) as info:
        load_dossier(root)
    (f,) = info.value.findings
    assert f.path == "patients/EXAMPLE-01/case.yaml" and f.expected.startswith(f"{ref!r}")


def test_loader_refuses_a_stale_fai(tmp_path: Path) -> None:
    root, _ = scaffold(tmp_path)
    (root / "reference" / "reference.fa.fai").write_text("synthetic1\t200\t58\t60\t61\n")
    with pytest.raises(DossierError) as info:
        load_dossier(root)
    assert [f.path for f in info.value.findings] == ["reference/reference.fa.fai"]


def test_loader_refuses_an_empty_fasta(tmp_path: Path) -> None:
    root, _ = scaffold(tmp_path)
    (root / "reference" / "reference.fa").write_bytes(b"")
    with pytest.raises(DossierError) as info:
        load_dossier(root)
    assert [(f.path, f.found) for f in info.value.findings] == [
        ("reference/reference.fa", "an empty file")
    ]
