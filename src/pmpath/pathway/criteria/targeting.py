"""Criterion 2, the therapy targets the cause: does the guide or ASO act on the patient's variant?

Builds the patient's allele from the platform's reference FASTA and the targeted variant, then
checks a guide with :func:`pmpath.mechanism.verify_guide` (base editors, nucleases) or an ASO with
:func:`pmpath.mechanism.verify_aso`. The verdict's :class:`~pmpath.pathway.figures.AlignmentBlock`
holds the text alignment (lines) of the therapy against the patient's sequence, with the editing
window and variant marked.
"""

from __future__ import annotations

from typing import Any

from pmpath.dossier import PatientRecord
from pmpath.dossier.load import PLATFORM_FILE
from pmpath.dossier.model import EditorSpec, Modality
from pmpath.errors import AnalysisError, DossierError, UsageError
from pmpath.mechanism import (
    AsoVerification,
    Editor,
    FastaReference,
    GuideVerification,
    SequenceVariant,
    TargetSite,
    verify_aso,
    verify_guide,
)
from pmpath.mechanism.consequence import predict_consequence
from pmpath.mechanism.design import design_from_verification
from pmpath.mechanism.transcript import Annotation, Transcript, read_annotation
from pmpath.pathway.context import AssessmentContext
from pmpath.pathway.criteria.cause import variant_label
from pmpath.pathway.criteria.offtarget import review_offtargets
from pmpath.pathway.figures import AlignmentBlock
from pmpath.pathway.flags import Flag, FlagSeverity
from pmpath.pathway.results import BystanderEdit, Mismatch, Quantity, TargetingResult
from pmpath.pathway.verdict import CRITERION_NAMES, Status, Verdict

NUMBER = 2

# what each base editor converts when the platform's editor spec leaves it out
DEFAULT_CONVERSION = {
    Modality.adenine_base_editor: ("A", "G"),
    Modality.cytosine_base_editor: ("C", "T"),
}

GUIDE_METHOD = (
    "The patient's allele is built from the platform's reference FASTA around the targeted variant (ref allele "
    "checked, alt applied). The spacer is searched on both strands of that sequence, followed by the editor's PAM "
    "(IUPAC), counting mismatches (Hamming). Protospacer positions are counted from the PAM-distal end (1-based). "
    "Base editor: met when the spacer matches exactly next to a valid PAM, the variant lies in the editing window, "
    "and the patient's base there is the one the editor converts on the protospacer strand; mechanism 'corrects' "
    "when the conversion restores the reference allele, 'works_around' otherwise. Nuclease: met when the cut (3 bp "
    "upstream of the PAM) is within max_cut_distance bp of the variant; mechanism 'works_around' (disruption)."
)
ASO_METHOD = (
    "The patient's allele is built from the platform's reference FASTA around the targeted variant (ref allele "
    "checked, alt applied). The ASO's target RNA, its reverse complement, is searched on both strands; the strand "
    "where it lies is the gene's sense strand. Met when the ASO pairs exactly with the patient's allele and covers "
    "the variant (or, when the case declares therapy.acts_on, overlaps that site); mechanism 'works_around' "
    "(splice switching or knockdown leave the variant in place). When the variant lies under the ASO, mismatches "
    "against the reference allele are reported (allele selectivity)."
)


ANNOTATION_KEY = "mechanism/annotation"


def annotation_for(ctx: AssessmentContext) -> Annotation | None:
    """The transcript annotation for consequences: ``platform.annotation`` (a GFF3/GTF path) when the
    platform declares one, or an :class:`~pmpath.mechanism.transcript.Annotation` already placed in
    ``ctx.cache["mechanism/annotation"]``; None when there is neither."""
    if ANNOTATION_KEY not in ctx.cache:
        path = ctx.dossier.platform.annotation
        ctx.cache[ANNOTATION_KEY] = read_annotation(ctx.dossier.root / path) if path else None
    return ctx.cache[ANNOTATION_KEY]


