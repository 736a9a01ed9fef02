"""Enrolment (member_enroll): a card, an account and a normal phone; refusals;
consent given at enrolment; one member however many enrol one phone at once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import translation

from members.cards import card_number_is_valid
from members.errors import Conflict, InvalidInput
from members.models import Channel, ConsentEvent, ConsentSource, Member
from members.services import MemberAlreadyEnrolled, member_enroll
from members.tests.factories import MemberFactory, StoreFactory, UserFactory
from rewards.models import PointsAccount

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# --- enrollment ------------------------------------------------------------------------


class TestEnroll:
    def test_enroll_gives_a_card_an_account_and_a_normal_phone(self, store, settings):
        settings.LANGUAGE_CODE = "ro"  # whatever the program's default is
        staff = UserFactory(is_staff=True)

        member = member_enroll(
            phone="067 123 45 67",
            email="  Olena@Example.COM ",
            first_name=" Olena ",
            store=store,
            enrolled_by=staff,
        )

        member.refresh_from_db()
        assert member.phone == "+380671234567"
        assert member.email == "olena@example.com"
        assert member.first_name == "Olena"
        assert len(member.card_number) == 12
        assert member.card_number.isdigit()
        assert card_number_is_valid(member.card_number)
        assert member.enrolled_store == member.home_store == store
        assert member.enrolled_by == staff
        assert member.language == "ro"
        assert PointsAccount.objects.get(member=member).balance == 0

    def test_card_numbers_are_unique(self, store):
        members = [MemberFactory(store=store) for _ in range(25)]

        assert len({m.card_number for m in members}) == 25

    def test_a_colliding_card_number_is_drawn_again(self, store, monkeypatch):
        taken = MemberFactory(store=store).card_number
        draws = iter([taken, taken, "270000123454"])
        monkeypatch.setattr(
            "members.services.enrolment.card_number_new", lambda: next(draws)
        )

        member = member_enroll(phone="0671234567", store=store)

        assert member.card_number == "270000123454"

    def test_card_number_allocation_gives_up_after_five_collisions(
        self, store, monkeypatch
    ):
        taken = MemberFactory(store=store).card_number
        monkeypatch.setattr("members.services.enrolment.card_number_new", lambda: taken)

        with pytest.raises(
            Conflict, match=r"^Could not allocate a card number; try again\.$"
        ):
            member_enroll(phone="0671234567", store=store)

        assert not Member.objects.filter(phone="+380671234567").exists()

    @pytest.mark.parametrize(
        ("phone", "message"),
        [
            ("", r"^Enter a phone number\.$"),
            ("abc", r"^“abc” is not a phone number\.$"),
            ("12", r"^“12” is not a valid phone number\.$"),
        ],
    )
    def test_invalid_phone_is_refused(self, store, phone, message):
        with pytest.raises(InvalidInput, match=message) as exc:
            member_enroll(phone=phone, store=store)

        assert exc.value.field == "phone"
        assert not Member.objects.exists()

    def test_duplicate_phone_names_the_card(self, store):
        first = member_enroll(phone="+380671234567", store=store)

        with pytest.raises(
            MemberAlreadyEnrolled,
            match=rf"^This phone is already enrolled with card {first.card_number}\.$",
        ) as exc:
            member_enroll(phone="067-123-45-67", store=store)

        assert exc.value.field == "phone"
        assert exc.value.member == first
        assert exc.value.extra == {"card_number": first.card_number}
        assert exc.value.status == 409
        assert Member.objects.count() == 1

    def test_duplicate_email_is_found_whatever_the_case(self, store):
        first = member_enroll(phone="0671234567", email="olena@example.com")

        with pytest.raises(
            MemberAlreadyEnrolled,
            match=r"^This email belongs to another member\.$",
        ) as exc:
            member_enroll(phone="0671234568", email="OLENA@example.com")

        assert exc.value.field == "email"
        assert exc.value.member == first
        assert "card_number" not in exc.value.extra
        assert Member.objects.count() == 1

    def test_unknown_language_is_refused(self, store):
        with pytest.raises(InvalidInput, match=r"^Unknown language “xx”\.$"):
            member_enroll(phone="0671234567", language="xx")

    def test_consent_at_enrollment_is_written_with_history(self, store):
        staff = UserFactory(is_staff=True)

        member = member_enroll(
            phone="0671234567",
            email="a@example.com",
            sms_consent=True,
            enrolled_by=staff,
            source=ConsentSource.COUNTER,
        )

        member.refresh_from_db()
        assert member.sms_consent is True
        assert member.sms_consent_source == ConsentSource.COUNTER
        assert member.sms_consent_at == member.enrolled_at
        assert member.email_consent is False
        assert member.email_consent_at is None
        event = ConsentEvent.objects.get(member=member)
        assert (event.channel, event.granted, event.source, event.changed_by) == (
            Channel.SMS,
            True,
            ConsentSource.COUNTER,
            staff,
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_enrollments_of_one_phone_make_one_member():
    store = StoreFactory(code="race")
    barrier = threading.Barrier(10)
    results: list[object] = [None] * 10

    def enroll(i: int) -> None:
        try:
            with translation.override("en"):
                barrier.wait(timeout=30)
                results[i] = member_enroll(phone="0671234567", store=store)
        except Exception as exc:  # noqa: BLE001 - inspected below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=enroll, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    made = [r for r in results if isinstance(r, Member)]
    refused = [r for r in results if isinstance(r, MemberAlreadyEnrolled)]
    assert (len(made), len(refused)) == (1, 9), results
    assert {r.member.pk for r in refused} == {made[0].pk}
    assert Member.objects.count() == PointsAccount.objects.count() == 1
