"""GA4GH Phenopacket v2 export and import: round trips, vocabulary, unsupported content, JSON errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st
from phenopackets.schema.v2 import Phenopacket

from pmpath.dossier import load_dossier
from pmpath.dossier.model import (
    AnalysisPlan,
    Case,
    ComponentUse,
    Diagnosis,
    Disease,
    Dose,
    Endpoint,
    InvariantComponent,
    Outcome,
    Phenotype,
    Platform,
    Therapy,
    VariableComponent,
    Variant,
)
from pmpath.dossier.phenopacket import (
    age_to_iso8601,
    case_to_phenopacket,
    iso8601_to_age,
    patient_phenopacket,
    phenopacket_json,
    phenopacket_to_case_parts,
    read_phenopacket,
    write_phenopacket,
)
from pmpath.dossier.scaffold import init_dossier
from pmpath.errors import DossierError, Severity

HALF_DAY_YEARS = 0.5 / 365.25 + 1e-12

PKU = Disease(
    id="pku",
    name="Phenylketonuria",
    gene="PAH",
    inheritance="autosomal_recessive",
    mondo="MONDO:0009861",
    cohort="pku-nh",
)
VARIANTS = [
    Variant(
        gene="PAH",
        chrom="chr12",
        pos=102_840_492,
        ref="G",
        alt="A",
        hgvs_c="NM_000277.3:c.1222C>T",
        hgvs_p="NP_000268.1:p.(Arg408Trp)",
        zygosity="heterozygous",
        acmg_class="pathogenic",
        acmg_criteria=["PS3", "PM2_Supporting", "PP5"],
        allele=1,
        phase_evidence="parental_testing",
    ),
    Variant(
        gene="PAH",
        chrom="chr12",
        pos=102_866_632,
        ref="C",
        alt="T",
        zygosity="heterozygous",
        acmg_class="uncertain_significance",
        allele=2,
        phase_evidence="parental_testing",
        functional_evidence="PAH activity 4% of wild type; COS-7 expression, n=3",
    ),
]


def make_case(**diagnosis) -> Case:
    return Case(
        id="PKU-01",
        diagnosis=Diagnosis(
            **(
                {
                    "disease": "pku",
                    "basis": "molecular",
                    "sex": "female",
                    "age_at_first_dose_years": 0.75,
                }
                | diagnosis
            )
        ),
        phenotypes=[
            Phenotype(id="HP:0004923", label="Hyperphenylalaninemia", onset_age_years=0.02),
            Phenotype(id="HP:0001250", label="Seizure", excluded=True),
        ],
        variants=VARIANTS,
        therapy=Therapy(
            product_id="PKU-ABE-01",
            batch="B1",
            components=[ComponentUse(name="lnp", version="1")],
            targeting_sequence="ACGTACGTACGTACGTACGT",
        ),
        dosing=[
            Dose(date=dt.date(2025, 3, 1), dose=1.0, unit="mg/kg"),
            Dose(date=dt.date(2025, 4, 1), dose=1.0, unit="mg/kg"),
        ],
    )


def round_trip(pp: Phenopacket) -> Phenopacket:
    return json_format.Parse(phenopacket_json(pp), Phenopacket())


# --------------------------------------------------------------------------- known answers


@pytest.mark.parametrize(
    ("years", "text"),
    [
        (0.0, "P0D"),
        (0.5, "P6M"),
        (1.5, "P1Y6M"),
        (3 + 1 / 12, "P3Y1M"),
        (10 / 365.25, "P10D"),
        # 2.3 y = 2 y + 3.6 months = 2 y 3 months + 0.05 * 365.25 = 18.26 days
        (2.3, "P2Y3M18D"),
    ],
)
def test_age_as_iso8601_duration(years: float, text: str) -> None:
    assert age_to_iso8601(years) == text


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("P1Y6M", 1.5),
        ("P2W", 14 / 365.25),
        ("P3Y", 3.0),
        ("P0.5Y", 0.5),
        ("P1Y2M3W4D", 1 + 2 / 12 + 25 / 365.25),
    ],
)
def test_iso8601_duration_as_age(text: str, years: float) -> None:
    assert iso8601_to_age(text) == pytest.approx(years, abs=1e-12)


@given(st.floats(min_value=0, max_value=130, allow_nan=False))
def test_age_comes_back_within_half_a_day_and_is_stable(years: float) -> None:
    text = age_to_iso8601(years)
    back = iso8601_to_age(text)
    assert abs(back - years) <= HALF_DAY_YEARS
    assert age_to_iso8601(back) == text


def test_export_uses_the_standard_vocabularies() -> None:
    pp = case_to_phenopacket(make_case(), VARIANTS, PKU, "GRCh38")
    data = json.loads(phenopacket_json(pp))
    assert data["subject"] == {"id": "PKU-01", "sex": "FEMALE"}
    assert data["diseases"] == [{"term": {"id": "MONDO:0009861", "label": "Phenylketonuria"}}]
    interpretation = data["interpretations"][0]
    assert interpretation["progressStatus"] == "SOLVED"
    first, second = (
        g["variantInterpretation"] for g in interpretation["diagnosis"]["genomicInterpretations"]
    )
    descriptor = first["variationDescriptor"]
    assert first["acmgPathogenicityClassification"] == "PATHOGENIC"
    assert second["acmgPathogenicityClassification"] == "UNCERTAIN_SIGNIFICANCE"
    assert first["therapeuticActionability"] == "ACTIONABLE"  # therapy.target_variant == 0
    assert descriptor["allelicState"] == {
        "id": "GENO:0000135",
        "label": "heterozygous",
    }  # GENO term for heterozygous
    assert descriptor["geneContext"] == {"symbol": "PAH", "valueId": "hgnc.symbol:PAH"}
    assert descriptor["vcfRecord"] == {
        "genomeAssembly": "GRCh38",
        "chrom": "chr12",
        "pos": "102840492",
        "ref": "G",
        "alt": "A",
    }
    assert {"syntax": "hgvs.c", "value": "NM_000277.3:c.1222C>T"} in descriptor["expressions"]
    assert {"name": "pmpath:acmg_criteria", "value": "PS3,PM2_Supporting,PP5"} in descriptor[
        "extensions"
    ]
    assert data["phenotypicFeatures"][1] == {
        "type": {"id": "HP:0001250", "label": "Seizure"},
        "excluded": True,
    }
    regimen = data["medicalActions"][0]["therapeuticRegimen"]
    assert regimen["startTime"] == {"age": {"iso8601duration": "P9M"}}
    assert regimen["externalReference"]["id"] == "pmpath:PKU-ABE-01"
    meta = data["metaData"]
    assert meta["phenopacketSchemaVersion"] == "2.0"
    assert meta["created"] == "2025-04-01T00:00:00Z"  # the case's last dose, not the clock
    assert [r["id"] for r in meta["resources"]] == ["hp", "geno", "mondo", "hgnc.symbol"]


@pytest.mark.parametrize(
    ("zygosity", "term"),
    [
        ("heterozygous", "GENO:0000135"),
        ("homozygous", "GENO:0000136"),
        ("hemizygous", "GENO:0000134"),
    ],
)
def test_allelic_state_terms(zygosity: str, term: str) -> None:
    variant = VARIANTS[1].model_copy(update={"zygosity": zygosity, "allele": None})
    pp = case_to_phenopacket(make_case(), [variant], PKU, "GRCh38")
    gi = pp.interpretations[0].diagnosis.genomic_interpretations[0]
    assert gi.variant_interpretation.variation_descriptor.allelic_state.id == term


def test_disease_term_falls_back_to_omim_then_the_name() -> None:
    omim = PKU.model_copy(update={"mondo": None, "omim": "261600"})
    pp = case_to_phenopacket(make_case(), [], omim, "GRCh38")
    assert (pp.diseases[0].term.id, pp.diseases[0].term.label) == ("OMIM:261600", "Phenylketonuria")
    assert "omim" in [r.id for r in pp.meta_data.resources]
    bare = PKU.model_copy(update={"mondo": None})
    pp = case_to_phenopacket(make_case(), [], bare, "GRCh38")
    assert (pp.diseases[0].term.id, pp.diseases[0].term.label) == (
        "pmpath.disease:pku",
        "Phenylketonuria",
    )


def test_created_is_settable_and_output_is_deterministic(tmp_path: Path) -> None:
    case = make_case()
    pp = case_to_phenopacket(
        case,
        VARIANTS,
        PKU,
        "GRCh38",
        created=dt.datetime(2025, 6, 1, 12, 30, tzinfo=dt.UTC),
        created_by="sponsor",
    )
    assert json.loads(phenopacket_json(pp))["metaData"]["created"] == "2025-06-01T12:30:00Z"
    assert pp.meta_data.created_by == "sponsor"
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    write_phenopacket(case_to_phenopacket(case, VARIANTS, PKU, "GRCh38"), a)
    write_phenopacket(case_to_phenopacket(case, VARIANTS, PKU, "GRCh38"), b)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_text().endswith("}\n")


# --------------------------------------------------------------------------- round trips


def test_round_trip_through_a_json_file(tmp_path: Path) -> None:
    case = make_case()
    path = tmp_path / "pp.json"
    write_phenopacket(case_to_phenopacket(case, VARIANTS, PKU, "GRCh38"), path)
    fields, phenotypes, variants = phenopacket_to_case_parts(
        read_phenopacket(path), source=str(path)
    )
    assert variants == VARIANTS
    assert [(p.id, p.label, p.excluded) for p in phenotypes] == [
        (p.id, p.label, p.excluded) for p in case.phenotypes
    ]
    assert phenotypes[0].onset_age_years == pytest.approx(0.02, abs=HALF_DAY_YEARS)
    assert phenotypes[1].onset_age_years is None
    assert (fields.subject_id, fields.sex, fields.basis, fields.genome_build) == (
        "PKU-01",
        "female",
        "molecular",
        "GRCh38",
    )
    assert fields.ignored == []
    assert fields.diagnosis_for(platform_with(PKU)) == case.diagnosis.model_copy(
        update={"genotype_class": None}
    )


def test_clinical_basis_and_hemizygous_male_round_trip() -> None:
    case = make_case(basis="clinical", sex="male", age_at_first_dose_years=12.25)
    variant = VARIANTS[0].model_copy(
        update={"chrom": "chrX", "zygosity": "hemizygous", "allele": None, "phase_evidence": "none"}
    )
    fields, _, variants = phenopacket_to_case_parts(
        round_trip(case_to_phenopacket(case, [variant], PKU, "GRCh38"))
    )
    assert (fields.sex, fields.basis, fields.age_at_first_dose_years) == ("male", "clinical", 12.25)
    assert variants == [variant]


def test_a_dossier_patient_round_trips(tmp_path: Path) -> None:
    root = tmp_path / "d"
    init_dossier(root, platform_id="P1", name="P", modality="adenine_base_editor")
    dossier = load_dossier(root)
    patient = dossier.patients[0]
    pp = patient_phenopacket(dossier, patient)
    assert pp.meta_data.created.ToDatetime().date() == dossier.platform.data_cutoff
    fields, phenotypes, variants = phenopacket_to_case_parts(round_trip(pp))
    assert variants == patient.variants
    assert phenotypes == patient.case.phenotypes  # onset 0.75 y is a whole number of months: exact
    diagnosis = fields.diagnosis_for(
        dossier.platform, genotype_class=patient.case.diagnosis.genotype_class
    )
    assert diagnosis == patient.case.diagnosis


def platform_with(disease: Disease, genome_build: str = "GRCh38") -> Platform:
    """The smallest valid platform treating ``disease``."""
    return Platform(
        id="P1",
        name="P",
        modality="splice_switching_aso",
        genome_build=genome_build,
        reference_fasta="reference.fa",
        data_cutoff=dt.date(2025, 12, 31),
        invariant_components=[
            InvariantComponent(name="aso_chemistry", description="MOE", version="1")
        ],
        variable_component=VariableComponent(kind="aso", description="ASO"),
        diseases=[disease],
        endpoints=[
            Endpoint(
                id="phe",
                name="Phe",
                kind="continuous",
                unit="umol/L",
                direction="lower_is_better",
                role="primary",
            )
        ],
        analysis_plan=AnalysisPlan(fixed_on=dt.date(2024, 1, 1)),
    )


hpo_ids = st.integers(1, 9_999_999).map(lambda n: f"HP:{n:07d}")
labels = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
dna = st.text(alphabet="ACGTacgt", min_size=1, max_size=8)


@st.composite
def variants(draw) -> Variant:
    return Variant(
        gene=draw(st.from_regex(r"[A-Z0-9][A-Z0-9-]{0,7}", fullmatch=True)),
        chrom=draw(st.sampled_from(["chr1", "chr12", "chrX", "chrM", "7"])),
        pos=draw(st.integers(1, 2**40)),
        ref=draw(dna),
        alt=draw(dna),
        hgvs_c=draw(st.none() | labels),
        hgvs_p=draw(st.none() | labels),
        zygosity=draw(st.sampled_from(["heterozygous", "homozygous", "hemizygous"])),
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
        acmg_criteria=draw(
            st.lists(
                st.sampled_from(["PVS1", "PS3", "PM2_Supporting", "PP3_Strong", "BA1", "BP7"]),
                max_size=5,
            )
        ),
        allele=draw(st.none() | st.sampled_from([1, 2])),
        phase_evidence=draw(
            st.sampled_from(["parental_testing", "long_read", "read_backed", "none"])
        ),
        functional_evidence=draw(st.none() | labels),
    )


phenotypes = st.builds(
    Phenotype,
    id=hpo_ids,
    label=labels,
    excluded=st.booleans(),
    onset_age_years=st.none() | st.floats(min_value=0, max_value=120, allow_nan=False),
)


@settings(max_examples=60, deadline=None)
@given(
    generated_variants=st.lists(variants(), max_size=5),
    generated_phenotypes=st.lists(phenotypes, max_size=5),
    sex=st.sampled_from(["male", "female"]),
    basis=st.sampled_from(["molecular", "clinical"]),
    age=st.floats(min_value=0, max_value=120, allow_nan=False),
    status=st.sampled_from(["ongoing", "completed"]),
)
def test_round_trip_property(
    generated_variants, generated_phenotypes, sex, basis, age, status
) -> None:
    case = make_case(sex=sex, basis=basis, age_at_first_dose_years=age).model_copy(
        update={
            "phenotypes": generated_phenotypes,
            "variants": generated_variants,
            "outcome": Outcome(status=status),
        }
    )
    pp = case_to_phenopacket(case, generated_variants, PKU, "GRCh37")
    fields, got_phenotypes, got_variants = phenopacket_to_case_parts(round_trip(pp))
    assert got_variants == generated_variants
    assert len(got_phenotypes) == len(generated_phenotypes)
    for got, want in zip(got_phenotypes, generated_phenotypes, strict=True):
        assert (got.id, got.label, got.excluded) == (want.id, want.label, want.excluded)
        if want.onset_age_years is None:
            assert got.onset_age_years is None
        else:
            assert abs(got.onset_age_years - want.onset_age_years) <= HALF_DAY_YEARS
    assert (fields.sex, fields.basis, fields.disease_term, fields.genome_build) == (
        sex,
        basis,
        "MONDO:0009861",
        "GRCh37" if generated_variants else None,
    )
    assert abs(fields.age_at_first_dose_years - age) <= HALF_DAY_YEARS
    assert fields.ignored == []


# --------------------------------------------------------------------------- content pmpath cannot carry


def foreign(**overrides) -> Phenopacket:
    """A phenopacket as another tool might write it (shaped after the GA4GH v2 examples)."""
    data = {
        "id": "arbitrary.id",
        "subject": {
            "id": "proband A",
            "sex": "MALE",
            "timeAtLastEncounter": {"age": {"iso8601duration": "P6Y"}},
        },
        "phenotypicFeatures": [
            {
                "type": {"id": "HP:0001250", "label": "Seizure"},
                "onset": {"ontologyClass": {"id": "HP:0003593", "label": "Infantile onset"}},
            },
            {
                "type": {"id": "HP:0001263", "label": "Global developmental delay"},
                "severity": {"id": "HP:0012828", "label": "Severe"},
            },
        ],
        "biosamples": [{"id": "biosample 1"}],
        "diseases": [
            {"term": {"id": "OMIM:261600", "label": "PHENYLKETONURIA"}},
            {"term": {"id": "MONDO:0000001", "label": "other"}, "excluded": True},
        ],
        "interpretations": [
            {
                "id": "i1",
                "progressStatus": "SOLVED",
                "diagnosis": {
                    "disease": {"id": "OMIM:261600", "label": "PHENYLKETONURIA"},
                    "genomicInterpretations": [
                        {
                            "subjectOrBiosampleId": "proband A",
                            "interpretationStatus": "CAUSATIVE",
                            "variantInterpretation": {
                                "acmgPathogenicityClassification": "PATHOGENIC",
                                "variationDescriptor": {
                                    "id": "var1",
                                    "geneContext": {"valueId": "HGNC:8582", "symbol": "PAH"},
                                    "expressions": [
                                        {"syntax": "hgvs.c", "value": "NM_000277.3:c.1222C>T"},
                                        {"syntax": "spdi", "value": "x"},
                                    ],
                                    "vcfRecord": {
                                        "genomeAssembly": "hg38",
                                        "chrom": "chr12",
                                        "pos": "102840492",
                                        "ref": "G",
                                        "alt": "A",
                                    },
                                    "allelicState": {"id": "GENO:0000136", "label": "homozygous"},
                                },
                            },
                        },
                        {
                            "subjectOrBiosampleId": "proband A",
                            "interpretationStatus": "REJECTED",
                            "gene": {"valueId": "HGNC:1", "symbol": "A1BG"},
                        },
                    ],
                },
            }
        ],
        "metaData": {
            "created": "2021-05-14T10:35:00Z",
            "createdBy": "someone",
            "phenopacketSchemaVersion": "2.0",
        },
    }
    for key, value in overrides.items():
        data[key] = value
    return json_format.ParseDict(data, Phenopacket())


def test_foreign_phenopacket_imports_and_lists_what_it_leaves_behind() -> None:
    fields, phenotypes, variants = phenopacket_to_case_parts(foreign(), source="in.json")
    assert [p.id for p in phenotypes] == ["HP:0001250", "HP:0001263"]
    assert phenotypes[0].onset_age_years is None  # an onset class is not an age
    assert [(v.gene, v.pos, v.zygosity.value, v.acmg_class.value, v.hgvs_c) for v in variants] == [
        ("PAH", 102_840_492, "homozygous", "pathogenic", "NM_000277.3:c.1222C>T")
    ]
    assert (
        fields.sex,
        fields.disease_term,
        fields.basis,
        fields.genome_build,
        fields.age_at_first_dose_years,
    ) == (
        "male",
        "OMIM:261600",
        "molecular",
        "GRCh38",
        None,
    )
    ignored = {f.field for f in fields.ignored}
    assert {
        "biosamples",
        "subject.time_at_last_encounter",
        "phenotypic_features[0].onset",
        "phenotypic_features[1].severity",
        "diseases[1]",
        "interpretations[0].diagnosis.genomic_interpretations[0].variant_interpretation.variation_descriptor.expressions[1]",
        "interpretations[0].diagnosis.genomic_interpretations[1].interpretation_status",
    } <= ignored
    assert all(f.path == "in.json" for f in fields.ignored)
    # content left behind does not stop an import: each is a warning saying what was not imported
    assert all(f.severity is Severity.warning and "not imported" in f.found for f in fields.ignored)
    # the OMIM term finds the platform's disease; the age must then be supplied
    platform = platform_with(PKU.model_copy(update={"mondo": None, "omim": "OMIM:261600"}))
    with pytest.raises(DossierError, match="age at first dose"):
        fields.diagnosis_for(platform)
    assert fields.diagnosis_for(platform, age_at_first_dose_years=2.0).disease == "pku"


def test_unknown_disease_and_other_build_are_refused() -> None:
    fields, _, _ = phenopacket_to_case_parts(foreign())
    platform = platform_with(
        PKU.model_copy(update={"name": "Something else"}), genome_build="GRCh37"
    )  # MONDO term only
    with pytest.raises(DossierError) as info:
        fields.diagnosis_for(platform, age_at_first_dose_years=1.0)
    assert sorted(f.field for f in info.value.findings) == [
        "diseases",
        "vcf_record.genome_assembly",
    ]


GI = "interpretations[0].diagnosis.genomic_interpretations[0].variant_interpretation"


def _edit_variant(**descriptor_changes) -> Phenopacket:
    pp = foreign()
    vd = (
        pp.interpretations[0]
        .diagnosis.genomic_interpretations[0]
        .variant_interpretation.variation_descriptor
    )
    for name, value in descriptor_changes.items():
        if value is None:
            vd.ClearField(name)
        else:
            getattr(vd, name).CopyFrom(value)
    return pp


@pytest.mark.parametrize(
    ("pp", "field", "message"),
    [
        (
            foreign(subject={"id": "x", "sex": "UNKNOWN_SEX"}),
            "subject.sex",
            "found UNKNOWN_SEX, expected MALE or FEMALE",
        ),
        (foreign(subject=None), "subject", "found no subject"),
        (
            foreign(phenotypicFeatures=[{"type": {"id": "MP:0001000", "label": "mouse"}}]),
            "phenotypic_features[0].type.id",
            "found 'MP:0001000'",
        ),
        (
            foreign(diseases=[{"term": {"id": "MONDO:0000002", "label": "second"}}]),
            "diseases",
            "expected one",
        ),
        (foreign(diseases=[], interpretations=[]), "diseases", "found no disease"),
        (_edit_variant(vcf_record=None), f"{GI}.variation_descriptor.vcf_record", "not supported"),
        (
            _edit_variant(allelic_state=None),
            f"{GI}.variation_descriptor.allelic_state",
            "GENO:0000135",
        ),
        (
            foreign(metaData={"phenopacketSchemaVersion": "3.0"}),
            "meta_data.phenopacket_schema_version",
            "expected 2.x",
        ),
    ],
)
def test_unsupported_content_is_a_finding_naming_the_field(
    pp: Phenopacket, field: str, message: str
) -> None:
    with pytest.raises(DossierError) as info:
        phenopacket_to_case_parts(pp, source="in.json")
    matching = [f for f in info.value.findings if f.field == field]
    assert matching, [str(f) for f in info.value.findings]
    assert message in matching[0].message
    assert matching[0].path == "in.json"


def test_acmg_not_provided_and_bad_alleles_are_findings() -> None:
    pp = foreign()
    vi = pp.interpretations[0].diagnosis.genomic_interpretations[0].variant_interpretation
    vi.acmg_pathogenicity_classification = 0
    vi.variation_descriptor.vcf_record.alt = "<DEL>"
    with pytest.raises(DossierError) as info:
        phenopacket_to_case_parts(pp)
    assert [f.field for f in info.value.findings] == [f"{GI}.acmg_pathogenicity_classification"]
    vi.acmg_pathogenicity_classification = 5
    with pytest.raises(DossierError) as info:
        phenopacket_to_case_parts(pp)
    assert [f.field for f in info.value.findings] == [f"{GI}.variation_descriptor.vcf_record.alt"]


# --------------------------------------------------------------------------- JSON files


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        ('{\n  "id": "x",\n  "subject": {"id": "a",,}\n}\n', 3, "", "malformed JSON"),
        ("[1, 2]\n", 1, "", "found a JSON list"),
        ('{"id": "x", "colour": "red"}', None, "Phenopacket.colour", "no field named"),
        ('{"subject": {"sex": "BOY"}}', None, "", "Invalid enum value BOY"),
        (
            '{"id": "x", "genes": [], "metaData": {"phenopacketSchemaVersion": "1.0.0"}}',
            None,
            "metaData.phenopacketSchemaVersion",
            "Phenopacket v1",
        ),
    ],
)
def test_read_phenopacket_errors_name_file_line_and_field(
    tmp_path: Path, text: str, line: int | None, field: str, message: str
) -> None:
    path = tmp_path / "pp.json"
    path.write_text(text)
    with pytest.raises(DossierError) as info:
        read_phenopacket(path)
    (f,) = info.value.findings
    assert (f.path, f.line, f.field) == (str(path), line, field)
    assert message in f.message


def test_read_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DossierError, match=r"nope\.json: found no such file"):
        read_phenopacket(tmp_path / "nope.json")


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "out" / "pp.json"
    write_phenopacket(case_to_phenopacket(make_case(), VARIANTS, PKU, "GRCh38"), path)
    assert [p.name for p in path.parent.iterdir()] == ["pp.json"]
    assert read_phenopacket(path) == case_to_phenopacket(make_case(), VARIANTS, PKU, "GRCh38")