def _transcript(
    annotation: Annotation, declared: Any, variant: SequenceVariant
) -> Transcript | None:
    """The transcript named by the variant's hgvs_c (``NM_x:c...``), else the one coding transcript of its gene there."""
    hgvs_c = declared.hgvs_c or ""
    if ":" in hgvs_c:
        try:
            return annotation[hgvs_c.split(":", 1)[0]]
        except KeyError:
            return None
    near = [
        t
        for t in annotation.overlapping(variant.chrom, variant.pos, variant.end)
        if t.gene == declared.gene and t.is_coding
    ]
    return near[0] if len(near) == 1 else None


def _consequences(
    result: GuideVerification | AsoVerification,
    reference: Any,
    transcript: Transcript,
    variant: SequenceVariant,
) -> tuple[str, str | None, list[BystanderEdit]]:
    """(variant consequence, edit consequence, bystanders with consequences) on ``transcript``."""
    variant_consequence = predict_consequence(transcript, reference, variant)
    if isinstance(result, AsoVerification):
        return variant_consequence.describe(), None, []
    design = design_from_verification(result, reference, transcript, "guide", variant_consequence)
    bystanders = [
        BystanderEdit(
            position=b.position,
            genomic_position=b.genomic_position,
            edit=b.edit,
            consequence=b.consequence.describe() if b.consequence else None,
        )
        for b in design.bystanders
    ]
    edit = design.consequence if result.status.value == "met" else None
    return variant_consequence.describe(), edit, bystanders


def _hgvs_disagreement(
    reference: Any,
    annotation: Annotation,
    hgvs_c: str,
    variant: SequenceVariant,
    transcript: Transcript,
) -> str | None:
    """A message when the case's hgvs_c does not name the same change as its chrom/pos/ref/alt."""
    from pmpath.mechanism.hgvs import HgvsMapper

    try:
        mapper = HgvsMapper(reference, annotation, "hgvs_c")
        stated = mapper.resolve(hgvs_c)
        computed = mapper.g_to_c(variant, transcript.id)
    except (DossierError, UsageError, AnalysisError) as exc:
        return f"hgvs_c {hgvs_c!r} cannot be checked: {exc}"
    if stated.g != computed.g:
        return (
            f"hgvs_c {hgvs_c!r} is {stated.g} on the reference, but chrom/pos/ref/alt give {computed.g} "
            f"({computed.c}); expected the same change"
        )
    return None


def reference_for(ctx: AssessmentContext) -> FastaReference:
    """The platform's reference FASTA, opened once per assessment."""
    key = "mechanism/reference_fasta"
    if key not in ctx.cache:
        ctx.cache[key] = FastaReference(ctx.dossier.root / ctx.dossier.platform.reference_fasta)
    return ctx.cache[key]


def _editor(modality: Modality, spec: EditorSpec | None, assumptions: list[str]) -> Editor:
    spec = spec or EditorSpec()
    edit_from, edit_to = spec.edit_from, spec.edit_to
    if modality in DEFAULT_CONVERSION and (edit_from is None or edit_to is None):
        edit_from, edit_to = DEFAULT_CONVERSION[modality]
        assumptions.append(
            f"the editor spec does not name its conversion; {edit_from}>{edit_to} assumed for {modality.value}"
        )
    if modality not in DEFAULT_CONVERSION:
        edit_from = edit_to = None
    return Editor(
        pam=spec.pam,
        protospacer_length=spec.protospacer_length,
        editing_window=tuple(spec.editing_window),
        edit_from=edit_from,
        edit_to=edit_to,
    )


