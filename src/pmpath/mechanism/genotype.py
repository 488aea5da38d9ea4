"""Criterion 1: is the patient's genotype in the disease gene the one its inheritance predicts?

The rules are a table (:data:`GENOTYPE_RULES`) so the methods document can print it and each
assessment names the row it applied. Only calls in the disease gene count; benign and likely
benign calls are set aside. A variant of uncertain significance (VUS) counts like a likely
pathogenic one when it has functional evidence of loss of function (a ``functional_evidence`` entry
or an ACMG PS3 criterion at any strength); without it, a VUS that would complete the genotype makes
the assessment ``insufficient``. Phase counts as known when two calls have different phase groups
and each names its phase evidence (parental testing, long reads, read-backed phasing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from pmpath.errors import UsageError
from pmpath.mechanism.status import CheckStatus

INHERITANCE = (
    "autosomal_recessive",
    "autosomal_dominant",
    "x_linked",
    "x_linked_recessive",
    "x_linked_dominant",
)
ACMG_CLASSES = (
    "pathogenic",
    "likely_pathogenic",
    "uncertain_significance",
    "likely_benign",
    "benign",
)
ZYGOSITIES = ("heterozygous", "homozygous", "hemizygous")
PHASE_EVIDENCE = ("parental_testing", "long_read", "read_backed", "none")


@dataclass(frozen=True)
class AlleleCall:
    """One variant call as criterion 1 sees it.

    Parameters
    ----------
    gene
        HGNC symbol.
    acmg_class
        ``pathogenic``, ``likely_pathogenic``, ``uncertain_significance``, ``likely_benign`` or ``benign``.
    zygosity
        ``heterozygous``, ``homozygous`` or ``hemizygous``.
    phase_group
        1 or 2: calls with different groups are on different chromosomes (in trans); None: unknown.
    phase_evidence
        How the phase was established: ``parental_testing``, ``long_read``, ``read_backed`` or ``none``.
    functional_evidence
        Assay showing loss of function (lets a VUS count as pathogenic).
    acmg_criteria
        ACMG/AMP codes met, e.g. ``("PVS1", "PM2_Supporting")``.
    label
        How reports name the call (HGVS, or chrom:pos ref>alt).
    """

    gene: str
    acmg_class: str
    zygosity: str
    phase_group: int | None = None
    phase_evidence: str = "none"
    functional_evidence: str | None = None
    acmg_criteria: tuple[str, ...] = ()
    label: str = ""

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("acmg_class", self.acmg_class, ACMG_CLASSES),
            ("zygosity", self.zygosity, ZYGOSITIES),
            ("phase_evidence", self.phase_evidence, PHASE_EVIDENCE),
        ):
            if value not in allowed:
                raise UsageError(
                    f"allele call {self.label or self.gene}: {name} {value!r}, expected one of {', '.join(allowed)}"
                )
        if self.phase_group not in (None, 1, 2):
            raise UsageError(
                f"allele call {self.label or self.gene}: phase_group {self.phase_group!r}, expected 1, 2 or None"
            )
        object.__setattr__(self, "acmg_criteria", tuple(self.acmg_criteria))

    @property
    def name(self) -> str:
        return self.label or f"{self.gene} {self.acmg_class} {self.zygosity}"

    @property
    def has_functional_evidence(self) -> bool:
        return bool(self.functional_evidence) or any(
            c.split("_")[0] == "PS3" for c in self.acmg_criteria
        )

    @property
    def role(self) -> str:
        """``pathogenic`` (P/LP, or VUS with functional evidence), ``uncertain`` or ``benign``."""
        if self.acmg_class in ("pathogenic", "likely_pathogenic"):
            return "pathogenic"
        if self.acmg_class == "uncertain_significance":
            return "pathogenic" if self.has_functional_evidence else "uncertain"
        return "benign"

    @property
    def phased(self) -> bool:
        return self.phase_group is not None and self.phase_evidence != "none"


@dataclass(frozen=True)
class GenotypeRule:
    """One row of the genotype rules: when it applies and the status it gives."""

    id: str
    inheritance: str  # "any", one mode, or several separated by " / "
    sex: str  # "any", "male" or "female"
    genotype: str
    status: CheckStatus
    rationale: str


_AR, _AD = "autosomal_recessive", "autosomal_dominant"
_XL_ALL = "x_linked / x_linked_recessive / x_linked_dominant"
_MET, _NOT, _INS = CheckStatus.met, CheckStatus.not_met, CheckStatus.insufficient

GENOTYPE_RULES: tuple[GenotypeRule, ...] = (
    GenotypeRule(
        "clinical_basis",
        "any",
        "any",
        "diagnosis made on clinical grounds only",
        _NOT,
        "no molecular cause was identified",
    ),
    GenotypeRule(
        "no_variant_in_gene",
        "any",
        "any",
        "no variant in the disease's gene",
        _NOT,
        "the variants found are not in the gene that causes the disease",
    ),
    GenotypeRule(
        "benign_only",
        "any",
        "any",
        "only benign / likely benign variants in the gene",
        _NOT,
        "benign variants do not cause disease",
    ),
    GenotypeRule(
        "hemizygous_autosomal",
        f"{_AR} / {_AD}",
        "any",
        "a hemizygous call in an autosomal gene",
        _NOT,
        "inconsistent call: an autosome has two copies; a deletion of the other copy must be declared as its own variant",
    ),
    GenotypeRule(
        "hemizygous_female",
        _XL_ALL,
        "female",
        "a hemizygous call on the X",
        _NOT,
        "inconsistent call: a female has two X chromosomes",
    ),
    GenotypeRule(
        "male_x_not_hemizygous",
        _XL_ALL,
        "male",
        "a heterozygous or homozygous call on the X",
        _NOT,
        "inconsistent call: a male has one X (outside the pseudoautosomal regions); mosaicism must be declared separately",
    ),
    GenotypeRule(
        "ar_homozygous", _AR, "any", "homozygous P/LP", _MET, "both copies carry the variant"
    ),
    GenotypeRule(
        "ar_in_trans",
        _AR,
        "any",
        "two heterozygous P/LP in trans (different phase groups, each with phase evidence)",
        _MET,
        "compound heterozygous: each copy carries one variant",
    ),
    GenotypeRule(
        "ar_phase_unknown",
        _AR,
        "any",
        "two or more heterozygous P/LP, phase not established",
        _INS,
        "in cis they would leave one copy intact; phasing (parental testing, long reads) decides",
    ),
    GenotypeRule(
        "ar_in_cis",
        _AR,
        "any",
        "heterozygous P/LP all known to be in cis",
        _NOT,
        "one copy carries both variants, the other is intact: a carrier genotype",
    ),
    GenotypeRule(
        "ar_single",
        _AR,
        "any",
        "one heterozygous P/LP",
        _NOT,
        "a carrier genotype; a second variant not yet classified should be added to the dossier (as a VUS it makes the verdict insufficient)",
    ),
    GenotypeRule(
        "ad_heterozygous",
        _AD,
        "any",
        "heterozygous P/LP",
        _MET,
        "one altered copy suffices in dominant disease",
    ),
    GenotypeRule(
        "ad_homozygous",
        _AD,
        "any",
        "homozygous P/LP",
        _MET,
        "consistent with dominant disease (often more severe)",
    ),
    GenotypeRule(
        "xl_male_hemizygous",
        _XL_ALL,
        "male",
        "hemizygous P/LP",
        _MET,
        "the single X carries the variant",
    ),
    GenotypeRule(
        "xl_female_heterozygous",
        "x_linked / x_linked_dominant",
        "female",
        "heterozygous P/LP",
        _MET,
        "one altered X suffices in dominant (or unspecified) X-linked disease",
    ),
    GenotypeRule(
        "xl_female_homozygous",
        _XL_ALL,
        "female",
        "homozygous P/LP",
        _MET,
        "both X chromosomes carry the variant",
    ),
    GenotypeRule(
        "xlr_female_in_trans",
        "x_linked_recessive",
        "female",
        "two heterozygous P/LP in trans (with phase evidence)",
        _MET,
        "both X chromosomes carry a variant",
    ),
    GenotypeRule(
        "xlr_female_phase_unknown",
        "x_linked_recessive",
        "female",
        "two or more heterozygous P/LP, phase not established",
        _INS,
        "phasing decides whether both X chromosomes are affected",
    ),
    GenotypeRule(
        "xlr_female_heterozygous",
        "x_linked_recessive",
        "female",
        "heterozygous P/LP on one X, no evidence of skewed X-inactivation",
        _INS,
        "a heterozygous female with recessive X-linked disease needs skewed X-inactivation evidence to explain it",
    ),
    GenotypeRule(
        "xlr_female_skewed",
        "x_linked_recessive",
        "female",
        "heterozygous P/LP on one X with skewed X-inactivation evidence",
        _MET,
        "skewed X-inactivation silences the intact X",
    ),
    GenotypeRule(
        "vus_completes",
        "any",
        "any",
        "the expected genotype is complete only if a VUS without functional evidence is counted",
        _INS,
        "a functional assay (ACMG PS3) for the VUS would decide",
    ),
    GenotypeRule(
        "no_pathogenic",
        "any",
        "any",
        "no P/LP call, and the VUS could not complete the genotype",
        _NOT,
        "no variant explains the disease",
    ),
)

_RULES = {rule.id: rule for rule in GENOTYPE_RULES}


@dataclass(frozen=True)
class GenotypeAssessment:
    """The result of :func:`genotype_consistent`: status, the rule row applied, and the counts behind it."""

    status: CheckStatus
    rule: GenotypeRule
    reason: str
    disease_gene: str
    inheritance: str
    sex: str
    n_in_gene: int  # calls in the disease gene
    n_pathogenic: int  # calls counted as P/LP (including VUS with functional evidence)
    n_pathogenic_copies: int  # allele copies they account for (a homozygous call counts twice)
    n_functional_vus: int
    n_uncertain: int  # VUS without functional evidence
    n_benign: int
    n_other_genes: int
    counted: tuple[str, ...] = ()  # labels of the calls counted as P/LP
    uncertain: tuple[str, ...] = ()
    other_genes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-able summary."""
        return {
            "status": self.status.value,
            "rule": self.rule.id,
            "disease_gene": self.disease_gene,
            "inheritance": self.inheritance,
            "sex": self.sex,
            "n_in_gene": self.n_in_gene,
            "n_pathogenic": self.n_pathogenic,
            "n_pathogenic_copies": self.n_pathogenic_copies,
            "n_functional_vus": self.n_functional_vus,
            "n_uncertain": self.n_uncertain,
            "n_benign": self.n_benign,
            "n_other_genes": self.n_other_genes,
            "counted": list(self.counted),
            "uncertain": list(self.uncertain),
            "other_genes": list(self.other_genes),
        }


