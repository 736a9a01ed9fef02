"""The Counter: a cashier's page inside admin for finding, enrolling and ringing up."""

import pytest
from django.urls import reverse

from members.models import ConsentEvent, ConsentSource, Member
from members.tests.factories import MemberFactory, UserFactory
from rewards.models import LedgerEntry, Purchase, PurchaseReturn, Redemption
from rewards.selectors.ledger import member_balance_get
from rewards.services import points_adjust, points_redeem, purchase_record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"  # assertions read the English messages


@pytest.fixture
def cashier_client(client, cashier):
    client.force_login(cashier)
    return client


@pytest.fixture
def counter_member(store):
    return MemberFactory(
        store=store, phone="+380671234567", first_name="Oksana", last_name="Kovalenko"
    )


def _panel(member) -> str:
    return reverse("admin:counter_member", args=[member.pk])


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _purchase(client, member, total="250.00", receipt_id="C-1", **extra):
    data = {"purchase-total": total, "purchase-receipt_id": receipt_id, **extra}
    return client.post(reverse("admin:counter_purchase", args=[member.pk]), data)


def _redeem(client, member, points, receipt_id="D-1", **extra):
    data = {"redeem-points": points, "redeem-receipt_id": receipt_id, **extra}
    return client.post(reverse("admin:counter_redeem", args=[member.pk]), data)


def _return(client, member, purchase, amount, receipt_id="RET-1"):
    data = {
        "return-purchase": purchase.pk,
        "return-amount": amount,
        "return-receipt_id": receipt_id,
    }
    return client.post(reverse("admin:counter_return", args=[member.pk]), data)


# --- finding a member -------------------------------------------------------------------


class TestSearch:
    def test_search_page(self, cashier_client):
        response = cashier_client.get(reverse("admin:counter"))
        assert response.status_code == 200
        assert b'name="q"' in response.content

    def test_admin_index_links_to_the_counter(self, cashier_client):
        response = cashier_client.get(reverse("admin:index"))
        assert reverse("admin:counter").encode() in response.content

    def test_phone_typed_as_spoken_goes_straight_to_the_member(
        self, cashier_client, counter_member
    ):
        response = cashier_client.get(reverse("admin:counter"), {"q": "067 123 45 67"})
        assert response.status_code == 302
        assert response["Location"] == _panel(counter_member)

    def test_card_number_with_spaces_goes_straight_to_the_member(
        self, cashier_client, counter_member
    ):
        card = counter_member.card_number
        query = f"{card[:4]} {card[4:8]} {card[8:]}"
        response = cashier_client.get(reverse("admin:counter"), {"q": query})
        assert response["Location"] == _panel(counter_member)

    def test_a_name_shared_by_several_lists_them(self, cashier_client, store):
        a = MemberFactory(store=store, first_name="Ivan", last_name="Petrenko")
        b = MemberFactory(store=store, first_name="Ivan", last_name="Franko")
        response = cashier_client.get(reverse("admin:counter"), {"q": "Ivan"})
        assert response.status_code == 200
        assert {m for m, _url in response.context["results"]} == {a, b}
        assert _panel(a).encode() in response.content

    def test_nothing_found_offers_enrollment_with_the_phone(self, cashier_client):
        response = cashier_client.get(reverse("admin:counter"), {"q": "050 111 22 33"})
        assert response.status_code == 200
        assert b"No member matches" in response.content
        form = response.context["enroll_form"]
        assert form.initial["phone"] == "050 111 22 33"


# --- enrolling --------------------------------------------------------------------------


class TestEnroll:
    def test_enroll_creates_the_member_at_the_cashiers_store(
        self, cashier_client, cashier, store
    ):
        response = cashier_client.post(
            reverse("admin:counter_enroll"),
            {"phone": "050 111 22 33", "first_name": "Petro", "sms_consent": "on"},
            follow=True,
        )
        member = Member.objects.get(phone="+380501112233")
        assert response.redirect_chain == [(_panel(member), 302)]
        assert member.first_name == "Petro"
        assert member.enrolled_store == store
        assert member.enrolled_by == cashier
        assert member.sms_consent and not member.email_consent
        event = ConsentEvent.objects.get(member=member)
        assert event.source == ConsentSource.COUNTER
        assert any("Enrolled Petro with card" in m for m in _messages(response))

    def test_enroll_rejects_a_bad_phone(self, cashier_client):
        response = cashier_client.post(
            reverse("admin:counter_enroll"), {"phone": "12345", "first_name": "X"}
        )
        assert response.status_code == 200
        assert (
            "is not a valid phone number"
            in response.context["enroll_form"].errors["phone"][0]
        )
        assert not Member.objects.exists()

    def test_enroll_of_a_known_phone_links_to_the_member(
        self, cashier_client, counter_member
    ):
        response = cashier_client.post(
            reverse("admin:counter_enroll"), {"phone": "0671234567", "first_name": "Y"}
        )
        assert response.status_code == 200
        assert response.context["enroll_form"].errors["phone"] == [
            f"This phone is already enrolled with card {counter_member.card_number}."
        ]
        assert _panel(counter_member).encode() in response.content
        assert Member.objects.count() == 1

    def test_email_consent_needs_an_email(self, cashier_client):
        response = cashier_client.post(
            reverse("admin:counter_enroll"),
            {"phone": "0501112233", "email_consent": "on"},
        )
        assert "email" in response.context["enroll_form"].errors
        assert not Member.objects.exists()

    def test_enroll_is_post_only(self, cashier_client):
        assert cashier_client.get(reverse("admin:counter_enroll")).status_code == 405


