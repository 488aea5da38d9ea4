"""`pmpath init`: the skeleton loads without findings, is coherent, and never overwrites anything."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyfaidx
import pytest
import yaml

from pmpath.dossier import load_dossier
from pmpath.dossier.model import Modality
from pmpath.dossier.scaffold import init_dossier, skeleton_spec
from pmpath.dossier.write import write_dossier
from pmpath.errors import DossierError

ALL_MODALITIES = [m.value for m in Modality]
EDITORS = ["adenine_base_editor", "cytosine_base_editor", "nuclease", "prime_editor"]
COMPLEMENT = {"A": "T", "C": "G", "G": "C", "T": "A"}


def snapshot(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file below ``root`` (directories as '<dir>')."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        out[rel] = "<dir>" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.mark.parametrize("modality", ALL_MODALITIES)
def test_init_then_load_is_clean(tmp_path: Path, modality: str) -> None:
    root = tmp_path / "dossier"
    written = init_dossier(root, platform_id="MY-PLATFORM", name="My platform", modality=modality)
    dossier = load_dossier(root)  # raises DossierError on any finding
    assert dossier.warnings == []
    assert dossier.platform.id == "MY-PLATFORM"
    assert dossier.platform.modality.value == modality
    assert dossier.platform.synthetic is True
    assert [p.id for p in dossier.patients] == ["EXAMPLE-01"]
    assert dossier.patients[0].case.synthetic is True
    assert all(c.cohort.provenance.collection == "synthetic" for c in dossier.cohorts.values())
    # every file written is returned, and nothing else sits in the dossier
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert files == {p.relative_to(root).as_posix() for p in written}
    assert written == sorted(written)
    # every file the loader read was written by init, and the tables are not empty
    assert set(dossier.inputs) <= files
    patient = dossier.patients[0]
    assert len(patient.measurements) == 5 and len(patient.engagement) == 2
    assert len(patient.concomitant) == 0 and len(patient.adverse_events) == 0  # header-only files
    for name in ("README.md", "reference/README.md"):
        assert (root / name).read_text().strip()


@pytest.mark.parametrize("modality", ALL_MODALITIES)
def test_yaml_files_explain_their_fields_with_comments(tmp_path: Path, modality: str) -> None:
    root = tmp_path / "d"
    init_dossier(root, platform_id="P1", name="P", modality=modality)
    for rel in ("platform.yaml", "natural_history/cohort.yaml", "patients/EXAMPLE-01/case.yaml"):
        text = (root / rel).read_text()
        comments = [
            line for line in text.splitlines() if line.lstrip().startswith("#") or " # " in line
        ]
        assert len(comments) >= 8, rel
        assert "PLACEHOLDER" in text


@pytest.mark.parametrize("modality", EDITORS)
def test_example_guide_matches_the_example_reference(tmp_path: Path, modality: str) -> None:
    """The guide is the patient's protospacer: reference with the ALT allele, followed by an NGG PAM."""
    root = tmp_path / "d"
    init_dossier(root, platform_id="P1", name="P", modality=modality)
    dossier = load_dossier(root)
    editor = dossier.platform.editor
    case = dossier.patients[0].case
    variant = case.variants[case.therapy.target_variant]
    guide = case.therapy.targeting_sequence
    seq = str(pyfaidx.Fasta(str(root / dossier.platform.reference_fasta))[variant.chrom]).upper()
    assert seq[variant.pos - 1] == variant.ref
    patient = seq[: variant.pos - 1] + variant.alt + seq[variant.pos :]
    start = patient.find(guide)
    assert start >= 0 and patient.find(guide, start + 1) == -1  # exactly one site
    assert patient[start + 20 + 1 : start + 20 + 3] == "GG"  # NGG
    position = variant.pos - 1 - start + 1  # 1-based position of the variant in the protospacer
    assert 1 <= position <= editor.protospacer_length
    lo, hi = editor.editing_window
    assert lo <= position <= hi
    if (
        editor.edit_from is not None
    ):  # base editor: the patient's base is converted back to the reference
        assert (variant.alt, variant.ref) == (editor.edit_from, editor.edit_to)
        window = guide[lo - 1 : hi]
        assert window.count(editor.edit_from) == 1, "no bystander in the editing window"


@pytest.mark.parametrize("modality", ["splice_switching_aso", "gapmer_aso"])
def test_example_aso_is_complementary_to_the_patient_allele(tmp_path: Path, modality: str) -> None:
    root = tmp_path / "d"
    init_dossier(root, platform_id="P1", name="P", modality=modality)
    dossier = load_dossier(root)
    case = dossier.patients[0].case
    variant = case.variants[0]
    seq = str(pyfaidx.Fasta(str(root / dossier.platform.reference_fasta))[variant.chrom]).upper()
    patient = seq[: variant.pos - 1] + variant.alt + seq[variant.pos :]
    aso = case.therapy.targeting_sequence
    target = "".join(COMPLEMENT[b] for b in reversed(aso))
    start = patient.find(target)
    assert start >= 0 and start <= variant.pos - 1 < start + len(aso)
    assert target not in seq  # allele-specific: the reference allele is not matched


