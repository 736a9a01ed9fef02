"""The till API for points: purchases, returns and redemptions, their replays and
conflicts, and that no input at all makes the server fail."""

from __future__ import annotations

import datetime as dt
import json
import threading
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from members.services import api_token_create
from members.tests.factories import MemberFactory
from rewards.models import LedgerEntry, LedgerKind, Purchase, PurchaseReturn, Redemption
from rewards.selectors.ledger import member_balance_get
from rewards.selectors.program import program_settings_get
from rewards.services import (
    MAX_POINTS,
    points_redeem,
    purchase_record,
    purchase_return_record,
)

pytestmark = pytest.mark.django_db

PURCHASES = reverse("api-v1:purchase-create")
REDEMPTIONS = reverse("api-v1:redemption-create")


def returns_url(purchase_id) -> str:
    return f"/api/v1/purchases/{purchase_id}/returns"


@pytest.fixture
def till(api_client):
    api_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return api_client


@pytest.fixture
def other_till(other_api_client):
    other_api_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return other_api_client


@pytest.fixture(autouse=True)
def program(db):
    """1 point per currency unit, no minimum purchase, a point worth 0.10."""
    conf = program_settings_get()
    conf.points_per_unit = Decimal("1")
    conf.min_purchase = Decimal("0")
    conf.point_value = Decimal("0.10")
    conf.save()
    return conf


