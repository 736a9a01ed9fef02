"""The customer's statement page: explained entries, pagination, bounded queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from members.tests.factories import MemberFactory, StoreFactory, UserFactory
from rewards.models import LedgerEntry, LedgerKind
from rewards.selectors.ledger import (
    ledger_entries_explained_for_member,
    ledger_entries_for_member,
)
from rewards.selectors.program import program_settings_get
from rewards.selectors.statement import ledger_entry_explain
from rewards.services import (
    points_adjust,
    points_bonus_grant,
    points_expire_due,
    points_redeem,
    purchase_record,
    purchase_return_record,
    reward_redeem,
    voucher_cancel,
    voucher_expire_due,
)
from rewards.tests.factories import RewardFactory
from rewards.views import STATEMENT_PAGE_SIZE

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, customer):
    user, member = customer
    client.force_login(user)
    return client, member


def _history(member, store, count: int) -> None:
    """`count` ledger entries, cycling through every kind the statement explains."""
    purchase = None
    for i in range(count):
        step = i % 4
        if step == 0:
            purchase, _ = purchase_record(
                store=store,
                member=member,
                receipt_id=f"P{member.pk}-{i}",
                total="120.00",
            )
        elif step == 1:
            points_redeem(
                member=member, store=store, points=5, receipt_id=f"D{member.pk}-{i}"
            )
        elif step == 2:
            purchase_return_record(
                purchase=purchase,
                store=store,
                receipt_id=f"RT{member.pk}-{i}",
                amount="20.00",
            )
        else:
            points_adjust(
                member=member, points=3, reason=f"Goodwill {i}", created_by=None
            )


def test_statement_explains_each_entry_with_the_balance_after(logged_in):
    client, member = logged_in
    shop = StoreFactory(code="shop2", name="Shop 2")
    occurred = timezone.make_aware(dt.datetime(2026, 3, 10, 12, 0))
    purchase, _ = purchase_record(
        store=shop,
        member=member,
        receipt_id="A-1",
        total="412.50",
        occurred_at=occurred,
    )
    points_redeem(member=member, store=shop, points=100, receipt_id="A-2")
    purchase_return_record(
        purchase=purchase, store=shop, receipt_id="A-3", amount="12.50"
    )
    points_adjust(
        member=member, points=7, reason="Broken coffee machine", created_by=None
    )

    response = client.get(reverse("rewards:statement"))

    assert response.status_code == 200
    text = response.text
    assert "Purchase 10 March 2026, Shop 2, 412.50\u00a0UAH → +412 points" in text
    assert "Discount of 10.00\u00a0UAH at Shop 2 → -100 points" in text
    assert (
        "Return of 12.50\u00a0UAH from the purchase of 10 March 2026 at Shop 2 → -12 points"
        in text
    )
    assert "Adjustment by staff: Broken coffee machine → +7 points" in text
    assert [
        entry.balance_after for entry, _text, _why in response.context["entries"]
    ] == [
        307,
        300,
        312,
        412,
    ]
    assert "Balance after: 307" in text
    assert response.context["balance"] == 307


def test_statement_paginates_by_25_newest_first(logged_in, store):
    client, member = logged_in
    for i in range(STATEMENT_PAGE_SIZE + 5):
        purchase_record(
            store=store, member=member, receipt_id=f"R{i:02d}", total=f"{10 + i}.00"
        )

    first = client.get(reverse("rewards:statement"))
    second = client.get(reverse("rewards:statement"), {"page": 2})

    assert len(first.context["entries"]) == 25
    assert len(second.context["entries"]) == 5
    assert "39.00\u00a0UAH" in first.text  # the newest purchase, R29
    assert "10.00\u00a0UAH" in second.text  # the oldest, R00
    assert "10.00\u00a0UAH" not in first.text
    assert 'href="?page=2"' in first.text
    assert "Page 2 of 2" in second.text


def test_statement_odd_page_numbers_show_a_page_instead_of_failing(logged_in, store):
    client, member = logged_in
    for i in range(STATEMENT_PAGE_SIZE + 1):
        purchase_record(store=store, member=member, receipt_id=f"R{i}", total="10.00")

    assert (
        client.get(reverse("rewards:statement"), {"page": "abc"}).context["page"].number
        == 1
    )
    assert (
        client.get(reverse("rewards:statement"), {"page": "999"}).context["page"].number
        == 2
    )


def test_statement_query_count_does_not_grow_with_history(
    client, store, django_assert_max_num_queries
):
    short_user, long_user = (
        UserFactory(username="short@example.com"),
        UserFactory(username="long@example.com"),
    )
    short = MemberFactory(store=store, user=short_user)
    long = MemberFactory(store=store, user=long_user)
    _history(short, store, 3)
    _history(long, store, 60)
    assert long.account.entries.count() == 60
    url = reverse("rewards:statement")
    client.force_login(short_user)
    client.get(url)  # warm up: program settings row, session
    with CaptureQueriesContext(connection) as short_queries:
        assert client.get(url).status_code == 200

    # Count now: the next request's request_started signal empties the query log.
    short_count = len(short_queries)
    assert short_count <= 8
    client.force_login(long_user)
    client.get(url)
    with django_assert_max_num_queries(short_count):
        response = client.get(url)
    assert len(response.context["entries"]) == STATEMENT_PAGE_SIZE
    with django_assert_max_num_queries(short_count):
        client.get(url, {"page": 3})


def test_statement_shows_only_the_logged_in_members_entries(
    logged_in, store, other_store
):
    client, member = logged_in
    other = MemberFactory(store=other_store, user=UserFactory(username="b@example.com"))
    purchase_record(store=other_store, member=other, receipt_id="B-1", total="8888.00")
    purchase_record(store=store, member=member, receipt_id="A-1", total="10.00")

    for params in (
        {},
        {"member": other.pk},
        {"member_id": other.pk},
        {"card": other.card_number},
    ):
        response = client.get(reverse("rewards:statement"), params)
        assert "8888" not in response.text
        assert "Other Shop" not in response.text
        assert [e.purchase.receipt_id for e, _t, _w in response.context["entries"]] == [
            "A-1"
        ]


def test_statement_shows_a_negative_balance_as_owed(logged_in, store):
    client, member = logged_in
    purchase, _ = purchase_record(
        store=store, member=member, receipt_id="R1", total="50.00"
    )
    points_redeem(member=member, store=store, points=50, receipt_id="R2")
    purchase_return_record(
        purchase=purchase, store=store, receipt_id="R3", amount="50.00"
    )

    response = client.get(reverse("rewards:statement"))

    assert "Owed: 50 points" in response.text
    assert "Balance after: -50" in response.text


def test_statement_needs_a_login(client):
    response = client.get(reverse("rewards:statement"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_statement_is_empty_for_a_new_member(logged_in):
    client, _member = logged_in

    response = client.get(reverse("rewards:statement"))

    assert response.status_code == 200
    assert response.context["entries"] == []
    assert "No points movements yet." in response.text


@pytest.mark.parametrize("lang", ["uk", "ru", "ro"])
def test_statement_explains_entries_in_the_customers_language(logged_in, lang):
    client, member = logged_in
    shop = StoreFactory(code="shop2", name="Shop 2")
    purchase_record(store=shop, member=member, receipt_id="L-1", total="412.50")
    client.post(reverse("set_language"), {"language": lang, "next": "/"})

    text = client.get(reverse("rewards:statement")).text

    with translation.override(lang):
        sentence = translation.gettext(
            "Purchase %(date)s, %(store)s, %(amount)s → %(points)s"
        )
    assert sentence.startswith("Purchase") is False
    head = sentence.split("%(")[0]  # the translated words before the first value
    assert head.strip() and head in text
    assert "412" in text


def test_explained_entries_read_in_one_query_what_the_full_rows_explain(
    customer, store, django_assert_num_queries
):
    """Every kind of entry: the columns ledger_entries_explained_for_member loads
    give the same sentences as whole rows, with no query per entry."""
    _user, member = customer
    conf = program_settings_get()
    conf.points_expire_months = 1
    conf.save()
    _history(member, store, 4)  # purchase, discount, return, adjustment
    points_bonus_grant(
        member=member, points=50, reason="Welcome", idempotency_key="welcome:x"
    )
    coffee = RewardFactory(
        name="Free coffee", points_cost=20, refund_points_on_expiry=True
    )
    kept, _ = reward_redeem(member=member, reward=coffee, idempotency_key="v1")
    voucher_expire_due(now=kept.expires_at)
    cancelled, _ = reward_redeem(member=member, reward=coffee, idempotency_key="v2")
    voucher_cancel(voucher=cancelled, by=None)
    points_expire_due(now=timezone.now() + dt.timedelta(days=400))
    assert set(LedgerEntry.objects.values_list("kind", flat=True)) == set(
        LedgerKind.values
    )
    full = [
        ledger_entry_explain(entry, currency="UAH")
        for entry in ledger_entries_for_member(member_id=member.pk)
    ]

    with django_assert_num_queries(1):
        lean = [
            ledger_entry_explain(entry, currency="UAH")
            for entry in ledger_entries_explained_for_member(member_id=member.pk)
        ]

    assert lean == full
    assert any("expired → " in text for text in lean)
    assert any("cancelled, points returned" in text for text in lean)