def _guide_numbers(result: GuideVerification) -> dict[str, Any]:
    hit, editor = result.hit, result.editor
    numbers: dict[str, Any] = {
        "pam_pattern": editor.pam,
        "protospacer_length": editor.protospacer_length,
        "spacer_length": len(result.spacer),
        "n_perfect_hits": len(result.perfect_hits),
        "variant_positions": list(result.variant_positions),
        "mechanism_class": result.mechanism_class.value if result.mechanism_class else None,
    }
    if hit is not None:
        numbers.update(
            {
                "strand": hit.strand,
                "chrom": hit.chrom,
                "protospacer_start": hit.protospacer_start,
                "protospacer_end": hit.protospacer_end,
                "pam": hit.pam,
                "pam_start": hit.pam_start,
                "pam_end": hit.pam_end,
                "pam_matches": hit.pam_matches,
                "n_mismatches": len(hit.mismatches),
                "mismatches": [
                    {
                        "position": m.position,
                        "guide": m.guide_base,
                        "target": m.target_base,
                        "genomic_position": m.genomic_position,
                    }
                    for m in hit.mismatches
                ],
            }
        )
    if editor.is_base_editor:
        numbers.update(
            {
                "edit": f"{editor.edit_from}>{editor.edit_to}",
                "editing_window": list(editor.editing_window),
                "in_window": result.in_window,
                "variant_bases": result.variant_bases,
                "reference_bases": result.reference_bases,
                "restores_reference": result.restores_reference,
                "bystander_positions": [b.position for b in result.bystanders],
                "n_bystanders": len(result.bystanders),
                "edited_protospacer": result.edited_protospacer,
            }
        )
    else:
        numbers.update(
            {"cut_distance": result.cut_distance, "max_cut_distance": editor.max_cut_distance}
        )
    if result.reference_hit is not None:
        numbers["reference_allele_mismatches"] = len(result.reference_hit.mismatches)
        numbers["reference_allele_pam_matches"] = result.reference_hit.pam_matches
    return numbers


def _aso_numbers(result: AsoVerification) -> dict[str, Any]:
    hit = result.hit
    numbers: dict[str, Any] = {
        "aso_length": len(result.aso),
        "gene_strand": result.gene_strand,
        "strand_inferred": result.strand_inferred,
        "n_perfect_hits": len(result.perfect_hits),
        "covers_variant": result.covers_variant,
        "variant_positions": list(result.variant_positions),
        "mechanism_class": result.mechanism_class.value if result.mechanism_class else None,
        "allele_selective": result.allele_selective,
        "reference_allele_mismatches": None
        if result.reference_mismatches is None
        else len(result.reference_mismatches),
    }
    if hit is not None:
        numbers.update(
            {
                "chrom": hit.chrom,
                "binding_start": hit.start,
                "binding_end": hit.end,
                "target": hit.target,
                "n_mismatches": len(hit.mismatches),
                "mismatches": [
                    {
                        "position": m.position,
                        "aso": m.aso_base,
                        "target": m.target_base,
                        "genomic_position": m.genomic_position,
                    }
                    for m in hit.mismatches
                ],
            }
        )
    if result.site is not None:
        numbers.update(
            {
                "site": f"{result.site.chrom}:{result.site.start}-{result.site.end}",
                "site_description": result.site.description,
                "site_overlap": result.site_overlap,
            }
        )
    return numbers