def _expected(calls: Sequence[AlleleCall], inheritance: str, sex: str, skewed: bool) -> str:
    """Id of the rule the calls (taken as pathogenic) satisfy or fail; the caller maps it to a status."""
    if not calls:
        return "no_pathogenic"
    zyg = {c.zygosity for c in calls}
    x_linked = inheritance.startswith("x_linked")
    if x_linked and sex == "male":
        return "xl_male_hemizygous"  # calls other than hemizygous were rejected as inconsistent
    if inheritance == _AD:
        return "ad_heterozygous" if "heterozygous" in zyg else "ad_homozygous"
    if x_linked and inheritance != "x_linked_recessive":
        return "xl_female_heterozygous" if "heterozygous" in zyg else "xl_female_homozygous"
    prefix = "ar" if inheritance == _AR else "xlr_female"
    if "homozygous" in zyg:
        return "xl_female_homozygous" if x_linked else "ar_homozygous"
    hets = [c for c in calls if c.zygosity == "heterozygous"]
    if len(hets) >= 2:
        if any(
            a.phased and b.phased and a.phase_group != b.phase_group
            for a, b in combinations(hets, 2)
        ):
            return f"{prefix}_in_trans"
        if not all(c.phased for c in hets):
            return f"{prefix}_phase_unknown"
        # all phased, all in one group: in cis
        if not x_linked:
            return "ar_in_cis"
    if not x_linked:
        return "ar_single"
    return "xlr_female_skewed" if skewed else "xlr_female_heterozygous"


