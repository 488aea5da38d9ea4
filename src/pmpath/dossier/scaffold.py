"""`pmpath init`: a new dossier skeleton, valid as written, that a sponsor fills in.

The skeleton is complete but tiny: platform.yaml, one natural-history cohort of a few subjects,
a short reference FASTA, and one patient, every file commented and every value invented and
marked ``synthetic: true`` so that nobody mistakes it for evidence. The guide (or ASO) in the
example case matches the example reference, so the skeleton shows a coherent mechanism.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
import yaml

from pmpath import atomic
from pmpath.dossier.load import COHORT_FILE, PATIENTS_DIR, PLATFORM_FILE
from pmpath.dossier.model import Modality
from pmpath.errors import DossierError, Finding

PATIENT_ID = "EXAMPLE-01"
DISEASE_ID = "example-disease"
COHORT_ID = "example-cohort"
GENE = "GENE1"
CONTIG = "synthetic1"
CONTIG_LENGTH = 200
VARIANT_POS = 101  # 1-based, in the middle of the contig
REFERENCE_FASTA = "reference/reference.fa"
FIRST_DOSE = dt.date(2025, 3, 3)
DATA_CUTOFF = dt.date(2025, 12, 31)
PLAN_FIXED_ON = dt.date(2024, 12, 2)
_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_COMPLEMENT = str.maketrans("ACGT", "TGCA")


@dataclass(frozen=True)
class _Design:
    """What differs between modalities in the example: components, editor, variant, inheritance."""

    components: tuple[tuple[str, str], ...]  # (name, description)
    variable_kind: str
    variable_description: str
    inheritance: str
    zygosity: str
    genotype_class: str
    ref: str
    alt: str
    editor: dict | None = (
        None  # pam, protospacer_length, window, edit_from, edit_to, window_comment
    )
    variant_in_protospacer: int | None = (
        None  # 1-based protospacer position of the variant (editors)
    )


_GUIDE = ("guide_rna", "Patient-specific guide RNA (spacer matching the patient's variant)")
_EDITORS = {
    Modality.adenine_base_editor: _Design(
        components=(
            ("delivery_lnp", "Lipid nanoparticle formulation"),
            ("editor_mrna", "Adenine base editor mRNA (ABE8e-like)"),
        ),
        variable_kind=_GUIDE[0],
        variable_description=_GUIDE[1],
        inheritance="autosomal_recessive",
        zygosity="homozygous",
        genotype_class="biallelic_missense",
        ref="G",
        alt="A",  # the patient's A is reverted to G by the A->G editor
        editor={
            "pam": "NGG",
            "protospacer_length": 20,
            "window": (4, 8),
            "edit_from": "A",
            "edit_to": "G",
            "window_comment": "protospacer positions edited, from the PAM-distal end (1-based, inclusive)",
        },
        variant_in_protospacer=6,
    ),
    Modality.cytosine_base_editor: _Design(
        components=(
            ("delivery_lnp", "Lipid nanoparticle formulation"),
            ("editor_mrna", "Cytosine base editor mRNA (BE4max-like)"),
        ),
        variable_kind=_GUIDE[0],
        variable_description=_GUIDE[1],
        inheritance="autosomal_recessive",
        zygosity="homozygous",
        genotype_class="biallelic_missense",
        ref="T",
        alt="C",  # the patient's C is reverted to T by the C->T editor
        editor={
            "pam": "NGG",
            "protospacer_length": 20,
            "window": (4, 8),
            "edit_from": "C",
            "edit_to": "T",
            "window_comment": "protospacer positions edited, from the PAM-distal end (1-based, inclusive)",
        },
        variant_in_protospacer=6,
    ),
    Modality.nuclease: _Design(
        components=(
            ("delivery_lnp", "Lipid nanoparticle formulation"),
            ("nuclease_mrna", "SpCas9 nuclease mRNA"),
        ),
        variable_kind=_GUIDE[0],
        variable_description="Allele-specific guide RNA matching the patient's dominant allele",
        inheritance="autosomal_dominant",
        zygosity="heterozygous",
        genotype_class="heterozygous_gain_of_function",
        ref="G",
        alt="A",
        editor={
            "pam": "NGG",
            "protospacer_length": 20,
            "window": (16, 18),
            "edit_from": None,
            "edit_to": None,
            "window_comment": "positions around the cut site (between 17 and 18), from the PAM-distal end",
        },
        variant_in_protospacer=17,
    ),
    Modality.prime_editor: _Design(
        components=(
            ("delivery_lnp", "Lipid nanoparticle formulation"),
            ("editor_mrna", "Prime editor mRNA (PE2-like)"),
        ),
        variable_kind=_GUIDE[0],
        variable_description="Patient-specific pegRNA (spacer, primer binding site and RT template)",
        inheritance="autosomal_recessive",
        zygosity="homozygous",
        genotype_class="biallelic_missense",
        ref="G",
        alt="A",
        editor={
            "pam": "NGG",
            "protospacer_length": 20,
            "window": (14, 20),
            "edit_from": None,
            "edit_to": None,
            "window_comment": "protospacer positions the RT template reaches, from the PAM-distal end",
        },
        variant_in_protospacer=17,
    ),
}
_ASOS = {
    Modality.splice_switching_aso: _Design(
        components=(
            ("aso_chemistry", "2'-O-methoxyethyl phosphorothioate backbone, 5-methylcytosines"),
        ),
        variable_kind="aso",
        variable_description="Patient-specific splice-switching ASO sequence",
        inheritance="autosomal_recessive",
        zygosity="homozygous",
        genotype_class="biallelic_splice",
        ref="G",
        alt="A",
    ),
    Modality.gapmer_aso: _Design(
        components=(("aso_chemistry", "5-10-5 MOE gapmer, phosphorothioate backbone"),),
        variable_kind="aso",
        variable_description="Allele-specific gapmer ASO sequence",
        inheritance="autosomal_dominant",
        zygosity="heterozygous",
        genotype_class="heterozygous_gain_of_function",
        ref="G",
        alt="A",
    ),
}
_DESIGNS = {**_EDITORS, **_ASOS}


def _reverse_complement(seq: str) -> str:
    return seq.translate(_COMPLEMENT)[::-1]


def _target(design: _Design) -> tuple[str, str, str]:
    """(reference contig, targeting sequence, comment): a random contig edited so the design fits it."""
    rng = random.Random(20250303)  # a fixed seed: the same skeleton every time
    seq = [rng.choice("ACGT") for _ in range(CONTIG_LENGTH)]
    v = VARIANT_POS - 1
    seq[v] = design.ref
    if design.editor is not None and design.variant_in_protospacer is not None:
        length = design.editor["protospacer_length"]
        start = v - (design.variant_in_protospacer - 1)
        seq[start + length + 1] = seq[start + length + 2] = "G"  # the NGG PAM
        edit_from = design.editor["edit_from"]
        lo, hi = design.editor["window"]
        for pos in range(lo, hi + 1):  # no bystander edits in the window
            if pos != design.variant_in_protospacer and seq[start + pos - 1] == edit_from:
                seq[start + pos - 1] = "T" if edit_from != "T" else "G"
        patient = seq.copy()
        patient[v] = design.alt
        guide = "".join(patient[start : start + length])
        comment = f"guide spacer 5'->3' on the + strand: the patient's {design.alt} at protospacer position {design.variant_in_protospacer}, NGG PAM after it"
        return "".join(seq), guide, comment
    patient = seq.copy()
    patient[v] = design.alt
    aso = _reverse_complement("".join(patient[v - 9 : v + 11]))
    comment = "ASO 5'->3', complementary to the patient's RNA around the variant"
    return "".join(seq), aso, comment


def _yaml_string(text: str) -> str:
    """A double-quoted YAML scalar that reads back as ``text``, whatever it holds."""
    return (
        yaml.safe_dump(text, default_style='"', allow_unicode=True, width=1_000_000)
        .removesuffix("\n...\n")
        .strip()
    )


def _csv(header: list[str], rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _cohort_tables(design: _Design) -> dict[str, str]:
    """Six invented subjects: progression of the biomarker with age, and crises per year of age."""
    rng = random.Random(20241202)
    subjects, longitudinal, events = [], [], []
    for i in range(1, 7):
        sid = f"NH-{i:02d}"
        onset = round(rng.uniform(0.3, 1.2), 2)
        subjects.append([sid, design.genotype_class, onset, "female" if i % 2 else "male"])
        for visit in range(4):
            age = round(onset + 0.5 * visit, 2)
            value = 500 * (1.15**age) * rng.lognormvariate(0, 0.08)
            longitudinal.append([sid, age, "biomarker", round(value, 1)])
        for year in range(2):
            start = round(onset + year, 2)
            events.append([sid, start, round(start + 1, 2), "crises", rng.randint(0, 4)])
    return {
        "natural_history/subjects.csv": _csv(
            ["subject", "genotype_class", "age_at_onset", "sex"], subjects
        ),
        "natural_history/longitudinal.csv": _csv(
            ["subject", "age", "endpoint", "value"], longitudinal
        ),
        "natural_history/events.csv": _csv(
            ["subject", "age_start", "age_end", "endpoint", "count"], events
        ),
    }


def _patient_tables(modality: Modality) -> dict[str, str]:
    d = f"{PATIENTS_DIR}/{PATIENT_ID}"
    assay = "rt_pcr_isoforms" if modality in _ASOS else "amplicon_sequencing"
    return {
        f"{d}/measurements.csv": _csv(
            ["date", "endpoint", "value", "unit"],
            [
                ["2025-02-17", "biomarker", 980, "umol/L"],
                ["2025-03-01", "biomarker", 1010, "umol/L"],
                ["2025-05-05", "biomarker", 640, "umol/L"],
                ["2025-08-04", "biomarker", 450, "umol/L"],
                ["2025-11-03", "biomarker", 390, "umol/L"],
            ],
        ),
        f"{d}/events.csv": _csv(
            ["start", "end", "endpoint", "count"],
            [["2024-03-03", "2025-03-02", "crises", 3], ["2025-03-03", "2025-12-31", "crises", 0]],
        ),
        f"{d}/engagement.csv": _csv(
            [
                "assay",
                "source",
                "edited",
                "total",
                "minimum_fraction",
                "replicate",
                "tissue",
                "description",
            ],
            [
                [
                    assay,
                    "patient_derived_cells",
                    4120,
                    10000,
                    0.2,
                    1,
                    "fibroblasts",
                    "placeholder: corrected of total reads at the target",
                ],
                [
                    assay,
                    "patient_derived_cells",
                    3870,
                    10000,
                    0.2,
                    2,
                    "fibroblasts",
                    "placeholder: second replicate",
                ],
            ],
        ),
        f"{d}/concomitant.csv": _csv(["date", "kind", "description"], []),
        f"{d}/adverse_events.csv": _csv(["onset", "term", "serious", "relatedness", "grade"], []),
    }


def _render(modality: Modality, platform_id: str, name: str) -> dict[str, str]:
    """Relative path -> text of every file in the skeleton."""
    design = _DESIGNS[modality]
    contig, targeting, targeting_comment = _target(design)
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pmpath.dossier", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # YAML and Markdown, not HTML
    )
    env.filters["yaml_str"] = _yaml_string
    components = [
        {"name": n, "description": desc, "version": "1.0"} for n, desc in design.components
    ]
    values = {
        "platform_id": platform_id,
        "name": name,
        "modality": modality.value,
        "data_cutoff": DATA_CUTOFF.isoformat(),
        "plan_fixed_on": PLAN_FIXED_ON.isoformat(),
        "first_dose": FIRST_DOSE.isoformat(),
        "invariant_components": components,
        "variable_kind": design.variable_kind,
        "variable_description": design.variable_description,
        "editor": design.editor,
        "disease_id": DISEASE_ID,
        "cohort_id": COHORT_ID,
        "gene": GENE,
        "inheritance": design.inheritance,
        "genotype_class": design.genotype_class,
        "patient_id": PATIENT_ID,
        "variant": {
            "chrom": CONTIG,
            "pos": VARIANT_POS,
            "ref": design.ref,
            "alt": design.alt,
            "zygosity": design.zygosity,
        },
        "targeting_sequence": targeting,
        "targeting_comment": targeting_comment,
        "contig": CONTIG,
        "variant_pos": VARIANT_POS,
    }
    fasta = f">{CONTIG} synthetic placeholder sequence written by pmpath init\n" + "".join(
        contig[i : i + 60] + "\n" for i in range(0, len(contig), 60)
    )
    files = {
        "README.md": env.get_template("README.md.j2").render(values),
        PLATFORM_FILE: env.get_template("platform.yaml.j2").render(values),
        REFERENCE_FASTA: fasta,
        "reference/README.md": env.get_template("reference_README.md.j2").render(values),
        COHORT_FILE: env.get_template("cohort.yaml.j2").render(values),
        f"{PATIENTS_DIR}/{PATIENT_ID}/case.yaml": env.get_template("case.yaml.j2").render(values),
    }
    files.update(_cohort_tables(design))
    files.update(_patient_tables(modality))
    return files


def init_dossier(path: Path, *, platform_id: str, name: str, modality: str) -> list[Path]:
    """Write a new skeleton dossier at ``path`` and return the files written, sorted.

    Parameters
    ----------
    path : Path
        The new dossier directory: it must not exist, or be empty.
    platform_id : str
        The platform's identifier (letters, digits, '.', '_', '-'; at most 64 characters).
    name : str
        The platform's name.
    modality : str
        A :class:`pmpath.dossier.model.Modality` value, e.g. ``adenine_base_editor``.

    Returns
    -------
    list of Path
        Every file written, under ``path``.

    Raises
    ------
    DossierError
        ``path`` is a file or a non-empty directory (it is left untouched), or an argument is invalid.

    Examples
    --------
    >>> import tempfile
    >>> from pmpath.dossier import load_dossier
    >>> root = Path(tempfile.mkdtemp()) / "my-dossier"
    >>> files = init_dossier(root, platform_id="MY-PLATFORM", name="My platform", modality="adenine_base_editor")
    >>> load_dossier(root).platform.synthetic
    True
    """
    path = Path(path)
    findings: list[Finding] = []
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        findings.append(
            Finding(
                str(path),
                None,
                "",
                "an existing file" if not path.is_symlink() else "a symbolic link",
                "a new or empty directory for the dossier",
            )
        )
    elif path.is_dir():
        entries = sorted(p.name for p in path.iterdir())
        if entries:
            shown = ", ".join(entries[:5]) + (
                f" and {len(entries) - 5} more" if len(entries) > 5 else ""
            )
            findings.append(
                Finding(
                    str(path),
                    None,
                    "",
                    f"a non-empty directory ({shown}); nothing was written",
                    "a new or empty directory",
                )
            )
    if not _IDENTIFIER.match(platform_id) or len(platform_id) > 64:
        findings.append(
            Finding(
                PLATFORM_FILE,
                None,
                "id",
                repr(platform_id)
                if len(platform_id) <= 80
                else f"{platform_id[:40]!r}... ({len(platform_id)} characters)",
                "letters, digits, '.', '_' or '-' (starting with a letter or digit, at most 64 characters)",
            )
        )
    if not name.strip():
        findings.append(
            Finding(PLATFORM_FILE, None, "name", "an empty name", "the platform's name")
        )
    try:
        chosen = Modality(modality)
    except ValueError:
        chosen = None
        findings.append(
            Finding(
                PLATFORM_FILE,
                None,
                "modality",
                repr(modality),
                f"one of {', '.join(m.value for m in Modality)}",
            )
        )
    if findings:
        raise DossierError(findings)
    files = _render(chosen, platform_id, name)
    with atomic.directory(path) as tmp:
        for rel, text in files.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    return sorted(path / rel for rel in files)
