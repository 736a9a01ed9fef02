"""The till API for members: authentication, enrolment, lookup, detail, schema and docs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from members.models import ApiToken, Member
from members.services import api_token_create, api_token_revoke
from members.tests.factories import MemberFactory
from rewards.models import LedgerKind
from rewards.selectors.program import program_settings_get
from rewards.services import points_redeem, purchase_record

pytestmark = pytest.mark.django_db

CREATE = reverse("api-v1:member-create")
LOOKUP = reverse("api-v1:member-lookup")
NEW_PHONE = "+380501234567"


def detail_url(card: str) -> str:
    return reverse("api-v1:member-detail", args=[card])


@pytest.fixture
def till(api_client):
    """The store's till, asking for English messages."""
    api_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return api_client


@pytest.fixture
def program(db):
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
            assert message in body["errors"][field], body
    return body


# --- authentication ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", CREATE),
        ("get", LOOKUP + "?phone=%2B380501234567"),
        ("get", detail_url("1")),
    ],
)
def test_request_without_token_is_401_json(method, url):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")

    response = (
        getattr(client, method)(url, {}, format="json")
        if method == "post"
        else client.get(url)
    )

    body = assert_error(response, 401)
    assert body["errors"] == {}
    assert response["WWW-Authenticate"] == "Token"


def test_unknown_token_is_401(store):
    client = APIClient(
        HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION="Token not-a-real-token"
    )

    response = client.get(LOOKUP, {"phone": NEW_PHONE})

    assert assert_error(response, 401)["detail"] == "Invalid or revoked token."


def test_revoked_token_is_401(store):
    token, raw = api_token_create(store=store, name="till 9")
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Token {raw}")
    assert client.get(LOOKUP, {"phone": NEW_PHONE}).status_code == 404
    api_token_revoke(token=token)

    response = client.get(LOOKUP, {"phone": NEW_PHONE})

    assert assert_error(response, 401)["detail"] == "Invalid or revoked token."


def test_token_of_inactive_store_is_401(store):
    _token, raw = api_token_create(store=store, name="till 9")
    store.is_active = False
    store.save()
    client = APIClient(HTTP_AUTHORIZATION=f"Token {raw}")

    assert_error(client.get(LOOKUP, {"phone": NEW_PHONE}), 401)


def test_malformed_authorization_header_is_401(store):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION="Token two words")

    response = client.get(LOOKUP, {"phone": NEW_PHONE})

    assert assert_error(response, 401)["detail"] == (
        "Send the header as “Authorization: Token <token>”."
    )


def test_successful_call_records_when_the_token_was_used(till, store):
    token = ApiToken.objects.get(store=store)
    assert token.last_used_at is None

    till.get(LOOKUP, {"phone": NEW_PHONE})

    token.refresh_from_db()
    assert token.last_used_at is not None


# --- schema and docs ----------------------------------------------------------------------


