"""`pmpath mechanism design` and `verify` end to end: DESIGNS.tsv columns, JSON, and exit 2 naming the bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmpath.cli import app
from pmpath.mechanism.design import ASO_COLUMNS, GUIDE_COLUMNS

FIXTURES = Path(__file__).parent / "fixtures" / "mechanism"
REF = str(FIXTURES / "genome.fa")
ANN = str(FIXTURES / "genes.gff3")
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["mechanism", *args], catch_exceptions=False)


def rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open() as f:
        reader = csv.DictReader(f, delimiter="\t")
        return list(reader.fieldnames or []), list(reader)


def test_design_writes_the_listed_columns(tmp_path: Path) -> None:
    out = tmp_path / "DESIGNS.tsv"
    r = run(
        "design",
        "--reference",
        REF,
        "--annotation",
        ANN,
        "--variant",
        "NM_PLUS.1:c.35G>A",
        "--editor",
        "abe8e",
        "-o",
        str(out),
    )
    assert r.exit_code == 0, r.output
    header, body = rows(out)
    assert tuple(header) == GUIDE_COLUMNS
    assert [b["spacer"] for b in body] == ["GGCATAGACCGGCAAAAAGG"]
    assert body[0]["mechanism_class"] == "corrects" and body[0]["variant_position"] == "6"
    assert "p.(Trp12Ter)" in r.output and "wrote" in r.output


def test_design_json_and_spry(tmp_path: Path) -> None:
    out = tmp_path / "d.tsv"
    r = run(
        "design",
        "--reference",
        REF,
        "--annotation",
        ANN,
        "--variant",
        "NM_MINUS.1:c.50G>A",
        "--editor",
        "abe8e",
        "--pam",
        "spry",
        "-o",
        str(out),
        "--format",
        "json",
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["variant"]["g"] == "chrT2:g.321C>T"
    assert data["consequence"] == "nonsense p.(Trp17Ter)"
    assert len(data["designs"]) == len(rows(out)[1]) > 1
    assert {d["strand"] for d in data["designs"]} == {"-"}


def test_aso_design_and_verify(tmp_path: Path) -> None:
    out = tmp_path / "a.tsv"
    r = run(
        "design",
        "--reference",
        REF,
        "--annotation",
        ANN,
        "--variant",
        "NM_PLUS.1:c.100+5G>A",
        "--editor",
        "aso-splice",
        "-o",
        str(out),
    )
    assert r.exit_code == 0, r.output
    header, body = rows(out)
    assert tuple(header) == ASO_COLUMNS and len(body) == 18
    assert all(
        b["tm"] and b["offtarget_summary"].startswith("other sense-strand sites") for b in body
    )
    out2 = tmp_path / "v.tsv"
    r = run(
        "verify",
        "--reference",
        REF,
        "--annotation",
        ANN,
        "--variant",
        "NM_PLUS.1:c.100+5G>A",
        "--editor",
        "aso-splice",
        "--sequence",
        body[0]["aso"],
        "-o",
        str(out2),
    )
    assert r.exit_code == 0, r.output
    _, [given] = rows(out2)
    assert {k: v for k, v in given.items() if k != "design"} == {
        k: v for k, v in body[0].items() if k != "design"
    }
    assert "met:" in r.output and "target RNA" in r.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ["--reference", str(FIXTURES / "targets.fa"), "--variant", "NM_PLUS.1:c.35G>A"],
            "contig: found no record covering chrT1",
        ),
        (["--variant", "NM_NOPE.1:c.35G>A"], "no transcript NM_NOPE.1"),
        (["--variant", "NM_PLUS.1:c.35G>>A"], "does not parse as HGVS"),
        (["--variant", "NM_PLUS.1:c.35C>A"], "reference allele: found 'G'"),
        (["--variant", "NM_PLUS.1:c.35G>A", "--pam", "NGZ"], "PAM: found 'NGZ'"),
        (["--variant", "NM_PLUS.1:c.35G>A", "--window", "four"], "--window: found 'four'"),
    ],
)
def test_bad_input_exits_2_naming_it(tmp_path: Path, args: list[str], needle: str) -> None:
    base = {"--reference": REF, "--annotation": ANN, "--editor": "abe8e"}
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1]
    flat = [x for kv in base.items() for x in kv]
    out = tmp_path / "D.tsv"
    r = run("design", *flat, "-o", str(out))
    assert r.exit_code == 2
    assert needle in r.stderr
    assert "Traceback" not in r.stderr and not out.exists()


def test_verify_guide_with_non_acgt_letters_exits_2(tmp_path: Path) -> None:
    r = run(
        "verify",
        "--reference",
        REF,
        "--annotation",
        ANN,
        "--variant",
        "NM_PLUS.1:c.35G>A",
        "--editor",
        "abe8e",
        "--sequence",
        "GGCATAGACCGGCAAAXAGG",
        "-o",
        str(tmp_path / "v.tsv"),
    )
    assert r.exit_code == 2 and "spacer: found 'GGCATAGACCGGCAAAXAGG'" in r.stderr


def test_design_with_a_genome_fills_the_offtarget_summary(tmp_path: Path) -> None:
    from pmpath.mechanism.offtarget import Guide, SearchSettings, read_genome, search_offtargets

    out = tmp_path / "DESIGNS.tsv"
    r = run(
        "design", "--reference", REF, "--annotation", ANN, "--variant", "NM_PLUS.1:c.35G>A",
        "--editor", "abe8e", "--genome", REF, "-o", str(out),
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    _header, body = rows(out)
    spacer = body[0]["spacer"]
    # the same search run directly: its mismatch counts open the cell
    sites = search_offtargets(read_genome(REF), [Guide("d", spacer)], SearchSettings())
    plain = sites[(sites["dna_bulge"] == 0) & (sites["rna_bulge"] == 0)]
    counts = "-".join(str(int((plain["mismatches"] == k).sum())) for k in range(5))
    assert body[0]["offtarget_summary"].startswith(f"{counts} mm, {len(sites) - len(plain)} bulged")
    assert "CFD spec" in body[0]["offtarget_summary"]