# --- the member panel -------------------------------------------------------------------


class TestMemberPanel:
    def test_panel_shows_name_card_balance_and_forms(
        self, cashier_client, counter_member
    ):
        points_adjust(
            member=counter_member, points=120, reason="start", created_by=None
        )
        purchase_record(
            store=counter_member.home_store,
            member=counter_member,
            receipt_id="OLD-1",
            total="80",
        )
        response = cashier_client.get(_panel(counter_member))
        assert response.status_code == 200
        content = response.content.decode()
        assert "Oksana Kovalenko" in content
        card = counter_member.card_number
        assert f"{card[:4]} {card[4:8]} {card[8:]}" in content
        assert "Balance: 200 points" in content
        assert "OLD-1" in content
        for form in ("purchase_form", "return_form", "redeem_form"):
            assert response.context[form] is not None
        # One point is worth 0.10 by default: 200 points give 20.00.
        assert "20.00\u00a0UAH" in content

    def test_receipt_ids_are_prefilled_and_fresh(self, cashier_client, counter_member):
        first = cashier_client.get(_panel(counter_member)).context["purchase_form"]
        second = cashier_client.get(_panel(counter_member)).context["purchase_form"]
        assert first["receipt_id"].value().startswith("C-main-")
        assert first["receipt_id"].value() != second["receipt_id"].value()

    def test_negative_balance_is_shown_as_owed(
        self, cashier_client, counter_member, store
    ):
        purchase, _ = purchase_record(
            store=store, member=counter_member, receipt_id="P", total="100"
        )
        points_redeem(member=counter_member, store=store, points=100, receipt_id="P")
        _return(cashier_client, counter_member, purchase, "100.00")
        response = cashier_client.get(_panel(counter_member))
        assert response.context["balance_owed"]
        assert b"Balance: 100 points owed" in response.content

    def test_no_return_form_without_returnable_purchases(
        self, cashier_client, counter_member
    ):
        response = cashier_client.get(_panel(counter_member))
        assert response.context["return_form"] is None

    def test_unknown_member_is_404(self, cashier_client):
        assert (
            cashier_client.get(
                reverse("admin:counter_member", args=[999999])
            ).status_code
            == 404
        )


# --- purchases, returns, redemptions ----------------------------------------------------


class TestPurchase:
    def test_purchase_earns_points_and_redirects_with_the_balance(
        self, cashier_client, cashier, counter_member, store
    ):
        response = _purchase(
            cashier_client, counter_member, total="250.00", receipt_id="C-1"
        )
        assert response.status_code == 302
        assert response["Location"] == _panel(counter_member)
        purchase = Purchase.objects.get()
        assert (purchase.store, purchase.source, purchase.created_by) == (
            store,
            Purchase.Source.COUNTER,
            cashier,
        )
        assert purchase.points_earned == 250
        page = cashier_client.get(response["Location"])
        assert any(
            "+250 points" in m and "Balance: 250 points." in m for m in _messages(page)
        )

    def test_submitting_the_same_receipt_twice_earns_once(
        self, cashier_client, counter_member
    ):
        _purchase(cashier_client, counter_member, total="99.00", receipt_id="C-dup")
        response = _purchase(
            cashier_client, counter_member, total="99.00", receipt_id="C-dup"
        )
        assert response.status_code == 302
        assert Purchase.objects.count() == 1
        assert LedgerEntry.objects.count() == 1
        assert member_balance_get(member_id=counter_member.pk) == 99
        page = cashier_client.get(response["Location"])
        assert any("already recorded; nothing was added" in m for m in _messages(page))

    def test_same_receipt_with_another_amount_is_a_form_error(
        self, cashier_client, counter_member
    ):
        _purchase(cashier_client, counter_member, total="99.00", receipt_id="C-dup")
        response = _purchase(
            cashier_client, counter_member, total="10.00", receipt_id="C-dup"
        )
        assert response.status_code == 200
        assert response.context["purchase_form"].errors["receipt_id"] == [
            "Receipt C-dup was already recorded at this store with other details."
        ]
        assert member_balance_get(member_id=counter_member.pk) == 99

    @pytest.mark.parametrize(
        ("total", "receipt_id", "field"),
        [
            ("", "C-1", "total"),
            ("-5", "C-1", "total"),
            ("0", "C-1", "total"),
            ("abc", "C-1", "total"),
            ("1.234", "C-1", "total"),
            ("10", "", "receipt_id"),
            ("10", "x" * 65, "receipt_id"),
        ],
    )
    def test_bad_input_is_shown_on_the_form(
        self, cashier_client, counter_member, total, receipt_id, field
    ):
        response = _purchase(
            cashier_client, counter_member, total=total, receipt_id=receipt_id
        )
        assert response.status_code == 200
        assert field in response.context["purchase_form"].errors
        assert not Purchase.objects.exists()

    def test_staff_without_a_store_picks_one(self, client, store, other_store):
        from django.contrib.auth.models import Group

        roaming = UserFactory(username="roaming", is_staff=True)
        roaming.groups.add(Group.objects.get(name="Manager"))
        client.force_login(roaming)
        member = MemberFactory(store=store)
        page = client.get(_panel(member))
        assert "store" in page.context["purchase_form"].fields
        missing = _purchase(client, member, receipt_id="C-9")
        assert "store" in missing.context["purchase_form"].errors
        response = _purchase(
            client, member, receipt_id="C-9", **{"purchase-store": other_store.pk}
        )
        assert response.status_code == 302
        assert Purchase.objects.get().store == other_store

    def test_actions_are_post_only(self, cashier_client, counter_member):
        for name in ("counter_purchase", "counter_return", "counter_redeem"):
            url = reverse(f"admin:{name}", args=[counter_member.pk])
            assert cashier_client.get(url).status_code == 405


