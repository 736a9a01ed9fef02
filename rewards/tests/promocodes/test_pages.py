"""Promo codes on pages: a customer enters a bonus code online; a cashier types
one with a purchase at the Counter."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from members.tests.factories import MemberFactory
from rewards.models import PointsAccount, PromoCodeUse, PromoEffect, PromoUseSource
from rewards.selectors.program import program_settings_get
from rewards.tests.factories import PromoCodeFactory, RewardFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def program(db):
    conf = program_settings_get()
    conf.points_per_unit, conf.min_purchase = Decimal("1"), Decimal("0")
    conf.save()
    return conf


def _balance(member) -> int:
    return PointsAccount.objects.get(member=member).balance


class TestPortal:
    @pytest.fixture
    def member_client(self, client, customer):
        user, member = customer
        client.force_login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client, member

    def test_the_rewards_page_has_the_code_box(self, member_client):
        client, _member = member_client
        page = client.get(reverse("catalog:catalog"), HTTP_ACCEPT_LANGUAGE="en")
        assert 'data-testid="promo-code-form"' in page.content.decode()

    def test_a_bonus_code_adds_points_once_per_form(self, member_client):
        client, member = member_client
        PromoCodeFactory(code="HELLO", points=40)
        data = {"code": "hello", "idempotency_key": "k1"}
        url = reverse("catalog:promo_code")
        response = client.post(url, data, follow=True, HTTP_ACCEPT_LANGUAGE="en")
        assert "Code HELLO: 40 points added." in response.content.decode()
        client.post(url, data)
        assert _balance(member) == 40
        assert PromoCodeUse.objects.get().source == PromoUseSource.ONLINE

    def test_an_unknown_code_says_so(self, member_client):
        client, member = member_client
        response = client.post(
            reverse("catalog:promo_code"),
            {"code": "<b>NOPE</b>", "idempotency_key": "k2"},
            follow=True,
            HTTP_ACCEPT_LANGUAGE="en",
        )
        text = response.content.decode()
        assert "No promo code" in text and "<b>" not in text
        assert _balance(member) == 0

    def test_a_voucher_code_opens_the_voucher(self, member_client):
        client, member = member_client
        PromoCodeFactory(
            code="GIFT", effect=PromoEffect.VOUCHER, points=None, reward=RewardFactory()
        )
        response = client.post(
            reverse("catalog:promo_code"), {"code": "GIFT", "idempotency_key": "k3"}
        )
        use = PromoCodeUse.objects.get()
        assert response.status_code == 302
        assert response["Location"] == use.voucher.get_absolute_url()


class TestCounter:
    @pytest.fixture
    def cashier_client(self, client, cashier):
        client.force_login(cashier)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    def _post(self, client, member, **extra):
        data = {"purchase-total": "100.00", "purchase-receipt_id": "C-1", **extra}
        return client.post(reverse("admin:counter_purchase", args=[member.pk]), data)

    def test_a_code_typed_with_a_purchase_is_used(self, cashier_client, store):
        member = MemberFactory(store=store)
        PromoCodeFactory(code="SPRING25", points=25)
        response = self._post(
            cashier_client, member, **{"purchase-promo_code": "spring25"}
        )
        assert response.status_code == 302
        use = PromoCodeUse.objects.get()
        assert (use.source, use.points) == (PromoUseSource.COUNTER, 25)
        assert _balance(member) == 125

    def test_a_used_up_code_is_a_form_error(self, cashier_client, store):
        member = MemberFactory(store=store)
        PromoCodeFactory(code="ONE", max_uses=0)
        response = self._post(cashier_client, member, **{"purchase-promo_code": "ONE"})
        assert response.status_code == 200
        form = response.context["purchase_form"]
        assert form.errors["promo_code"] == ["Promo code ONE has been used up."]
        assert _balance(member) == 0
