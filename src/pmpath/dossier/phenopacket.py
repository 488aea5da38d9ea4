"""A patient's case as a GA4GH Phenopacket v2 (JSON), and back: the exchange format for rare-disease cases.

Export carries the subject (id, sex), HPO phenotypic features (with onset age), the disease term
(MONDO, else OMIM, else the platform's own disease id with the disease name as label), and one
interpretation whose genomic interpretations hold each variant as a VRSATILE VariationDescriptor:
HGNC symbol, VCF record on the platform's build, GENO allelic state, ACMG class, HGVS expressions.
The age at first dose is the start of a TherapeuticRegimen naming the patient's product.

What the phenopacket schema has no field for travels in VariationDescriptor ``extensions`` named
``pmpath:*`` (ACMG criteria codes, phase group and phase evidence, functional evidence): pmpath
reads them back, other tools will show them as opaque strings. Lost on export: the diagnosis
``genotype_class``, the therapy (sequence, components, doses), the case's tables and its outcome
beyond the regimen status. Ages travel as ISO 8601 durations of whole years, months and days
(``P3Y2M5D``): whole months come back exactly, any other age within half a day.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from google.protobuf import json_format
from google.protobuf.message import Message
from phenopackets.schema.v2 import (
    AcmgPathogenicityClassification,
    Age,
    Expression,
    Extension,
    ExternalReference,
    GeneDescriptor,
    GenomicInterpretation,
    Individual,
    Interpretation,
    MedicalAction,
    MetaData,
    MoleculeContext,
    OntologyClass,
    Phenopacket,
    PhenotypicFeature,
    Resource,
    Sex,
    TherapeuticActionability,
    TherapeuticRegimen,
    TimeElement,
    VariantInterpretation,
    VariationDescriptor,
    VcfRecord,
)
from phenopackets.schema.v2 import (
    Diagnosis as PpDiagnosis,
)
from phenopackets.schema.v2 import (
    Disease as PpDisease,
)
from pydantic import ValidationError

from pmpath import atomic
from pmpath.dossier.model import (
    AcmgClass,
    Case,
    Diagnosis,
    Disease,
    Phenotype,
    Platform,
    Variant,
    Zygosity,
)
from pmpath.dossier.source import pydantic_expected
from pmpath.dossier.vocabulary import DAYS_PER_YEAR
from pmpath.errors import DossierError, Finding, Severity

if TYPE_CHECKING:
    from pmpath.dossier.load import Dossier, PatientRecord

SCHEMA_VERSION = "2.0"

# GENO allelic states (Genotype Ontology, http://purl.obolibrary.org/obo/GENO_...)
ALLELIC_STATE: dict[Zygosity, tuple[str, str]] = {
    Zygosity.heterozygous: ("GENO:0000135", "heterozygous"),
    Zygosity.homozygous: ("GENO:0000136", "homozygous"),
    Zygosity.hemizygous: ("GENO:0000134", "hemizygous"),
}
_ZYGOSITY_BY_GENO = {term: zyg for zyg, (term, _) in ALLELIC_STATE.items()}

_ACMG: dict[AcmgClass, int] = {
    AcmgClass.pathogenic: AcmgPathogenicityClassification.PATHOGENIC,
    AcmgClass.likely_pathogenic: AcmgPathogenicityClassification.LIKELY_PATHOGENIC,
    AcmgClass.uncertain_significance: AcmgPathogenicityClassification.UNCERTAIN_SIGNIFICANCE,
    AcmgClass.likely_benign: AcmgPathogenicityClassification.LIKELY_BENIGN,
    AcmgClass.benign: AcmgPathogenicityClassification.BENIGN,
}
_ACMG_BY_ENUM = {v: k for k, v in _ACMG.items()}

_REGIMEN_STATUS = {
    "ongoing": TherapeuticRegimen.STARTED,
    "completed": TherapeuticRegimen.COMPLETED,
    "died": TherapeuticRegimen.DISCONTINUED,
    "withdrew": TherapeuticRegimen.DISCONTINUED,
    "lost_to_follow_up": TherapeuticRegimen.DISCONTINUED,
}

# Names of the VariationDescriptor extensions that carry what the schema has no field for.
EXT_ACMG_CRITERIA = "pmpath:acmg_criteria"
EXT_PHASE_GROUP = "pmpath:phase_group"
EXT_PHASE_EVIDENCE = "pmpath:phase_evidence"
EXT_FUNCTIONAL_EVIDENCE = "pmpath:functional_evidence"
_PHASE_EVIDENCE = ("parental_testing", "long_read", "read_backed", "none")

# The product's regimen is named by this prefix, so import can tell it from other regimens.
PRODUCT_PREFIX = "pmpath:"
_LOCAL_DISEASE_PREFIX = "pmpath.disease:"

_RESOURCES: dict[str, dict[str, str]] = {
    "hp": {
        "name": "human phenotype ontology",
        "url": "http://purl.obolibrary.org/obo/hp.owl",
        "namespace_prefix": "HP",
        "iri_prefix": "http://purl.obolibrary.org/obo/HP_",
    },
    "geno": {
        "name": "Genotype Ontology",
        "url": "http://purl.obolibrary.org/obo/geno.owl",
        "namespace_prefix": "GENO",
        "iri_prefix": "http://purl.obolibrary.org/obo/GENO_",
    },
    "mondo": {
        "name": "Mondo Disease Ontology",
        "url": "http://purl.obolibrary.org/obo/mondo.obo",
        "namespace_prefix": "MONDO",
        "iri_prefix": "http://purl.obolibrary.org/obo/MONDO_",
    },
    "omim": {
        "name": "Online Mendelian Inheritance in Man",
        "url": "https://www.omim.org",
        "namespace_prefix": "OMIM",
        "iri_prefix": "https://www.omim.org/entry/",
    },
    "hgnc.symbol": {
        "name": "HGNC gene symbols",
        "url": "https://www.genenames.org",
        "namespace_prefix": "hgnc.symbol",
        "iri_prefix": "https://identifiers.org/hgnc.symbol:",
    },
}

_BUILD_ALIASES = {
    "hg19": "GRCh37",
    "grch37": "GRCh37",
    "hg38": "GRCh38",
    "grch38": "GRCh38",
    "t2t-chm13": "T2T-CHM13",
    "chm13": "T2T-CHM13",
}


# --------------------------------------------------------------------------- ages as ISO 8601 durations


def age_to_iso8601(years: float) -> str:
    """Age in years as an ISO 8601 duration of whole years, months and days: 1.5 -> ``P1Y6M``.

    A month is 1/12 year and a day 1/365.25 year, the reading :func:`iso8601_to_age` uses, so
    ages in whole months come back exactly and any other age within half a day.
    """
    if not math.isfinite(years) or years < 0:
        raise ValueError(f"found age {years!r}, expected a finite age >= 0 years")
    # the tolerance keeps 0.5 at 6 months (not 5 months 30 days) and 1.99999... at 2 years
    months_total = math.floor(years * 12 + 1e-9)
    whole, months = divmod(months_total, 12)
    days = max(round((years - months_total / 12) * DAYS_PER_YEAR), 0)  # at most 30
    parts = [(whole, "Y"), (months, "M"), (days, "D")]
    text = "".join(f"{n}{unit}" for n, unit in parts if n)
    return f"P{text or '0D'}"


_DURATION = re.compile(
    r"^P(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?$"
)


def iso8601_to_age(text: str) -> float:
    """ISO 8601 duration (years, months, weeks, days; no time part) -> years; a month is 1/12 year."""
    m = _DURATION.match(text.strip())
    if m is None or not any(m.groups()):
        raise ValueError(f"found {text!r}, expected an ISO 8601 duration such as P3Y6M or P45D")
    y, mo, w, d = (float(g.replace(",", ".")) if g else 0.0 for g in m.groups())
    return y + mo / 12 + (7 * w + d) / DAYS_PER_YEAR


# --------------------------------------------------------------------------- export


def _disease_term(disease: Disease) -> OntologyClass:
    if disease.mondo:
        term = disease.mondo
    elif disease.omim:
        term = disease.omim if disease.omim.startswith("OMIM:") else f"OMIM:{disease.omim}"
    else:
        term = f"{_LOCAL_DISEASE_PREFIX}{disease.id}"
    return OntologyClass(id=term, label=disease.name)


def _timestamp(created: dt.date | dt.datetime) -> dt.datetime:
    if not isinstance(created, dt.datetime):
        created = dt.datetime.combine(created, dt.time(), tzinfo=dt.UTC)
    elif created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return created.astimezone(dt.UTC)


def _variation_descriptor(variant: Variant, genome_build: str) -> VariationDescriptor:
    state_id, state_label = ALLELIC_STATE[variant.zygosity]
    descriptor = VariationDescriptor(
        id=f"{variant.chrom}-{variant.pos}-{variant.ref}-{variant.alt}",
        gene_context=GeneDescriptor(value_id=f"hgnc.symbol:{variant.gene}", symbol=variant.gene),
        vcf_record=VcfRecord(
            genome_assembly=genome_build,
            chrom=variant.chrom,
            pos=variant.pos,
            ref=variant.ref,
            alt=variant.alt,
        ),
        molecule_context=MoleculeContext.genomic,
        allelic_state=OntologyClass(id=state_id, label=state_label),
    )
    if variant.hgvs_c is not None:
        descriptor.expressions.append(Expression(syntax="hgvs.c", value=variant.hgvs_c))
    if variant.hgvs_p is not None:
        descriptor.expressions.append(Expression(syntax="hgvs.p", value=variant.hgvs_p))
    if variant.acmg_criteria:
        descriptor.extensions.append(
            Extension(name=EXT_ACMG_CRITERIA, value=",".join(variant.acmg_criteria))
        )
    if variant.allele is not None:
        descriptor.extensions.append(Extension(name=EXT_PHASE_GROUP, value=str(variant.allele)))
    if variant.phase_evidence != "none":
        descriptor.extensions.append(
            Extension(name=EXT_PHASE_EVIDENCE, value=variant.phase_evidence)
        )
    if variant.functional_evidence is not None:
        descriptor.extensions.append(
            Extension(name=EXT_FUNCTIONAL_EVIDENCE, value=variant.functional_evidence)
        )
    return descriptor


def case_to_phenopacket(
    case: Case,
    variants: list[Variant],
    disease: Disease,
    genome_build: str,
    created_by: str = "pmpath",
    *,
    created: dt.date | dt.datetime | None = None,
    resource_versions: Mapping[str, str] | None = None,
) -> Phenopacket:
    """Build the Phenopacket v2 of one patient's case.

    Parameters
    ----------
    case : Case
        The patient's case.yaml.
    variants : list of Variant
        The patient's variants (``PatientRecord.variants``: inline and from the VCF), in order;
        ``case.therapy.target_variant`` indexes this list and that variant is marked actionable.
    disease : Disease
        The platform's disease the case is diagnosed with.
    genome_build : str
        The platform's genome build, written into every VCF record.
    created_by : str
        ``meta_data.created_by``.
    created : date or datetime, optional
        ``meta_data.created``. A date means midnight UTC; a naive datetime is taken as UTC. When
        omitted, the case's latest date (last dose or outcome date) is used, never the clock, so
        the same case always gives the same bytes. :func:`patient_phenopacket` uses the platform's
        data cutoff instead.
    resource_versions : mapping, optional
        Ontology versions by resource id (``hp``, ``geno``, ``mondo``, ``omim``, ``hgnc.symbol``);
        a resource without one is written with version ``unspecified``.

    Returns
    -------
    Phenopacket
        The v2 message; write it with :func:`write_phenopacket`.
    """
    versions = dict(resource_versions or {})
    if created is None:
        created = max(
            [d.date for d in case.dosing] + ([case.outcome.date] if case.outcome.date else [])
        )
    diagnosis = case.diagnosis
    pp = Phenopacket(
        id=case.id,
        subject=Individual(id=case.id, sex=Sex.MALE if diagnosis.sex == "male" else Sex.FEMALE),
    )
    for phenotype in case.phenotypes:
        feature = PhenotypicFeature(
            type=OntologyClass(id=phenotype.id, label=phenotype.label), excluded=phenotype.excluded
        )
        if phenotype.onset_age_years is not None:
            feature.onset.CopyFrom(
                TimeElement(age=Age(iso8601duration=age_to_iso8601(phenotype.onset_age_years)))
            )
        pp.phenotypic_features.append(feature)

    term = _disease_term(disease)
    pp.diseases.append(PpDisease(term=term))

    molecular = diagnosis.basis == "molecular"
    interpretation = Interpretation(
        id=f"{case.id}-interpretation",
        progress_status=Interpretation.SOLVED if molecular else Interpretation.IN_PROGRESS,
        diagnosis=PpDiagnosis(disease=term),
    )
    for i, variant in enumerate(variants):
        causal = molecular and variant.acmg_class in (
            AcmgClass.pathogenic,
            AcmgClass.likely_pathogenic,
        )
        interpretation.diagnosis.genomic_interpretations.append(
            GenomicInterpretation(
                subject_or_biosample_id=case.id,
                interpretation_status=GenomicInterpretation.CAUSATIVE
                if causal
                else GenomicInterpretation.CANDIDATE,
                variant_interpretation=VariantInterpretation(
                    acmg_pathogenicity_classification=_ACMG[variant.acmg_class],
                    therapeutic_actionability=(
                        TherapeuticActionability.ACTIONABLE
                        if i == case.therapy.target_variant
                        else TherapeuticActionability.UNKNOWN_ACTIONABILITY
                    ),
                    variation_descriptor=_variation_descriptor(variant, genome_build),
                ),
            )
        )
    pp.interpretations.append(interpretation)

    therapy = case.therapy
    pp.medical_actions.append(
        MedicalAction(
            therapeutic_regimen=TherapeuticRegimen(
                external_reference=ExternalReference(
                    id=f"{PRODUCT_PREFIX}{therapy.product_id}",
                    description=f"individualized product {therapy.product_id}, batch {therapy.batch}",
                ),
                start_time=TimeElement(
                    age=Age(iso8601duration=age_to_iso8601(diagnosis.age_at_first_dose_years))
                ),
                regimen_status=_REGIMEN_STATUS[case.outcome.status],
            )
        )
    )

    used = ["hp", "geno", "mondo"]
    if term.id.startswith("OMIM:"):
        used.append("omim")
    if variants:
        used.append("hgnc.symbol")
    meta = MetaData(created_by=created_by, phenopacket_schema_version=SCHEMA_VERSION)
    meta.created.FromDatetime(_timestamp(created))
    for rid in used:
        meta.resources.append(
            Resource(id=rid, version=versions.get(rid, "unspecified"), **_RESOURCES[rid])
        )
    pp.meta_data.CopyFrom(meta)
    return pp


def patient_phenopacket(
    dossier: Dossier, patient: PatientRecord, *, created: dt.date | dt.datetime | None = None
) -> Phenopacket:
    """The phenopacket of a loaded dossier's patient; ``created`` defaults to the platform's data cutoff."""
    platform = dossier.platform
    disease = platform.disease(patient.case.diagnosis.disease)
    if disease is None:  # load_dossier has already refused this; kept for hand-built records
        raise DossierError(
            [
                Finding(
                    patient.files.get("case", patient.id),
                    None,
                    "diagnosis.disease",
                    f"unknown disease {patient.case.diagnosis.disease!r}",
                    "one of platform.yaml's diseases: "
                    + ", ".join(d.id for d in platform.diseases),
                )
            ]
        )
    return case_to_phenopacket(
        patient.case,
        patient.variants,
        disease,
        platform.genome_build,
        created=platform.data_cutoff if created is None else created,
    )


# --------------------------------------------------------------------------- import


@dataclass(frozen=True)
class DiagnosisFields:
    """What a phenopacket says about the diagnosis, before it is tied to a platform's disease.

    ``ignored`` lists content that was read but has no place in a pmpath case (biosamples,
    measurements, excluded diseases, ...), so a caller can show what an import leaves behind.
    """

    subject_id: str
    sex: Literal["male", "female"]
    disease_term: str
    disease_label: str
    basis: Literal["molecular", "clinical"]
    age_at_first_dose_years: float | None
    genome_build: str | None
    ignored: list[Finding] = field(default_factory=list)

    def platform_disease(self, platform: Platform) -> Disease | None:
        """The platform's disease this term names: by MONDO, OMIM, pmpath's own id, then by name."""
        term = self.disease_term
        for disease in platform.diseases:
            omim = None if disease.omim is None else disease.omim.removeprefix("OMIM:")
            if term in (disease.mondo, f"{_LOCAL_DISEASE_PREFIX}{disease.id}") or (
                omim and term == f"OMIM:{omim}"
            ):
                return disease
        label = self.disease_label.strip().casefold()
        return next(
            (d for d in platform.diseases if label and d.name.strip().casefold() == label), None
        )

    def diagnosis_for(
        self,
        platform: Platform,
        *,
        age_at_first_dose_years: float | None = None,
        genotype_class: str | None = None,
        source: str = "<phenopacket>",
    ) -> Diagnosis:
        """The case.yaml ``diagnosis`` on ``platform``; raises DossierError naming what does not fit.

        ``age_at_first_dose_years`` overrides (or supplies) the age the phenopacket's regimen gives.
        """
        findings: list[Finding] = []
        disease = self.platform_disease(platform)
        if disease is None:
            known = ", ".join(f"{d.id} ({d.mondo or d.omim or d.name})" for d in platform.diseases)
            findings.append(
                Finding(
                    source,
                    None,
                    "diseases",
                    f"{self.disease_term} ({self.disease_label})",
                    f"one of the platform's diseases: {known}",
                )
            )
        if self.genome_build is not None and self.genome_build != platform.genome_build:
            findings.append(
                Finding(
                    source,
                    None,
                    "vcf_record.genome_assembly",
                    self.genome_build,
                    f"the platform's build {platform.genome_build} (lift the variants over first)",
                )
            )
        age = (
            self.age_at_first_dose_years
            if age_at_first_dose_years is None
            else age_at_first_dose_years
        )
        if age is None:
            findings.append(
                Finding(
                    source,
                    None,
                    "medical_actions",
                    "no therapeutic regimen with a start age",
                    "the age at first dose (pass it explicitly)",
                )
            )
        if findings:
            raise DossierError(findings)
        try:
            return Diagnosis(
                disease=disease.id,
                basis=self.basis,
                sex=self.sex,
                age_at_first_dose_years=age,
                genotype_class=genotype_class,
            )
        except ValidationError as exc:
            raise DossierError(
                [
                    Finding(
                        source,
                        None,
                        ".".join(map(str, e["loc"])),
                        repr(e.get("input")),
                        pydantic_expected(e["msg"]),
                    )
                    for e in exc.errors()
                ]
            ) from None


class _Importer:
    """Walks a phenopacket, keeping what pmpath can represent and a finding for everything else."""

    def __init__(self, source: str):
        self.source = source
        self.errors: list[Finding] = []
        self.ignored: list[Finding] = []

    def error(self, where: str, found: str, expected: str) -> None:
        self.errors.append(Finding(self.source, None, where, found, expected))

    def ignore(self, where: str, found: str, expected: str) -> None:
        """Content read but not imported: a warning, since the case can be built without it."""
        self.ignored.append(
            Finding(self.source, None, where, found, expected, severity=Severity.warning)
        )

    def ignore_others(self, message: Message, where: str, supported: set[str]) -> None:
        for fd, _ in message.ListFields():
            if fd.name not in supported:
                path = f"{where}.{fd.name}" if where else fd.name
                self.ignore(
                    path,
                    f"{fd.name}, which a pmpath case has no field for (not imported)",
                    f"only {', '.join(sorted(supported))} here",
                )

    def age(self, element: TimeElement, where: str) -> float | None:
        if not element.ByteSize():
            return None
        if element.WhichOneof("element") != "age":
            self.ignore(
                where,
                f"a {element.WhichOneof('element')} time element (not imported; the age is left empty)",
                "an age (ISO 8601 duration)",
            )
            return None
        try:
            return iso8601_to_age(element.age.iso8601duration)
        except ValueError:
            self.error(
                f"{where}.age.iso8601duration",
                repr(element.age.iso8601duration),
                "an ISO 8601 duration such as P3Y6M or P45D",
            )
            return None

    def validation(self, where: str, exc: ValidationError, names: Mapping[str, str]) -> None:
        for e in exc.errors():
            key = str(e["loc"][0]) if e["loc"] else ""
            self.error(
                f"{where}.{names.get(key, key)}" if key else where,
                repr(e.get("input")),
                pydantic_expected(e["msg"]),
            )


def _phenotype(imp: _Importer, feature: PhenotypicFeature, where: str) -> Phenotype | None:
    imp.ignore_others(feature, where, {"type", "excluded", "onset"})
    onset = imp.age(feature.onset, f"{where}.onset")
    try:
        return Phenotype(
            id=feature.type.id,
            label=feature.type.label,
            excluded=feature.excluded,
            onset_age_years=onset,
        )
    except ValidationError as exc:
        imp.validation(
            where,
            exc,
            {
                "id": "type.id",
                "label": "type.label",
                "excluded": "excluded",
                "onset_age_years": "onset",
            },
        )
        return None


def _variant(
    imp: _Importer, gi: GenomicInterpretation, where: str
) -> tuple[Variant | None, str | None]:
    imp.ignore_others(
        gi, where, {"subject_or_biosample_id", "interpretation_status", "variant_interpretation"}
    )
    if gi.interpretation_status == GenomicInterpretation.REJECTED:
        imp.ignore(
            f"{where}.interpretation_status",
            "a REJECTED variant (not imported)",
            "CAUSATIVE or CANDIDATE variants",
        )
        return None, None
    if not gi.HasField("variant_interpretation"):
        imp.ignore(
            where,
            "a gene without a variant (not imported)",
            "a variant_interpretation",
        )
        return None, None
    vi = gi.variant_interpretation
    where = f"{where}.variant_interpretation"
    imp.ignore_others(
        vi,
        where,
        {"acmg_pathogenicity_classification", "therapeutic_actionability", "variation_descriptor"},
    )
    vd = vi.variation_descriptor
    dwhere = f"{where}.variation_descriptor"
    imp.ignore_others(
        vd,
        dwhere,
        {
            "id",
            "gene_context",
            "vcf_record",
            "allelic_state",
            "expressions",
            "extensions",
            "molecule_context",
        },
    )
    ok = True
    if not vd.HasField("vcf_record"):
        imp.error(
            f"{dwhere}.vcf_record",
            "no VCF record (variants given only as VRS or HGVS are not supported)",
            "a VCF record: chrom, pos, ref, alt",
        )
        ok = False
    gene = vd.gene_context.symbol
    if not gene:
        imp.error(
            f"{dwhere}.gene_context.symbol",
            "no gene symbol",
            "the HGNC symbol of the variant's gene",
        )
        ok = False
    zygosity = _ZYGOSITY_BY_GENO.get(vd.allelic_state.id)
    if zygosity is None:
        expected = ", ".join(f"{t} ({label})" for t, label in ALLELIC_STATE.values())
        imp.error(
            f"{dwhere}.allelic_state",
            repr(vd.allelic_state.id) if vd.allelic_state.id else "no allelic state",
            f"one of {expected}",
        )
        ok = False
    acmg = _ACMG_BY_ENUM.get(vi.acmg_pathogenicity_classification)
    if acmg is None:
        imp.error(
            f"{where}.acmg_pathogenicity_classification",
            AcmgPathogenicityClassification.Name(vi.acmg_pathogenicity_classification),
            "an ACMG/AMP class (BENIGN ... PATHOGENIC)",
        )
        ok = False
    hgvs: dict[str, str | None] = {"hgvs.c": None, "hgvs.p": None}
    for k, expr in enumerate(vd.expressions):
        if expr.syntax in hgvs and hgvs[expr.syntax] is None:
            hgvs[expr.syntax] = expr.value
        else:
            imp.ignore(
                f"{dwhere}.expressions[{k}]",
                f"{'another ' if expr.syntax in hgvs else 'an '}{expr.syntax or 'untyped'} expression (not imported)",
                "one hgvs.c and one hgvs.p expression, the ones a case keeps",
            )
    criteria: list[str] = []
    allele: int | None = None
    phase_evidence = "none"
    functional: str | None = None
    for k, ext in enumerate(vd.extensions):
        ewhere = f"{dwhere}.extensions[{k}]"
        if ext.name == EXT_ACMG_CRITERIA:
            criteria = [c for c in ext.value.split(",") if c]
        elif ext.name == EXT_PHASE_GROUP:
            if ext.value not in ("1", "2"):
                imp.error(ewhere, f"{EXT_PHASE_GROUP}={ext.value!r}", "1 or 2")
                ok = False
            else:
                allele = int(ext.value)
        elif ext.name == EXT_PHASE_EVIDENCE:
            if ext.value not in _PHASE_EVIDENCE:
                imp.error(
                    ewhere,
                    f"{EXT_PHASE_EVIDENCE}={ext.value!r}",
                    f"one of {', '.join(_PHASE_EVIDENCE)}",
                )
                ok = False
            else:
                phase_evidence = ext.value
        elif ext.name == EXT_FUNCTIONAL_EVIDENCE:
            functional = ext.value
        else:
            imp.ignore(
                ewhere,
                f"extension {ext.name!r} (not imported)",
                f"the extensions pmpath writes: {EXT_ACMG_CRITERIA}, {EXT_PHASE_GROUP}, "
                f"{EXT_PHASE_EVIDENCE}, {EXT_FUNCTIONAL_EVIDENCE}",
            )
    if not ok:
        return None, None
    rec = vd.vcf_record
    try:
        variant = Variant(
            gene=gene,
            chrom=rec.chrom,
            pos=rec.pos,
            ref=rec.ref,
            alt=rec.alt,
            hgvs_c=hgvs["hgvs.c"],
            hgvs_p=hgvs["hgvs.p"],
            zygosity=zygosity,
            acmg_class=acmg,
            acmg_criteria=criteria,
            allele=allele,
            phase_evidence=phase_evidence,
            functional_evidence=functional,
        )
    except ValidationError as exc:
        names = {
            "gene": "gene_context.symbol",
            "chrom": "vcf_record.chrom",
            "pos": "vcf_record.pos",
            "ref": "vcf_record.ref",
            "alt": "vcf_record.alt",
        }
        names |= {
            "hgvs_c": "expressions",
            "hgvs_p": "expressions",
            "acmg_criteria": f"extensions[{EXT_ACMG_CRITERIA}]",
        }
        imp.validation(dwhere, exc, names)
        return None, None
    build = rec.genome_assembly.strip()
    return variant, _BUILD_ALIASES.get(build.lower(), build) or None


def phenopacket_to_case_parts(
    pp: Phenopacket, *, source: str = "<phenopacket>"
) -> tuple[DiagnosisFields, list[Phenotype], list[Variant]]:
    """Read a phenopacket back into the parts of a case: diagnosis fields, phenotypes, variants.

    Parameters
    ----------
    pp : Phenopacket
        A v2 phenopacket, from :func:`case_to_phenopacket` or another tool.
    source : str
        Name used in findings (the JSON file's path).

    Returns
    -------
    (DiagnosisFields, list of Phenotype, list of Variant)
        Turn the first into a case's ``diagnosis`` with :meth:`DiagnosisFields.diagnosis_for`.
        ``DiagnosisFields.ignored`` lists content that has no place in a case.

    Raises
    ------
    DossierError
        Every piece of content that cannot become a valid case, each naming its field: a subject
        without male/female sex, no or several diseases, non-HPO features, a variant without a VCF
        record, GENO allelic state or ACMG class.
    """
    imp = _Importer(source)
    imp.ignore_others(
        pp,
        "",
        {
            "id",
            "subject",
            "phenotypic_features",
            "interpretations",
            "diseases",
            "medical_actions",
            "meta_data",
        },
    )
    version = pp.meta_data.phenopacket_schema_version
    if version and not version.startswith("2"):
        imp.error("meta_data.phenopacket_schema_version", repr(version), "2.x (Phenopacket v2)")

    subject_id = pp.subject.id or pp.id
    if not pp.HasField("subject"):
        imp.error("subject", "no subject", "the individual (id and sex)")
    else:
        imp.ignore_others(pp.subject, "subject", {"id", "sex"})
    sex: Literal["male", "female"] | None = {Sex.MALE: "male", Sex.FEMALE: "female"}.get(
        pp.subject.sex
    )
    if pp.HasField("subject") and sex is None:
        imp.error("subject.sex", Sex.Name(pp.subject.sex), "MALE or FEMALE")

    phenotypes = []
    for i, feature in enumerate(pp.phenotypic_features):
        phenotype = _phenotype(imp, feature, f"phenotypic_features[{i}]")
        if phenotype is not None:
            phenotypes.append(phenotype)

    terms: dict[str, tuple[str, str]] = {}  # id -> (label, where)
    for i, disease in enumerate(pp.diseases):
        where = f"diseases[{i}]"
        if disease.excluded:
            imp.ignore(
                where,
                f"excluded disease {disease.term.id} (not imported)",
                "the diagnosed disease only",
            )
            continue
        imp.ignore_others(disease, where, {"term", "excluded"})
        terms.setdefault(disease.term.id, (disease.term.label, where))
    basis: Literal["molecular", "clinical"] = "clinical"
    variants: list[Variant] = []
    builds: dict[str, str] = {}
    for i, interpretation in enumerate(pp.interpretations):
        where = f"interpretations[{i}]"
        imp.ignore_others(interpretation, where, {"id", "progress_status", "diagnosis"})
        if interpretation.progress_status == Interpretation.SOLVED:
            basis = "molecular"
        if interpretation.HasField("diagnosis"):
            if interpretation.diagnosis.disease.id:
                terms.setdefault(
                    interpretation.diagnosis.disease.id,
                    (interpretation.diagnosis.disease.label, f"{where}.diagnosis.disease"),
                )
            for j, gi in enumerate(interpretation.diagnosis.genomic_interpretations):
                gwhere = f"{where}.diagnosis.genomic_interpretations[{j}]"
                variant, build = _variant(imp, gi, gwhere)
                if variant is not None:
                    variants.append(variant)
                if build is not None:
                    builds.setdefault(
                        build,
                        f"{gwhere}.variant_interpretation.variation_descriptor.vcf_record.genome_assembly",
                    )
    if not terms:
        imp.error(
            "diseases",
            "no disease",
            "one disease term (in diseases or an interpretation's diagnosis)",
        )
    elif len(terms) > 1:
        found = ", ".join(f"{t} at {w}" for t, (_, w) in terms.items())
        imp.error(
            "diseases",
            f"{len(terms)} diseases ({found})",
            "one: a pmpath case has one diagnosis",
        )
    if len(builds) > 1:
        imp.error(
            "vcf_record.genome_assembly",
            f"variants on several builds ({', '.join(f'{b} at {w}' for b, w in builds.items())})",
            "one",
        )

    age = None
    regimens = [
        (i, ma.therapeutic_regimen)
        for i, ma in enumerate(pp.medical_actions)
        if ma.HasField("therapeutic_regimen")
    ]
    ours = [(i, r) for i, r in regimens if r.external_reference.id.startswith(PRODUCT_PREFIX)]
    chosen = ours or (regimens if len(regimens) == 1 else [])
    for i, regimen in chosen[:1]:
        age = imp.age(regimen.start_time, f"medical_actions[{i}].therapeutic_regimen.start_time")
    for i, _ in enumerate(pp.medical_actions):
        if not chosen or i != chosen[0][0]:
            imp.ignore(
                f"medical_actions[{i}]",
                "a medical action other than the product's regimen (not imported)",
                "the product's therapeutic regimen only: the case's therapy is described in case.yaml",
            )

    if imp.errors:
        raise DossierError(imp.errors)
    (term, (label, _)) = next(iter(terms.items()))
    fields = DiagnosisFields(
        subject_id=subject_id,
        sex=sex,
        disease_term=term,
        disease_label=label,
        basis=basis,
        age_at_first_dose_years=age,
        genome_build=next(iter(builds), None),
        ignored=imp.ignored,
    )
    return fields, phenotypes, variants


# --------------------------------------------------------------------------- JSON files


def phenopacket_json(pp: Phenopacket) -> str:
    """Canonical JSON text: lowerCamelCase keys sorted, two-space indent, final newline."""
    return json_format.MessageToJson(pp, sort_keys=True, indent=2) + "\n"


def write_phenopacket(pp: Phenopacket, path: str | Path) -> None:
    """Write ``pp`` as JSON atomically; the same message always gives the same bytes."""
    atomic.write_bytes(Path(path), phenopacket_json(pp).encode("utf-8"))


def read_phenopacket(path: str | Path) -> Phenopacket:
    """Read a Phenopacket v2 JSON file; raises DossierError naming the file, line or field at fault."""
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DossierError(
            [Finding(name, None, "", "no such file", "a Phenopacket v2 JSON file")]
        ) from None
    except OSError as exc:
        raise DossierError(
            [
                Finding(
                    name,
                    None,
                    "",
                    f"a file that cannot be read ({exc.strerror})",
                    "a readable Phenopacket v2 JSON file",
                )
            ]
        ) from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DossierError(
            [
                Finding(
                    name,
                    raw.count(b"\n", 0, exc.start) + 1,
                    "",
                    f"bytes that are not UTF-8 ({exc.reason})",
                    "UTF-8 JSON",
                )
            ]
        ) from None
    except json.JSONDecodeError as exc:
        raise DossierError(
            [
                Finding(
                    name,
                    exc.lineno,
                    "",
                    f"malformed JSON ({exc.msg})",
                    "a Phenopacket v2 JSON object",
                    column=exc.colno,
                )
            ]
        ) from None
    if not isinstance(data, dict):
        raise DossierError(
            [
                Finding(
                    name,
                    1,
                    "",
                    f"a JSON {type(data).__name__}",
                    "a Phenopacket v2 JSON object",
                )
            ]
        )
    meta = data.get("metaData", data.get("meta_data"))
    version = (
        meta.get("phenopacketSchemaVersion", meta.get("phenopacket_schema_version"))
        if isinstance(meta, dict)
        else None
    )
    if (
        (isinstance(version, str) and version.startswith("1"))
        or "genes" in data
        or "variants" in data
    ):
        raise DossierError(
            [
                Finding(
                    name,
                    None,
                    "metaData.phenopacketSchemaVersion",
                    f"a Phenopacket v1 document (version {version!r})",
                    "v2: convert it with phenopacket-tools first",
                )
            ]
        )
    try:
        return json_format.ParseDict(data, Phenopacket())
    except json_format.ParseError as exc:
        message = " ".join(str(exc).split())
        m = re.search(r'no field named "([^"]+)" at "([^"]+)"', message)
        where = f"{m.group(2)}.{m.group(1)}" if m else ""
        raise DossierError(
            [
                Finding(
                    name,
                    None,
                    where,
                    f"content that does not match the Phenopacket v2 schema ({message})",
                    "a Phenopacket v2 JSON object (see phenopacket-schema.readthedocs.io)",
                )
            ]
        ) from None
