"""Every row of the genotype rules table (criterion 1), each with a case built to reach it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmpath.mechanism import GENOTYPE_RULES, AlleleCall, CheckStatus, genotype_consistent

AR, AD = "autosomal_recessive", "autosomal_dominant"
XL, XLR, XLD = "x_linked", "x_linked_recessive", "x_linked_dominant"


def call(
    cls: str = "pathogenic", zyg: str = "heterozygous", gene: str = "GENE1", **kw
) -> AlleleCall:
    return AlleleCall(gene=gene, acmg_class=cls, zygosity=zyg, **kw)


def trans(
    group: int, cls: str = "pathogenic", evidence: str = "parental_testing", **kw
) -> AlleleCall:
    return call(cls, "heterozygous", phase_group=group, phase_evidence=evidence, **kw)


# (rule id, inheritance, sex, calls, basis, skewed X) -> expected status comes from the table row
CASES = {
    "clinical_basis": [(AR, "male", [call(zyg="homozygous")], "clinical", False)],
    "no_variant_in_gene": [
        (AD, "female", [call(gene="OTHER")], "molecular", False),
        (AR, "male", [], "molecular", False),
    ],
    "benign_only": [(AD, "male", [call("benign"), call("likely_benign")], "molecular", False)],
    "hemizygous_autosomal": [(AD, "male", [call(zyg="hemizygous")], "molecular", False)],
    "hemizygous_female": [(XL, "female", [call(zyg="hemizygous")], "molecular", False)],
    "male_x_not_hemizygous": [
        (XLR, "male", [call()], "molecular", False),
        (XLD, "male", [call(zyg="homozygous")], "molecular", False),
    ],
    "ar_homozygous": [
        (AR, "female", [call("likely_pathogenic", "homozygous")], "molecular", False)
    ],
    "ar_in_trans": [
        (AR, "male", [trans(1), trans(2, "likely_pathogenic", "long_read")], "molecular", False),
        # a VUS with functional evidence counts like LP, by an assay or by ACMG PS3
        (
            AR,
            "male",
            [
                trans(1),
                trans(
                    2, "uncertain_significance", functional_evidence="enzyme activity 2% of normal"
                ),
            ],
            "molecular",
            False,
        ),
        (
            AR,
            "male",
            [trans(1), trans(2, "uncertain_significance", acmg_criteria=("PS3_Moderate", "PM2"))],
            "molecular",
            False,
        ),
    ],
    "ar_phase_unknown": [
        (AR, "male", [call(), call()], "molecular", False),
        (
            AR,
            "male",
            [trans(1, evidence="none"), trans(2, evidence="none")],
            "molecular",
            False,
        ),  # groups without evidence
    ],
    "ar_in_cis": [(AR, "female", [trans(1), trans(1)], "molecular", False)],
    "ar_single": [(AR, "female", [call(), call("benign")], "molecular", False)],
    "ad_heterozygous": [(AD, "female", [call(), call(gene="OTHER")], "molecular", False)],
    "ad_homozygous": [(AD, "female", [call(zyg="homozygous")], "molecular", False)],
    "xl_male_hemizygous": [
        (mode, "male", [call(zyg="hemizygous")], "molecular", False) for mode in (XL, XLR, XLD)
    ],
    "xl_female_heterozygous": [
        (XL, "female", [call()], "molecular", False),
        (XLD, "female", [call()], "molecular", False),
    ],
    "xl_female_homozygous": [(XLR, "female", [call(zyg="homozygous")], "molecular", False)],
    "xlr_female_in_trans": [(XLR, "female", [trans(1), trans(2)], "molecular", False)],
    "xlr_female_phase_unknown": [(XLR, "female", [call(), call()], "molecular", False)],
    "xlr_female_heterozygous": [
        (XLR, "female", [call()], "molecular", False),
        (XLR, "female", [trans(2), trans(2)], "molecular", False),
    ],
    "xlr_female_skewed": [(XLR, "female", [call()], "molecular", True)],
    "vus_completes": [
        (AR, "male", [trans(1), trans(2, "uncertain_significance")], "molecular", False),
        (AD, "male", [call("uncertain_significance")], "molecular", False),
        (XL, "male", [call("uncertain_significance", "hemizygous")], "molecular", False),
        (
            AR,
            "male",
            [call(), call("uncertain_significance")],
            "molecular",
            False,
        ),  # would still need phase
    ],
    "no_pathogenic": [(AR, "male", [call("uncertain_significance")], "molecular", False)],
}

PARAMS = [
    pytest.param(rule_id, *case, id=f"{rule_id}-{i}")
    for rule_id, cases in CASES.items()
    for i, case in enumerate(cases)
]
RULES = {r.id: r for r in GENOTYPE_RULES}


def test_every_rule_row_has_a_case() -> None:
    assert set(CASES) == set(RULES)


@pytest.mark.parametrize(("rule_id", "inheritance", "sex", "calls", "basis", "skewed"), PARAMS)
def test_rule_row(rule_id, inheritance, sex, calls, basis, skewed) -> None:
    result = genotype_consistent(
        "GENE1", inheritance, sex, calls, basis, skewed_x_inactivation=skewed
    )
    assert result.rule.id == rule_id, result.reason
    assert result.status == RULES[rule_id].status


def test_rule_statuses_as_documented() -> None:
    met = {r.id for r in GENOTYPE_RULES if r.status == CheckStatus.met}
    insufficient = {r.id for r in GENOTYPE_RULES if r.status == CheckStatus.insufficient}
    assert met == {
        "ar_homozygous", "ar_in_trans", "ad_heterozygous", "ad_homozygous", "xl_male_hemizygous",
        "xl_female_heterozygous", "xl_female_homozygous", "xlr_female_in_trans", "xlr_female_skewed",
    }  # fmt: skip
    assert insufficient == {
        "ar_phase_unknown",
        "xlr_female_phase_unknown",
        "xlr_female_heterozygous",
        "vus_completes",
    }


def test_counts() -> None:
    calls = [
        call(zyg="homozygous", label="c.1A>G"),
        call("uncertain_significance", functional_evidence="assay", label="c.2A>G"),
        call("uncertain_significance", label="c.3A>G"),
        call("benign", label="c.4A>G"),
        call(gene="OTHER", label="x"),
    ]
    r = genotype_consistent("GENE1", AR, "male", calls)
    assert r.rule.id == "ar_homozygous"
    assert (r.n_in_gene, r.n_pathogenic, r.n_pathogenic_copies, r.n_functional_vus, r.n_uncertain, r.n_benign, r.n_other_genes) == (
        4, 2, 3, 1, 1, 1, 1,
    )  # fmt: skip
    assert (
        r.counted == ("c.1A>G", "c.2A>G")
        and r.uncertain == ("c.3A>G",)
        and r.other_genes == ("OTHER",)
    )
    assert r.as_dict()["rule"] == "ar_homozygous"


def test_invalid_inputs_say_what_was_expected() -> None:
    with pytest.raises(ValueError, match="expected one of autosomal_recessive"):
        genotype_consistent("GENE1", "mitochondrial", "male", [])
    with pytest.raises(ValueError, match="zygosity 'het'"):
        call(zyg="het")


calls_strategy = st.lists(
    st.builds(
        AlleleCall,
        gene=st.sampled_from(["GENE1", "OTHER"]),
        acmg_class=st.sampled_from(
            ["pathogenic", "likely_pathogenic", "uncertain_significance", "likely_benign", "benign"]
        ),
        zygosity=st.sampled_from(["heterozygous", "homozygous", "hemizygous"]),
        phase_group=st.sampled_from([None, 1, 2]),
        phase_evidence=st.sampled_from(["none", "parental_testing"]),
    ),
    max_size=4,
)


@given(
    calls=calls_strategy,
    inheritance=st.sampled_from([AR, AD, XL, XLR, XLD]),
    sex=st.sampled_from(["male", "female"]),
    extra=st.sampled_from(
        [
            call("benign"),
            call("likely_benign", "homozygous"),
            call(gene="OTHER"),
            call("pathogenic", "hemizygous", gene="OTHER"),
        ]
    ),
)
def test_benign_calls_and_other_genes_never_change_the_verdict(
    calls, inheritance, sex, extra
) -> None:
    before = genotype_consistent("GENE1", inheritance, sex, calls)
    after = genotype_consistent("GENE1", inheritance, sex, [*calls, extra])
    if before.rule.id != "no_variant_in_gene" or extra.gene == "OTHER":
        assert (after.status, after.rule.id) == (before.status, before.rule.id)
    else:  # a benign call in the gene turns "no variant in the gene" into "benign only"
        assert (after.status, after.rule.id) == (CheckStatus.not_met, "benign_only")