def assert_error(
    response, status: int, field: str | None = None, message: str | None = None
):
    """Every error is JSON {"detail": str, "errors": {field: [str, ...]}}."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], dict)
    for messages in body["errors"].values():
        assert messages and all(isinstance(m, str) for m in messages)
    if field is not None:
        assert field in body["errors"], body
        if message is not None:
            assert body["errors"][field] == [message], body
    return body


def purchase_body(member, **overrides) -> dict:
    return {
        "card_number": member.card_number,
        "receipt_id": "R-1",
        "total": "412.50",
        **overrides,
    }


LINES = [
    {
        "sku": "MILK",
        "name": "Milk 1 l",
        "category": "dairy",
        "quantity": "2",
        "unit_price": "40.25",
    },
    {"sku": "COFFEE", "quantity": 1, "unit_price": "332.00"},
]


@pytest.fixture
def bought(till, member):
    """A purchase of 412.50 with two lines, recorded through the API: 412 points."""
    response = till.post(PURCHASES, purchase_body(member, lines=LINES), format="json")
    assert response.status_code == 201, response.json()
    return Purchase.objects.get(pk=response.json()["id"])


# --- POST /purchases ------------------------------------------------------------------


def test_purchase_earns_points_and_answers_201(till, member, store):
    response = till.post(PURCHASES, purchase_body(member), format="json")

    assert response.status_code == 201, response.json()
    purchase = Purchase.objects.get()
    assert response.json() == {
        "id": purchase.pk,
        "points_earned": 412,
        "points_balance": 412,
        "points_breakdown": [
            {"stage": "base", "rule": None, "name": "", "points": 412}
        ],
        "stamps": [],
        "promo_code": None,
    }
    assert purchase.store == store
    assert purchase.member == member
    assert purchase.total == Decimal("412.50")
    assert purchase.source == Purchase.Source.API
    assert member_balance_get(member_id=member.pk) == 412


def test_purchase_balance_includes_earlier_points(till, member, store):
    purchase_record(store=store, member=member, receipt_id="old", total=Decimal("100"))

    response = till.post(PURCHASES, purchase_body(member), format="json")

    assert response.json()["points_balance"] == 512


def test_purchase_adds_two_queries_to_the_service(till, member, store):
    """The till's token and the member's row: nothing else outside
    purchase_record (the answer's breakdown and stamps come from the write)."""
    purchase_record(store=store, member=member, receipt_id="warm", total=Decimal(5))
    till.post(PURCHASES, purchase_body(member, receipt_id="W-1"), format="json")
    with CaptureQueriesContext(connection) as service:
        purchase_record(store=store, member=member, receipt_id="S-1", total=Decimal(5))
    with CaptureQueriesContext(connection) as request:
        response = till.post(PURCHASES, purchase_body(member), format="json")

    assert response.status_code == 201
    assert response.json()["stamps"] == []
    assert len(request) - len(service) <= 2, [q["sql"] for q in request]


# Token, member, the account lock (with the receipt, membership, referral and
# configuration token), the purchase, the balance, the entry, the points lot,
# the tier's spend (main read the breakdown back too: 10).
EARN_QUERIES = 9


def test_an_earn_request_stays_within_its_queries(
    till, member, store, django_assert_max_num_queries
):
    purchase_record(store=store, member=member, receipt_id="warm", total=Decimal(5))
    till.post(PURCHASES, purchase_body(member, receipt_id="W-1"), format="json")

    with django_assert_max_num_queries(EARN_QUERIES):
        response = till.post(PURCHASES, purchase_body(member), format="json")
    assert response.status_code == 201
    # A replay reads the first answer's breakdown and stamps back (one query).
    with django_assert_max_num_queries(EARN_QUERIES):
        replay = till.post(PURCHASES, purchase_body(member), format="json")
    assert replay.status_code == 200
    assert replay.json() == response.json()


def test_purchase_replay_answers_the_first_breakdown(till, member):
    first = till.post(PURCHASES, purchase_body(member), format="json").json()
    replay = till.post(PURCHASES, purchase_body(member), format="json")

    assert replay.status_code == 200
    assert replay.json() == first
    assert first["points_breakdown"] == [
        {"stage": "base", "rule": None, "name": "", "points": 412}
    ]


def test_purchase_below_the_minimum_answers_an_empty_breakdown(till, member, program):
    program.min_purchase = Decimal("1000")
    program.save()

    response = till.post(PURCHASES, purchase_body(member), format="json")

    assert response.status_code == 201
    assert response.json()["points_earned"] == 0
    assert response.json()["points_breakdown"] == []


def test_purchase_by_phone(till, member):
    body = purchase_body(member, phone=member.phone, card_number=None)

    response = till.post(PURCHASES, body, format="json")

    assert response.status_code == 201, response.json()
    assert Purchase.objects.get().member == member


def test_purchase_with_lines_stores_them(till, member):
    response = till.post(PURCHASES, purchase_body(member, lines=LINES), format="json")

    assert response.status_code == 201, response.json()
    lines = {line.sku: line for line in Purchase.objects.get().lines.all()}
    assert lines["MILK"].amount == Decimal("80.50")
    assert lines["MILK"].name == "Milk 1 l"
    assert lines["COFFEE"].quantity == Decimal("1.000")


def test_purchase_whose_lines_do_not_add_up_is_400(till, member):
    response = till.post(
        PURCHASES, purchase_body(member, total="400.00", lines=LINES), format="json"
    )

    assert_error(
        response,
        400,
        "total",
        "The total 400.00 does not equal the sum of the lines, 412.50.",
    )
    assert not Purchase.objects.exists()


def test_purchase_below_minimum_earns_nothing(till, member, program):
    program.min_purchase = Decimal("50")
    program.save()

    response = till.post(PURCHASES, purchase_body(member, total="49.99"), format="json")

    assert response.status_code == 201
    assert response.json()["points_earned"] == 0


def test_purchase_replay_answers_200_with_the_first_result(till, member):
    first = till.post(PURCHASES, purchase_body(member, lines=LINES), format="json")
    till.post(
        PURCHASES, purchase_body(member, receipt_id="R-2", total="10"), format="json"
    )

    again = till.post(PURCHASES, purchase_body(member, lines=LINES), format="json")

    assert again.status_code == 200
    assert again.json() == first.json()
    assert Purchase.objects.count() == 2
    assert member_balance_get(member_id=member.pk) == 422


def test_purchase_replay_with_other_total_is_409(till, member):
    till.post(PURCHASES, purchase_body(member), format="json")

    response = till.post(
        PURCHASES, purchase_body(member, total="412.51"), format="json"
    )

    body = assert_error(response, 409, "receipt_id")
    assert (
        body["detail"]
        == "Receipt R-1 was already recorded at this store with other details."
    )
    assert member_balance_get(member_id=member.pk) == 412


def test_purchase_replay_for_another_member_is_409(till, member, store):
    someone = MemberFactory(store=store)
    till.post(PURCHASES, purchase_body(member), format="json")

    assert_error(
        till.post(PURCHASES, purchase_body(someone), format="json"), 409, "receipt_id"
    )
    assert member_balance_get(member_id=someone.pk) == 0


def test_same_receipt_id_at_another_store_is_another_purchase(till, other_till, member):
    assert till.post(PURCHASES, purchase_body(member), format="json").status_code == 201

    response = other_till.post(PURCHASES, purchase_body(member), format="json")

    assert response.status_code == 201
    assert member_balance_get(member_id=member.pk) == 824


def test_purchase_replay_with_same_instant_in_other_offset_is_200(till, member):
    day = (timezone.now() - dt.timedelta(days=3)).date().isoformat()
    body = purchase_body(member, occurred_at=f"{day}T10:00:00+02:00")
    assert till.post(PURCHASES, body, format="json").status_code == 201

    again = till.post(
        PURCHASES, {**body, "occurred_at": f"{day}T08:00:00Z"}, format="json"
    )

    assert again.status_code == 200


def test_purchase_time_without_offset_is_read_in_the_stores_zone(till, member, store):
    store.timezone = "America/New_York"
    store.save()

    day = (timezone.now() - dt.timedelta(days=3)).date()
    till.post(
        PURCHASES,
        purchase_body(member, occurred_at=f"{day.isoformat()}T09:30:00"),
        format="json",
    )

    assert Purchase.objects.get().occurred_at == dt.datetime.combine(
        day, dt.time(9, 30), tzinfo=zoneinfo.ZoneInfo("America/New_York")
    )


def test_purchase_in_the_future_is_400(till, member):
    later = (timezone.now() + dt.timedelta(hours=1)).isoformat()

    response = till.post(
        PURCHASES, purchase_body(member, occurred_at=later), format="json"
    )

    assert_error(response, 400, "occurred_at", "The time of purchase is in the future.")


@pytest.mark.parametrize(
    "occurred_at",
    [
        "yesterday",
        "2025-13-01T00:00:00",
        "2025-02-30",
        12345,
        True,
        [],
        {},
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00",
        "9999-12-31T23:59:59",
    ],
)
def test_purchase_with_unparseable_or_impossible_time_is_400(till, member, occurred_at):
    response = till.post(
        PURCHASES, purchase_body(member, occurred_at=occurred_at), format="json"
    )

    assert_error(response, 400, "occurred_at")
    assert not Purchase.objects.exists()


def test_purchase_of_unknown_card_is_404(till, member):
    response = till.post(
        PURCHASES, purchase_body(member, card_number="271234567890"), format="json"
    )

    assert_error(
        response, 404, "card_number", "No member has card number 271234567890."
    )


def test_purchase_of_unenrolled_phone_is_404(till, member):
    body = purchase_body(member, card_number=None, phone="+380501234567")

    assert_error(till.post(PURCHASES, body, format="json"), 404, "phone")


def test_purchase_with_invalid_phone_is_400(till, member):
    body = purchase_body(member, card_number=None, phone="12")

    assert_error(till.post(PURCHASES, body, format="json"), 400, "phone")


@pytest.mark.parametrize("card", ["abc", "27-12-ab", "1" * 21, "", " "])
def test_purchase_with_non_digit_card_is_400(till, member, card):
    assert_error(
        till.post(PURCHASES, purchase_body(member, card_number=card), format="json"),
        400,
        "card_number",
    )


def test_purchase_needs_card_or_phone(till, member):
    body = purchase_body(member)
    del body["card_number"]

    response = till.post(PURCHASES, body, format="json")

    message = "Give either card_number or phone, one of them."
    assert assert_error(response, 400)["errors"] == {
        "card_number": [message],
        "phone": [message],
    }


def test_purchase_with_both_card_and_phone_is_400(till, member):
    body = purchase_body(member, phone=member.phone)

    assert_error(till.post(PURCHASES, body, format="json"), 400, "card_number")


@pytest.mark.parametrize("field", ["receipt_id", "total"])
def test_purchase_missing_required_field_is_400(till, member, field):
    body = purchase_body(member)
    del body[field]

    assert_error(
        till.post(PURCHASES, body, format="json"), 400, field, "This field is required."
    )


@pytest.mark.parametrize(
    ("total", "message"),
    [
        ("-5.00", "Ensure this value is greater than or equal to 0.01."),
        ("0", "Ensure this value is greater than or equal to 0.01."),
        ("0.00", "Ensure this value is greater than or equal to 0.01."),
        ("-0", "Ensure this value is greater than or equal to 0.01."),
        (-1, "Ensure this value is greater than or equal to 0.01."),
        ("12.345", "Ensure that there are no more than 2 decimal places."),
        ("0.001", "Ensure that there are no more than 2 decimal places."),
        (
            "10000000000",
            "Ensure that there are no more than 10 digits before the decimal point.",
        ),
        ("1e999", "A valid number is required."),
        (10**30, "Ensure that there are no more than 12 digits in total."),
        ("NaN", "A valid number is required."),
        ("Infinity", "A valid number is required."),
        ("-Infinity", "A valid number is required."),
        ("abc", "A valid number is required."),
        ("12,50", "A valid number is required."),
        ("", "A valid number is required."),
        (True, "A valid number is required."),
        ([], "A valid number is required."),
        (["412.50"], "A valid number is required."),
        ({"amount": 1}, "A valid number is required."),
        (None, "This field may not be null."),
    ],
)
def test_purchase_with_bad_total_is_400(till, member, total, message):
    response = till.post(PURCHASES, purchase_body(member, total=total), format="json")

    assert_error(response, 400, "total", message)
    assert not Purchase.objects.exists()


def test_purchase_total_as_json_number_is_accepted(till, member):
    response = till.post(PURCHASES, purchase_body(member, total=412.5), format="json")

    assert response.status_code == 201
    assert Purchase.objects.get().total == Decimal("412.50")


@pytest.mark.parametrize("raw", [b"1e999", b"-1e999", b"NaN", b"Infinity"])
def test_purchase_with_non_finite_json_number_is_400(till, member, raw):
    body = (
        json.dumps(purchase_body(member, total="__T__"))
        .encode()
        .replace(b'"__T__"', raw)
    )

    response = till.post(PURCHASES, body, content_type="application/json")

    assert_error(response, 400)
    assert not Purchase.objects.exists()


def test_purchase_of_a_large_but_sane_total(till, member):
    response = till.post(
        PURCHASES, purchase_body(member, total="99999999.99"), format="json"
    )

    assert response.status_code == 201
    assert response.json()["points_balance"] == 99_999_999


def test_purchase_earning_more_than_max_points_is_refused(till, member):
    response = till.post(
        PURCHASES, purchase_body(member, total="9999999999.99"), format="json"
    )

    assert_error(response, 400, "total")
    assert member_balance_get(member_id=member.pk) <= MAX_POINTS


@pytest.mark.parametrize(
    "receipt_id",
    ["", " ", None, "x" * 65, [], ["R-1"], {}, True, "\x00"],
    ids=[
        "empty",
        "blank",
        "null",
        "too-long",
        "empty-list",
        "list",
        "object",
        "bool",
        "nul",
    ],
)
def test_purchase_with_bad_receipt_id_is_400(till, member, receipt_id):
    response = till.post(
        PURCHASES, purchase_body(member, receipt_id=receipt_id), format="json"
    )

    assert_error(response, 400, "receipt_id")


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ("MILK", "lines"),
        ({"sku": "MILK"}, "lines"),
        (["MILK"], "lines[0]"),
        ([None], "lines[0]"),
        ([[]], "lines[0]"),
        ([{}], "lines[0].sku"),
        ([{"sku": "", "quantity": 1, "unit_price": "1"}], "lines[0].sku"),
        ([{"sku": ["A"], "quantity": 1, "unit_price": "1"}], "lines[0].sku"),
        ([{"sku": "A", "quantity": 0, "unit_price": "1"}], "lines[0].quantity"),
        ([{"sku": "A", "quantity": -2, "unit_price": "1"}], "lines[0].quantity"),
        ([{"sku": "A", "quantity": "0.0001", "unit_price": "1"}], "lines[0].quantity"),
        ([{"sku": "A", "quantity": "1e999", "unit_price": "1"}], "lines[0].quantity"),
        (
            [{"sku": "A", "quantity": "99999999", "unit_price": "1"}],
            "lines[0].quantity",
        ),
        ([{"sku": "A", "quantity": "NaN", "unit_price": "1"}], "lines[0].quantity"),
        ([{"sku": "A", "quantity": True, "unit_price": "1"}], "lines[0].quantity"),
        ([{"sku": "A", "quantity": 1, "unit_price": "-1"}], "lines[0].unit_price"),
        ([{"sku": "A", "quantity": 1, "unit_price": "1.001"}], "lines[0].unit_price"),
        ([{"sku": "A", "quantity": 1}], "lines[0].unit_price"),
        (
            [{"sku": "A", "quantity": 1, "unit_price": "1", "name": "n" * 201}],
            "lines[0].name",
        ),
        ([{"sku": "x" * 65, "quantity": 1, "unit_price": "1"}], "lines[0].sku"),
    ],
)
def test_purchase_with_bad_lines_is_400(till, member, lines, field):
    response = till.post(
        PURCHASES, purchase_body(member, total="1.00", lines=lines), format="json"
    )

    assert_error(response, 400, field)
    assert not Purchase.objects.exists()


