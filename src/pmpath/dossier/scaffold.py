"""`pmpath init`: a new dossier skeleton, valid as written, that a sponsor fills in.

The skeleton is complete but tiny: platform.yaml, one natural-history cohort of a few subjects,
a short reference FASTA, and one patient, every file commented and every value invented and
marked ``synthetic: true`` so that nobody mistakes it for evidence. The guide (or ASO) in the
example case matches the example reference, so the skeleton shows a coherent mechanism.

:func:`skeleton_spec` builds the skeleton as models and frames, with the comments the YAML files
carry placed by key path; :func:`pmpath.dossier.write.write_dossier` writes it, as it writes
every dossier pmpath makes.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pandas as pd

from pmpath.dossier.load import CASE_FILE, COHORT_FILE, PLATFORM_FILE
from pmpath.dossier.model import (
    AnalysisPlan,
    Case,
    Cohort,
    ComponentUse,
    Diagnosis,
    Disease,
    Dose,
    EditorSpec,
    EffectSize,
    Endpoint,
    EndpointPlan,
    EngagementPlan,
    Era,
    EventData,
    ImprovementPlan,
    InvariantComponent,
    LongitudinalData,
    Modality,
    NaturalHistoryEndpointPlan,
    NaturalHistoryPlan,
    NormalPrior,
    Outcome,
    Phenotype,
    Platform,
    Provenance,
    SubjectsTable,
    Therapy,
    VariableComponent,
    Variant,
    VisitSchedule,
)
from pmpath.dossier.write import (
    CohortSpec,
    DossierSpec,
    FastaRecord,
    PatientSpec,
    YamlNotes,
    write_dossier,
)
from pmpath.errors import DossierError, Finding
from pmpath.mechanism.sequence import reverse_complement

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
    aso = reverse_complement("".join(patient[v - 9 : v + 11]))
    comment = "ASO 5'->3', complementary to the patient's RNA around the variant"
    return "".join(seq), aso, comment


# --------------------------------------------------------------------------- platform.yaml


def _platform(modality: Modality, design: _Design, platform_id: str, name: str) -> Platform:
    editor = None
    if design.editor is not None:
        e = design.editor
        editor = EditorSpec(
            pam=e["pam"],
            protospacer_length=e["protospacer_length"],
            editing_window=e["window"],
            edit_from=e["edit_from"],
            edit_to=e["edit_to"],
        )
    return Platform(
        id=platform_id,
        name=name,
        synthetic=True,
        modality=modality,
        genome_build="GRCh38",
        reference_fasta=REFERENCE_FASTA,
        data_cutoff=DATA_CUTOFF,
        required_consecutive=3,
        invariant_components=[
            InvariantComponent(name=n, description=desc, version="1.0")
            for n, desc in design.components
        ],
        variable_component=VariableComponent(
            kind=design.variable_kind, description=design.variable_description
        ),
        **({"editor": editor} if editor is not None else {}),
        diseases=[
            Disease(
                id=DISEASE_ID,
                name="Example disease (placeholder)",
                gene=GENE,
                inheritance=design.inheritance,
                mondo=None,
                omim=None,
                fatal_in_childhood=False,
                cohort=COHORT_ID,
            )
        ],
        endpoints=[
            Endpoint(
                id="biomarker",
                name="Plasma biomarker (placeholder)",
                kind="continuous",
                unit="umol/L",
                direction="lower_is_better",
                role="primary",
                scale="log",
                category="biomarker_established",
                citation="placeholder: the publication or guidance that establishes this biomarker",
            ),
            Endpoint(
                id="crises",
                name="Metabolic crises (placeholder)",
                kind="count",
                unit="{crises}",
                direction="lower_is_better",
                role="supportive",
                category="clinical_outcome",
            ),
        ],
        analysis_plan=AnalysisPlan(
            fixed_on=PLAN_FIXED_ON,
            natural_history=NaturalHistoryPlan(
                min_subjects=20,
                min_person_years=40.0,
                max_slope_relative_se=0.5,
                min_events=20,
                endpoints={
                    "biomarker": NaturalHistoryEndpointPlan(
                        age_shape="linear", spline_df=None, covariates=[]
                    )
                },
            ),
            engagement=EngagementPlan(confidence=0.95),
            improvement=ImprovementPlan(
                alpha_one_sided=0.025,
                prediction_level=0.95,
                min_post_dose_visits=2,
                max_gap_probability=0.05,
                decision="frequentist",
                posterior_threshold=0.975,
                prior=NormalPrior(mean=0.0, sd=None),
                endpoints={
                    "biomarker": EndpointPlan(
                        mcid=EffectSize(value=0.0, unit="umol/L"),
                        onset_days=0,
                        plausible_effect=EffectSize(value=30.0, unit="%"),
                        summary_measure="mean_deviation",
                        intercurrent={
                            "concomitant_change": "hypothetical",
                            "transplant": "composite",
                            "death": "composite",
                            "withdrawal": "while_on_treatment",
                            "lost_to_follow_up": "while_on_treatment",
                        },
                    ),
                },
            ),
        ),
    )


def _one_of(values: list[str]) -> str:
    return ", ".join(values[:-1]) + f" or {values[-1]}"


_EP = ("analysis_plan", "improvement", "endpoints", "biomarker")
_NH = ("analysis_plan", "natural_history", "endpoints", "biomarker")


def _platform_notes(design: _Design) -> YamlNotes:
    components = len(design.components)
    inline: dict[tuple, str] = {
        ("id",): "short identifier: letters, digits, '.', '_' or '-', at most 64 characters",
        (
            "synthetic",
        ): "true marks invented data; set it to false only once every file holds real data",
        ("modality",): _one_of([m.value for m in Modality]),
        (
            "genome_build",
        ): "GRCh37, GRCh38 or T2T-CHM13: every position in the dossier is on this build",
        (
            "reference_fasta",
        ): "FASTA around the targets, relative to this file (see reference/README.md)",
        ("data_cutoff",): "last day of data: no date anywhere in the dossier may be later",
        (
            "required_consecutive",
        ): "consecutive patients meeting all five criteria before the platform counts as established",
        ("variable_component", "kind"): "guide_rna or aso",
        ("diseases", 0, "gene"): "HGNC symbol of the causal gene",
        (
            "diseases",
            0,
            "inheritance",
        ): "autosomal_recessive, autosomal_dominant, x_linked, x_linked_recessive or x_linked_dominant",
        ("diseases", 0, "mondo"): "e.g. MONDO:0009861",
        ("diseases", 0, "omim"): "e.g. OMIM:261600",
        ("diseases", 0, "cohort"): "id of a cohort in natural_history/cohort.yaml",
        (
            "endpoints",
            0,
            "kind",
        ): "continuous (progressive disease), count (events over time) or time_to_event",
        (
            "endpoints",
            0,
            "unit",
        ): "a UCUM code pmpath knows; files may use any convertible unit and declare it",
        ("endpoints", 0, "direction"): "or higher_is_better",
        (
            "endpoints",
            0,
            "category",
        ): "clinical_outcome, biomarker_established (with a citation), biomarker_exploratory or clinician_set",
        ("endpoints", 0, "citation"): "required for biomarker_established",
        (
            "endpoints",
            0,
            "scale",
        ): "identity or log: the scale the natural-history model is fitted on",
        (
            "analysis_plan",
            "natural_history",
            "min_subjects",
        ): "fewest cohort subjects for the natural history to count as characterized",
        (
            "analysis_plan",
            "natural_history",
            "min_person_years",
        ): "fewest person-years of follow-up",
        (
            "analysis_plan",
            "natural_history",
            "max_slope_relative_se",
        ): "largest acceptable SE/|slope| of the progression estimate",
        (
            "analysis_plan",
            "natural_history",
            "min_events",
        ): "fewest events for a rate (count endpoint) model",
        (
            "analysis_plan",
            "natural_history",
            "endpoints",
        ): "per continuous endpoint id: how its growth curve is fitted; endpoints not listed take the defaults shown",
        (
            *_NH,
            "age_shape",
        ): "linear (a straight line in age) or spline (a natural cubic spline in age, R's ns)",
        (
            *_NH,
            "spline_df",
        ): "spline only: its degrees of freedom; null chooses among 1-4 by AIC (shown in the verdict)",
        (
            *_NH,
            "covariates",
        ): "subjects-table columns entered as fixed effects: genotype_class, sex, age_at_onset",
        (
            "analysis_plan",
            "engagement",
            "confidence",
        ): "confidence level of the target-engagement bounds",
        (
            "analysis_plan",
            "improvement",
            "prediction_level",
        ): "width of the natural-history prediction band",
        (
            "analysis_plan",
            "improvement",
            "max_gap_probability",
        ): "count endpoints: largest acceptable chance of the event-free gap without treatment",
        (
            "analysis_plan",
            "improvement",
            "decision",
        ): "frequentist (lower confidence bound above the mcid) or bayesian (posterior probability)",
        (
            "analysis_plan",
            "improvement",
            "posterior_threshold",
        ): "bayesian: smallest posterior probability that the effect exceeds the mcid",
        (
            "analysis_plan",
            "improvement",
            "prior",
        ): "bayesian: normal prior on the effect; sd null is flat",
        (
            "analysis_plan",
            "improvement",
            "endpoints",
        ): "per endpoint id; endpoints not listed take the defaults",
        (
            *_EP,
            "mcid",
        ): "minimal clinically important difference: the endpoint's unit, or % / ratio (count, log scale)",
        (
            *_EP,
            "onset_days",
        ): "visits in the first onset_days days after the first dose do not count",
        (*_EP, "plausible_effect"): "the effect expected, for `pmpath simulate` and the report",
        (
            *_EP,
            "summary_measure",
        ): "mean_deviation or slope_change; rate_ratio or event_free_time (counts)",
        (*_EP, "intercurrent"): "ICH E9(R1) strategy per intercurrent event (the defaults shown)",
    }
    above: dict[tuple, str] = {
        (
            "invariant_components",
        ): "\nWhat every patient's product shares. Each case.yaml lists the versions its product used, and a\nchange of version between patients is flagged.",
        ("variable_component",): "\nWhat changes from patient to patient.",
        (
            "diseases",
        ): "\nThe diseases the platform treats; each names the natural-history cohort patients are compared with.",
        (
            "endpoints",
        ): "\nThe endpoints, with the UCUM unit every value is converted to. One or more have role: primary\n(several are combined by Holm's procedure); supportive endpoints are described, not decided on.",
        (
            "analysis_plan",
        ): "\nThe analysis plan: thresholds fixed before the first patient is dosed. Values shown are the\ndefaults; a plan changed after the first dose is flagged in the report.",
        (
            *_EP,
            "summary_measure",
        ): "justification: why an exploratory or clinician-set primary endpoint may decide (shown with the verdict)",
    }
    below: dict[tuple, str] = {
        (
            "invariant_components",
            i,
            "version",
        ): "sha256: 64 lowercase hex characters of the component's specification document (optional)"
        for i in range(components)
    }
    if design.editor is not None:
        above[("editor",)] = (
            "\nHow the editor acts on DNA: the mechanism criterion checks that the guide's protospacer, PAM and\n"
            "editing window reach the patient's variant in the reference sequence."
        )
        inline[("editor", "pam")] = "PAM in IUPAC letters, 3' of the protospacer"
        inline[("editor", "editing_window")] = design.editor["window_comment"]
        inline[("editor", "edit_from")] = (
            "base converted, read on the protospacer strand (null when not a base editor)"
        )
    else:
        below[("variable_component",)] = (
            "\neditor: only for base editors, nucleases and prime editors (PAM, protospacer length, editing window)."
        )
    return YamlNotes(
        header=(
            "platform.yaml: the platform, that is what every patient's product shares, the diseases it treats,\n"
            "the endpoints patients are judged on, and the analysis plan fixed before the first dose.\n"
            "\n"
            "PLACEHOLDER written by `pmpath init`: every value below is invented (synthetic: true).\n"
            "Replace them with your platform's, then run `pmpath validate <this directory>`.\n"
            "Every field is described in the JSON Schema that `pmpath schema` prints."
        ),
        above=above,
        inline=inline,
        below=below,
    )


# --------------------------------------------------------------------------- natural history


def _cohort(design: _Design) -> CohortSpec:
    """Six invented subjects: progression of the biomarker with age, and crises per year of age."""
    rng = random.Random(20241202)
    subjects, longitudinal, events = [], [], []
    for i in range(1, 7):
        sid = f"NH-{i:02d}"
        onset = round(rng.uniform(0.3, 1.2), 2)
        subjects.append((sid, design.genotype_class, onset, "female" if i % 2 else "male"))
        for visit in range(4):
            age = round(onset + 0.5 * visit, 2)
            value = 500 * (1.15**age) * rng.lognormvariate(0, 0.08)
            longitudinal.append((sid, age, "biomarker", round(value, 1)))
        for year in range(2):
            start = round(onset + year, 2)
            events.append((sid, start, round(start + 1, 2), "crises", rng.randint(0, 4)))
    cohort = Cohort(
        id=COHORT_ID,
        disease=DISEASE_ID,
        provenance=Provenance(
            source="pmpath init placeholder",
            citation=None,
            collection="synthetic",
            description="Invented values showing the file layout; not evidence.",
        ),
        subjects=SubjectsTable(
            path="subjects.csv",
            columns={c: c for c in ("subject", "genotype_class", "age_at_onset", "sex")},
        ),
        data=[
            LongitudinalData(
                kind="longitudinal", path="longitudinal.csv", units={"biomarker": "umol/L"}
            ),
            EventData(kind="events", path="events.csv", units={"crises": "{crises}"}),
        ],
        era=Era(first_year=2015, last_year=2023),
        countries=["US"],
        centres=["Example Children's Hospital (placeholder)"],
        assays={"biomarker": "plasma biomarker, LC-MS/MS, hospital laboratory (placeholder)"},
        visit_schedule=VisitSchedule(
            kind="mixed", description="registry visits every 6 months plus admissions (placeholder)"
        ),
    )
    return CohortSpec(
        cohort,
        pd.DataFrame(subjects, columns=["subject", "genotype_class", "age_at_onset", "sex"]),
        [
            pd.DataFrame(longitudinal, columns=["subject", "age", "endpoint", "value"]),
            pd.DataFrame(events, columns=["subject", "age_start", "age_end", "endpoint", "count"]),
        ],
    )


_COHORT_NOTES = YamlNotes(
    header=(
        "natural_history/cohort.yaml: the untreated cohorts patients are compared with.\n"
        "\n"
        "PLACEHOLDER written by `pmpath init`: the subjects and values in this directory are invented\n"
        "(collection: synthetic). Replace them with registry, chart-review or published data.\n"
        "Paths are relative to this directory."
    ),
    inline={
        ("cohorts", 0, "disease"): "a disease id from platform.yaml",
        ("cohorts", 0, "provenance", "source"): "registry, study or publication the data come from",
        ("cohorts", 0, "provenance", "citation"): "e.g. a DOI or PMID",
        (
            "cohorts",
            0,
            "provenance",
            "collection",
        ): "prospective_registry, retrospective_chart_review, published_aggregate, trial_control_arm or synthetic",
        ("cohorts", 0, "subjects", "columns"): "pmpath's column names -> the file's",
        ("cohorts", 0, "data", 0, "units"): "unit of each endpoint's values in this file",
        (
            "cohorts",
            0,
            "era",
        ): "first and last calendar year of the data: a first dose over 10 years away is flagged",
        (
            "cohorts",
            0,
            "countries",
        ): "ISO 3166-1 alpha-2 codes or names, as the cases' diagnosis.country is written",
        ("cohorts", 0, "centres"): "sites the subjects were followed at (reported)",
        (
            "cohorts",
            0,
            "assays",
        ): "endpoint id -> assay or laboratory; a different one in a case.yaml is flagged",
        (
            "cohorts",
            0,
            "visit_schedule",
            "kind",
        ): "protocol_scheduled, clinical_care or mixed (care-driven visits can over-represent worse periods)",
    },
    above={
        (
            "cohorts",
            0,
            "subjects",
        ): "One row per subject: subject, genotype_class, age_at_onset (years), sex.",
        ("cohorts", 0, "data", 0): "Long format, one row per subject x age (years) x endpoint.",
        ("cohorts", 0, "data", 1): "Event counts over observed windows of age (years).",
        ("cohorts", 0, "era"): (
            "What a reviewer asks about an external control, compared with each treated patient by\n"
            "criterion 3 (all optional; a field left out is reported as not stated)."
        ),
    },
    below={
        ("cohorts", 0, "data"): (
            "Time to event (one row per subject x endpoint, age at event or censoring):\n"
            "- kind: time_to_event\n"
            "  path: survival.csv"
        ),
    },
)


# --------------------------------------------------------------------------- the patient


def _case(design: _Design, targeting: str) -> Case:
    return Case(
        id=PATIENT_ID,
        synthetic=True,
        diagnosis=Diagnosis(
            disease=DISEASE_ID,
            basis="molecular",
            sex="female",
            age_at_first_dose_years=1.5,
            genotype_class=design.genotype_class,
            country=None,
        ),
        phenotypes=[
            Phenotype(id="HP:0001263", label="Global developmental delay", onset_age_years=0.75),
            Phenotype(id="HP:0001250", label="Seizure", excluded=True),
        ],
        variants=[
            Variant(
                gene=GENE,
                chrom=CONTIG,
                pos=VARIANT_POS,
                ref=design.ref,
                alt=design.alt,
                zygosity=design.zygosity,
                acmg_class="pathogenic",
                acmg_criteria=["PS3", "PM2_Supporting", "PP3"],
                allele=None,
                phase_evidence="none",
            )
        ],
        therapy=Therapy(
            product_id=f"{PATIENT_ID}-P1",
            batch="LOT-0001",
            components=[ComponentUse(name=n, version="1.0") for n, _ in design.components],
            targeting_sequence=targeting,
            target_variant=0,
        ),
        dosing=[Dose(date=FIRST_DOSE, dose=1.0, unit="mg/kg")],
        outcome=Outcome(status="ongoing"),
        assays={"biomarker": "plasma biomarker, LC-MS/MS, hospital laboratory (placeholder)"},
    )


def _case_notes(targeting_comment: str) -> YamlNotes:
    v = ("variants", 0)
    return YamlNotes(
        header=(
            f"patients/{PATIENT_ID}/case.yaml: one patient's case. Add a folder per patient.\n"
            "\n"
            "PLACEHOLDER written by `pmpath init`: this patient is invented (synthetic: true).\n"
            "Paths are relative to this directory. Dates are ISO (YYYY-MM-DD); in the CSVs a `study_day`\n"
            "column (day 1 = first dose, no day 0) may replace `date`."
        ),
        inline={
            ("diagnosis", "disease"): "a disease id from platform.yaml",
            (
                "diagnosis",
                "basis",
            ): "molecular (confirmed by the variants below) or clinical (by symptoms only)",
            ("diagnosis", "sex"): "female or male",
            (
                "diagnosis",
                "genotype_class",
            ): "matches the cohort subjects' genotype_class, to compare like with like",
            (
                "diagnosis",
                "country",
            ): "where the patient is treated, e.g. US: an ISO 3166-1 alpha-2 code or a name, written as the cohort's countries",
            ("phenotypes",): "HPO terms; excluded: true records a feature looked for and absent",
            (
                "variants",
            ): "the patient's variants on the platform's build; or list them in a VCF (below)",
            (*v, "pos"): "1-based, VCF convention",
            (*v, "zygosity"): "heterozygous, homozygous or hemizygous",
            (
                *v,
                "acmg_class",
            ): "pathogenic, likely_pathogenic, uncertain_significance, likely_benign or benign",
            (*v, "acmg_criteria"): "the ACMG/AMP criteria met",
            (*v, "allele"): "phase group 1 or 2: variants with different numbers are in trans",
            (*v, "phase_evidence"): "parental_testing, long_read, read_backed or none",
            (
                "therapy",
                "components",
            ): "the platform's invariant components, with the versions this product used",
            ("therapy", "targeting_sequence"): targeting_comment,
            ("therapy", "target_variant"): "index in `variants` of the variant the therapy acts on",
            ("engagement",): "target-engagement assays: edited of total reads or molecules",
            ("measurements",): "endpoint values: date (or study_day), endpoint, value, unit",
            ("events",): "event counts over periods: start, end (or *_study_day), endpoint, count",
            (
                "concomitant",
            ): "dated changes that could also explain improvement (diet, medication, ...); acts_on: endpoint ids (;)",
            ("adverse_events",): "onset (or onset_study_day), term, serious, relatedness, grade",
            (
                "outcome",
                "status",
            ): "ongoing, completed, died, withdrew or lost_to_follow_up (the last three need a date)",
            (
                "assays",
            ): "endpoint id -> assay or laboratory, in the cohort's words (a different one is flagged)",
        },
        above={
            (*v, "zygosity"): 'hgvs_c: "NM_...:c.123G>A"\nhgvs_p: "NP_...:p.(Gly41Arg)"',
        },
        below={
            (
                "variants",
            ): "variants_vcf: variants.vcf  (INFO GENE, ACMG, ACMG_CRITERIA; FORMAT GT, phased as 0|1 when known)",
            (
                *v,
                "phase_evidence",
            ): 'functional_evidence: "assay showing loss of function (for a VUS)"',
            (
                "therapy",
                "target_variant",
            ): "acts_on: {chrom: ..., start: ..., end: ..., description: ...}  (for an ASO acting on another site)",
        },
    )


def _patient_tables(modality: Modality) -> dict[str, pd.DataFrame]:
    assay = "rt_pcr_isoforms" if modality in _ASOS else "amplicon_sequencing"
    return {
        "engagement": pd.DataFrame(
            {
                "assay": [assay, assay],
                "source": ["patient_derived_cells"] * 2,
                "replicate": [1, 2],
                "tissue": ["fibroblasts"] * 2,
                "edited": [4120, 3870],
                "total": [10000, 10000],
                "minimum_fraction": [0.2, 0.2],
                "description": [
                    "placeholder: corrected of total reads at the target",
                    "placeholder: second replicate",
                ],
            }
        ),
        "measurements": pd.DataFrame(
            {
                "date": [
                    dt.date(2025, 2, 17),
                    dt.date(2025, 3, 1),
                    dt.date(2025, 5, 5),
                    dt.date(2025, 8, 4),
                    dt.date(2025, 11, 3),
                ],
                "endpoint": ["biomarker"] * 5,
                "value": [980, 1010, 640, 450, 390],
                "unit": ["umol/L"] * 5,
            }
        ),
        "events": pd.DataFrame(
            {
                "start": [dt.date(2024, 3, 3), dt.date(2025, 3, 3)],
                "end": [dt.date(2025, 3, 2), dt.date(2025, 12, 31)],
                "endpoint": ["crises", "crises"],
                "count": [3, 0],
            }
        ),
        "concomitant": pd.DataFrame(columns=["date", "kind", "description", "acts_on"]),
        "adverse_events": pd.DataFrame(
            columns=["onset", "term", "serious", "relatedness", "grade"]
        ),
    }


def _readmes(values: dict[str, object]) -> dict[str, str]:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pmpath.dossier", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # Markdown, not HTML
    )
    return {
        "README.md": env.get_template("README.md.j2").render(values),
        "reference/README.md": env.get_template("reference_README.md.j2").render(values),
    }


def skeleton_spec(modality: Modality, platform_id: str, name: str) -> DossierSpec:
    """The skeleton ``pmpath init`` writes, as a :class:`~pmpath.dossier.write.DossierSpec`."""
    design = _DESIGNS[modality]
    contig, targeting, targeting_comment = _target(design)
    platform = _platform(modality, design, platform_id, name)
    patient = PatientSpec(_case(design, targeting), _patient_tables(modality))
    return DossierSpec(
        platform=platform,
        reference=[
            FastaRecord(CONTIG, contig, "synthetic placeholder sequence written by pmpath init")
        ],
        cohorts=[_cohort(design)],
        patients=[patient],
        documents=_readmes(
            {
                "platform_id": platform_id,
                "name": name,
                "contig": CONTIG,
                "variant_pos": VARIANT_POS,
            }
        ),
        notes={
            PLATFORM_FILE: _platform_notes(design),
            COHORT_FILE: _COHORT_NOTES,
            f"{patient.folder}/{CASE_FILE}": _case_notes(targeting_comment),
        },
    )


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
    return write_dossier(skeleton_spec(chosen, platform_id, name), path)
