"""Off-target panel: PANEL.tsv validation names line and column; per-site statistics on synthetic
counts with a known truth agree with scipy/statsmodels; the command writes panel.tsv and exits 2
on a bad panel, and the panel quantified from simulated reads."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from typer.testing import CliRunner

from pmpath.cli import app
from pmpath.engagement.panel import PANEL_COLUMNS, compare_panel, read_panel, read_site_counts
from pmpath.errors import AnalysisError, UsageError

AMPLICON = "ACGT" * 80


def _panel(path: Path, rows: list[list[str]], header: tuple[str, ...] = PANEL_COLUMNS) -> Path:
    path.write_text("\t".join(header) + "\n" + "".join("\t".join(r) + "\n" for r in rows))
    return path


def _site(i: int, cfd: str = "0.5") -> list[str]:
    return [
        f"OT{i}",
        "GGAATCCCTTCTGCAGCACC",
        "chr1",
        str(1000 * i + 150),
        str(1000 * i + 172),
        "+",
        AMPLICON,
        cfd,
    ]


@pytest.fixture
def panel_file(tmp_path: Path) -> Path:
    return _panel(tmp_path / "PANEL.tsv", [_site(i) for i in range(1, 11)])


def test_read_panel(panel_file: Path) -> None:
    sites = read_panel(panel_file)
    assert [s.site_id for s in sites] == [f"OT{i}" for i in range(1, 11)]
    assert (sites[0].start, sites[0].end, sites[0].strand, sites[0].cfd) == (1150, 1172, "+", 0.5)


@pytest.mark.parametrize(
    ("column", "value", "match"),
    [
        ("start", "x", "line 3: column start: found 'x', expected a 0-based position"),
        ("end", "100", "line 3: column end: found 100, expected > start"),
        ("strand", "*", r"line 3: column strand: found '\*', expected \+ or -"),
        ("cfd", "1.2", "line 3: column cfd: found '1.2', expected a CFD score between 0 and 1"),
        ("guide", "", "line 3: column guide: found '', expected the guide's name"),
        ("amplicon", "", "line 3: column amplicon"),
        (
            "site_id",
            "OT1",
            "line 3: column site_id: found 'OT1', expected a new id .already on line 2",
        ),
    ],
)
def test_read_panel_errors_name_line_and_column(
    tmp_path: Path, column: str, value: str, match: str
) -> None:
    bad = _site(2)
    bad[PANEL_COLUMNS.index(column)] = value
    with pytest.raises(UsageError, match=match):
        read_panel(_panel(tmp_path / "p.tsv", [_site(1), bad]))


def test_read_panel_missing_column(tmp_path: Path) -> None:
    header = tuple(c for c in PANEL_COLUMNS if c != "cfd")
    with pytest.raises(UsageError, match="line 1: columns cfd missing"):
        read_panel(_panel(tmp_path / "p.tsv", [_site(1)[:-1]], header))
    with pytest.raises(UsageError, match="file not found"):
        read_panel(tmp_path / "none.tsv")


def test_compare_panel_on_synthetic_counts(panel_file: Path) -> None:
    # Truth: OT1 and OT2 edited (5% and 1.5%), the rest at the 0.1% background in both arms.
    rng = np.random.default_rng(11)
    sites = read_panel(panel_file)
    n = 20000
    rates = {"OT1": 0.05, "OT2": 0.015}
    treated = {s.site_id: (int(rng.binomial(n, rates.get(s.site_id, 0.001))), n) for s in sites}
    control = {s.site_id: (int(rng.binomial(n, 0.001)), n) for s in sites}
    treated["OT10"] = (0, 0)  # a site with no treated reads is reported, not tested
    result = compare_panel(sites, treated, control)
    assert [s.site.site_id for s in result.edited_sites] == ["OT1", "OT2"]
    untested = result.sites[-1]
    assert untested.comparison is None and "no treated reads" in untested.note
    tested = [s for s in result.sites if s.comparison is not None]
    p = [
        stats.fisher_exact(
            [
                [treated[s.site.site_id][0], n - treated[s.site.site_id][0]],
                [control[s.site.site_id][0], n - control[s.site.site_id][0]],
            ],
            alternative="greater",
        ).pvalue
        for s in tested
    ]
    assert [s.comparison.q_value for s in tested] == pytest.approx(
        multipletests(p, method="fdr_bh")[1], rel=1e-9
    )


def test_compare_panel_rejects_unknown_site_and_no_data(panel_file: Path) -> None:
    sites = read_panel(panel_file)
    with pytest.raises(UsageError, match="found site 'OT99'"):
        compare_panel(sites, {"OT99": (1, 10)}, {})
    with pytest.raises(AnalysisError, match="no panel site has reads"):
        compare_panel(sites, {"OT1": (1, 10)}, {})


def _counts(path: Path, counts: dict[str, tuple[int, int]]) -> Path:
    path.write_text(
        "site_id\tedited\ttotal\n" + "".join(f"{k}\t{e}\t{t}\n" for k, (e, t) in counts.items())
    )
    return path


def test_read_site_counts_errors(tmp_path: Path) -> None:
    path = tmp_path / "c.tsv"
    path.write_text("site_id\tedited\ttotal\nOT1\t5\t3\n")
    with pytest.raises(UsageError, match="line 2: found 5 edited of 3"):
        read_site_counts(path)


def test_cli_panel_with_counts(panel_file: Path, tmp_path: Path) -> None:
    treated = _counts(
        tmp_path / "t.tsv", {"OT1": (300, 5000), **{f"OT{i}": (3, 5000) for i in range(2, 11)}}
    )
    control = _counts(tmp_path / "c.tsv", {f"OT{i}": (4, 5000) for i in range(1, 11)})
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "engagement",
            "panel",
            "--panel",
            str(panel_file),
            "--counts",
            str(treated),
            "--control-counts",
            str(control),
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    with (out / "panel.tsv").open() as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert len(rows) == 10
    assert [r["site_id"] for r in rows if r["not_different"] == "false"] == ["OT1"]
    assert "1 of 10 tested site(s)" in result.output


def test_cli_panel_bad_panel_exits_2(tmp_path: Path) -> None:
    bad = _site(1)
    bad[3] = "x"
    panel = _panel(tmp_path / "p.tsv", [bad])
    result = CliRunner().invoke(
        app,
        [
            "engagement",
            "panel",
            "--panel",
            str(panel),
            "-r1",
            "r1.fq",
            "--control-r1",
            "c.fq",
            "-o",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 2
    assert "line 2: column start" in result.output


def test_cli_panel_from_reads_finds_the_edited_site(tmp_path: Path) -> None:
    # two candidate sites: reads of site A carry nuclease indels in the treated sample only
    import numpy as np

    from pmpath.engagement.amplicon import Amplicon, design_target
    from pmpath.engagement.simulate import simulate_reads, write_fastq
    from pmpath.mechanism.sequence import reverse_complement

    rng = np.random.default_rng(3)
    sites, truth = [], {}
    rows = ["site_id\tguide\tchrom\tstart\tend\tstrand\tamplicon\tcfd"]
    for strand in ("+", "-"):
        proto = "".join(rng.choice(list("ACGT"), 20)) + "AGG"
        flank = ["".join(rng.choice(list("ACGT"), 150)) for _ in range(2)]
        on_plus = proto if strand == "+" else reverse_complement(proto)
        amplicon = flank[0] + on_plus + flank[1]
        site_id = f"g1:chr1:{1000 * len(sites) + 150}:{strand}"
        rows.append(
            f"{site_id}\tg1\tchr1\t{1000 * len(sites) + 150}\t{1000 * len(sites) + 173}\t{strand}\t{amplicon}\t0.5"
        )
        target = design_target(Amplicon(site_id, amplicon), proto[:20], "nuclease")
        sites.append((site_id, target))
    panel = tmp_path / "PANEL.tsv"
    panel.write_text("\n".join(rows) + "\n")
    treated, control = [], []
    for k, (site_id, target) in enumerate(sites):
        t = simulate_reads(target, 400, indel_fraction=0.3 if k == 0 else 0.0, seed=k)
        c = simulate_reads(target, 400, indel_fraction=0.0, seed=10 + k)
        truth[site_id] = sum(cls != "unmodified" for cls in t.classes)
        treated += [(f"{site_id}_{n}", sq, q) for n, sq, q in t.r1]
        control += [(f"{site_id}_{n}", sq, q) for n, sq, q in c.r1]
    write_fastq(tmp_path / "t.fq", treated)
    write_fastq(tmp_path / "c.fq", control)
    result = CliRunner().invoke(
        app,
        [
            "engagement", "panel", "--panel", str(panel), "-r1", str(tmp_path / "t.fq"),
            "--control-r1", str(tmp_path / "c.fq"), "-o", str(tmp_path / "o"),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = (tmp_path / "o" / "panel.tsv").read_text().splitlines()
    header = table[0].split("\t")
    by_site = {r.split("\t")[0]: dict(zip(header, r.split("\t"), strict=True)) for r in table[1:]}
    edited_a = by_site[sites[0][0]]
    assert int(float(edited_a["treated_edited"])) == truth[sites[0][0]]
    assert int(float(by_site[sites[1][0]]["treated_edited"])) == 0