def test_purchase_names_the_line_at_fault(till, member):
    lines = [LINES[0], {"sku": "A", "quantity": "-1", "unit_price": "1"}]

    body = assert_error(
        till.post(PURCHASES, purchase_body(member, lines=lines), format="json"), 400
    )

    assert body["errors"] == {
        "lines[1].quantity": ["Ensure this value is greater than or equal to 0.001."]
    }
    assert (
        body["detail"]
        == "lines[1].quantity: Ensure this value is greater than or equal to 0.001."
    )


def test_purchase_with_too_many_lines_is_400(till, member):
    lines = [{"sku": f"S{i}", "quantity": 1, "unit_price": "0.01"} for i in range(501)]

    response = till.post(
        PURCHASES, purchase_body(member, total="5.01", lines=lines), format="json"
    )

    assert_error(
        response, 400, "lines", "Ensure this field has no more than 500 elements."
    )


def test_purchase_with_empty_lines_uses_the_total(till, member):
    response = till.post(PURCHASES, purchase_body(member, lines=[]), format="json")

    assert response.status_code == 201
    assert response.json()["points_earned"] == 412


@pytest.mark.parametrize(
    "raw",
    [b"{", b"", b"[1, 2]", b"42", b'{"total": NaN}', b"\xff", b'{"a":' * 30000],
    ids=["truncated", "empty", "list", "number", "nan", "not-utf8", "deep"],
)
def test_purchase_with_malformed_json_is_400(till, raw):
    assert_error(till.post(PURCHASES, raw, content_type="application/json"), 400)


