"""Tests for aflab.analysis.stats against hand-computed values.

Throughout, z = Phi^-1(0.975) = 1.959964 and z**2 = 3.841459.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from aflab.analysis.stats import PairedGap, Proportion, paired_gap, proportion, wilson


def test_wilson_zero_of_ten() -> None:
    # p = 0, n = 10: denom = 1 + z^2/n = 1 + 0.3841459 = 1.3841459
    # centre = (0 + z^2/(2n)) / denom = 0.1920729 / 1.3841459 = 0.1387664
    # half = z/denom * sqrt(0 + z^2/(4n^2)) = 1.4160100 * sqrt(0.0096036) = 1.4160100 * 0.0979982
    #      = 0.1387664  -> (0, 0.2775)
    lo, hi = wilson(0, 10)
    assert lo == 0.0
    assert hi == pytest.approx(0.2775, abs=1e-4)


def test_wilson_five_of_ten() -> None:
    # p = 0.5: centre = (0.5 + 0.1920729) / 1.3841459 = 0.6920729 / 1.3841459 = 0.5
    # half = 1.4160100 * sqrt(0.25/10 + 0.0096036) = 1.4160100 * sqrt(0.0346036)
    #      = 1.4160100 * 0.1860205 = 0.2634069  -> (0.2366, 0.7634)
    lo, hi = wilson(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-4)
    assert hi == pytest.approx(0.7634, abs=1e-4)


def test_wilson_fourteen_of_hundred() -> None:
    # p = 0.14, n = 100: denom = 1 + 0.0384146 = 1.0384146
    # centre = (0.14 + 0.0192073) / 1.0384146 = 0.1592073 / 1.0384146 = 0.1533177
    # half = (1.959964 / 1.0384146) * sqrt(0.14 * 0.86 / 100 + 3.841459 / 40000)
    #      = 1.8874588 * sqrt(0.001204 + 0.0000960) = 1.8874588 * 0.0360560 = 0.0680542
    # -> (0.0853, 0.2214)
    lo, hi = wilson(14, 100)
    assert lo == pytest.approx(0.0853, abs=1e-4)
    assert hi == pytest.approx(0.2214, abs=1e-4)


def test_wilson_all_successes_reaches_one() -> None:
    lo, hi = wilson(10, 10)
    assert hi == 1.0
    assert lo == pytest.approx(1 - 0.2775, abs=1e-4)  # mirror image of wilson(0, 10)


def test_wilson_other_confidence_is_wider_or_narrower() -> None:
    lo95, hi95 = wilson(5, 10)
    lo99, hi99 = wilson(5, 10, confidence=0.99)
    lo80, hi80 = wilson(5, 10, confidence=0.80)
    assert lo99 < lo95 < lo80 and hi80 < hi95 < hi99


@pytest.mark.parametrize(
    ("k", "n", "confidence"), [(0, 0, 0.95), (-1, 5, 0.95), (6, 5, 0.95), (1, 5, 0.0), (1, 5, 1.0)]
)
def test_wilson_rejects_bad_input(k: int, n: int, confidence: float) -> None:
    with pytest.raises(ValueError):
        wilson(k, n, confidence)


def test_proportion() -> None:
    prop = proportion(14, 100)
    assert prop.k == 14 and prop.n == 100
    assert prop.rate == pytest.approx(0.14)
    assert prop.ci is not None
    assert prop.ci == pytest.approx((0.0853, 0.2214), abs=1e-4)
    assert proportion(0, 0) == Proportion(k=0, n=0, rate=None, ci=None)
    with pytest.raises(ValueError):
        proportion(3, 2)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 2000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_matches_statsmodels(kn: tuple[int, int]) -> None:
    k, n = kn
    lo, hi = wilson(k, n)
    ref_lo, ref_hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert lo == pytest.approx(ref_lo, abs=1e-9)
    assert hi == pytest.approx(ref_hi, abs=1e-9)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


def _pairs(a: int, b: int, c: int, d: int) -> tuple[list[bool], list[bool]]:
    """Build aligned (free, paid) lists from the 2x2 cell counts."""
    free = [True] * a + [True] * b + [False] * c + [False] * d
    paid = [True] * a + [False] * b + [True] * c + [False] * d
    return free, paid


def test_mcnemar_five_zero() -> None:
    # b = 5, c = 0: P(X <= 0 | n=5, p=1/2) = 1/32; two-sided = 2/32 = 0.0625
    result = paired_gap(*_pairs(0, 5, 0, 0))
    assert (result.b, result.c) == (5, 0)
    assert result.mcnemar_p == pytest.approx(0.0625, abs=1e-12)
    assert paired_gap(*_pairs(0, 0, 5, 0)).mcnemar_p == pytest.approx(0.0625, abs=1e-12)


def test_mcnemar_three_one() -> None:
    # b = 3, c = 1: P(X <= 1 | n=4) = (C(4,0) + C(4,1)) / 16 = (1 + 4) / 16 = 5/16;
    # two-sided = 10/16 = 0.625
    result = paired_gap(*_pairs(2, 3, 1, 4))
    assert (result.b, result.c) == (3, 1)
    assert result.mcnemar_p == pytest.approx(0.625, abs=1e-12)
    assert result.gap == pytest.approx((3 - 1) / 10)


def test_mcnemar_balanced_discordance_is_one() -> None:
    assert paired_gap(*_pairs(1, 2, 2, 1)).mcnemar_p == pytest.approx(1.0)


def test_newcombe_method_10_worked_example() -> None:
    # Newcombe (1998) example: a=36 (both yes), b=12, c=2, d=0, n=50.
    # p1 = (36+12)/50 = 0.96, p2 = (36+2)/50 = 0.76, gap = (12-2)/50 = 0.20
    # denom = 1 + z^2/50 = 1.0768292
    # Wilson(48, 50): centre = (0.96 + 0.0384146)/1.0768292 = 0.9271801
    #   half = (1.959964/1.0768292) * sqrt(0.96*0.04/50 + 3.841459/10000)
    #        = 1.8201268 * sqrt(0.000768 + 0.0003841) = 1.8201268 * 0.0339432 = 0.0617810
    #   -> l1 = 0.8653991, u1 = 0.9889611
    # Wilson(38, 50): centre = (0.76 + 0.0384146)/1.0768292 = 0.7414496
    #   half = 1.8201268 * sqrt(0.76*0.24/50 + 0.0003841) = 1.8201268 * sqrt(0.0040321)
    #        = 1.8201268 * 0.0634990 = 0.1155765
    #   -> l2 = 0.6258732, u2 = 0.8570261
    # phi = (a*d - b*c) / sqrt((a+b)(c+d)(a+c)(b+d)) = (0 - 24) / sqrt(48*2*38*12)
    #     = -24 / sqrt(43776) = -24 / 209.2272 = -0.1147079
    # p1 - l1 = 0.0946009, u2 - p2 = 0.0970261, u1 - p1 = 0.0289611, p2 - l2 = 0.1341268
    # delta = sqrt(0.0946009^2 + 2*0.1147079*0.0946009*0.0970261 + 0.0970261^2)
    #       = sqrt(0.0089493 + 0.0021057 + 0.0094141) = sqrt(0.0204691) = 0.1430704
    # eps   = sqrt(0.0289611^2 + 2*0.1147079*0.0289611*0.1341268 + 0.1341268^2)
    #       = sqrt(0.0008387 + 0.0008911 + 0.0179900) = sqrt(0.0197199) = 0.1404276
    # CI = (0.20 - 0.1430704, 0.20 + 0.1404276) = (0.0569, 0.3404)  [Newcombe, Table II]
    # McNemar exact: b + c = 14, P(X <= 2) = (1 + 14 + 91) / 2^14; p = 212/16384 = 0.0129395
    result = paired_gap(*_pairs(36, 12, 2, 0))
    assert result.n_pairs == 50
    assert (result.b, result.c) == (12, 2)
    assert result.gap == pytest.approx(0.20)
    assert result.ci is not None
    assert result.ci[0] == pytest.approx(0.0569, abs=1e-4)
    assert result.ci[1] == pytest.approx(0.3404, abs=1e-4)
    assert result.mcnemar_p == pytest.approx(212 / 16384, abs=1e-12)


def test_all_concordant_pairs() -> None:
    result = paired_gap([True, False, True, False], [True, False, True, False])
    assert result.gap == 0.0
    assert result.mcnemar_p == 1.0
    assert (result.b, result.c) == (0, 0)
    # a = d = 2, b = c = 0: phi = (4 - 0) / sqrt(2*2*2*2) = 1 and p1 = p2 = 0.5, so
    # p1 - l1 = u2 - p2 and delta = sqrt(x^2 - 2x^2 + x^2) = 0 (likewise eps): method 10
    # degenerates to a zero-width interval when every pair is concordant and phi = 1.
    assert result.ci == pytest.approx((0.0, 0.0), abs=1e-12)


def test_all_yes_in_both_tiers_sets_phi_to_zero() -> None:
    # a = n = 10: (c + d) = 0 so phi := 0; p1 = p2 = 1, l1 = l2 = 1 - 0.2775 (mirror of
    # wilson(0, 10)), u1 = u2 = 1 -> delta = sqrt(0.2775^2 + 0) = 0.2775, eps = 0.2775
    result = paired_gap([True] * 10, [True] * 10)
    assert result.ci == pytest.approx((-0.2775, 0.2775), abs=1e-4)
    assert result.mcnemar_p == 1.0


def test_empty_and_mismatched() -> None:
    assert paired_gap([], []) == PairedGap(n_pairs=0, gap=None, ci=None, mcnemar_p=None, b=0, c=0)
    with pytest.raises(ValueError):
        paired_gap([True], [True, False])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=300))
def test_paired_gap_properties(pairs: list[tuple[bool, bool]]) -> None:
    free = [f for f, _ in pairs]
    paid = [q for _, q in pairs]
    result = paired_gap(free, paid)
    n = len(pairs)
    assert result.n_pairs == n
    assert result.gap == pytest.approx(sum(free) / n - sum(paid) / n)
    assert result.b == sum(f and not q for f, q in pairs)
    assert result.c == sum(q and not f for f, q in pairs)
    assert result.ci is not None and result.gap is not None and result.mcnemar_p is not None
    lo, hi = result.ci
    assert -1.0 <= lo <= result.gap <= hi <= 1.0
    assert 0.0 < result.mcnemar_p <= 1.0
    a = sum(f and q for f, q in pairs)
    d = n - a - result.b - result.c
    table = [[a, result.b], [result.c, d]]
    assert result.mcnemar_p == pytest.approx(mcnemar(table, exact=True).pvalue, abs=1e-9)
