"""Criterion 1, a specific molecular cause: is the patient's genotype in the disease gene the one its inheritance predicts?

Turns the case's diagnosis, the platform's disease (gene, inheritance) and the patient's variants
into :class:`pmpath.mechanism.AlleleCall` inputs, applies :func:`pmpath.mechanism.genotype_consistent`
and reports the rule row applied. The verdict's
:class:`~pmpath.pathway.figures.GenotypeTable` lists the calls with the role each played (counted as
P/LP, uncertain, benign, other gene).
"""

from __future__ import annotations

from pmpath.dossier import PatientRecord
from pmpath.dossier.load import PLATFORM_FILE
from pmpath.dossier.model import Variant
from pmpath.mechanism import AlleleCall, genotype_consistent
from pmpath.pathway.context import AssessmentContext
from pmpath.pathway.figures import GenotypeTable
from pmpath.pathway.flags import Flag, FlagSeverity
from pmpath.pathway.results import CauseResult, GenotypeCall
from pmpath.pathway.verdict import CRITERION_NAMES, Status, Verdict

NUMBER = 1

METHOD = (
    "The variants in the disease's gene are compared with the genotype its inheritance predicts "
    "(pmpath.mechanism.GENOTYPE_RULES): autosomal recessive, homozygous or two pathogenic/likely pathogenic (P/LP) "
    "variants in trans with phase evidence; autosomal dominant, one heterozygous P/LP; X-linked, hemizygous P/LP in "
    "males, heterozygous P/LP in females for X-linked dominant or unspecified X-linked disease (a heterozygous female "
    "with recessive X-linked disease needs skewed X-inactivation evidence). A VUS with functional evidence (an assay, "
    "or ACMG PS3) counts as P/LP. Met when the expected genotype is present; insufficient when it depends on "
    "unestablished phase or on a VUS without functional evidence; not met for a clinical-only diagnosis, no "
    "variant in the gene, benign variants only, a carrier genotype, or zygosity calls impossible for the "
    "chromosome and sex."
)

ASSUMPTIONS = [
    "ACMG/AMP classifications are taken as declared in the dossier; pmpath does not re-classify variants.",
    "Two heterozygous variants count as in trans only when their phase groups differ and each names its phase evidence.",
    "Inheritance 'x_linked' without dominant/recessive is read as dominant for females.",
    "Only variants in the disease's gene are used; variants in other genes are reported, not weighed.",
]


def variant_label(variant: Variant) -> str:
    """How reports name a variant: its HGVS when given, else chrom:pos ref>alt."""
    where = f"{variant.chrom}:{variant.pos} {variant.ref}>{variant.alt}"
    hgvs = variant.hgvs_c or variant.hgvs_p
    return f"{variant.gene} {hgvs} ({where})" if hgvs else f"{variant.gene} {where}"


def allele_call(variant: Variant) -> AlleleCall:
    """The dossier's variant as the mechanism library's plain input."""
    return AlleleCall(
        gene=variant.gene,
        acmg_class=variant.acmg_class.value,
        zygosity=variant.zygosity.value,
        phase_group=variant.allele,
        phase_evidence=variant.phase_evidence,
        functional_evidence=variant.functional_evidence,
        acmg_criteria=tuple(variant.acmg_criteria),
        label=variant_label(variant),
    )


def evaluate(ctx: AssessmentContext, patient: PatientRecord) -> Verdict:
    """Criterion 1 for ``patient``."""
    diagnosis = patient.case.diagnosis
    platform = ctx.dossier.platform
    evidence = ctx.evidence(PLATFORM_FILE, *ctx.patient_files(patient, "case", "variants_vcf"))
    name = CRITERION_NAMES[NUMBER]
    disease = platform.disease(diagnosis.disease)
    if disease is None:
        known = ", ".join(d.id for d in platform.diseases)
        return Verdict(
            number=NUMBER,
            name=name,
            status=Status.insufficient,
            summary=f"disease {diagnosis.disease!r} is not declared in {PLATFORM_FILE} (declared: {known})",
            method=METHOD,
            evidence=evidence,
        )
    calls = [allele_call(v) for v in patient.variants]
    result = genotype_consistent(
        disease.gene, disease.inheritance.value, diagnosis.sex, calls, diagnosis.basis
    )

    flags: list[Flag] = []

    def flag(kind: str, severity: FlagSeverity, message: str) -> None:
        flags.append(Flag(kind=kind, severity=severity, message=message, criterion=NUMBER))

    for v, call in zip(patient.variants, calls, strict=True):
        if v.gene != disease.gene:
            continue
        if call.acmg_class == "uncertain_significance" and call.role == "pathogenic":
            basis = v.functional_evidence or "ACMG PS3"
            flag(
                "vus_on_functional_evidence",
                FlagSeverity.info,
                f"VUS counted as pathogenic on functional evidence: {call.name} ({basis})",
            )
        if call.acmg_class in ("pathogenic", "likely_pathogenic") and not v.acmg_criteria:
            flag(
                "acmg_criteria_missing",
                FlagSeverity.warning,
                f"{call.name} is classified {call.acmg_class} without listing its ACMG criteria",
            )
    if result.other_genes:
        flag(
            "other_gene_variants",
            FlagSeverity.info,
            f"variants in other genes, not weighed: {', '.join(result.other_genes)}",
        )

    ids = [x for x in (disease.mondo, disease.omim) if x]
    disease_text = f"{disease.name} ({', '.join(ids)})" if ids else disease.name
    counted, uncertain = set(result.counted), set(result.uncertain)
    rows = []
    for v, call in zip(patient.variants, calls, strict=True):
        if v.gene != disease.gene:
            role = "other gene"
        elif call.name in counted:
            role = "counted as P/LP"
        elif call.name in uncertain:
            role = "uncertain"
        else:
            role = "benign"
        rows.append(
            GenotypeCall(
                variant=call.name,
                gene=v.gene,
                acmg_class=call.acmg_class,
                acmg_criteria=list(v.acmg_criteria),
                zygosity=call.zygosity,
                phase_group=v.allele,
                phase_evidence=v.phase_evidence,
                role=role,
            )
        )
    return Verdict(
        number=NUMBER,
        name=name,
        status=Status(result.status.value),
        summary=f"{disease_text}, {disease.gene}: {result.reason}",
        method=METHOD,
        assumptions=list(ASSUMPTIONS),
        evidence=evidence,
        flags=flags,
        figures=[GenotypeTable(calls=rows)],
        result=CauseResult(
            disease=disease.id,
            gene=disease.gene,
            inheritance=disease.inheritance.value,
            sex=diagnosis.sex,
            diagnosis_basis=diagnosis.basis,
            rule=result.rule.id,
            rule_genotype=result.rule.genotype,
            disease_ids=ids,
            n_in_gene=result.n_in_gene,
            n_pathogenic=result.n_pathogenic,
            n_pathogenic_copies=result.n_pathogenic_copies,
            n_functional_vus=result.n_functional_vus,
            n_uncertain=result.n_uncertain,
            n_benign=result.n_benign,
            n_other_genes=result.n_other_genes,
            calls=rows,
        ),
    )
