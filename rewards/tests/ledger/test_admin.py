"""Admin pages for points: settings, accounts, ledger, purchases, returns, redemptions."""

from decimal import Decimal

import pytest
from django.urls import reverse

from members.tests.factories import MemberFactory
from rewards.models import LedgerEntry, ProgramSettings
from rewards.selectors.program import program_settings_get
from rewards.services import (
    points_adjust,
    points_redeem,
    purchase_record,
    purchase_return_record,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def su_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def purchase(store, member):
    purchase, _replayed = purchase_record(
        store=store,
        member=member,
        receipt_id="R-100",
        lines=[
            {"sku": "MILK", "name": "Milk", "quantity": "2", "unit_price": "40.00"},
            {"sku": "BREAD", "name": "Bread", "quantity": "1", "unit_price": "120.00"},
        ],
    )
    return purchase


@pytest.fixture
def purchase_return(store, purchase):
    ret, _replayed = purchase_return_record(
        purchase=purchase, store=store, receipt_id="RET-1", amount="40.00"
    )
    return ret


@pytest.fixture
def redemption(store, member, purchase):
    redemption, _replayed = points_redeem(
        member=member, store=store, points=50, receipt_id="R-101"
    )
    return redemption


def _url(model: str, view: str, *args) -> str:
    return reverse(f"admin:rewards_{model}_{view}", args=args)


# --- program settings -------------------------------------------------------------------


class TestProgramSettingsAdmin:
    def test_changelist_opens_the_one_row(self, su_client):
        response = su_client.get(_url("programsettings", "changelist"))
        row = ProgramSettings.objects.get()
        assert response.status_code == 302
        assert response["Location"] == _url("programsettings", "change", row.pk)

    def test_search_also_opens_the_one_row(self, su_client):
        response = su_client.get(_url("programsettings", "changelist"), {"q": "UAH"})
        assert response.status_code == 302

    def test_cannot_add_a_second_row(self, su_client):
        program_settings_get()
        assert su_client.get(_url("programsettings", "add")).status_code == 403

    def test_add_page_when_no_row_exists(self, su_client):
        ProgramSettings.objects.all().delete()
        assert su_client.get(_url("programsettings", "add")).status_code == 200

    def test_cannot_be_deleted(self, su_client):
        row = program_settings_get()
        response = su_client.get(_url("programsettings", "change", row.pk))
        assert b'class="deletelink"' not in response.content
        assert (
            su_client.post(_url("programsettings", "delete", row.pk)).status_code == 403
        )

    def test_change_saves_new_rates(self, su_client):
        row = program_settings_get()
        url = _url("programsettings", "change", row.pk)
        assert su_client.get(url).status_code == 200
        response = su_client.post(
            url,
            {
                "currency": "UAH",
                "points_per_unit": "0.5",
                "min_purchase": "10",
                "point_value": "0.25",
                "points_expire_months": "12",
                "pending_days": "14",
                "backdate_days": "30",
            },
        )
        assert response.status_code == 302
        row.refresh_from_db()
        assert row.points_per_unit == Decimal("0.5")
        assert row.point_value == Decimal("0.25")
        assert (row.points_expire_months, row.pending_days) == (12, 14)

    def test_change_rejects_a_zero_point_value(self, su_client):
        row = program_settings_get()
        response = su_client.post(
            _url("programsettings", "change", row.pk),
            {
                "currency": "UAH",
                "points_per_unit": "1",
                "min_purchase": "0",
                "point_value": "0",
            },
        )
        assert response.status_code == 200
        assert "point_value" in response.context["adminform"].form.errors


# --- points accounts --------------------------------------------------------------------


class TestPointsAccountAdmin:
    def test_changelist(self, su_client, member):
        response = su_client.get(_url("pointsaccount", "changelist"))
        assert response.status_code == 200
        assert response.context["cl"].result_count == 1

    def test_search_by_card(self, su_client, store, member):
        MemberFactory(store=store)
        response = su_client.get(
            _url("pointsaccount", "changelist"), {"q": member.card_number}
        )
        assert list(response.context["cl"].result_list) == [member.account]

    def test_filter_by_negative_balance(self, su_client, store, member, purchase):
        points_redeem(member=member, store=store, points=200, receipt_id="R-2")
        purchase_return_record(
            purchase=purchase, store=store, receipt_id="RET", amount="200"
        )
        MemberFactory(store=store)
        response = su_client.get(
            _url("pointsaccount", "changelist"), {"balance": "owed"}
        )
        assert list(response.context["cl"].result_list) == [member.account]

    def test_cannot_be_added(self, su_client):
        assert su_client.get(_url("pointsaccount", "add")).status_code == 403

    def test_change_page_is_read_only(self, su_client, member):
        url = _url("pointsaccount", "change", member.account.pk)
        response = su_client.get(url)
        assert response.status_code == 200
        assert b'name="_save"' not in response.content
        assert su_client.post(url, {"balance": "1000"}).status_code == 403


# --- ledger -----------------------------------------------------------------------------


class TestLedgerEntryAdmin:
    @pytest.fixture
    def entry(self, member):
        return points_adjust(
            member=member, points=30, reason="goodwill", created_by=None
        )

    def test_changelist(self, su_client, entry):
        response = su_client.get(_url("ledgerentry", "changelist"))
        assert response.status_code == 200
        assert b"goodwill" in response.content

    def test_changelist_queries_do_not_grow_with_entries(
        self, su_client, store, django_assert_max_num_queries
    ):
        for i in range(10):
            m = MemberFactory(store=store)
            points_adjust(member=m, points=i + 1, reason=f"r{i}", created_by=None)
        with django_assert_max_num_queries(10):
            response = su_client.get(_url("ledgerentry", "changelist"))
        assert response.context["cl"].result_count == 10

    def test_search_by_card_and_reason(self, su_client, store, entry, member):
        other = MemberFactory(store=store)
        points_adjust(member=other, points=5, reason="birthday", created_by=None)
        url = _url("ledgerentry", "changelist")
        assert list(
            su_client.get(url, {"q": member.card_number}).context["cl"].result_list
        ) == [entry]
        assert [
            e.reason
            for e in su_client.get(url, {"q": "birthday"}).context["cl"].result_list
        ] == ["birthday"]

    def test_search_by_receipt(self, su_client, purchase):
        response = su_client.get(_url("ledgerentry", "changelist"), {"q": "R-100"})
        assert [e.purchase for e in response.context["cl"].result_list] == [purchase]

    def test_cannot_be_added(self, su_client):
        assert su_client.get(_url("ledgerentry", "add")).status_code == 403

    def test_change_page_has_no_save_or_delete(self, su_client, entry):
        response = su_client.get(_url("ledgerentry", "change", entry.pk))
        assert response.status_code == 200
        assert b"goodwill" in response.content
        assert b'name="_save"' not in response.content
        assert b'class="deletelink"' not in response.content

    def test_cannot_be_changed(self, su_client, entry):
        response = su_client.post(
            _url("ledgerentry", "change", entry.pk),
            {"points": "99999", "reason": "edited", "kind": "adjust"},
        )
        assert response.status_code == 403
        entry.refresh_from_db()
        assert (entry.points, entry.reason) == (30, "goodwill")

    def test_cannot_be_deleted(self, su_client, entry):
        url = _url("ledgerentry", "delete", entry.pk)
        assert su_client.get(url).status_code == 403
        assert su_client.post(url, {"post": "yes"}).status_code == 403
        assert LedgerEntry.objects.filter(pk=entry.pk).exists()

    def test_no_bulk_delete_action(self, su_client, entry):
        response = su_client.post(
            _url("ledgerentry", "changelist"),
            {
                "action": "delete_selected",
                "_selected_action": [entry.pk],
                "post": "yes",
            },
        )
        assert LedgerEntry.objects.filter(pk=entry.pk).exists()
        assert response.status_code in (200, 302)


# --- purchases, returns, redemptions ----------------------------------------------------


class TestPurchaseAdmin:
    def test_changelist(self, su_client, purchase):
        response = su_client.get(_url("purchase", "changelist"))
        assert response.status_code == 200
        assert b"R-100" in response.content

    def test_search_by_receipt_and_phone(self, su_client, store, purchase, member):
        other = MemberFactory(store=store)
        purchase_record(store=store, member=other, receipt_id="R-200", total="10")
        url = _url("purchase", "changelist")
        assert list(su_client.get(url, {"q": "R-100"}).context["cl"].result_list) == [
            purchase
        ]
        assert list(
            su_client.get(url, {"q": member.phone}).context["cl"].result_list
        ) == [purchase]

    def test_cannot_be_added(self, su_client):
        assert su_client.get(_url("purchase", "add")).status_code == 403

    def test_change_page_shows_lines_and_returns_read_only(
        self, su_client, purchase, purchase_return
    ):
        url = _url("purchase", "change", purchase.pk)
        response = su_client.get(url)
        assert response.status_code == 200
        content = response.content.decode()
        assert "MILK" in content and "BREAD" in content
        assert "RET-1" in content
        assert 'name="_save"' not in content
        assert su_client.post(url, {"total": "1"}).status_code == 403
        purchase.refresh_from_db()
        assert purchase.total == Decimal("200.00")


class TestPurchaseReturnAdmin:
    def test_changelist(self, su_client, purchase_return):
        response = su_client.get(_url("purchasereturn", "changelist"))
        assert response.status_code == 200
        assert b"RET-1" in response.content

    def test_search_by_original_receipt(self, su_client, purchase_return):
        response = su_client.get(_url("purchasereturn", "changelist"), {"q": "R-100"})
        assert list(response.context["cl"].result_list) == [purchase_return]

    def test_cannot_be_added(self, su_client):
        assert su_client.get(_url("purchasereturn", "add")).status_code == 403

    def test_change_page_is_read_only(self, su_client, purchase_return):
        response = su_client.get(_url("purchasereturn", "change", purchase_return.pk))
        assert response.status_code == 200
        assert b'name="_save"' not in response.content


class TestRedemptionAdmin:
    def test_changelist(self, su_client, redemption):
        response = su_client.get(_url("redemption", "changelist"))
        assert response.status_code == 200
        assert b"R-101" in response.content

    def test_search_by_card(self, su_client, redemption, member):
        response = su_client.get(
            _url("redemption", "changelist"), {"q": member.card_number}
        )
        assert list(response.context["cl"].result_list) == [redemption]

    def test_cannot_be_added(self, su_client):
        assert su_client.get(_url("redemption", "add")).status_code == 403

    def test_change_page_is_read_only(self, su_client, redemption):
        url = _url("redemption", "change", redemption.pk)
        response = su_client.get(url)
        assert response.status_code == 200
        assert b'name="_save"' not in response.content
        assert su_client.post(url, {"points": "1"}).status_code == 403


def test_purchase_lines_are_shown_only_inline_on_their_purchase(su_client):
    from django.urls import NoReverseMatch

    with pytest.raises(NoReverseMatch):
        _url("purchaseline", "changelist")
