"""What counts as enough history for a fit (analytics.selectors.clv_model)."""

from __future__ import annotations

import datetime as dt

from analytics.selectors import clv_model as cm

END = dt.date(2026, 6, 1)


def _rows(customers: int, repeaters: int):
    rows = []
    for c in range(customers):
        rows.append((c, END - dt.timedelta(days=60), 10))
        if c < repeaters:
            rows.append((c, END - dt.timedelta(days=30), 10))
    return rows


def test_a_fit_needs_100_customers_and_20_repeat_buyers():
    assert cm.enough_for_fit(cm.summarize(_rows(100, 20), end=END))
    assert not cm.enough_for_fit(cm.summarize(_rows(100, 19), end=END))
    assert not cm.enough_for_fit(cm.summarize(_rows(99, 40), end=END))


def test_same_day_purchases_are_one_transaction_and_later_days_are_ignored():
    rows = [
        (1, dt.datetime(2026, 5, 1, 9), 10),
        (1, dt.datetime(2026, 5, 1, 18), 5),
        (1, dt.date(2026, 5, 15), 30),
        (1, dt.date(2026, 6, 2), 99),  # after END
    ]
    s = cm.summarize(rows, end=END)
    assert s.x[0] == 1 and s.t_x[0] == 2.0 and s.T[0] == 31 / 7
    assert s.mean_repeat_spend[0] == 30 and s.total_spend[0] == 45
    assert cm.count_by_customer(rows, start=dt.date(2026, 5, 1), end=END) == {1: 2}