def test_purchase_without_token_is_401():
    assert_error(APIClient().post(PURCHASES, {}, format="json"), 401)


def test_money_in_responses_is_a_decimal_string(till, member, store):
    purchase_record(store=store, member=member, receipt_id="r0", total=Decimal("1000"))

    body = till.post(
        REDEMPTIONS,
        {"card_number": member.card_number, "points": 125, "receipt_id": "d"},
        format="json",
    ).json()

    assert body["discount"] == "12.50"


# --- POST /purchases/{id}/returns ------------------------------------------------------


def test_full_return_by_amount_takes_back_all_points(till, bought, member):
    response = till.post(
        returns_url(bought.pk),
        {"receipt_id": "RET-1", "amount": "412.50"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    ret = PurchaseReturn.objects.get()
    assert response.json() == {
        "id": ret.pk,
        "points_reversed": 412,
        "points_balance": 0,
    }
    assert member_balance_get(member_id=member.pk) == 0


def test_purchase_then_full_return_leaves_the_balance_as_it_was(till, member, store):
    purchase_record(
        store=store, member=member, receipt_id="before", total=Decimal("57.00")
    )
    before = member_balance_get(member_id=member.pk)

    created = till.post(
        PURCHASES, purchase_body(member, lines=LINES), format="json"
    ).json()
    assert created["points_balance"] == before + 412
    returned = till.post(
        returns_url(created["id"]),
        {
            "receipt_id": "RET-1",
            "lines": [
                {"sku": "MILK", "quantity": 2},
                {"sku": "COFFEE", "quantity": "1"},
            ],
        },
        format="json",
    ).json()

    assert returned["points_reversed"] == 412
    assert returned["points_balance"] == before
    assert member_balance_get(member_id=member.pk) == before
    entries = LedgerEntry.objects.filter(account__member=member)
    assert sum(entries.values_list("points", flat=True)) == before


def test_partial_return_by_lines_takes_back_their_points(till, bought, member):
    response = till.post(
        returns_url(bought.pk),
        {"receipt_id": "RET-1", "lines": [{"sku": "MILK", "quantity": 1}]},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["points_reversed"] == 40  # 412 earned, 372.25 kept earns 372
    assert response.json()["points_balance"] == 372
    bought.refresh_from_db()
    assert bought.returned_total == Decimal("40.25")


def test_return_replay_answers_200_with_the_first_result(till, bought):
    body = {"receipt_id": "RET-1", "amount": "100.00"}
    first = till.post(returns_url(bought.pk), body, format="json")

    again = till.post(returns_url(bought.pk), body, format="json")

    assert again.status_code == 200
    assert again.json() == first.json()
    assert PurchaseReturn.objects.count() == 1
    bought.refresh_from_db()
    assert bought.returned_total == Decimal("100.00")


def test_return_replay_with_other_amount_is_409(till, bought):
    till.post(
        returns_url(bought.pk),
        {"receipt_id": "RET-1", "amount": "100.00"},
        format="json",
    )

    response = till.post(
        returns_url(bought.pk),
        {"receipt_id": "RET-1", "amount": "50.00"},
        format="json",
    )

    body = assert_error(response, 409, "receipt_id")
    assert (
        body["detail"]
        == "Return receipt RET-1 was already recorded at this store with other details."
    )


def test_returning_more_than_was_bought_is_400(till, bought, member):
    response = till.post(
        returns_url(bought.pk),
        {"receipt_id": "RET-1", "amount": "412.51"},
        format="json",
    )

    assert_error(
        response,
        400,
        "amount",
        "You cannot return 412.51: only 412.50 of this purchase is left to return.",
    )
    assert member_balance_get(member_id=member.pk) == 412


def test_returning_more_than_is_left_after_an_earlier_return_is_400(till, bought):
    till.post(
        returns_url(bought.pk),
        {"receipt_id": "RET-1", "amount": "400.00"},
        format="json",
    )

    response = till.post(
        returns_url(bought.pk),
        {"receipt_id": "RET-2", "amount": "20.00"},
        format="json",
    )

    assert_error(
        response,
        400,
        "amount",
        "You cannot return 20.00: only 12.50 of this purchase is left to return.",
    )


def test_returning_more_items_than_were_bought_is_400(till, bought):
    response = till.post(
        returns_url(bought.pk),
        {"receipt_id": "RET-1", "lines": [{"sku": "MILK", "quantity": 3}]},
        format="json",
    )

    assert_error(
        response,
        400,
        "lines[0].quantity",
        "You cannot return 3 of MILK: only 2 left to return.",
    )
    assert not PurchaseReturn.objects.exists()


def test_returning_an_item_not_on_the_receipt_is_400(till, bought):
    response = till.post(
        returns_url(bought.pk),
        {"receipt_id": "RET-1", "lines": [{"sku": "TEA", "quantity": 1}]},
        format="json",
    )

    assert_error(response, 400, "lines[0].sku", "SKU TEA is not on this receipt.")


def test_returning_only_free_items_is_400_not_500(till, member):
    lines = [*LINES, {"sku": "GIFT", "quantity": 1, "unit_price": "0"}]
    created = till.post(
        PURCHASES, purchase_body(member, lines=lines), format="json"
    ).json()

    response = till.post(
        returns_url(created["id"]),
        {"receipt_id": "RET-1", "lines": [{"sku": "GIFT", "quantity": 1}]},
        format="json",
    )

    assert_error(response, 400, "lines")
    assert member_balance_get(member_id=member.pk) == 412


def test_return_needs_amount_or_lines(till, bought):
    body = assert_error(
        till.post(returns_url(bought.pk), {"receipt_id": "RET-1"}, format="json"), 400
    )

    message = "Give the amount or the lines to return."
    assert body["errors"] == {"amount": [message], "lines": [message]}


def test_return_with_both_amount_and_lines_is_400(till, bought):
    response = till.post(
        returns_url(bought.pk),
        {
            "receipt_id": "RET-1",
            "amount": "10.00",
            "lines": [{"sku": "MILK", "quantity": 1}],
        },
        format="json",
    )

    assert_error(
        response, 400, "amount", "Give either an amount or lines to return, not both."
    )


def test_return_needs_receipt_id(till, bought):
    assert_error(
        till.post(returns_url(bought.pk), {"amount": "1.00"}, format="json"),
        400,
        "receipt_id",
        "This field is required.",
    )


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-1", "Ensure this value is greater than or equal to 0.01."),
        ("0", "Ensure this value is greater than or equal to 0.01."),
        ("1.005", "Ensure that there are no more than 2 decimal places."),
        ("1e999", "A valid number is required."),
        ("NaN", "A valid number is required."),
        (False, "A valid number is required."),
        (["1"], "A valid number is required."),
    ],
)
def test_return_with_bad_amount_is_400(till, bought, amount, message):
    response = till.post(
        returns_url(bought.pk), {"receipt_id": "RET-1", "amount": amount}, format="json"
    )

    assert_error(response, 400, "amount", message)


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ("MILK", "lines"),
        ([{"sku": "MILK"}], "lines[0].quantity"),
        ([{"sku": "MILK", "quantity": 0}], "lines[0].quantity"),
        ([{"sku": "MILK", "quantity": "-1"}], "lines[0].quantity"),
        ([{"sku": "MILK", "quantity": "1e999"}], "lines[0].quantity"),
        ([{"sku": "MILK", "quantity": "Infinity"}], "lines[0].quantity"),
        ([{"quantity": 1}], "lines[0].sku"),
        ([{"sku": None, "quantity": 1}], "lines[0].sku"),
        ([42], "lines[0]"),
    ],
)
def test_return_with_bad_lines_is_400(till, bought, lines, field):
    response = till.post(
        returns_url(bought.pk), {"receipt_id": "RET-1", "lines": lines}, format="json"
    )

    assert_error(response, 400, field)
    assert not PurchaseReturn.objects.exists()


