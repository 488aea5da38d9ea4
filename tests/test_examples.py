"""Tests for the bundled synthetic example dossiers and scripts/generate_examples.py, which writes them.

The sequence checks use plain string operations, independent of ``pmpath.mechanism``: they read
the FASTA by hand, apply the patient's variant and look for the spacer or the ASO's target.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from pmpath.dossier import Dossier
from pmpath.dossier.write import dossier_files
from pmpath.examples import EXAMPLES, example_path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "generate_examples.py"
COMPLEMENT = str.maketrans("ACGT", "TGCA")


def revcomp(seq: str) -> str:
    return seq.translate(COMPLEMENT)[::-1]


@functools.cache
def load_generator() -> ModuleType:
    """scripts/generate_examples.py as a module (registered first: its dataclasses look it up)."""
    spec = importlib.util.spec_from_file_location("generate_examples_under_test", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def tree(root: Path) -> dict[str, bytes]:
    """Relative POSIX path -> bytes of every file below ``root`` (Python caches left out)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def read_fasta(path: Path) -> dict[str, str]:
    records: dict[str, list[str]] = {}
    name = None
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            name = line[1:].split()[0]
            records[name] = []
        elif line.strip():
            assert name is not None, f"{path}: sequence before the first header"
            records[name].append(line.strip().upper())
    return {n: "".join(parts) for n, parts in records.items()}


def record_for(records: dict[str, str], chrom: str, pos: int) -> tuple[str, int]:
    """(sequence, 1-based start) of the samtools-style record ``chrom:start-end`` holding ``pos``."""
    for name, seq in records.items():
        rec_chrom, span = name.rsplit(":", 1)
        start, end = (int(x) for x in span.split("-"))
        if rec_chrom == chrom and start <= pos <= end:
            assert end - start + 1 == len(seq), f"record {name} holds {len(seq)} bases"
            return seq, start
    raise AssertionError(f"no reference record covers {chrom}:{pos}")


def occurrences(text: str, probe: str) -> list[int]:
    return [i for i in range(len(text) - len(probe) + 1) if text.startswith(probe, i)]


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("examples")
    load_generator().generate(out)
    return out


@pytest.fixture
def dossiers(example_dossiers: dict[str, Dossier]) -> dict[str, Dossier]:
    return example_dossiers  # conftest.py loads both examples once per session


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_loads_without_findings_or_warnings(
    dossiers: dict[str, Dossier], name: str
) -> None:
    # load_dossier raises DossierError on any finding; the fixture would have failed
    assert dossiers[name].warnings == []


