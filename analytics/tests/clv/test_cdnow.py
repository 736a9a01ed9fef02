"""The fitted models against the published CDNOW results (the data:
analytics/tests/clv/CDNOW_sample.md), and the heuristic on the same holdout.

Fader, Hardie & Lee (2005), BG/NBD: r = 0.243, α = 4.414, a = 0.793,
b = 2.426, LL = −9,582.4. Fader & Hardie (2013), Gamma-Gamma: p = 6.25,
q = 3.74, γ = 15.44, LL = −4,055.9. Holdout (issue 16): BG/NBD with the
published parameters predicts 1,653 purchases, MAE 0.785 per customer, of
1,882 made."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from analytics.selectors import clv_model as cm

DATA = Path(__file__).parent / "CDNOW_sample.txt"
CAL_END = dt.date(1997, 9, 30)
HOLD_START, HOLD_END = dt.date(1997, 10, 1), dt.date(1998, 6, 30)
HOLD_WEEKS = 39

BGNBD_PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
BGNBD_LL = -9582.4
GG_PUBLISHED = {"p": 6.25, "q": 3.74, "gamma": 15.44}
GG_LL = -4055.9


def _rows():
    rows = []
    for line in DATA.read_text().splitlines():
        _master, customer, day, _cds, amount = line.split()
        rows.append(
            (int(customer), dt.date(int(day[:4]), int(day[4:6]), int(day[6:])), amount)
        )
    return rows


@pytest.fixture(scope="module")
def cdnow():
    rows = _rows()
    summary = cm.summarize(rows, end=CAL_END)
    counts = cm.count_by_customer(rows, start=HOLD_START, end=HOLD_END)
    actual = np.array([counts.get(c, 0) for c in summary.ids])
    return summary, actual


@pytest.fixture(scope="module")
def bgnbd(cdnow):
    summary, _actual = cdnow
    return cm.bgnbd_fit(summary.x, summary.t_x, summary.T)


def _within(value: float, published: float, rel: float = 0.01) -> bool:
    return abs(value - published) <= rel * abs(published)


def test_the_sample_is_the_papers_sample(cdnow):
    summary, actual = cdnow
    assert len(summary) == 2357
    assert int(summary.x.sum()) == 4814 - 2357  # repeat transactions
    assert int(actual.sum()) == 1882


def test_bgnbd_reproduces_the_published_parameters_and_likelihood(bgnbd):
    model, ll = bgnbd
    for name, published in BGNBD_PUBLISHED.items():
        assert _within(getattr(model, name), published), (name, getattr(model, name))
    assert _within(ll, BGNBD_LL), ll


def test_gamma_gamma_reproduces_the_published_parameters_and_likelihood(cdnow):
    summary, _actual = cdnow
    model, ll, customers = cm.gamma_gamma_fit(summary.x, summary.mean_repeat_spend)
    assert customers == 946  # the repeat buyers
    for name, published in GG_PUBLISHED.items():
        assert _within(getattr(model, name), published), (name, getattr(model, name))
    assert _within(ll, GG_LL), ll


def test_the_fitted_model_predicts_the_holdout_at_least_as_well_as_published(
    cdnow, bgnbd
):
    summary, actual = cdnow
    model, _ll = bgnbd
    score = cm.holdout_score(
        model.expected_purchases(HOLD_WEEKS, summary.x, summary.t_x, summary.T), actual
    )
    published = cm.BGNBD(**BGNBD_PUBLISHED)
    reference = cm.holdout_score(
        published.expected_purchases(HOLD_WEEKS, summary.x, summary.t_x, summary.T),
        actual,
    )
    # The figures for the published parameters: 1,653 and 0.785.
    assert 1653 <= reference.predicted < 1655
    assert reference.mae == pytest.approx(0.785, abs=0.001)
    # Ours: 1,653.4 purchases (−12 %), MAE 0.7855; as good as the published
    # fit to the figures the issue gives, and a lower error per customer.
    assert round(score.predicted) >= 1653
    assert score.mae <= reference.mae
    assert score.mae < 0.7855


def test_the_heuristic_as_clv_py_defines_it_overpredicts_the_holdout(cdnow):
    summary, actual = cdnow
    predicted = cm.heuristic_expected(
        x=summary.x, t_x=summary.t_x, T=summary.T, horizon_days=HOLD_WEEKS * 7
    )
    score = cm.holdout_score(predicted, actual)
    assert round(score.predicted) == 2667  # +42 %
    assert round(score.mae, 2) == 0.99


def test_p_alive_is_one_for_a_one_time_buyer_and_falls_with_a_long_silence(bgnbd):
    model, _ll = bgnbd
    alive = model.p_alive(
        np.array([0, 5, 5]), np.array([0, 38.0, 5.0]), np.array([38.0, 38.0, 38.0])
    )
    assert alive[0] == 1.0  # BG/NBD: no repeat purchase, no chance to drop out
    assert alive[1] > 0.85 > 0.5 > alive[2]


def test_gamma_gamma_shrinks_a_members_mean_towards_the_population_mean():
    model = cm.GammaGamma(**GG_PUBLISHED)
    population = model.p * model.gamma / (model.q - 1)
    spend = model.expected_spend(np.array([0, 1, 20]), np.array([0, 100, 100]))
    assert spend[0] == pytest.approx(population)
    assert population < spend[1] < spend[2] < 100