def genotype_consistent(
    disease_gene: str,
    inheritance: str,
    sex: str,
    alleles: Sequence[AlleleCall],
    diagnosis_basis: str = "molecular",
    *,
    skewed_x_inactivation: bool = False,
) -> GenotypeAssessment:
    """Whether the calls in ``disease_gene`` give the genotype its inheritance predicts.

    Parameters
    ----------
    disease_gene
        HGNC symbol of the disease's gene.
    inheritance
        ``autosomal_recessive``, ``autosomal_dominant``, ``x_linked``, ``x_linked_recessive`` or
        ``x_linked_dominant`` (``x_linked`` alone is read as dominant for females).
    sex
        ``male`` or ``female``.
    alleles
        All the patient's calls; those in other genes are counted but not used.
    diagnosis_basis
        ``molecular`` or ``clinical``; a clinical diagnosis alone is ``not_met``.
    skewed_x_inactivation
        Evidence of skewed X-inactivation (females with recessive X-linked disease only).

    Returns
    -------
    GenotypeAssessment
        ``met``, ``not_met`` or ``insufficient`` with the rule row from :data:`GENOTYPE_RULES`.
    """
    if inheritance not in INHERITANCE:
        raise UsageError(
            f"inheritance: found {inheritance!r}, expected one of {', '.join(INHERITANCE)}"
        )
    if sex not in ("male", "female"):
        raise UsageError(f"sex: found {sex!r}, expected 'male' or 'female'")
    if diagnosis_basis not in ("molecular", "clinical"):
        raise UsageError(
            f"diagnosis_basis: found {diagnosis_basis!r}, expected 'molecular' or 'clinical'"
        )
    in_gene = [a for a in alleles if a.gene == disease_gene]
    others = [a for a in alleles if a.gene != disease_gene]
    strict = [a for a in in_gene if a.role == "pathogenic"]
    uncertain = [a for a in in_gene if a.role == "uncertain"]
    candidates = strict + uncertain

    def result(rule_id: str, reason: str) -> GenotypeAssessment:
        rule = _RULES[rule_id]
        return GenotypeAssessment(
            status=rule.status,
            rule=rule,
            reason=reason,
            disease_gene=disease_gene,
            inheritance=inheritance,
            sex=sex,
            n_in_gene=len(in_gene),
            n_pathogenic=len(strict),
            n_pathogenic_copies=sum(2 if a.zygosity == "homozygous" else 1 for a in strict),
            n_functional_vus=sum(a.acmg_class == "uncertain_significance" for a in strict),
            n_uncertain=len(uncertain),
            n_benign=len(in_gene) - len(candidates),
            n_other_genes=len(others),
            counted=tuple(a.name for a in strict),
            uncertain=tuple(a.name for a in uncertain),
            other_genes=tuple(sorted({a.gene for a in others})),
        )

    def names(calls: Sequence[AlleleCall]) -> str:
        return ", ".join(a.name for a in calls)

    if diagnosis_basis == "clinical":
        return result(
            "clinical_basis", "the diagnosis is clinical only; no molecular cause is declared"
        )
    if not in_gene:
        found = (
            f"variants in {', '.join(sorted({a.gene for a in others}))}"
            if others
            else "no variants"
        )
        return result("no_variant_in_gene", f"found {found}, expected a variant in {disease_gene}")
    if not candidates:
        return result(
            "benign_only",
            f"only benign or likely benign variants in {disease_gene}: {names(in_gene)}",
        )

    x_linked = inheritance.startswith("x_linked")
    for a in candidates:
        if not x_linked and a.zygosity == "hemizygous":
            return result(
                "hemizygous_autosomal",
                f"{a.name} is called hemizygous, expected heterozygous or homozygous in the autosomal gene {disease_gene}",
            )
        if x_linked and sex == "female" and a.zygosity == "hemizygous":
            return result(
                "hemizygous_female",
                f"{a.name} is called hemizygous in a female, expected heterozygous or homozygous",
            )
        if x_linked and sex == "male" and a.zygosity != "hemizygous":
            return result(
                "male_x_not_hemizygous",
                f"{a.name} is called {a.zygosity} in a male, expected hemizygous on the X",
            )

    strict_rule = _expected(strict, inheritance, sex, skewed_x_inactivation)
    if _RULES[strict_rule].status == _MET:
        return result(
            strict_rule,
            f"{_RULES[strict_rule].genotype} in {disease_gene} ({inheritance}, {sex}): {names(strict)}",
        )
    if _RULES[strict_rule].status == _INS:
        return result(
            strict_rule,
            f"{_RULES[strict_rule].genotype} in {disease_gene}: {names(strict)}; {_RULES[strict_rule].rationale}",
        )
    if (
        uncertain
        and _RULES[_expected(candidates, inheritance, sex, skewed_x_inactivation)].status != _NOT
    ):
        return result(
            "vus_completes",
            f"the genotype is complete only if {names(uncertain)} (VUS without functional evidence) is pathogenic",
        )
    detail = names(strict) or "none"
    if uncertain:
        detail += f"; VUS: {names(uncertain)}"
    return result(
        strict_rule,
        f"{_RULES[strict_rule].genotype} in {disease_gene} ({inheritance}): P/LP {detail}; {_RULES[strict_rule].rationale}",
    )
