"""The member by card or phone without joins (the till's purchase) is read with
a statement of its own (members.rows): it must be the row a queryset reads."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from members.models import Member
from members.selectors import member_get_by_card, member_get_by_phone
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(store):
    member = MemberFactory(store=store, first_name="Olena")
    Member.objects.filter(pk=member.pk).update(
        birthday=dt.date(1990, 5, 17),
        interests=["coffee", "pastry"],
        email_consent=True,
        email_consent_at=timezone.now(),
    )
    return Member.objects.get(pk=member.pk)


def _values(member: Member) -> dict:
    return {f.attname: getattr(member, f.attname) for f in Member._meta.concrete_fields}


def test_by_card_without_joins_reads_what_the_orm_reads(member):
    found = member_get_by_card(card_number=member.card_number, related=False)

    assert _values(found) == _values(member)
    assert isinstance(found.birthday, dt.date)
    assert found.interests == ["coffee", "pastry"]
    assert found.email_consent is True


def test_by_phone_without_joins_reads_what_the_orm_reads(member):
    found = member_get_by_phone(phone=member.phone, related=False)

    assert _values(found) == _values(member)


def test_unknown_card_or_phone_is_none(member):
    assert member_get_by_card(card_number="0000000000000", related=False) is None
    assert member_get_by_phone(phone="+380 44 000 0000", related=False) is None