def test_return_of_another_stores_purchase_is_404(other_till, bought, member):
    response = other_till.post(
        returns_url(bought.pk),
        {"receipt_id": "RET-1", "amount": "412.50"},
        format="json",
    )

    body = assert_error(response, 404)
    assert body["detail"] == f"No purchase {bought.pk} at this store."
    assert member_balance_get(member_id=member.pk) == 412


@pytest.mark.parametrize("purchase_id", ["999999", "abc", "-1", "1.5", "9" * 30, "١"])
def test_return_of_unknown_or_malformed_purchase_id_is_404_json(
    till, bought, purchase_id
):
    response = till.post(
        returns_url(purchase_id),
        {"receipt_id": "RET-1", "amount": "1.00"},
        format="json",
    )

    assert_error(response, 404)


def test_return_without_token_is_401(bought):
    assert_error(APIClient().post(returns_url(bought.pk), {}, format="json"), 401)


def test_return_after_points_were_spent_takes_balance_below_zero(
    till, bought, member, store
):
    points_redeem(member=member, store=store, points=400, receipt_id="D-1")

    response = till.post(
        returns_url(bought.pk),
        {"receipt_id": "RET-1", "amount": "412.50"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["points_balance"] == -400


# --- POST /redemptions --------------------------------------------------------------------


@pytest.fixture
def rich_member(member, store):
    purchase_record(store=store, member=member, receipt_id="earn", total=Decimal("500"))
    return member


def redemption_body(member, **overrides) -> dict:
    return {
        "card_number": member.card_number,
        "points": 100,
        "receipt_id": "D-1",
        **overrides,
    }


def test_redemption_spends_points_for_a_discount(till, rich_member, store):
    response = till.post(REDEMPTIONS, redemption_body(rich_member), format="json")

    assert response.status_code == 201, response.json()
    redemption = Redemption.objects.get()
    assert response.json() == {
        "id": redemption.pk,
        "points": 100,
        "discount": "10.00",
        "points_balance": 400,
    }
    assert redemption.store == store
    assert member_balance_get(member_id=rich_member.pk) == 400
    assert LedgerEntry.objects.filter(kind=LedgerKind.REDEEM).get().points == -100


def test_redemption_replay_answers_200_with_the_first_result(till, rich_member):
    first = till.post(REDEMPTIONS, redemption_body(rich_member), format="json")

    again = till.post(REDEMPTIONS, redemption_body(rich_member), format="json")

    assert again.status_code == 200
    assert again.json() == first.json()
    assert member_balance_get(member_id=rich_member.pk) == 400


def test_redemption_replay_with_other_points_is_409(till, rich_member):
    till.post(REDEMPTIONS, redemption_body(rich_member), format="json")

    response = till.post(
        REDEMPTIONS, redemption_body(rich_member, points=50), format="json"
    )

    body = assert_error(response, 409, "receipt_id")
    assert (
        body["detail"]
        == "Receipt D-1 already has a redemption at this store with other details."
    )
    assert member_balance_get(member_id=rich_member.pk) == 400


def test_redemption_above_the_balance_is_409_stating_the_balance(till, rich_member):
    response = till.post(
        REDEMPTIONS, redemption_body(rich_member, points=501), format="json"
    )

    body = assert_error(
        response,
        409,
        "points",
        "Not enough points: the balance is 500, 501 were asked.",
    )
    assert body["balance"] == 500
    assert not Redemption.objects.exists()


def test_redemption_of_the_whole_balance(till, rich_member):
    response = till.post(
        REDEMPTIONS, redemption_body(rich_member, points=500), format="json"
    )

    assert response.json()["points_balance"] == 0


def test_redemption_of_unknown_card_is_404(till, rich_member):
    response = till.post(
        REDEMPTIONS,
        redemption_body(rich_member, card_number="271234567890"),
        format="json",
    )

    assert_error(
        response, 404, "card_number", "No member has card number 271234567890."
    )


@pytest.mark.parametrize("field", ["card_number", "points", "receipt_id"])
def test_redemption_missing_field_is_400(till, rich_member, field):
    body = redemption_body(rich_member)
    del body[field]

    assert_error(
        till.post(REDEMPTIONS, body, format="json"),
        400,
        field,
        "This field is required.",
    )


@pytest.mark.parametrize(
    ("points", "message"),
    [
        (0, "Ensure this value is greater than or equal to 1."),
        (-5, "Ensure this value is greater than or equal to 1."),
        (1.5, "A valid integer is required."),
        ("abc", "A valid integer is required."),
        ("1e999", "A valid integer is required."),
        (True, "A valid integer is required."),
        (None, "This field may not be null."),
        ([], "A valid integer is required."),
        ({}, "A valid integer is required."),
        (MAX_POINTS + 1, f"Ensure this value is less than or equal to {MAX_POINTS}."),
        (10**400, f"Ensure this value is less than or equal to {MAX_POINTS}."),
        ("9" * 2000, "String value too large."),
    ],
)
def test_redemption_with_bad_points_is_400(till, rich_member, points, message):
    response = till.post(
        REDEMPTIONS, redemption_body(rich_member, points=points), format="json"
    )

    assert_error(response, 400, "points", message)
    assert member_balance_get(member_id=rich_member.pk) == 500


@pytest.mark.parametrize("raw", [b"1e999", b"-Infinity", b"1" + b"0" * 5000])
def test_redemption_with_unrepresentable_json_points_is_400(till, rich_member, raw):
    body = (
        json.dumps(redemption_body(rich_member, points="__P__"))
        .encode()
        .replace(b'"__P__"', raw)
    )

    assert_error(till.post(REDEMPTIONS, body, content_type="application/json"), 400)


@pytest.mark.parametrize("card", ["abc", None, [], 12.5, "x" * 100])
def test_redemption_with_bad_card_is_400(till, rich_member, card):
    assert_error(
        till.post(
            REDEMPTIONS, redemption_body(rich_member, card_number=card), format="json"
        ),
        400,
        "card_number",
    )


def test_redemption_of_a_member_enrolled_elsewhere(till, other_store):
    """Points are chain-wide: a member enrolled at another store redeems here too."""
    someone = MemberFactory(store=other_store)
    purchase_record(
        store=other_store, member=someone, receipt_id="e", total=Decimal("100")
    )

    response = till.post(
        REDEMPTIONS, redemption_body(someone, points=100), format="json"
    )

    assert response.status_code == 201


def test_redemption_without_token_is_401():
    assert_error(APIClient().post(REDEMPTIONS, {}, format="json"), 401)


# --- nothing makes a 500 ----------------------------------------------------------------

GARBAGE = [
    None,
    True,
    False,
    0,
    -1,
    2**63,
    10**100,
    1.5,
    -0.0,
    1e308,
    "",
    " ",
    "\x00",
    "💥",
    "x" * 3000,
    "1e999",
    "-1e999",
    "NaN",
    "0x10",
    "1_000",
    "١٢٣",
    [],
    [None],
    [[[[]]]],
    {},
    {"a": {"b": []}},
]


def _endpoints(member, purchase_id):
    return [
        (
            "/api/v1/members",
            {
                "phone": "+380501234567",
                "email": "a@example.com",
                "first_name": "A",
                "last_name": "B",
                "birthday": "1990-01-01",
                "language": "en",
            },
        ),
        (
            PURCHASES,
            purchase_body(
                member,
                occurred_at=timezone.now().isoformat(),
                lines=[
                    {
                        "sku": "A",
                        "name": "a",
                        "category": "c",
                        "quantity": 1,
                        "unit_price": "412.50",
                    }
                ],
            ),
        ),
        (returns_url(purchase_id), {"receipt_id": "RET-1", "amount": "1.00"}),
        (
            returns_url(purchase_id),
            {"receipt_id": "RET-2", "lines": [{"sku": "MILK", "quantity": 1}]},
        ),
        (REDEMPTIONS, redemption_body(member)),
    ]


def _nested_paths(value, path=()):
    """Every (path) inside a JSON body: top-level fields, list items and their fields."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key)
            yield from _nested_paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield (*path, i)
            yield from _nested_paths(item, (*path, i))


def _replaced(body, path, value):
    body = json.loads(json.dumps(body))
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return body


def test_no_value_in_any_field_makes_a_server_error(till, bought, member):
    """Every field of every endpoint, top-level and nested, with every kind of garbage."""
    client = till
    client.raise_request_exception = True  # a 500 would raise here and fail the test
    tried = 0
    for url, body in _endpoints(member, bought.pk):
        for path in _nested_paths(body):
            for value in GARBAGE:
                response = client.post(url, _replaced(body, path, value), format="json")
                assert response.status_code < 500, (url, path, value)
                assert response["Content-Type"] == "application/json", (
                    url,
                    path,
                    value,
                )
                if response.status_code >= 400:
                    assert set(response.json()) >= {"detail", "errors"}, (
                        url,
                        path,
                        value,
                    )
                tried += 1
            removed = json.loads(json.dumps(body))
            target = removed
            for step in path[:-1]:
                target = target[step]
            del target[path[-1]]
            assert client.post(url, removed, format="json").status_code < 500, (
                url,
                path,
            )
    assert tried > 500


def test_no_query_string_makes_a_lookup_server_error(till, member):
    for name in ("phone", "card"):
        for value in [
            "",
            " ",
            "\x00",
            "x" * 3000,
            "١٢٣",
            "+",
            "++380",
            "%",
            "💥",
            "0" * 30,
        ]:
            response = till.get(reverse("api-v1:member-lookup"), {name: value})
            assert response.status_code in (400, 404), (name, value)
            assert set(response.json()) == {"detail", "errors"}


# --- races (PostgreSQL) ---------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_one_purchase_earn_once(store):
    member = MemberFactory(store=store)
    _token, raw = api_token_create(store=store, name="till 1")
    body = purchase_body(member)
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def post():
        try:
            client = APIClient(HTTP_AUTHORIZATION=f"Token {raw}")
            barrier.wait()
            statuses.append(client.post(PURCHASES, body, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(statuses) == [200, 200, 200, 201]
    assert member_balance_get(member_id=member.pk) == 412
    assert Purchase.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_redemptions_never_overdraw(store):
    member = MemberFactory(store=store)
    purchase_record(store=store, member=member, receipt_id="earn", total=Decimal("100"))
    _token, raw = api_token_create(store=store, name="till 1")
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def redeem(i):
        try:
            client = APIClient(HTTP_AUTHORIZATION=f"Token {raw}")
            barrier.wait()
            response = client.post(
                REDEMPTIONS,
                redemption_body(member, points=60, receipt_id=f"D-{i}"),
                format="json",
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(statuses) == [201, 409, 409, 409]
    assert member_balance_get(member_id=member.pk) == 40


# --- the services refuse absurd input themselves -------------------------------------
# The API's serializers keep these inputs away from the services; other callers
# (Counter, imports) rely on the services' own checks.


def test_service_refuses_an_astronomic_total_with_invalid_input(member, store):
    from members.errors import InvalidInput

    with pytest.raises(InvalidInput, match="The amount is too large."):
        purchase_record(store=store, member=member, receipt_id="r", total=10**30)


def test_service_refuses_an_astronomic_return_quantity_with_invalid_input(
    member, store
):
    from members.errors import InvalidInput

    purchase, _ = purchase_record(
        store=store,
        member=member,
        receipt_id="r",
        lines=[{"sku": "A", "quantity": 1, "unit_price": "5"}],
    )

    with pytest.raises(InvalidInput):
        purchase_return_record(
            purchase=purchase,
            store=store,
            receipt_id="ret",
            lines=[{"sku": "A", "quantity": "1e999"}],
        )


def test_service_refuses_infinite_points_with_invalid_input(member, store):
    from members.errors import InvalidInput

    with pytest.raises(InvalidInput):
        points_redeem(member=member, store=store, points=float("inf"), receipt_id="d")


def test_purchase_answers_with_the_rules_that_gave_the_points(till, member):
    from rewards.tests.factories import EarningRuleFactory

    rule = EarningRuleFactory(name="Tea x2", category="tea", multiplier=Decimal(2))
    body = purchase_body(
        member,
        lines=[
            {"sku": "T1", "quantity": "1", "unit_price": "100.00", "category": "Tea"}
        ],
    )
    body["total"] = "100.00"
    response = till.post(PURCHASES, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["points_breakdown"] == [
        {"stage": "base", "rule": None, "name": "", "points": 100},
        {"stage": "product", "rule": rule.pk, "name": "Tea x2", "points": 100},
    ]
