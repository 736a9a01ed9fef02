"""Stamp entries the system writes carry a reason code (rewards.reasons_stamps)
and read in the reader's language: the admin's card page shows each in the
staff member's language; the English rendering is the text earlier code
stored, so nothing reads differently after the change."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from rewards import reasons_stamps
from rewards.models import StampCard, StampEntry
from rewards.reasons import REASONS, SystemReason
from rewards.services import (
    ReturnLineInput,
    stamp_cards_expire_due,
    voucher_consume,
)
from rewards.tests.stamps.test_services import buy, coffee, give_back, open_card

pytestmark = pytest.mark.django_db

STAMP_CODES = {
    value
    for name, value in vars(reasons_stamps).items()
    if name.startswith("STAMP_") and isinstance(value, str)
}


@pytest.fixture
def coffee_card(db):
    from rewards.models import StampTrigger
    from rewards.tests.factories import RewardFactory, StampProgramFactory

    return StampProgramFactory(
        name="Coffee card",
        trigger=StampTrigger.UNIT,
        category="coffee",
        stamps_needed=3,
        card_valid_days=60,
        reward=RewardFactory(name="Free coffee", stock=5),
    )


def _every_kind_of_entry(store, member, coffee_card) -> None:
    """Purchases, a full card with the rest carried over, a return that takes
    stamps, cancels a voucher and moves stamps, a return whose voucher was used
    (stamps owed), a purchase that pays them, and an expiry."""
    buy(store, member, coffee(2))
    filling = buy(store, member, coffee(2))  # card 1 full, 1 carried over
    give_back(store, filling, lines=[ReturnLineInput("COF-CAP", Decimal(2))])
    second = buy(store, member, coffee(1))  # card 2 full (2 moved + 1)
    voucher = StampCard.objects.get(number=2).voucher
    voucher_consume(code=voucher.code, store=store, receipt_id="USE-1")
    give_back(store, second, lines=[ReturnLineInput("COF-CAP", Decimal(1))])
    buy(store, member, coffee(2))  # pays the stamp owed, stamps one
    card = open_card(member, coffee_card)
    assert stamp_cards_expire_due(now=card.expires_at + dt.timedelta(seconds=1)) == 1


def test_every_stamp_entry_the_system_writes_has_a_code(store, member, coffee_card):
    _every_kind_of_entry(store, member, coffee_card)

    entries = list(StampEntry.objects.filter(card__member=member))
    assert all(e.reason_code in REASONS for e in entries), [
        (e.reason_code, e.reason) for e in entries
    ]
    assert {e.reason_code for e in entries} == STAMP_CODES | {"purchase_earn"}


# Each code's English rendering: the sentence the services wrote before (with
# the plural now following the count: "1 stamp owed").
ENGLISH = {
    "purchase_earn": r"Purchase R\d+ at main",
    "stamp_carried_over": r"Purchase R\d+ at main \(carried over\)",
    "stamp_return": r"Return B\d+ of purchase R\d+",
    "stamp_return_voucher_cancelled": r"Return B\d+ of purchase R\d+: voucher cancelled",
    "stamp_moved_to": r"Moved to card #2",
    "stamp_moved_from": r"Moved from card #1, undone by a return",
    "stamp_return_owed": (
        r"Return B\d+ of purchase R\d+: 1 stamp owed, the vouchers were used"
    ),
    "stamp_owed_paid": r"Purchase R\d+ at main; 1 paid stamp owed",
    "stamp_card_expired": r"Card expired with 1 of 3 stamps",
}


def test_the_english_texts_read_as_before(store, member, coffee_card):
    _every_kind_of_entry(store, member, coffee_card)

    entries = StampEntry.objects.filter(card__member=member)
    with translation.override("en"):
        for entry in entries:
            assert re.fullmatch(ENGLISH[entry.reason_code], entry.reason_text()), (
                entry.reason_code,
                entry.reason_text(),
            )
            # The stored fallback is the default language's (English in tests).
            assert entry.reason == entry.reason_text()


def test_a_wrapped_reason_renders_its_inner_reason_in_the_readers_language():
    from rewards.reasons import reason_render, system_reason

    inner = system_reason("purchase_earn", receipt="R-1", store="main")
    outer = system_reason(reasons_stamps.STAMP_CARRIED_OVER, reason=inner)
    assert isinstance(outer, SystemReason)
    assert outer.params == {
        "reason": {
            "code": "purchase_earn",
            "params": {"receipt": "R-1", "store": "main"},
        }
    }
    with translation.override("uk"):
        uk = reason_render(outer.code, outer.params, names={})
    with translation.override("en"):
        en = reason_render(outer.code, outer.params, names={})
    assert en == "Purchase R-1 at main (carried over)"
    # The inner purchase text is in the Ukrainian catalog already.
    assert uk.startswith("Покупка")


def test_the_card_admin_shows_each_reason_in_the_staff_members_language(
    store, member, coffee_card, admin_client
):
    buy(store, member, coffee(2))
    card = open_card(member, coffee_card)
    url = reverse("admin:rewards_stampcard_change", args=[card.pk])

    english = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    admin_client.cookies["django_language"] = "uk"
    ukrainian = admin_client.get(url).content.decode()

    assert "Purchase R" in english
    assert "Покупка R" in ukrainian