def evaluate(ctx: AssessmentContext, patient: PatientRecord) -> Verdict:
    """Criterion 2 for ``patient``."""
    platform = ctx.dossier.platform
    therapy = patient.case.therapy
    modality = platform.modality
    is_aso = modality in (Modality.splice_switching_aso, Modality.gapmer_aso)
    evidence = ctx.evidence(
        PLATFORM_FILE,
        platform.reference_fasta,
        *([platform.annotation] if platform.annotation else []),
        *ctx.patient_files(patient, "case", "variants_vcf", "offtarget"),
    )
    assumptions = [
        f"coordinates are on {platform.genome_build}, the build of {platform.reference_fasta}"
    ]
    method = ASO_METHOD if is_aso else GUIDE_METHOD

    def verdict(status: Status, summary: str, **extra: Any) -> Verdict:
        return Verdict(
            number=NUMBER,
            name=CRITERION_NAMES[NUMBER],
            status=status,
            summary=summary,
            method=method,
            assumptions=assumptions,
            evidence=evidence,
            **extra,
        )

    if therapy.target_variant >= len(patient.variants):
        return verdict(
            Status.insufficient,
            f"therapy.target_variant is {therapy.target_variant} but the case declares {len(patient.variants)} variant(s)",
        )
    declared = patient.variants[therapy.target_variant]
    flags: list[Flag] = []

    def flag(kind: str, severity: FlagSeverity, message: str) -> None:
        flags.append(Flag(kind=kind, severity=severity, message=message, criterion=NUMBER))

    disease = platform.disease(patient.case.diagnosis.disease)
    if disease is not None and declared.gene != disease.gene:
        flag(
            "target_outside_disease_gene",
            FlagSeverity.warning,
            f"the targeted variant is in {declared.gene}, not in the disease's gene {disease.gene}",
        )
    label = variant_label(declared)
    try:
        variant = SequenceVariant(declared.chrom, declared.pos, declared.ref, declared.alt)
        reference = reference_for(ctx)
        if is_aso:
            site = therapy.acts_on
            acts_on = (
                TargetSite(site.chrom, site.start, site.end, site.description) if site else None
            )
            result: GuideVerification | AsoVerification = verify_aso(
                reference, variant, therapy.targeting_sequence, acts_on
            )
            numbers = _aso_numbers(result)
            if (
                modality == Modality.gapmer_aso
                and result.hit is not None
                and not result.covers_variant
            ):
                flag(
                    "not_allele_specific",
                    FlagSeverity.caveat,
                    "the gapmer binds away from the variant, so it pairs with the reference allele too: it would knock down both alleles",
                )
            if result.gene_strand is not None and result.strand_inferred:
                assumptions.append(
                    f"gene strand inferred as {result.gene_strand} from where the ASO's target lies"
                )
        else:
            editor = _editor(modality, platform.editor, assumptions)
            result = verify_guide(reference, variant, therapy.targeting_sequence, editor)
            numbers = _guide_numbers(result)
            if not editor.is_base_editor:
                assumptions.append(
                    f"a nuclease counts as acting on the variant when it cuts within {editor.max_cut_distance} bp of it (NHEJ indels cluster at the cut)"
                )
    except AnalysisError as exc:
        return verdict(Status.insufficient, str(exc), flags=flags)

    numbers["target_variant"] = label
    status = Status(result.status.value)
    summary = f"{label}: {result.reason}"
    legend: list[str] = []
    try:
        annotation = annotation_for(ctx)
    except DossierError as exc:
        annotation = None
        flag("annotation_unreadable", FlagSeverity.warning, str(exc))
    transcript = _transcript(annotation, declared, variant) if annotation is not None else None
    if annotation is None:
        assumptions.append(
            "no transcript annotation: the consequences of the variant, the edit and the bystanders are not predicted"
        )
    elif transcript is None:
        flag(
            "transcript_unknown",
            FlagSeverity.info,
            f"no single coding transcript of {declared.gene} covers {label}; name it in hgvs_c (NM_x:c...)",
        )
    else:
        try:
            variant_text, edit_text, bystanders = _consequences(
                result, reference, transcript, variant
            )
        except (AnalysisError, UsageError) as exc:
            flag("consequence_not_predicted", FlagSeverity.info, str(exc))
        else:
            numbers.update(
                transcript=transcript.id,
                variant_consequence=variant_text,
                edit_consequence=edit_text,
                bystanders=bystanders,
            )
            summary += f"; on {transcript.id} the variant is {variant_text}"
            if numbers.get("mechanism_class"):
                summary += f"; mechanism {numbers['mechanism_class'].replace('_', ' ')}"
            if edit_text:
                summary += f": {edit_text}"
            if bystanders:
                summary += "; bystanders: " + ", ".join(
                    f"{b.position} {b.edit} {b.consequence or 'not predicted'}" for b in bystanders
                )
            legend.append(f"variant: {variant_text} on {transcript.id}")
            if declared.hgvs_c and ":" in declared.hgvs_c:
                hgvs_note = _hgvs_disagreement(
                    reference, annotation, declared.hgvs_c, variant, transcript
                )
                if hgvs_note:
                    flag("hgvs_mismatch", FlagSeverity.warning, hgvs_note)
            legend += [
                f"bystander b at position {b.position} ({b.genomic_position}) {b.edit}: {b.consequence or 'not predicted'}"
                for b in bystanders
            ]
    if modality == Modality.prime_editor:
        # the spacer is located like a nuclease's; the correction itself is written in the pegRNA's template
        for n in result.notes:
            if not n.startswith("nuclease"):
                flag("targeting_note", FlagSeverity.info, n)
        numbers["mechanism_class"] = None
        if isinstance(result, GuideVerification) and result.perfect_hits:
            status = Status.insufficient
            summary = (
                f"{label}: the spacer matches the patient's allele with its nick {result.cut_distance} bp from the variant, "
                "but whether the edit corrects it depends on the pegRNA's template, which the dossier does not carry"
            )
    else:
        for n in result.notes:
            flag("targeting_note", FlagSeverity.info, n)
    alignment = result.alignment_lines()
    typed = _typed(numbers, is_aso, modality, alignment)
    review = review_offtargets(patient, declared, platform.analysis_plan.targeting, NUMBER)
    if review is not None:
        flags.extend(review.flags)
        typed = typed.model_copy(update={"offtarget": review.summary})
        if review.fails_rule and status == Status.met:
            status = Status.not_met
            summary += (
                f"; {len(review.summary.flagged)} flagged off-target site(s), and the plan's "
                "offtarget_rule is not_met"
            )
    return verdict(
        status,
        summary,
        flags=flags,
        figures=[AlignmentBlock(lines=alignment, legend=legend)] if alignment else [],
        result=typed,
    )


