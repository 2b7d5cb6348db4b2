"""Rates with Wilson intervals, and the paired free-vs-paid compliance gap.

The same queries are asked in both tiers, so the compliance gap is a difference of
*paired* proportions: :func:`paired_gap` gives Newcombe's (1998) method-10 interval and
McNemar's exact test rather than treating the tiers as independent samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import binomtest, norm

__all__ = ["PairedGap", "Proportion", "paired_gap", "proportion", "wilson"]


def _z(confidence: float) -> float:
    """Two-sided normal quantile ``z = Phi^-1(1 - (1 - confidence) / 2)`` (1.95996 for 95%)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return float(norm.ppf(1.0 - (1.0 - confidence) / 2.0))


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``k / n``.

    With ``p = k / n`` and ``z`` the two-sided normal quantile::

        centre = (p + z**2 / (2 n)) / (1 + z**2 / n)
        half   = z / (1 + z**2 / n) * sqrt(p (1 - p) / n + z**2 / (4 n**2))
        (lower, upper) = (centre - half, centre + half), clipped to [0, 1]

    Raises :class:`ValueError` when ``n == 0`` (no interval exists), when ``k`` is
    outside ``[0, n]``, or when ``confidence`` is not in ``(0, 1)``.
    """
    if n <= 0:
        raise ValueError(f"wilson() needs n > 0, got n={n}")
    if not 0 <= k <= n:
        raise ValueError(f"wilson() needs 0 <= k <= n, got k={k}, n={n}")
    z = _z(confidence)
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n))
    lower = 0.0 if k == 0 else max(0.0, centre - half)
    upper = 1.0 if k == n else min(1.0, centre + half)
    return lower, upper


@dataclass(frozen=True)
class Proportion:
    """``k`` successes out of ``n``; ``rate`` and 95% Wilson ``ci`` are ``None`` when ``n == 0``."""

    k: int
    n: int
    rate: float | None
    ci: tuple[float, float] | None


def proportion(k: int, n: int) -> Proportion:
    """Rate ``k / n`` with its 95% Wilson interval (both ``None`` when ``n == 0``)."""
    if n < 0 or not 0 <= k <= n:
        raise ValueError(f"proportion() needs 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return Proportion(k=k, n=n, rate=None, ci=None)
    return Proportion(k=k, n=n, rate=k / n, ci=wilson(k, n))


@dataclass(frozen=True)
class PairedGap:
    """Paired difference ``mean(free) - mean(paid)`` over ``n_pairs`` aligned queries.

    ``b`` counts pairs with free yes / paid no, ``c`` pairs with free no / paid yes.
    ``gap``, ``ci`` and ``mcnemar_p`` are ``None`` when there are no pairs.
    """

    n_pairs: int
    gap: float | None
    ci: tuple[float, float] | None
    mcnemar_p: float | None
    b: int
    c: int


def paired_gap(
    free: Sequence[bool], paid: Sequence[bool], confidence: float = 0.95
) -> PairedGap:
    """Compliance gap between two aligned sequences of outcomes (pair i = the same query).

    Cells: ``a`` both yes, ``b`` free yes & paid no, ``c`` free no & paid yes, ``d`` both
    no; ``n = a + b + c + d``. Point estimate ``gap = p1 - p2 = (b - c) / n`` with
    ``p1 = (a + b) / n`` (free) and ``p2 = (a + c) / n`` (paid).

    Interval: Newcombe (1998, Stat Med 17:2635), method 10 (hybrid score, no continuity
    correction). With ``(l1, u1)``, ``(l2, u2)`` the Wilson intervals of ``p1`` and ``p2``
    and the phi correlation of the 2x2 table::

        phi   = (a d - b c) / sqrt((a + b)(c + d)(a + c)(b + d))   (0 if the root is 0)
        delta = sqrt((p1 - l1)**2 - 2 phi (p1 - l1)(u2 - p2) + (u2 - p2)**2)
        eps   = sqrt((u1 - p1)**2 - 2 phi (u1 - p1)(p2 - l2) + (p2 - l2)**2)
        ci    = (gap - delta, gap + eps), clipped to [-1, 1]

    Test: McNemar's exact test, i.e. a two-sided binomial test of ``min(b, c)`` successes
    in ``b + c`` trials with ``p = 0.5`` (``scipy.stats.binomtest``); ``p = 1`` when
    ``b + c == 0``.

    Empty input gives ``n_pairs=0`` and ``None`` for gap, ci and p. Sequences of
    different lengths raise :class:`ValueError`.
    """
    if len(free) != len(paid):
        raise ValueError(
            f"paired_gap() needs aligned pairs, got {len(free)} free vs {len(paid)} paid"
        )
    n = len(free)
    if n == 0:
        return PairedGap(n_pairs=0, gap=None, ci=None, mcnemar_p=None, b=0, c=0)
    a = b = c = d = 0
    for f, q in zip(free, paid):
        f, q = bool(f), bool(q)
        if f and q:
            a += 1
        elif f:
            b += 1
        elif q:
            c += 1
        else:
            d += 1
    p1, p2 = (a + b) / n, (a + c) / n
    gap = (b - c) / n
    l1, u1 = wilson(a + b, n, confidence)
    l2, u2 = wilson(a + c, n, confidence)
    root = math.sqrt(float(a + b) * (c + d) * (a + c) * (b + d))
    phi = (a * d - b * c) / root if root > 0 else 0.0
    delta = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    eps = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    ci = (max(-1.0, gap - delta), min(1.0, gap + eps))
    discordant = b + c
    if discordant == 0:
        p_value = 1.0
    else:
        p_value = min(1.0, float(binomtest(min(b, c), discordant, 0.5).pvalue))
    return PairedGap(n_pairs=n, gap=gap, ci=ci, mcnemar_p=p_value, b=b, c=c)
