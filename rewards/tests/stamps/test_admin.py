"""Admin pages of stamp programs and stamp cards, and who may use them."""

from decimal import Decimal

import pytest
from django.urls import reverse

from rewards.models import StampCard, StampProgram, StampTrigger
from rewards.services import LineInput, purchase_record
from rewards.tests.factories import RewardFactory, StampProgramFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def su_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def reward():
    return RewardFactory(name="Free coffee")


@pytest.fixture
def coffee_card(reward):
    return StampProgramFactory(
        name="Coffee card",
        trigger=StampTrigger.UNIT,
        category="coffee",
        stamps_needed=3,
        reward=reward,
    )


@pytest.fixture
def card(coffee_card, member, store):
    purchase_record(
        store=store,
        member=member,
        receipt_id="R1",
        lines=[
            LineInput(
                sku="COF",
                quantity=Decimal(4),
                unit_price=Decimal("40"),
                category="coffee",
            )
        ],
    )
    return StampCard.objects.get(number=1)


def _url(model: str, view: str, *args) -> str:
    return reverse(f"admin:rewards_{model}_{view}", args=args)


def _form(reward, **extra):
    return {
        "name_uk": "Bakery card",
        "description_uk": "Six visits, a croissant.",
        "active": "on",
        "trigger": "min_spend",
        "category": "",
        "sku": "",
        "min_spend": "150.00",
        "stamps_needed": "6",
        "reward": str(reward.pk),
        "card_valid_days": "90",
        "starts_on": "",
        "ends_on": "",
        **extra,
    }


class TestStampProgramAdmin:
    def test_changelist(self, su_client, coffee_card):
        response = su_client.get(_url("stampprogram", "changelist"))
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [coffee_card]

    def test_search(self, su_client, coffee_card):
        StampProgramFactory(name="Bakery card")
        response = su_client.get(_url("stampprogram", "changelist"), {"q": "coffee"})
        assert list(response.context["cl"].result_list) == [coffee_card]

    def test_add(self, su_client, reward, store):
        assert su_client.get(_url("stampprogram", "add")).status_code == 200
        response = su_client.post(
            _url("stampprogram", "add"), _form(reward, stores=[store.pk])
        )
        assert response.status_code == 302, response.context["adminform"].form.errors
        program = StampProgram.objects.get(name_uk="Bakery card")
        assert (program.trigger, program.min_spend) == ("min_spend", Decimal("150.00"))
        assert list(program.stores.all()) == [store]

    def test_add_refuses_a_minimum_spend_program_without_the_minimum(
        self, su_client, reward
    ):
        response = su_client.post(
            _url("stampprogram", "add"), _form(reward, min_spend="")
        )
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["min_spend"] == [
            "Give the minimum spend."
        ]

    def test_add_refuses_a_card_of_one_stamp(self, su_client, reward):
        response = su_client.post(
            _url("stampprogram", "add"), _form(reward, stamps_needed="1")
        )
        assert response.status_code == 200
        assert "stamps_needed" in response.context["adminform"].form.errors

    def test_add_refuses_a_card_of_more_than_fifty_stamps(self, su_client, reward):
        response = su_client.post(
            _url("stampprogram", "add"), _form(reward, stamps_needed="51")
        )
        assert "stamps_needed" in response.context["adminform"].form.errors

    def test_add_refuses_a_unit_program_without_items(self, su_client, reward):
        response = su_client.post(
            _url("stampprogram", "add"), _form(reward, trigger="unit", min_spend="")
        )
        assert response.context["adminform"].form.errors["category"] == [
            "Give the category or the SKU of the items."
        ]

    def test_change(self, su_client, coffee_card):
        url = _url("stampprogram", "change", coffee_card.pk)
        assert su_client.get(url).status_code == 200
        data = _form(
            coffee_card.reward,
            name_uk="Coffee card 2",
            trigger="unit",
            category="coffee",
            min_spend="",
        )
        response = su_client.post(url, data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        coffee_card.refresh_from_db()
        assert (coffee_card.name, coffee_card.stamps_needed) == ("Coffee card 2", 6)

    def test_the_rule_is_fixed_once_cards_exist(self, su_client, coffee_card, card):
        url = _url("stampprogram", "change", coffee_card.pk)
        response = su_client.post(
            url, _form(coffee_card.reward, name_uk="Coffee card", trigger="purchase")
        )
        assert response.status_code == 302, response.context["adminform"].form.errors
        coffee_card.refresh_from_db()
        assert (coffee_card.trigger, coffee_card.category) == ("unit", "coffee")
        assert coffee_card.stamps_needed == 6

    def test_programs_cannot_be_deleted(self, su_client, coffee_card):
        response = su_client.get(_url("stampprogram", "delete", coffee_card.pk))
        assert response.status_code == 403


class TestStampCardAdmin:
    def test_changelist(self, su_client, card):
        response = su_client.get(_url("stampcard", "changelist"))
        assert response.status_code == 200
        assert set(response.context["cl"].result_list) == set(StampCard.objects.all())

    def test_search_by_card_number_and_voucher(self, su_client, card, member):
        response = su_client.get(
            _url("stampcard", "changelist"), {"q": member.card_number}
        )
        assert len(response.context["cl"].result_list) == 2
        response = su_client.get(
            _url("stampcard", "changelist"), {"q": card.voucher.code}
        )
        assert list(response.context["cl"].result_list) == [card]

    def test_change_page_is_read_only_with_the_entries(self, su_client, card):
        response = su_client.get(_url("stampcard", "change", card.pk))
        assert response.status_code == 200
        page = response.content.decode()
        assert "Purchase R1 at main" in page
        assert response.context["has_change_permission"] is False

    def test_cards_cannot_be_added_or_deleted(self, su_client, card):
        assert su_client.get(_url("stampcard", "add")).status_code == 403
        assert su_client.get(_url("stampcard", "delete", card.pk)).status_code == 403


class TestPermissions:
    def test_a_manager_edits_programs(self, client, manager, coffee_card):
        client.force_login(manager)
        assert client.get(_url("stampprogram", "add")).status_code == 200
        url = _url("stampprogram", "change", coffee_card.pk)
        response = client.post(url, _form(coffee_card.reward, name="Renamed"))
        assert response.status_code == 302
        assert client.get(_url("stampcard", "changelist")).status_code == 200

    @pytest.mark.parametrize("role", ["cashier", "marketer"])
    def test_cashiers_and_marketers_only_look(self, request, client, role, card):
        client.force_login(request.getfixturevalue(role))
        assert client.get(_url("stampprogram", "changelist")).status_code == 200
        assert client.get(_url("stampcard", "changelist")).status_code == 200
        assert client.get(_url("stampprogram", "add")).status_code == 403
        program = card.program
        response = client.post(
            _url("stampprogram", "change", program.pk),
            _form(program.reward, name="Renamed"),
        )
        assert response.status_code == 403
