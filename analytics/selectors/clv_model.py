"""Customer value from fitted models: BG/NBD for purchases and P(alive),
Gamma-Gamma for spend (Fader, Hardie & Lee 2005; Fader & Hardie 2013), fitted
by maximum likelihood with the `lifetimes` library (docs/decisions.md, "Fitted
customer value"). Pure computation on arrays: no database access here; the
nightly writer is analytics.services.clv.

Time is counted in weeks, as in the papers; purchases on the same calendar day
are one transaction (the CDNOW convention). Per customer, over a calibration
period ending at `end`:

    x   repeat purchases (distinct purchase days − 1)
    t_x weeks from the first to the last purchase day
    T   weeks from the first purchase day to `end`
    z̄   mean spend of the repeat purchases (Gamma-Gamma uses x > 0 only)

The hand-made heuristic (analytics.selectors.clv.member_value) stays the
fallback: for every member when the program has too little history to fit
(`enough_for_fit`), and for a member whose own history is too short
(`MIN_MEMBER_WEEKS`).
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from analytics.selectors.clv import PRIOR_GAP_DAYS

# "Enough" history. For the program: a fit needs this many customers, of
# whom this many bought again (BG/NBD's dropout parameters a, b are learnt
# from the repeat buyers; with a handful the optimiser wanders off).
MIN_FIT_CUSTOMERS = 100
MIN_FIT_REPEAT_CUSTOMERS = 20
# For a member: their first purchase at least this many weeks before the
# prediction date. Younger members get the heuristic: with T under two weeks
# BG/NBD says little beyond the population mean.
MIN_MEMBER_WEEKS = 2.0
DAYS_PER_WEEK = 7.0


@dataclass
class Summary:
    """Per-customer figures of a calibration period (arrays in `ids` order)."""

    ids: list
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    mean_repeat_spend: np.ndarray  # 0 where x == 0
    first_day: list = field(default_factory=list)
    last_day: list = field(default_factory=list)
    total_spend: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def summarize(rows: Iterable[tuple], *, end: dt.date) -> Summary:
    """`rows` of (customer id, date or datetime, amount), any order; only days
    up to `end` count. Same-day purchases are summed into one transaction."""
    days: dict = {}
    for customer, when, amount in rows:
        day = _as_date(when)
        if day > end:
            continue
        per = days.setdefault(customer, {})
        per[day] = per.get(day, 0.0) + float(amount or 0)
    ids = sorted(days)
    n = len(ids)
    x, t_x, T, zbar = (np.zeros(n) for _ in range(4))
    first, last, total = [], [], []
    for i, customer in enumerate(ids):
        ordered = sorted(days[customer].items())
        d0, dn = ordered[0][0], ordered[-1][0]
        x[i] = len(ordered) - 1
        t_x[i] = (dn - d0).days / DAYS_PER_WEEK
        T[i] = (end - d0).days / DAYS_PER_WEEK
        if len(ordered) > 1:
            zbar[i] = sum(v for _d, v in ordered[1:]) / (len(ordered) - 1)
        first.append(d0)
        last.append(dn)
        total.append(sum(v for _d, v in ordered))
    return Summary(ids, x, t_x, T, zbar, first, last, total)


def count_by_customer(rows: Iterable[tuple], *, start: dt.date, end: dt.date) -> dict:
    """Transactions (distinct purchase days) per customer from `start` to `end`
    inclusive."""
    seen: dict = {}
    for customer, when, _amount in rows:
        day = _as_date(when)
        if start <= day <= end:
            seen.setdefault(customer, set()).add(day)
    return {customer: len(d) for customer, d in seen.items()}


# --- BG/NBD -------------------------------------------------------------------


@dataclass(frozen=True)
class BGNBD:
    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    def _fitter(self):
        import pandas as pd
        from lifetimes import BetaGeoFitter

        fitter = BetaGeoFitter()
        fitter.params_ = pd.Series(self.as_dict())
        return fitter

    def log_likelihood(self, x, t_x, T) -> float:
        """The sample log-likelihood (FHL 2005, eq. 6) in weeks, as published."""
        from lifetimes import BetaGeoFitter

        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        mean_nll = BetaGeoFitter._negative_log_likelihood(
            np.log([self.r, self.alpha, self.a, self.b]), x, t_x, T, np.ones(len(x)), 0
        )
        return float(-mean_nll * len(x))

    def expected_purchases(self, weeks: float, x, t_x, T) -> np.ndarray:
        """E[purchases in the next `weeks`] per customer (FHL 2005, eq. 10)."""
        values = self._fitter().conditional_expected_number_of_purchases_up_to_time(
            weeks, np.asarray(x), np.asarray(t_x), np.asarray(T)
        )
        return np.nan_to_num(np.asarray(values, dtype=float))

    def p_alive(self, x, t_x, T) -> np.ndarray:
        """P(still active | x, t_x, T) per customer (Fader, Hardie & Lee 2008)."""
        values = self._fitter().conditional_probability_alive(
            np.asarray(x), np.asarray(t_x), np.asarray(T)
        )
        return np.clip(np.asarray(values, dtype=float), 0.0, 1.0)


def bgnbd_fit(x, t_x, T) -> tuple[BGNBD, float]:
    """Maximum-likelihood BG/NBD (lifetimes' BetaGeoFitter, unpenalised) and
    the log-likelihood at the optimum."""
    from lifetimes import BetaGeoFitter

    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitter = BetaGeoFitter(penalizer_coef=0.0)
        fitter.fit(x, t_x, T)
    params = fitter.params_
    model = BGNBD(
        r=float(params["r"]),
        alpha=float(params["alpha"]),
        a=float(params["a"]),
        b=float(params["b"]),
    )
    return model, model.log_likelihood(x, t_x, T)


# --- Gamma-Gamma -------------------------------------------------------------


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float

    def as_dict(self) -> dict:
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    def expected_spend(self, x, mean_spend) -> np.ndarray:
        """E[spend per transaction | x, z̄] (Fader & Hardie 2013, eq. 5): the
        member's own mean weighted against the population mean p·γ/(q − 1);
        the population mean for a member with no repeat purchase."""
        x = np.asarray(x, dtype=float)
        z = np.asarray(mean_spend, dtype=float)
        population = self.p * self.gamma / (self.q - 1)
        weight = self.p * x / (self.p * x + self.q - 1)
        return (1 - weight) * population + weight * z


def gamma_gamma_fit(x, mean_spend) -> tuple[GammaGamma, float, int]:
    """Gamma-Gamma on the repeat buyers with a positive mean spend; returns
    the model, its log-likelihood and how many customers it was fitted on."""
    from lifetimes import GammaGammaFitter

    x = np.asarray(x, dtype=float)
    z = np.asarray(mean_spend, dtype=float)
    keep = (x > 0) & (z > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitter = GammaGammaFitter(penalizer_coef=0.0)
        fitter.fit(x[keep], z[keep])
        params = fitter.params_
        mean_nll = GammaGammaFitter._negative_log_likelihood(
            np.log([params["p"], params["q"], params["v"]]),
            x[keep],
            z[keep],
            np.ones(int(keep.sum())),
            0,
        )
    model = GammaGamma(
        p=float(params["p"]), q=float(params["q"]), gamma=float(params["v"])
    )
    return model, float(-mean_nll * keep.sum()), int(keep.sum())


# --- The heuristic, as analytics.selectors.clv defines it ---------------------


def _heuristic_gap_alive(xi, ti, Ti, prior_gap_days) -> tuple[float, float]:
    span = ti * DAYS_PER_WEEK
    gap = (Ti - ti) * DAYS_PER_WEEK
    usual = max((span + prior_gap_days) / (xi + 1), 1.0)
    alive = 1.0 if gap <= usual else math.exp(-(gap - usual) / usual)
    return usual, alive


def heuristic_expected(
    *, x, t_x, T, horizon_days: float, prior_gap_days: float = PRIOR_GAP_DAYS
) -> np.ndarray:
    """Expected purchases over `horizon_days` by analytics.selectors.clv's
    formulas (`member_value` gives 365 days; here any horizon): usual gap
    ḡ = max((span + G0) / n, 1), alive = 1 if g ≤ ḡ else exp(−(g − ḡ)/ḡ),
    E = horizon / ḡ · alive, with n = x + 1 purchases, span = t_x and
    g = T − t_x in days."""
    out = np.zeros(len(x))
    for i, (xi, ti, Ti) in enumerate(zip(x, t_x, T, strict=True)):
        usual, alive = _heuristic_gap_alive(xi, ti, Ti, prior_gap_days)
        out[i] = horizon_days / usual * alive
    return out


def heuristic_alive(*, x, t_x, T, prior_gap_days: float = PRIOR_GAP_DAYS) -> np.ndarray:
    """The heuristic's `alive` factor (a decay, not a fitted probability)."""
    return np.array(
        [
            _heuristic_gap_alive(xi, ti, Ti, prior_gap_days)[1]
            for xi, ti, Ti in zip(x, t_x, T, strict=True)
        ]
    )


def enough_for_fit(summary: Summary) -> bool:
    """Whether the program has the history a fit needs (see the constants)."""
    return (
        len(summary) >= MIN_FIT_CUSTOMERS
        and int((summary.x > 0).sum()) >= MIN_FIT_REPEAT_CUSTOMERS
    )


@dataclass(frozen=True)
class HoldoutScore:
    predicted: float
    actual: int
    mae: float


def holdout_score(predicted: np.ndarray, actual: np.ndarray) -> HoldoutScore:
    return HoldoutScore(
        predicted=float(predicted.sum()),
        actual=int(actual.sum()),
        mae=float(np.abs(predicted - actual).mean()) if len(actual) else 0.0,
    )


def money(value: float) -> Decimal:
    return Decimal(str(round(float(value), 2)))