class TestReturn:
    @pytest.fixture
    def purchase(self, store, counter_member):
        purchase, _ = purchase_record(
            store=store, member=counter_member, receipt_id="P-1", total="200.00"
        )
        return purchase

    def test_return_claws_back_points(
        self, cashier_client, cashier, counter_member, purchase
    ):
        response = _return(cashier_client, counter_member, purchase, "50.00")
        assert response.status_code == 302
        ret = PurchaseReturn.objects.get()
        assert (ret.amount, ret.points_reversed, ret.created_by) == (50, 50, cashier)
        assert member_balance_get(member_id=counter_member.pk) == 150
        page = cashier_client.get(response["Location"])
        assert any(
            "−50 points" in m and "Balance: 150 points." in m for m in _messages(page)
        )

    def test_return_above_what_is_left_is_a_form_error(
        self, cashier_client, counter_member, purchase
    ):
        response = _return(cashier_client, counter_member, purchase, "250.00")
        assert response.status_code == 200
        assert response.context["return_form"].errors["amount"] == [
            "You cannot return 250.00: only 200.00 of this purchase is left to return."
        ]
        assert not PurchaseReturn.objects.exists()

    def test_another_members_purchase_cannot_be_returned_here(
        self, cashier_client, store, counter_member, purchase
    ):
        other = MemberFactory(store=store)
        response = _return(cashier_client, other, purchase, "10.00")
        assert response.status_code == 200
        assert "purchase" in response.context["return_form"].errors
        assert not PurchaseReturn.objects.exists()

    def test_return_replay_takes_back_once(
        self, cashier_client, counter_member, purchase
    ):
        _return(cashier_client, counter_member, purchase, "50.00", receipt_id="RET-9")
        _return(cashier_client, counter_member, purchase, "50.00", receipt_id="RET-9")
        assert PurchaseReturn.objects.count() == 1
        assert member_balance_get(member_id=counter_member.pk) == 150


class TestRedeem:
    @pytest.fixture
    def funded(self, counter_member):
        points_adjust(
            member=counter_member, points=300, reason="start", created_by=None
        )
        return counter_member

    def test_redemption_spends_points_and_shows_the_discount(
        self, cashier_client, cashier, funded, store
    ):
        response = _redeem(cashier_client, funded, "120")
        assert response.status_code == 302
        redemption = Redemption.objects.get()
        assert (redemption.points, redemption.store, redemption.created_by) == (
            120,
            store,
            cashier,
        )
        assert member_balance_get(member_id=funded.pk) == 180
        page = cashier_client.get(response["Location"])
        assert any(
            "discount of 12.00\u00a0UAH" in m and "Balance: 180 points." in m
            for m in _messages(page)
        )

    def test_overdraft_is_a_form_error(self, cashier_client, funded):
        response = _redeem(cashier_client, funded, "301")
        assert response.status_code == 200
        assert response.context["redeem_form"].errors["points"] == [
            "Not enough points: the balance is 300, 301 were asked."
        ]
        assert not Redemption.objects.exists()
        assert member_balance_get(member_id=funded.pk) == 300

    @pytest.mark.parametrize("points", ["", "0", "-5", "1.5", "many"])
    def test_bad_points_are_shown_on_the_form(self, cashier_client, funded, points):
        response = _redeem(cashier_client, funded, points)
        assert response.status_code == 200
        assert "points" in response.context["redeem_form"].errors
        assert not Redemption.objects.exists()

    def test_redemption_replay_spends_once(self, cashier_client, funded):
        _redeem(cashier_client, funded, "100", receipt_id="D-7")
        response = _redeem(cashier_client, funded, "100", receipt_id="D-7")
        assert response.status_code == 302
        assert Redemption.objects.count() == 1
        assert member_balance_get(member_id=funded.pk) == 200
