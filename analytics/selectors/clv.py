"""Customer value and churn risk: a small, explainable model (no fitting).

For one member, from their purchase history to date:

    n      purchases to date;  span = days from the first to the last purchase
    g      days since the last purchase (the current gap)
    AOV    net spend to date / n           (historic value / n)
    ḡ      usual gap = (span + G0) / n     (G0, the prior gap, counts as one
           observed gap, so a one-time buyer gets G0 and two purchases on the
           same day do not make a daily customer)
    λ      = 1 / ḡ purchases per day
    alive  = 1 when g ≤ ḡ, else exp(−(g − ḡ) / ḡ)
           (the further past their own usual gap, the less likely they still buy)
    E      = 365 · λ · alive               expected purchases, next 12 months
    CLV    = AOV · E                       predicted value, next 12 months
    churn  = g / ḡ: ≤ 1.5 low, ≤ 3 medium, above that high

A frequency × survival heuristic in the spirit of BG/NBD, without its fitted
parameters: it ranks members sensibly and every figure can be checked by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from analytics.models import ChurnRisk

PRIOR_GAP_DAYS = 60  # G0: the gap assumed before a member shows their own
CHURN_MEDIUM_RATIO = 1.5
CHURN_HIGH_RATIO = 3.0
CENT = Decimal("0.01")


@dataclass(frozen=True)
class MemberValue:
    usual_gap_days: float
    expected_purchases: float
    predicted_value: Decimal
    churn_risk: str


def churn_risk_for(*, gap_days: float, usual_gap_days: float) -> str:
    """Low, medium or high from how many usual gaps the current gap spans."""
    ratio = gap_days / usual_gap_days
    if ratio <= CHURN_MEDIUM_RATIO:
        return ChurnRisk.LOW
    if ratio <= CHURN_HIGH_RATIO:
        return ChurnRisk.MEDIUM
    return ChurnRisk.HIGH


def member_value(
    *,
    purchases: int,
    span_days: float,
    gap_days: float,
    historic_value: Decimal,
    prior_gap_days: float = PRIOR_GAP_DAYS,
) -> MemberValue:
    """Predicted 12-month value and churn risk (formulas in the module docstring)."""
    if purchases < 1:
        raise ValueError("purchases must be at least 1")
    usual = max((span_days + prior_gap_days) / purchases, 1.0)
    alive = 1.0 if gap_days <= usual else math.exp(-(gap_days - usual) / usual)
    expected = 365.0 / usual * alive
    aov = historic_value / purchases
    predicted = (aov * Decimal(str(round(expected, 6)))).quantize(
        CENT, rounding=ROUND_HALF_UP
    )
    return MemberValue(
        usual_gap_days=round(usual, 1),
        expected_purchases=round(expected, 2),
        predicted_value=max(predicted, Decimal("0.00")),
        churn_risk=churn_risk_for(gap_days=gap_days, usual_gap_days=usual),
    )