def test_patient_counts(dossiers: dict[str, Dossier]) -> None:
    assert [p.id for p in dossiers["abe-ucd"].patients] == ["P01", "P02", "P03", "P04"]
    assert [p.id for p in dossiers["ssaso-cln"].patients] == ["P01", "P02", "P03"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_everything_says_it_is_synthetic(dossiers: dict[str, Dossier], name: str) -> None:
    dossier = dossiers[name]
    assert dossier.platform.synthetic
    assert all(p.case.synthetic for p in dossier.patients)
    assert all(c.cohort.provenance.collection == "synthetic" for c in dossier.cohorts.values())
    readme = (example_path(name) / "README.md").read_text()
    assert "Everything in this dossier is synthetic" in readme
    assert "Expected verdicts" in readme
    for path in example_path(name).rglob("*.csv"):
        assert not path.read_text().startswith("#"), f"{path}: the header must be line 1"


def test_component_hashes_are_the_documented_spec_strings(dossiers: dict[str, Dossier]) -> None:
    components = {c.name: c for c in dossiers["abe-ucd"].platform.invariant_components}
    assert components["editor_mrna"].sha256 == hashlib.sha256(b"ABE8e mRNA spec v1.2").hexdigest()


def test_generator_is_deterministic(fresh: Path, tmp_path: Path) -> None:
    load_generator().generate(tmp_path)
    first, second = tree(fresh), tree(tmp_path)
    assert sorted(first) == sorted(second)
    different = [p for p in first if first[p] != second[p]]
    assert different == []


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_file_of_an_example_is_written_by_the_dossier_writer(fresh: Path, name: str) -> None:
    """The generator builds a DossierSpec and the writer writes it: no file comes from elsewhere."""
    build = {"abe-ucd": load_generator().abe_spec, "ssaso-cln": load_generator().ssaso_spec}[name]
    assert dossier_files(build()) == tree(fresh / name)


@pytest.mark.parametrize("name", EXAMPLES)
def test_committed_example_equals_a_fresh_generation(fresh: Path, name: str) -> None:
    committed, generated = tree(example_path(name)), tree(fresh / name)
    missing = sorted(set(generated) - set(committed))
    extra = sorted(set(committed) - set(generated))
    changed = sorted(p for p in set(committed) & set(generated) if committed[p] != generated[p])
    assert (missing, extra, changed) == ([], [], []), (
        f"src/pmpath/examples/{name} differs from a fresh generation (missing {missing}, extra {extra}, "
        f"changed {changed}); edit scripts/generate_examples.py and run `make examples`, never the files"
    )


def test_spacers_match_the_patient_allele_and_editing_restores_the_reference(
    dossiers: dict[str, Dossier],
) -> None:
    dossier = dossiers["abe-ucd"]
    records = read_fasta(dossier.root / dossier.platform.reference_fasta)
    editor = dossier.platform.editor
    assert editor is not None
    lo, hi = editor.editing_window
    for patient in dossier.patients:
        variant = patient.variants[patient.case.therapy.target_variant]
        seq, start = record_for(records, variant.chrom, variant.pos)
        i = variant.pos - start
        assert seq[i : i + len(variant.ref)] == variant.ref, (
            f"{patient.id}: ref disagrees with the FASTA"
        )
        patient_seq = seq[:i] + variant.alt + seq[i + len(variant.ref) :]
        spacer = patient.case.therapy.targeting_sequence
        assert len(spacer) == editor.protospacer_length
        hits = [
            (s, r, k)
            for s, r in ((patient_seq, seq), (revcomp(patient_seq), revcomp(seq)))
            for k in occurrences(s, spacer)
        ]
        assert len(hits) == 1, (
            f"{patient.id}: spacer found {len(hits)} times in the patient's allele"
        )
        strand_seq, strand_ref, k = hits[0]
        assert strand_seq[k + 21 : k + 23] == "GG", (
            f"{patient.id}: no NGG PAM after the protospacer"
        )
        diffs = [j for j in range(len(strand_seq)) if strand_seq[j] != strand_ref[j]]
        assert len(diffs) == 1
        position = diffs[0] - k + 1  # 1-based protospacer position, PAM-distal end = 1
        assert lo <= position <= hi, f"{patient.id}: variant at protospacer position {position}"
        assert (strand_seq[diffs[0]], strand_ref[diffs[0]]) == (
            "A",
            "G",
        )  # A->G restores the reference
        window = spacer[lo - 1 : hi]
        assert window.count("A") == 1, f"{patient.id}: bystander A in the window {window}"
        assert spacer not in seq and spacer not in revcomp(seq), (
            f"{patient.id}: spacer matches the unedited reference"
        )


def test_asos_pair_with_the_patient_pre_mrna_over_the_cryptic_site(
    dossiers: dict[str, Dossier],
) -> None:
    dossier = dossiers["ssaso-cln"]
    records = read_fasta(dossier.root / dossier.platform.reference_fasta)
    for patient in dossier.patients:
        therapy = patient.case.therapy
        variant = patient.variants[therapy.target_variant]
        seq, start = record_for(records, variant.chrom, variant.pos)
        i = variant.pos - start
        assert seq[i : i + len(variant.ref)] == variant.ref
        patient_seq = seq[:i] + variant.alt + seq[i + len(variant.ref) :]
        aso = therapy.targeting_sequence
        assert 18 <= len(aso) <= 22
        # the record is written in the gene's sense orientation (README): the ASO is antisense to it
        target = revcomp(aso)
        hits = occurrences(patient_seq, target)
        assert len(hits) == 1, f"{patient.id}: ASO target found {len(hits)} times"
        bound = (start + hits[0], start + hits[0] + len(aso) - 1)
        assert bound[0] <= variant.pos <= bound[1], (
            f"{patient.id}: the ASO does not cover the variant"
        )
        assert therapy.acts_on is not None
        assert therapy.acts_on.start <= bound[1] and bound[0] <= therapy.acts_on.end
        assert occurrences(seq, target) == [] and occurrences(revcomp(seq), target) == []


def test_cohort_event_rates_recover_the_generating_rates(dossiers: dict[str, Dossier]) -> None:
    """Truth of the simulation: crises at 1.5/year (NB alpha 0.5), seizures at 60/year (alpha 0.4).

    Tolerances are about 3.5 standard errors: for the crises ~250 events per cohort with
    Var/mean ~1.4 give a relative SE of ~7 %; for ~6000 seizures with Var/mean ~3 about 2.2 %.
    """
    for cohort in dossiers["abe-ucd"].cohorts.values():
        ev = cohort.events
        rate = ev["count"].sum() / (ev["age_end"] - ev["age_start"]).sum()
        assert rate == pytest.approx(1.5, rel=0.25)
    ev = dossiers["ssaso-cln"].cohorts["cln7-nh"].events
    rate = ev["count"].sum() / (ev["age_end"] - ev["age_start"]).sum()
    assert rate == pytest.approx(60.0, rel=0.08)


def test_score_declines_about_one_point_a_year_in_the_cohort(dossiers: dict[str, Dossier]) -> None:
    """Truth of the simulation: mean within-subject slope -1.0/year (SD of slopes 0.2, residual SD 0.25)."""
    long = dossiers["ssaso-cln"].cohorts["cln7-nh"].longitudinal
    slopes = [
        np.polyfit(g["age"], g["value"], 1)[0]
        for _, g in long.groupby("subject")
        if g["age"].nunique() >= 3
    ]
    assert np.mean(slopes) == pytest.approx(-1.0, abs=0.2)


def test_unknown_example_is_refused() -> None:
    with pytest.raises(ValueError, match="expected one of: abe-ucd, ssaso-cln"):
        example_path("no-such-example")


def _designed_verdicts(readme: str) -> dict[str, list[str]]:
    """The 'Expected verdicts, as designed' table: patient -> five statuses as the README states them."""
    section = readme.split("## Expected verdicts, as designed", 1)[1]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 6 or not re.fullmatch(r"P\d+", cells[0]):
            if rows and not line.strip():
                break
            continue
        statuses = []
        for cell in cells[1:]:
            head = re.split(r"[;(:]", cell.replace("*", ""))[0].strip()
            statuses.append(
                {"met": "met", "not met": "not_met", "insufficient": "insufficient"}[head]
            )
        rows[cells[0]] = statuses
    return rows


@pytest.mark.parametrize("name", EXAMPLES)
def test_readme_table_of_designed_verdicts_matches_the_assessment(name: str) -> None:
    import pmpath

    designed = _designed_verdicts((example_path(name) / "README.md").read_text())
    assessment = pmpath.assess(example_path(name))
    found = {p.id: [c.status.value for c in p.criteria] for p in assessment.patients}
    assert designed == found
