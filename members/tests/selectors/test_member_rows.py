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


def _row(instance) -> dict:
    return {
        f.attname: getattr(instance, f.attname)
        for f in type(instance)._meta.concrete_fields
    }


def test_the_login_with_its_member_reads_what_the_orm_reads(member, store):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from members.models import User
    from members.selectors import member_get_for_user, user_with_member_get
    from members.tests.factories import UserFactory
    from rewards.tests.factories import TierFactory

    user = UserFactory(username="olena@example.com")
    Member.objects.filter(pk=member.pk).update(user=user)
    account = member.account
    account.tier = TierFactory(name="Silver", rank=1)
    account.save()
    orm = (
        Member.objects.select_related("account__tier", "home_store", "user")
        .filter(user=user)
        .get()
    )

    with CaptureQueriesContext(connection) as read:
        found_user = user_with_member_get(user_id=user.pk)
        found = member_get_for_user(user=found_user)
        assert found.account.tier.name == "Silver"
        assert found.home_store == store
        assert found.account.member is found and found.user is found_user
    assert len(read.captured_queries) == 1
    assert _row(found_user) == _row(User.objects.get(pk=user.pk))
    assert _row(found) == _row(orm)
    assert _row(found.account) == _row(orm.account)
    assert _row(found.account.tier) == _row(orm.account.tier)
    assert _row(found.home_store) == _row(orm.home_store)
    # A later call in the same request reads the member again (after a write).
    with CaptureQueriesContext(connection) as again:
        assert member_get_for_user(user=found_user).pk == member.pk
    assert len(again.captured_queries) == 1


def test_a_login_without_member_or_tier_reads_as_the_orm_does(member):
    from members.selectors import member_get_for_user, user_with_member_get
    from members.tests.factories import UserFactory

    staff = UserFactory(username="staff")
    assert member_get_for_user(user=user_with_member_get(user_id=staff.pk)) is None
    assert user_with_member_get(user_id=staff.pk + 1000) is None

    user = UserFactory(username="olena@example.com")
    Member.objects.filter(pk=member.pk).update(user=user, home_store=None)
    found = member_get_for_user(user=user_with_member_get(user_id=user.pk))
    assert found.home_store is None
    assert found.account.tier is None


@pytest.mark.postgres
@pytest.mark.parametrize("column", ["card_number", "phone"])
def test_the_tills_look_up_is_prepared_on_the_server(member, column):
    """Every till purchase starts with it: after psycopg's threshold of runs
    on a connection, PostgreSQL keeps the statement parsed and planned."""
    from django.db import connection

    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                [f'%FROM "members_member" m WHERE m."{column}" = $1%'],
            )
            return cursor.fetchone()[0]

    before = prepared()
    look_up = member_get_by_card if column == "card_number" else member_get_by_phone
    for _ in range(8):
        value = member.card_number if column == "card_number" else member.phone
        assert look_up(**{column: value}, related=False).pk == member.pk
    assert prepared() == before + 1
