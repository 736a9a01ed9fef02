import pytest

from members.selectors import member_search
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_search_finds_by_the_start_of_an_email(store):
    olena = MemberFactory(store=store, email="olena.k@example.com", first_name="Олена")
    MemberFactory(store=store, email="petro@example.com")

    assert member_search(query="olena") == [olena]


def test_search_finds_by_a_phone_typed_as_people_say_it(store):
    member = MemberFactory(store=store, phone="+380671234567")

    assert member_search(query="067 123 45 67") == [member]


def test_search_finds_by_card_number_with_spaces(store):
    member = MemberFactory(store=store)
    spaced = " ".join(member.card_number[i : i + 4] for i in range(0, 12, 4))

    assert member_search(query=spaced) == [member]


def test_search_finds_by_first_and_last_name_in_any_order(store):
    member = MemberFactory(store=store, first_name="Ірина", last_name="Коваль")
    MemberFactory(store=store, first_name="Ірина", last_name="Мельник")

    assert member_search(query="коваль ірина") == [member]
