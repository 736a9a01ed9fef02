"""Admin pages of rewards and vouchers, and using a voucher at the Counter."""

from decimal import Decimal

import pytest
from django.urls import reverse

from rewards.models import LedgerEntry, LedgerKind, Reward, Voucher, VoucherStatus
from rewards.selectors.ledger import member_balance_get
from rewards.services import points_adjust, reward_redeem, voucher_consume
from rewards.tests.factories import RewardFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def su_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def reward():
    return RewardFactory(name="Free coffee", points_cost=150, stock=10)


@pytest.fixture
def voucher(member, reward):
    points_adjust(member=member, points=500, reason="start", created_by=None)
    voucher, _ = reward_redeem(member=member, reward=reward, idempotency_key="k")
    return voucher


def _url(model: str, view: str, *args) -> str:
    return reverse(f"admin:rewards_{model}_{view}", args=args)


REWARD_FORM = {
    "name_uk": "Tote bag",
    "description_uk": "Canvas",
    "type": "gift",
    "value": "",
    "image_url": "",
    "points_cost": "400",
    "stock": "20",
    "limit_count": "",
    "limit_days": "",
    "voucher_valid_days": "60",
    "refund_points_on_cancel": "on",
}


class TestRewardAdmin:
    def test_changelist_and_filters(self, su_client, reward):
        response = su_client.get(_url("reward", "changelist"), {"stock": "low"})
        assert response.status_code == 200
        assert "Free coffee" in response.content.decode()

    def test_search(self, su_client, reward):
        RewardFactory(name="Croissant")
        response = su_client.get(_url("reward", "changelist"), {"q": "coffee"})
        assert list(response.context["cl"].result_list) == [reward]

    def test_add(self, su_client):
        assert su_client.get(_url("reward", "add")).status_code == 200
        response = su_client.post(_url("reward", "add"), REWARD_FORM)
        assert response.status_code == 302, response.context["adminform"].form.errors
        added = Reward.objects.get(name_uk="Tote bag")
        assert (added.points_cost, added.stock, added.is_active) == (400, 20, False)

    def test_add_refuses_a_discount_without_value(self, su_client):
        data = {**REWARD_FORM, "type": "percent"}
        response = su_client.post(_url("reward", "add"), data)
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["value"] == [
            "A discount needs its value."
        ]

    def test_change_applies_a_stock_edit_as_a_change(self, su_client, reward, member):
        url = _url("reward", "change", reward.pk)
        page = su_client.get(url)
        assert page.status_code == 200
        points_adjust(member=member, points=500, reason="x", created_by=None)
        reward_redeem(member=member, reward=reward, idempotency_key="meanwhile")
        data = {
            **REWARD_FORM,
            "name_uk": "Free coffee",
            "points_cost": "150",
            "stock": "15",
            "voucher_valid_days": "30",
            "is_active": "on",
            "initial-stock": "10",
        }
        response = su_client.post(url, data)
        assert response.status_code == 302
        reward.refresh_from_db()
        assert reward.stock == 14  # 10 seen, +5 added, 1 taken meanwhile


class TestVoucherAdmin:
    def test_changelist(self, su_client, voucher):
        response = su_client.get(_url("voucher", "changelist"))
        assert response.status_code == 200
        assert voucher.code in response.content.decode()

    def test_search_by_code_and_card(self, su_client, voucher, member):
        for q in (voucher.code, member.card_number):
            response = su_client.get(_url("voucher", "changelist"), {"q": q})
            assert list(response.context["cl"].result_list) == [voucher]

    def test_add_is_refused(self, su_client):
        assert su_client.get(_url("voucher", "add")).status_code == 403

    def test_change_page_is_read_only(self, su_client, voucher):
        response = su_client.get(_url("voucher", "change", voucher.pk))
        assert response.status_code == 200
        assert b'name="_save"' not in response.content

    def test_cancel_action_refunds_through_the_service(
        self, su_client, voucher, member, store
    ):
        used, _ = reward_redeem(
            member=member, reward=RewardFactory(), idempotency_key="used"
        )
        voucher_consume(code=used.code, store=store, receipt_id="R-1")
        response = su_client.post(
            _url("voucher", "changelist"),
            {
                "action": "cancel_vouchers",
                "_selected_action": [voucher.pk, used.pk],
            },
            follow=True,
        )
        assert response.status_code == 200
        messages = [str(m) for m in response.context["messages"]]
        assert messages == [
            "Cancelled 1 voucher(s); 1 were not unused and were left as they are."
        ]
        voucher.refresh_from_db()
        assert voucher.status == VoucherStatus.CANCELLED
        assert voucher.cancelled_by is not None
        assert LedgerEntry.objects.filter(kind=LedgerKind.REFUND).count() == 1
        assert member_balance_get(member_id=member.pk) == 500 - 150


class TestCounterVoucher:
    @pytest.fixture
    def cashier_client(self, client, cashier):
        client.force_login(cashier)
        return client

    def _use(self, client, code, receipt_id="CV-1"):
        return client.post(
            reverse("admin:counter_voucher"),
            {"voucher-code": code, "voucher-receipt_id": receipt_id},
            follow=True,
        )

    def test_search_page_shows_the_voucher_form(self, cashier_client):
        html = cashier_client.get(reverse("admin:counter")).content.decode()
        assert 'id="counter-voucher"' in html and 'name="voucher-code"' in html

    def test_cashier_uses_a_voucher_and_sees_the_owner(
        self, cashier_client, voucher, member
    ):
        response = self._use(cashier_client, voucher.code.lower())

        assert response.redirect_chain[-1][0] == reverse(
            "admin:counter_member", args=[member.pk]
        )
        assert [str(m) for m in response.context["messages"]] == [
            f"Voucher {voucher.code} used: give “Free coffee”. Balance: 350 points."
        ]
        voucher.refresh_from_db()
        assert voucher.status == VoucherStatus.USED
        assert voucher.used_receipt_id == "CV-1"
        assert voucher.used_by.username == "cashier"

    def test_same_form_again_replays_and_another_receipt_is_refused(
        self, cashier_client, voucher
    ):
        self._use(cashier_client, voucher.code)
        again = self._use(cashier_client, voucher.code)
        assert "was already used on this receipt" in str(
            list(again.context["messages"])[0]
        )
        other = self._use(cashier_client, voucher.code, "CV-2")
        assert other.status_code == 200
        errors = other.context["voucher_form"].errors["code"]
        assert errors[0].startswith(f"Voucher {voucher.code} was already used on ")

    def test_unknown_code_is_shown_on_the_form(self, cashier_client):
        response = self._use(cashier_client, "ZZZZZ-ZZZZZ")
        assert response.context["voucher_form"].errors["code"] == [
            "No voucher has the code ZZZZZ-ZZZZZ."
        ]
        assert not Voucher.objects.exists()


def test_reward_value_text(reward):
    reward.type, reward.value = "percent", Decimal("10.00")
    assert reward.value_text == "10%"
