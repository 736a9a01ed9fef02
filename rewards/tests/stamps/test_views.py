"""Customer pages of stamp cards: the dashboard section and /stamps/."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from rewards.models import StampTrigger
from rewards.services import LineInput, purchase_record
from rewards.tests.factories import RewardFactory, StampProgramFactory

pytestmark = pytest.mark.django_db

STAMPS = reverse("catalog:stamps")
DASHBOARD = reverse("portal:dashboard")


@pytest.fixture
def logged_in(client, customer):
    user, member = customer
    client.force_login(user)
    return client, member


@pytest.fixture
def programs():
    coffee = StampProgramFactory(
        name="Coffee card",
        trigger=StampTrigger.UNIT,
        category="coffee",
        stamps_needed=5,
        card_valid_days=90,
        reward=RewardFactory(name="Free cappuccino"),
    )
    visits = StampProgramFactory(
        name="Visit card",
        stamps_needed=4,
        reward=RewardFactory(name="Croissant"),
        description="Any purchase counts.",
    )
    return coffee, visits


def _buy(store, member, receipt, coffees):
    purchase_record(
        store=store,
        member=member,
        receipt_id=receipt,
        lines=[
            LineInput(
                sku="COF",
                quantity=Decimal(coffees),
                unit_price=Decimal("50"),
                category="coffee",
            )
        ],
    )


def _filled(html: str, program) -> int:
    card = html.split(f'data-testid="stamp-card-{program.pk}"')[1].split("</ol>")[0]
    return len(re.findall(r'class="stamp stamp-filled"', card))


def test_stamps_page_draws_each_card_with_its_stamps(
    logged_in, store, programs, django_assert_max_num_queries
):
    client, member = logged_in
    coffee, visits = programs
    _buy(store, member, "R1", 2)
    _buy(store, member, "R2", 1)

    with django_assert_max_num_queries(12):
        response = client.get(STAMPS)

    html = response.content.decode()
    assert response.status_code == 200
    assert _filled(html, coffee) == 3
    assert html.count('class="stamp"') == 2 + 2  # 2 empty coffee, 2 empty visit
    assert _filled(html, visits) == 2
    assert "2 more stamps for Free cappuccino" in html
    assert "2 more stamps for Croissant" in html
    assert "Any purchase counts." in html
    expiry = (timezone.localtime() + dt.timedelta(days=90)).date()
    assert response.context["stamp_cards"][0].expires_at.date() in {
        expiry,
        expiry - dt.timedelta(days=1),
    }
    assert "Card valid until" in html
    assert "This card does not expire." in html
    assert "No full card yet." in html


def test_a_full_card_is_listed_with_its_voucher(logged_in, store, programs):
    client, member = logged_in
    coffee, _visits = programs
    _buy(store, member, "R1", 6)
    voucher = member.vouchers.get()

    html = client.get(STAMPS).content.decode()

    listed = html.split('data-testid="completed-cards"')[1]
    assert "Coffee card · card 1" in listed
    assert voucher.code in listed
    assert voucher.get_absolute_url() in listed
    assert "Free cappuccino" in listed
    assert _filled(html, coffee) == 1
    assert "1 more stamp" not in html


def test_the_dashboard_shows_the_stamp_cards(logged_in, store, programs):
    client, member = logged_in
    coffee, _visits = programs
    _buy(store, member, "R1", 4)

    html = client.get(DASHBOARD).content.decode()

    assert _filled(html, coffee) == 4
    assert "1 more stamp for Free cappuccino" in html
    assert STAMPS in html


def test_the_dashboard_has_no_stamp_section_without_cards(logged_in, programs):
    client, _member = logged_in

    html = client.get(DASHBOARD).content.decode()

    assert "stamp-card-" not in html
    assert "All stamp cards" not in html


def test_stamps_owed_are_shown(logged_in, store, programs):
    from rewards.models import StampCard
    from rewards.services import purchase_return_record, voucher_consume

    client, member = logged_in
    coffee, _visits = programs
    _buy(store, member, "R1", 5)
    card = StampCard.objects.get(program=coffee, number=1)
    voucher_consume(code=card.voucher.code, store=store, receipt_id="U1")
    purchase_record_ = member.purchases.get(receipt_id="R1")
    purchase_return_record(
        purchase=purchase_record_, store=store, receipt_id="B1", amount="50.00"
    )

    html = client.get(STAMPS).content.decode()

    assert "Including 1 stamp owed after a return." in html
    assert "6 more stamps for Free cappuccino" in html


def test_the_stamps_page_needs_a_login(client):
    response = client.get(STAMPS)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_another_members_cards_are_not_shown(logged_in, store, programs, member):
    client, _me = logged_in
    _buy(store, member, "R1", 2)

    html = client.get(STAMPS).content.decode()

    assert "stamp-card-" not in html


def test_the_dashboard_query_count_does_not_grow_with_cards(
    logged_in, store, programs, django_assert_max_num_queries
):
    client, member = logged_in
    for i in range(8):
        _buy(store, member, f"R{i}", 2)
    client.get(DASHBOARD)  # the process reads its earn config
    # session, user, member, settings, entries, the points lots' 2, stamp cards
    # 1, membership 1 (no tiers set up here)
    with django_assert_max_num_queries(9):
        response = client.get(DASHBOARD)
    assert response.status_code == 200
    assert "stamp-card-" in response.content.decode()


def test_the_dashboard_shows_a_card_of_a_program_started_since_the_last_visit(
    logged_in, store
):
    client, member = logged_in
    assert "stamp-card-" not in client.get(DASHBOARD).content.decode()

    program = StampProgramFactory(
        name="Visit card", stamps_needed=4, reward=RewardFactory(name="Croissant")
    )
    _buy(store, member, "R1", 1)

    html = client.get(DASHBOARD).content.decode()
    assert f'data-testid="stamp-card-{program.pk}"' in html
    assert "3 more stamps for Croissant" in html