def _typed(
    numbers: dict[str, Any], is_aso: bool, modality: Modality, alignment: list[str]
) -> TargetingResult:
    """The verification's numbers (``_guide_numbers``, ``_aso_numbers``) as a typed result."""
    start = numbers.get("binding_start" if is_aso else "protospacer_start")
    end = numbers.get("binding_end" if is_aso else "protospacer_end")
    strand = "" if is_aso else f" ({numbers.get('strand')})"
    location = f"{numbers['chrom']}:{start}-{end}{strand}" if "chrom" in numbers else None
    cut = numbers.get("cut_distance")
    return TargetingResult(
        target_variant=numbers["target_variant"],
        molecule="ASO" if is_aso else "guide",
        modality=modality.value,
        n_perfect_hits=numbers["n_perfect_hits"],
        n_mismatches=numbers.get("n_mismatches"),
        location=location,
        mechanism_class=numbers.get("mechanism_class"),
        cut_distance=None if cut is None else Quantity.of(cut, "bp"),
        in_window=numbers.get("in_window"),
        restores_reference=numbers.get("restores_reference"),
        bystander_positions=numbers.get("bystander_positions", []),
        covers_variant=numbers.get("covers_variant"),
        allele_selective=numbers.get("allele_selective"),
        reference_allele_mismatches=numbers.get("reference_allele_mismatches"),
        chrom=numbers.get("chrom"),
        start=start,
        end=end,
        strand=numbers.get("strand"),
        pam=numbers.get("pam"),
        pam_matches=numbers.get("pam_matches"),
        mismatches=[
            Mismatch(
                position=m["position"],
                therapy_base=m["aso" if is_aso else "guide"],
                target_base=m["target"],
                genomic_position=m.get("genomic_position"),
            )
            for m in numbers.get("mismatches", [])
        ],
        variant_positions=numbers.get("variant_positions", []),
        edit=numbers.get("edit"),
        editing_window=numbers.get("editing_window", []),
        max_cut_distance=None
        if numbers.get("max_cut_distance") is None
        else Quantity.of(numbers["max_cut_distance"], "bp"),
        gene_strand=numbers.get("gene_strand"),
        strand_inferred=numbers.get("strand_inferred"),
        site=numbers.get("site"),
        site_description=numbers.get("site_description"),
        site_overlap=numbers.get("site_overlap"),
        alignment=list(alignment),
        transcript=numbers.get("transcript"),
        variant_consequence=numbers.get("variant_consequence"),
        edit_consequence=numbers.get("edit_consequence"),
        bystanders=numbers.get("bystanders", []),
    )
