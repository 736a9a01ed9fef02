"""Admin pages of tiers and the tier history."""

from decimal import Decimal

import pytest
from django.urls import reverse

from rewards.models import Tier, TierHistory
from rewards.services import purchase_record
from rewards.tests.factories import TierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def su_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def gold():
    return TierFactory(name="Gold", rank=3, threshold=Decimal("5000"))


@pytest.fixture
def history(member, store, gold):
    purchase_record(store=store, member=member, receipt_id="r1", total="5000.00")
    return TierHistory.objects.get(member=member)


def _url(model: str, view: str, *args) -> str:
    return reverse(f"admin:rewards_{model}_{view}", args=args)


TIER_FORM = {
    "name_uk": "Silver",
    "rank": "2",
    "is_active": "on",
    "benefits_uk": "Free delivery",
    "qualification": "spend",
    "threshold": "1000",
    "window": "rolling",
    "window_months": "12",
    "earn_multiplier": "1.25",
    "grace_days": "30",
}


class TestTierAdmin:
    def test_changelist_shows_tiers_by_rank_and_the_order_of_application(
        self, su_client, gold
    ):
        TierFactory(name="Bronze", rank=1)
        response = su_client.get(_url("tier", "changelist"))
        assert response.status_code == 200
        assert [t.name for t in response.context["cl"].result_list] == [
            "Bronze",
            "Gold",
        ]
        page = response.content.decode()
        assert "How tiers are applied, in this order:" in page
        assert "5,000.00" in page  # the threshold column, grouped

    def test_search(self, su_client, gold):
        TierFactory(name="Bronze", rank=1)
        response = su_client.get(_url("tier", "changelist"), {"q": "gold"})
        assert list(response.context["cl"].result_list) == [gold]

    def test_add(self, su_client):
        assert su_client.get(_url("tier", "add")).status_code == 200
        response = su_client.post(_url("tier", "add"), TIER_FORM)
        assert response.status_code == 302, response.context["adminform"].form.errors
        tier = Tier.objects.get(name_uk="Silver")
        assert (tier.rank, tier.earn_multiplier) == (2, Decimal("1.25"))

    def test_add_refuses_a_multiplier_below_one(self, su_client):
        response = su_client.post(
            _url("tier", "add"), {**TIER_FORM, "earn_multiplier": "0.5"}
        )
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["earn_multiplier"] == [
            "Ensure this value is greater than or equal to 1."
        ]

    def test_change(self, su_client, gold):
        url = _url("tier", "change", gold.pk)
        assert su_client.get(url).status_code == 200
        data = {**TIER_FORM, "name_uk": "Gold", "rank": "3", "threshold": "6000"}
        response = su_client.post(url, data)
        assert response.status_code == 302
        gold.refresh_from_db()
        assert gold.threshold == Decimal("6000")


class TestTierHistoryAdmin:
    def test_changelist(self, su_client, history):
        response = su_client.get(_url("tierhistory", "changelist"))
        assert response.status_code == 200
        assert "Gold" in response.content.decode()

    def test_search_by_card(self, su_client, history, member):
        response = su_client.get(
            _url("tierhistory", "changelist"), {"q": member.card_number}
        )
        assert list(response.context["cl"].result_list) == [history]

    def test_add_is_refused(self, su_client):
        assert su_client.get(_url("tierhistory", "add")).status_code == 403

    def test_change_page_is_read_only(self, su_client, history):
        response = su_client.get(_url("tierhistory", "change", history.pk))
        assert response.status_code == 200
        assert b'name="_save"' not in response.content
        # The reason in the staff member's language, from its code.
        assert "Spent in the last 12 months: 5,000.00\xa0UAH" in (
            response.content.decode()
        )


def test_points_account_admin_shows_and_filters_by_tier(su_client, history, gold):
    response = su_client.get(
        reverse("admin:rewards_pointsaccount_changelist"), {"tier__id__exact": gold.pk}
    )
    assert response.status_code == 200
    assert [a.tier for a in response.context["cl"].result_list] == [gold]