def test_schema_documents_every_operation_with_bodies_and_errors(client):
    response = client.get(reverse("api-v1:schema"), {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    assert set(paths) >= {
        "/api/v1/members",
        "/api/v1/members/lookup",
        "/api/v1/members/{card_number}",
        "/api/v1/purchases",
        "/api/v1/purchases/{purchase_id}/returns",
        "/api/v1/redemptions",
    }
    for path, method, statuses in [
        ("/api/v1/members", "post", {"201", "400", "401", "409"}),
        ("/api/v1/members/lookup", "get", {"200", "400", "401", "404"}),
        ("/api/v1/members/{card_number}", "get", {"200", "401", "404"}),
        ("/api/v1/purchases", "post", {"200", "201", "400", "401", "404", "409"}),
        (
            "/api/v1/purchases/{purchase_id}/returns",
            "post",
            {"200", "201", "400", "404", "409"},
        ),
        ("/api/v1/redemptions", "post", {"200", "201", "400", "401", "404", "409"}),
    ]:
        operation = paths[path][method]
        assert statuses <= set(operation["responses"]), (
            path,
            operation["responses"].keys(),
        )
        assert operation["security"] == [{"tillToken": []}]
        if method == "post":
            assert "application/json" in operation["requestBody"]["content"]
    components = schema["components"]["schemas"]
    assert components["Error"]["required"] == ["detail", "errors"]
    purchase_in = components["PurchaseCreateInputRequest"]["properties"]
    assert purchase_in["total"]["pattern"]  # a decimal string with at most 2 places
    assert set(components["PurchaseCreateInputRequest"]["required"]) == {
        "receipt_id",
        "total",
    }
    assert "recent_activity" in components["MemberDetailOutput"]["properties"]


def test_schema_builds_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command(
        "spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )

    assert "/api/v1/purchases" in (tmp_path / "schema.yaml").read_text()


def test_docs_page_is_served(client):
    response = client.get(reverse("api-v1:docs"))

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


# --- POST /members ------------------------------------------------------------------------


def test_enroll_creates_member_with_card_and_zero_balance(till, store):
    response = till.post(
        CREATE,
        {
            "phone": "050 123 45 67",
            "email": "Olena@Example.com",
            "first_name": "Olena",
            "last_name": "Koval",
            "birthday": "1990-05-17",
            "language": "en",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    member = Member.objects.get(card_number=body["card_number"])
    assert body == {
        "card_number": member.card_number,
        "phone": NEW_PHONE,
        "email": "olena@example.com",
        "first_name": "Olena",
        "last_name": "Koval",
        "birthday": "1990-05-17",
        "language": "en",
        "enrolled_at": body["enrolled_at"],
        "points_balance": 0,
        "source": "till",
        "utm_source": "",
        "utm_medium": "",
        "utm_campaign": "",
    }
    assert member.enrolled_store == store
    assert member.home_store == store
    assert member.account.balance == 0


def test_enroll_with_phone_only_uses_default_language(till, settings):
    settings.LANGUAGE_CODE = "uk"
    response = till.post(CREATE, {"phone": NEW_PHONE}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["email"] is None
    assert body["first_name"] == ""
    assert body["language"] == "uk"


def test_enroll_accepts_nulls_for_optional_fields(till):
    response = till.post(
        CREATE,
        {
            "phone": NEW_PHONE,
            "email": None,
            "first_name": None,
            "last_name": None,
            "birthday": None,
            "language": None,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()


def test_enroll_records_nothing_as_consent(till):
    response = till.post(CREATE, {"phone": NEW_PHONE}, format="json")

    member = Member.objects.get(card_number=response.json()["card_number"])
    assert not member.sms_consent and not member.email_consent
    assert not member.consent_events.exists()


def test_enroll_of_enrolled_phone_is_409_naming_the_card(till, member):
    response = till.post(CREATE, {"phone": member.phone}, format="json")

    body = assert_error(response, 409, "phone")
    assert body["card_number"] == member.card_number
    assert (
        body["detail"]
        == f"This phone is already enrolled with card {member.card_number}."
    )
    assert Member.objects.count() == 1


def test_enroll_of_enrolled_email_is_409_naming_no_card(till, member):
    # Nothing else finds a member by email: a till must not learn a card from one.
    response = till.post(
        CREATE, {"phone": NEW_PHONE, "email": member.email.upper()}, format="json"
    )

    body = assert_error(response, 409, "email")
    assert body["detail"] == "This email belongs to another member."
    assert "card_number" not in body
    assert member.card_number not in response.content.decode()


def test_enroll_requires_phone(till):
    body = assert_error(till.post(CREATE, {}, format="json"), 400, "phone")

    assert body["errors"]["phone"] == ["This field is required."]
    assert body["detail"] == "phone: This field is required."


@pytest.mark.parametrize("phone", ["12", "not a phone", "+380 00 000 00 00", " "])
def test_enroll_refuses_invalid_phone(till, phone):
    assert_error(till.post(CREATE, {"phone": phone}, format="json"), 400, "phone")
    assert not Member.objects.exists()


def test_enroll_refuses_unknown_language(till):
    body = assert_error(
        till.post(CREATE, {"phone": NEW_PHONE, "language": "xx"}, format="json"),
        400,
        "language",
    )

    assert body["errors"]["language"] == ['"xx" is not a valid choice.']


def test_enroll_refuses_invalid_email(till):
    assert_error(
        till.post(CREATE, {"phone": NEW_PHONE, "email": "nope"}, format="json"),
        400,
        "email",
    )


@pytest.mark.parametrize(
    "birthday", ["2999-01-01", "1800-01-01", "yesterday", "1990-02-30"]
)
def test_enroll_refuses_impossible_birthday(till, birthday):
    assert_error(
        till.post(CREATE, {"phone": NEW_PHONE, "birthday": birthday}, format="json"),
        400,
        "birthday",
    )


def test_enroll_refuses_names_longer_than_stored(till):
    body = assert_error(
        till.post(CREATE, {"phone": NEW_PHONE, "first_name": "x" * 81}, format="json"),
        400,
        "first_name",
    )

    assert body["errors"]["first_name"] == [
        "Ensure this field has no more than 80 characters."
    ]


@pytest.mark.parametrize(
    "field", ["phone", "email", "first_name", "last_name", "birthday", "language"]
)
@pytest.mark.parametrize(
    "value",
    [True, [], ["+380501234567"], {"a": 1}, "x" * 5000, "\x00"],
    ids=["bool", "empty-list", "list", "object", "huge", "nul"],
)
def test_enroll_refuses_wrong_types_with_400(till, field, value):
    data = {"phone": NEW_PHONE, field: value}

    assert_error(till.post(CREATE, data, format="json"), 400, field)
    assert not Member.objects.exists()


def test_enroll_refuses_null_phone(till):
    assert_error(till.post(CREATE, {"phone": None}, format="json"), 400, "phone")


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"",
        b"[]",
        b'"phone"',
        b"null",
        b'{"phone": NaN}',
        b"\xff\xfe",
        b"[" * 50000,
    ],
    ids=["truncated", "empty", "list", "string", "null", "nan", "not-utf8", "deep"],
)
def test_enroll_refuses_malformed_json_with_400(till, raw):
    response = till.post(CREATE, raw, content_type="application/json")

    assert_error(response, 400)


def test_enroll_refuses_form_encoded_body_with_415(till):
    response = till.post(
        CREATE, {"phone": NEW_PHONE}
    )  # multipart, the test client's default

    assert_error(response, 415)


def test_errors_follow_the_till_language(api_client):
    api_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "uk"

    body = assert_error(api_client.post(CREATE, {}, format="json"), 400, "phone")

    assert body["errors"]["phone"] != ["This field is required."]


def test_wrong_method_is_405_json(till):
    assert_error(till.get(CREATE), 405)


# --- GET /members/lookup --------------------------------------------------------------


def test_lookup_by_phone_returns_member_with_balance(till, member, store, program):
    purchase_record(
        store=store, member=member, receipt_id="r1", total=Decimal("120.00")
    )

    response = till.get(LOOKUP, {"phone": member.phone})

    assert response.status_code == 200
    body = response.json()
    assert body["card_number"] == member.card_number
    assert body["phone"] == member.phone
    assert body["points_balance"] == 120


def test_lookup_by_phone_in_national_form(till, member):
    national = "0" + member.phone.removeprefix("+380")

    response = till.get(LOOKUP, {"phone": national})

    assert response.json()["card_number"] == member.card_number


def test_lookup_by_card_as_printed_with_spaces(till, member):
    printed = " ".join(member.card_number[i : i + 4] for i in range(0, 12, 4))

    response = till.get(LOOKUP, {"card": printed})

    assert response.status_code == 200
    assert response.json()["card_number"] == member.card_number


def test_lookup_of_unknown_card_is_404(till, member):
    body = assert_error(till.get(LOOKUP, {"card": "271234567890"}), 404, "card")

    assert body["detail"] == "No member has card number 271234567890."


def test_lookup_of_unenrolled_phone_is_404(till, member):
    body = assert_error(till.get(LOOKUP, {"phone": NEW_PHONE}), 404, "phone")

    assert body["detail"] == f"No member has phone {NEW_PHONE}."


def test_lookup_without_phone_or_card_is_400_naming_both(till):
    body = assert_error(till.get(LOOKUP), 400)

    message = "Give either ?phone=… or ?card=…, one of them."
    assert body["errors"] == {"phone": [message], "card": [message]}


def test_lookup_with_both_phone_and_card_is_400(till, member):
    assert_error(
        till.get(LOOKUP, {"phone": member.phone, "card": member.card_number}),
        400,
        "phone",
    )


@pytest.mark.parametrize("phone", ["12", "hello", "+0000"])
def test_lookup_with_invalid_phone_is_400_naming_phone(till, phone):
    body = assert_error(till.get(LOOKUP, {"phone": phone}), 400, "phone")

    assert "phone number" in body["errors"]["phone"][0]


@pytest.mark.parametrize("card", ["abc", "2712-34ab", "١٢٣", "1" * 21, "x" * 500])
def test_lookup_with_non_digit_card_is_400(till, card):
    body = assert_error(till.get(LOOKUP, {"card": card}), 400, "card")

    assert body["errors"]["card"] in (
        ["A card number has digits only, at most 20."],
        ["Ensure this field has no more than 40 characters."],
    )


def test_lookup_with_blank_phone_is_400(till):
    assert_error(till.get(LOOKUP, {"phone": ""}), 400, "phone")


# --- GET /members/{card} ------------------------------------------------------------------


def test_detail_shows_member_balance_and_last_ten_entries(till, member, store, program):
    for i in range(12):
        purchase_record(
            store=store, member=member, receipt_id=f"r{i}", total=Decimal(10 + i)
        )
    points_redeem(member=member, store=store, points=50, receipt_id="d1")

    response = till.get(detail_url(member.card_number))

    assert response.status_code == 200
    body = response.json()
    assert body["card_number"] == member.card_number
    assert body["points_balance"] == sum(10 + i for i in range(12)) - 50
    activity = body["recent_activity"]
    assert len(activity) == 10
    assert activity[0] == {
        "kind": LedgerKind.REDEEM,
        "points": -50,
        "balance_after": body["points_balance"],
        "created_at": activity[0]["created_at"],
        "reason": f"Discount on receipt d1 at {store.code}",
        "reason_code": "redemption_discount",
        "reason_params": {"receipt": "d1", "store": store.code},
    }
    assert activity[1]["kind"] == LedgerKind.EARN
    assert activity[1]["points"] == 21
    assert activity[-1]["points"] == 13  # r3: the three oldest are left out
    dt.datetime.fromisoformat(activity[0]["created_at"])


def test_detail_of_member_without_history_has_empty_activity(till, member):
    body = till.get(detail_url(member.card_number)).json()

    assert body["points_balance"] == 0
    assert body["recent_activity"] == []
    assert (body["points_spendable"], body["points_pending"], body["tier"]) == (
        0,
        0,
        None,
    )


def test_detail_tells_spendable_and_pending_points_and_the_tier(till, member, store):
    from rewards.selectors.program import program_settings_get
    from rewards.tests.factories import TierFactory

    TierFactory(name="Silver", threshold=Decimal("100"))
    purchase_record(store=store, member=member, receipt_id="old", total="100")
    conf = program_settings_get()
    conf.pending_days = 14
    conf.save()
    purchase_record(store=store, member=member, receipt_id="new", total="40")

    body = till.get(detail_url(member.card_number)).json()

    assert body["points_balance"] == 140
    assert (body["points_spendable"], body["points_pending"]) == (100, 40)
    assert body["tier"] == "Silver"


def test_detail_query_count_does_not_grow_with_history(
    till, store, program, django_assert_max_num_queries
):
    short = MemberFactory(store=store)
    long = MemberFactory(store=store)
    for i in range(3):
        purchase_record(
            store=store, member=short, receipt_id=f"s{i}", total=Decimal("5")
        )
    for i in range(30):
        purchase_record(
            store=store, member=long, receipt_id=f"l{i}", total=Decimal("5")
        )
    till.get(
        detail_url(short.card_number)
    )  # the token's last-used stamp is written once

    with CaptureQueriesContext(connection) as few:
        assert till.get(detail_url(short.card_number)).status_code == 200
    with CaptureQueriesContext(connection) as many:
        response = till.get(detail_url(long.card_number))

    assert len(response.json()["recent_activity"]) == 10
    assert len(few) == len(many)
    # token, member with account and tier, entries, points lots
    with django_assert_max_num_queries(4):
        till.get(detail_url(long.card_number))


def test_detail_of_another_stores_member_is_shown(till, other_store):
    """Membership is chain-wide: any store's till may see any member."""
    someone = MemberFactory(store=other_store)

    assert till.get(detail_url(someone.card_number)).status_code == 200


def test_detail_accepts_card_with_dashes(till, member):
    card = f"{member.card_number[:4]}-{member.card_number[4:]}"

    assert till.get(detail_url(card)).json()["card_number"] == member.card_number


@pytest.mark.parametrize("card", ["271234567890", "abc", "%00", "1" * 100, "١٢٣"])
def test_detail_of_unknown_or_malformed_card_is_404_json(till, member, card):
    body = assert_error(till.get(f"/api/v1/members/{card}"), 404, "card_number")

    assert body["detail"].startswith("No member has card number")


def test_detail_timestamps_are_aware_iso_8601(till, member, store, program):
    purchase_record(store=store, member=member, receipt_id="r1", total=Decimal("5"))

    body = till.get(detail_url(member.card_number)).json()

    when = dt.datetime.fromisoformat(body["recent_activity"][0]["created_at"])
    assert when.tzinfo is not None
    assert abs(when - timezone.now()) < dt.timedelta(minutes=1)
