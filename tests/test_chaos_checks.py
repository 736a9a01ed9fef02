"""`make chaos` reports what the tills were told and the database disagrees on."""

import sys
from pathlib import Path

import pytest

from rewards.services import purchase_record, purchase_return_record

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import chaos  # noqa: E402

pytestmark = pytest.mark.django_db


def test_a_clean_run_has_no_violations(store, member):
    purchase, _ = purchase_record(
        store=store, member=member, receipt_id="A1", total="100"
    )
    purchase_return_record(purchase=purchase, receipt_id="B1", amount="50", store=store)
    book = chaos.Ledgerbook(purchases={"A1": 100}, returns={"B1": 50})
    assert chaos.checks(book, None) == []


def test_lost_or_misreported_writes_are_violations(store, member):
    purchase_record(store=store, member=member, receipt_id="A1", total="100")
    book = chaos.Ledgerbook(
        purchases={"A1": 99, "A2": 10}, returns={"B9": 5}, redemptions={"S1": 5}
    )
    assert chaos.checks(book, None) == [
        "purchase A1: till told 99, ledger says 100",
        "acknowledged purchase A2 is missing",
        "acknowledged return B9 stored 0 times",
        "acknowledged redemption S1 stored 0 times",
    ]
