"""rewards 0020 recognises the stamp entries' and cancelled memberships'
reasons earlier code wrote: each known sentence gets the code and parameters
that render it again, in any language; anything else keeps only its text."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.utils import timezone, translation

from rewards.models import Subscription
from rewards.reasons import reason_render
from rewards.tests.factories import MembershipPlanFactory

fill = importlib.import_module("rewards.migrations.0020_stamp_and_cancel_reason_codes_fill")


def _en(found) -> str:
    code, params = found
    with translation.override("en"):
        return reason_render(code, params, names={})


# (stored sentence, its code, the English rendering now)
STAMPS = [
    ("Purchase R-1 at main", "purchase_earn", "Purchase R-1 at main"),
    (
        "Purchase R-1 at main (carried over)",
        "stamp_carried_over",
        "Purchase R-1 at main (carried over)",
    ),
    (
        "Purchase R-1 at main; 2 paid stamps owed",
        "stamp_owed_paid",
        "Purchase R-1 at main; 2 paid stamps owed",
    ),
    (
        "Moved from card #3, undone by a return; 1 paid stamps owed",
        "stamp_owed_paid",
        "Moved from card #3, undone by a return; 1 paid stamp owed",
    ),
    (
        "Card expired with 4 of 10 stamps",
        "stamp_card_expired",
        "Card expired with 4 of 10 stamps",
    ),
    ("Return B-9 of purchase R 1", "stamp_return", "Return B-9 of purchase R 1"),
    (
        "Return B-9 of purchase R-1: 2 stamps owed, the vouchers were used",
        "stamp_return_owed",
        "Return B-9 of purchase R-1: 2 stamps owed, the vouchers were used",
    ),
    (
        "Return B-9 of purchase R-1: voucher cancelled",
        "stamp_return_voucher_cancelled",
        "Return B-9 of purchase R-1: voucher cancelled",
    ),
    ("Moved to card #4", "stamp_moved_to", "Moved to card #4"),
    (
        "Moved from card #3, undone by a return",
        "stamp_moved_from",
        "Moved from card #3, undone by a return",
    ),
]


@pytest.mark.parametrize(("text", "code", "english"), STAMPS)
def test_known_stamp_sentences_get_their_code(text, code, english):
    found = fill.stamp_reason(text)
    assert found is not None
    assert found[0] == code
    assert _en(found) == english


@pytest.mark.parametrize("text", ["Typed by hand", "Purchase", "Return X"])
def test_anything_else_keeps_only_its_text(text):
    assert fill.stamp_reason(text) is None


@pytest.mark.django_db
def test_the_admins_cancellation_gets_its_code_a_typed_reason_stays(member, store):
    plan = MembershipPlanFactory(name="Club")
    now = timezone.now()
    made = [
        Subscription.objects.create(
            member=member,
            plan=plan,
            status="cancelled",
            started_at=now - dt.timedelta(days=30),
            current_period_end=now,
            ended_at=now,
            cancel_reason=reason,
        )
        for reason in ("Cancelled in admin", "Refunded at the till")
    ]
    fill.fill(apps, None)

    sub, typed = made
    sub.refresh_from_db()
    typed.refresh_from_db()
    assert (typed.reason_code, typed.reason_text()) == ("", "Refunded at the till")
    assert (sub.reason_code, sub.reason_params) == ("subscription_cancelled_in_admin", {})
    with translation.override("en"):
        assert sub.reason_text() == "Cancelled in admin"
