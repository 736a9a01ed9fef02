"""rewards 0015 recognises the reasons earlier code wrote: each known sentence
gets the code and parameters that render it again, in any language; anything
else (a staff member's reason) keeps only its text."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.utils import translation

from rewards.reasons import reason_render

fill = importlib.import_module("rewards.migrations.0016_reason_codes_fill")


def _entry(reason, kind="earn", key=None, voucher_id=None, redemption_id=None):
    return SimpleNamespace(
        reason=reason,
        kind=kind,
        idempotency_key=key,
        voucher_id=voucher_id,
        redemption_id=redemption_id,
    )


def _en(found) -> str:
    code, params = found
    with translation.override("en"):
        return reason_render(code, params, names={})


LEDGER = [
    (_entry("Purchase R-1 at main"), "Purchase R-1 at main"),
    (_entry("Purchase main #B17"), "Purchase B17 at main"),
    (
        _entry("Return RT-2 of purchase R-1 at main", "clawback"),
        "Return RT-2 of purchase R-1 at main",
    ),
    (
        _entry("Discount on receipt R-3 at main", "redeem"),
        "Discount on receipt R-3 at main",
    ),
    (
        _entry("Redeemed at main", "redeem", redemption_id=5),
        "Discount on receipt R5 at main",
    ),
    (
        _entry("Reward Free latte, voucher AB12", "redeem", voucher_id=9),
        "Reward “Free latte”, voucher AB12",
    ),
    (
        _entry("Voucher AB12 cancelled, points returned", "refund"),
        "Voucher AB12 cancelled, points returned",
    ),
    (
        _entry("Voucher AB12 expired, points returned", "refund"),
        "Voucher AB12 expired, points returned",
    ),
    (
        _entry("Points earned 2025-03-01 expired", "expire"),
        "Points earned on 1 March 2025 expired",
    ),
    (_entry("Welcome bonus", "bonus", "welcome:1"), "Welcome bonus"),
    (
        _entry("Profile completed", "bonus", "profile:1"),
        "Bonus for completing the profile",
    ),
    (_entry("Birthday bonus", "bonus", "birthday:1:2025"), "Birthday bonus"),
    (
        _entry("Bonus for referring a friend", "bonus", "referral:3:referrer"),
        "Bonus for referring a friend",
    ),
    (
        _entry(
            "Кампанія «Осінь»: покупка протягом 7 дн.", "bonus", "campaign-bonus:4:1"
        ),
        "Campaign “Осінь”: bought within 7 days",
    ),
    (
        _entry(
            "Campaign “Autumn”: bought within 1 days", "bonus", "campaign-bonus:4:1"
        ),
        "Campaign “Autumn”: bought within 1 day",
    ),
    (
        _entry("Participare la „Brânză”", "bonus", "event-checkin:8:1"),
        "Came to “Brânză”",
    ),
    (
        _entry("Компенсация по жалобе #12", "adjust", "complaint-goodwill:12"),
        "Goodwill for complaint #12",
    ),
]


@pytest.mark.parametrize(("row", "english"), LEDGER)
def test_known_ledger_sentences_get_their_code(row, english):
    found = fill.ledger_reason(row, {9: 77}, {5: "R5"})
    assert found is not None
    assert _en(found) == english
    if found[0] == "reward_redeem":
        assert found[1]["reward_id"] == 77
    if found[0] == "event_checkin":
        assert found[1]["event_id"] == 8


@pytest.mark.parametrize(
    "row",
    [
        _entry("Purchase R-1 at main", "adjust"),  # typed by staff, whatever it says
        _entry("Opening balance", "adjust"),
        _entry("Something else", "earn"),
        _entry("Came to “Party”", "bonus", "welcome-ish"),
    ],
)
def test_anything_else_keeps_only_its_text(row):
    assert fill.ledger_reason(row, {}, {}) is None


def _tier(reason, from_tier_id=None):
    return SimpleNamespace(reason=reason, from_tier_id=from_tier_id)


@pytest.mark.parametrize(
    ("reason", "english"),
    [
        (
            "Spent 5 240.00 UAH in 12 months",
            "Spent in the last 12 months: 5,240.00\xa0UAH",
        ),
        ("Spent 1 000.00 UAH in 2025", "Spent in 2025: 1,000.00\xa0UAH"),
        ("Earned 1 300 points in 1 month", "Points earned in the last 1 month: 1,300"),
        ("3 visits in 2024", "Visits in 2024: 3"),
        (
            "Spent 0.00 UAH in 12 months, below 5 000.00 for Gold after 10 grace days",
            "Spent in the last 12 months: 0.00\xa0UAH, below 5,000.00\xa0UAH for Gold "
            "after 10 days of grace",
        ),
        (
            "3 visits in 12 months, below 10.00 for Silver after 1 grace days",
            "Visits in the last 12 months: 3, below 10 for Silver after 1 day of grace",
        ),
        ("Membership Club", "Membership Club"),
        ("Enrolled", "Enrolled"),
        ("Spend reached the threshold", "Spend reached the threshold"),
    ],
)
def test_known_tier_sentences_get_their_code(reason, english):
    found = fill.tier_reason(_tier(reason, from_tier_id=3), {"Club": 6})
    assert found is not None
    assert _en(found) == english
    if found[0] == "tier_below":
        assert found[1]["tier_id"] == 3
    if found[0] == "tier_membership":
        assert found[1]["plan_id"] == 6


def test_an_unknown_tier_sentence_keeps_only_its_text():
    assert fill.tier_reason(_tier("Moved by hand"), {}) is None