def test_init_is_deterministic(tmp_path: Path) -> None:
    init_dossier(tmp_path / "a", platform_id="P1", name="P", modality="nuclease")
    init_dossier(tmp_path / "b", platform_id="P1", name="P", modality="nuclease")
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")


def test_init_into_an_empty_directory(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    init_dossier(root, platform_id="P1", name="P", modality="gapmer_aso")
    load_dossier(root)
    assert [p.name for p in tmp_path.iterdir()] == [
        "empty"
    ]  # no temporary directory left beside it


def test_init_into_a_non_empty_directory_fails_and_leaves_it_untouched(tmp_path: Path) -> None:
    root = tmp_path / "existing"
    (root / "notes").mkdir(parents=True)
    (root / "platform.yaml").write_text("id: mine\n")
    (root / "notes" / "a.txt").write_text("keep me\n")
    before = snapshot(root)
    with pytest.raises(DossierError) as info:
        init_dossier(root, platform_id="P1", name="P", modality="adenine_base_editor")
    (finding,) = info.value.findings
    assert finding.path == str(root)
    assert (
        "non-empty directory" in finding.message
        and "platform.yaml" in finding.message
        and "notes" in finding.message
    )
    assert snapshot(root) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing"]


def test_init_onto_a_file_fails(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(DossierError, match="existing file"):
        init_dossier(target, platform_id="P1", name="P", modality="nuclease")
    assert target.read_text() == "x"


def test_invalid_arguments_are_findings_and_nothing_is_written(tmp_path: Path) -> None:
    root = tmp_path / "d"
    with pytest.raises(DossierError) as info:
        init_dossier(root, platform_id="bad id!", name=" ", modality="zinc_finger")
    fields = sorted(f.field for f in info.value.findings)
    assert fields == ["id", "modality", "name"]
    assert "adenine_base_editor" in next(
        f.message for f in info.value.findings if f.field == "modality"
    )
    assert not root.exists()


@pytest.mark.parametrize(
    "name",
    ['My "quoted" platform: ABE # 2', "Ünïcödé & <tags> 😀", "line\nbreak", "null", "- dash"],
)
def test_platform_name_survives_yaml(tmp_path: Path, name: str) -> None:
    root = tmp_path / "d"
    init_dossier(root, platform_id="P1", name=name, modality="splice_switching_aso")
    assert yaml.safe_load((root / "platform.yaml").read_text())["name"] == name
    assert load_dossier(root).platform.name == name


def test_reference_readme_describes_what_validation_accepts(tmp_path: Path) -> None:
    """reference/README.md says region records hold chromosome coordinates from their start: they do."""
    root = tmp_path / "d"
    init_dossier(root, platform_id="P1", name="P", modality="adenine_base_editor")
    readme = (root / "reference" / "README.md").read_text()
    assert "samtools-style region" in readme and "whole chromosome" in readme
    fasta = root / "reference" / "reference.fa"
    lines = fasta.read_text().splitlines()
    name = lines[0][1:].split()[0]
    seq = "".join(lines[1:])
    # bases 51-200 as a region record: the variant at 101 is its 51st base
    fasta.write_text(
        f">{name}:51-200\n" + "".join(seq[i : i + 60] + "\n" for i in range(50, 200, 60))
    )
    load_dossier(root)
    # a region starting after the variant does not hold it
    fasta.write_text(f">{name}:102-200\n{seq[101:]}\n")
    with pytest.raises(DossierError) as info:
        load_dossier(root)
    (f,) = info.value.errors
    assert f.path == "patients/EXAMPLE-01/case.yaml" and "outside every record" in f.found


@pytest.mark.parametrize("modality", ["adenine_base_editor", "splice_switching_aso"])
def test_comments_leave_the_values_the_writer_was_given(tmp_path: Path, modality: str) -> None:
    """The commented YAML of the skeleton loads to exactly the models the writer was given."""
    root = tmp_path / "d"
    init_dossier(root, platform_id="P1", name="P", modality=modality)
    spec = skeleton_spec(Modality(modality), "P1", "P")
    dossier = load_dossier(root)
    assert dossier.platform == spec.platform
    assert [p.case for p in dossier.patients] == [p.case for p in spec.patients]
    assert [c.cohort for c in dossier.cohorts.values()] == [c.cohort for c in spec.cohorts]
    plain = tmp_path / "plain"
    spec.notes = {}  # the same dossier without comments
    write_dossier(spec, plain)
    for rel in ("platform.yaml", "natural_history/cohort.yaml", "patients/EXAMPLE-01/case.yaml"):
        commented, bare = (root / rel).read_text(), (plain / rel).read_text()
        assert "#" not in bare.replace("'#", "").replace('"#', "")
        assert yaml.safe_load(commented) == yaml.safe_load(bare)
