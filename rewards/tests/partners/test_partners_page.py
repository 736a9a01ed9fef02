"""The portal's Partners page: where points are earned and spent besides our own
stores, with the partners' stores, addresses, rules and rewards."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from members.tests.factories import PartnerFactory, StoreFactory
from rewards.models import EarningRule, RuleKind, RuleStatus
from rewards.selectors.partners import partners_for_customers
from rewards.tests.factories import RewardFactory

pytestmark = pytest.mark.django_db

URL = reverse("catalog:partners")


@pytest.fixture
def bakery(store):
    bakery = PartnerFactory(
        name="Bakery",
        description_en="Fresh bread every morning.",
        description_uk="Свіжий хліб щоранку.",
    )
    StoreFactory(
        code="bak-1", name="Bakery Podil", address="Sahaidachnoho 1", partner=bakery
    )
    StoreFactory(
        code="bak-2",
        name="Bakery Closed",
        address="Gone 2",
        partner=bakery,
        is_active=False,
    )
    RewardFactory(name="Croissant", points_cost=120, funded_by=bakery)
    RewardFactory(name="Retired bun", points_cost=50, funded_by=bakery, is_active=False)
    RewardFactory(name="Our mug", points_cost=300)  # the program's, not the bakery's
    return bakery


def _rule(name, stores, **fields):
    rule = EarningRule.objects.create(
        name=name, status=RuleStatus.ACTIVE, kind=RuleKind.PROMOTION, **fields
    )
    rule.stores.set(stores)
    return rule


def test_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_lists_active_partner_with_its_stores_addresses_and_rewards(
    client, customer, bakery
):
    client.force_login(customer[0])
    response = client.get(URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Bakery Podil" in page
    assert "Sahaidachnoho 1" in page
    assert "openstreetmap.org/search?query=Sahaidachnoho%201" in page
    assert "Croissant" in page
    assert "Fresh bread every morning." in page
    # Not on offer: the closed store, the retired reward, the program's own reward.
    assert "Bakery Closed" not in page
    assert "Retired bun" not in page
    assert "Our mug" not in page


def test_description_is_read_in_the_members_language(customer, bakery):
    with translation.override("uk"):
        [item] = partners_for_customers()
        assert item.partner.description == "Свіжий хліб щоранку."


def test_shows_only_rules_limited_to_the_partners_stores_and_not_over(
    client, customer, bakery, store
):
    bakery_store = bakery.stores.get(code="bak-1")
    _rule("Double bread days", [bakery_store], multiplier=Decimal("2"))
    _rule("Our own promotion", [store], multiplier=Decimal("3"))
    _rule(
        "Finished promotion",
        [bakery_store],
        multiplier=Decimal("4"),
        ends_at=timezone.now() - dt.timedelta(days=1),
    )
    client.force_login(customer[0])

    page = client.get(URL).content.decode()

    assert "Double bread days" in page
    assert "× 2 points" in page
    assert "Our own promotion" not in page
    assert "Finished promotion" not in page


def test_partner_without_active_store_or_inactive_is_left_out(client, customer):
    PartnerFactory(name="Storeless")
    gone = PartnerFactory(name="Gone partner", is_active=False)
    StoreFactory(code="gone", name="Gone shop", partner=gone)
    client.force_login(customer[0])

    response = client.get(URL)

    page = response.content.decode()
    assert "Storeless" not in page
    assert "Gone partner" not in page
    assert 'data-testid="no-partners"' in page


def test_description_is_escaped(client, customer, store):
    partner = PartnerFactory(name="Tricky", description_en="<script>alert(1)</script>")
    StoreFactory(code="t-1", name="Tricky shop", partner=partner)
    client.force_login(customer[0])

    page = client.get(URL).content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_the_account_menu_links_to_the_page(client, customer):
    client.force_login(customer[0])
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert f'href="{URL}"' in page


def test_the_selector_queries_do_not_grow_with_partners(
    customer, django_assert_max_num_queries
):
    for n in range(5):
        partner = PartnerFactory(name=f"P{n}")
        shop = StoreFactory(code=f"p{n}", partner=partner)
        RewardFactory(funded_by=partner)
        _rule(f"Rule {n}", [shop], multiplier=Decimal("2"))
    with django_assert_max_num_queries(4):
        items = partners_for_customers()
        assert [len(i.stores) + len(i.rewards) + len(i.rules) for i in items] == [3] * 5


def test_the_page_runs_the_same_queries_for_one_partner_or_five(
    client, customer, bakery
):
    client.force_login(customer[0])
    client.get(URL)  # warm the per-process caches (program settings, branding)
    with CaptureQueriesContext(connection) as one:
        client.get(URL)
    for n in range(4):
        partner = PartnerFactory(name=f"More {n}")
        shop = StoreFactory(code=f"m{n}", partner=partner)
        RewardFactory(funded_by=partner)
        _rule(f"More rule {n}", [shop], multiplier=Decimal("2"))
    with CaptureQueriesContext(connection) as five:
        response = client.get(URL)
    assert response.content.decode().count('data-testid="partner"') == 5
    assert len(five) == len(one)
