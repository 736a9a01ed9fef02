"""Every enrolment path sets where the member came from (Member.source and
its UTM fields): the till API, the Counter, staff in the admin, a partner's
store, a friend's referral code, an import, the online sign-up."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from members.models import ConsentSource, Member, MemberSource
from members.services import (
    EnrollInput,
    FirstTouch,
    member_enroll,
    member_signup,
    members_enroll_many,
)
from members.services.sources import member_source_for, utm_value_clean
from members.tests.factories import MemberFactory, PartnerFactory, StoreFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Long-Secret-42"


def test_till_api_enrolment_is_a_till_source_at_its_store(api_client, store):
    response = api_client.post(
        reverse("api-v1:member-create"), {"phone": "+380672220001"}, format="json"
    )
    assert response.status_code == 201, response.json()
    member = Member.objects.get(card_number=response.json()["card_number"])
    assert (member.source, member.enrolled_store) == (MemberSource.TILL, store)
    assert (member.utm_source, member.referred_by, member.first_seen_at) == (
        "",
        None,
        None,
    )


def test_till_api_enrolment_with_a_referral_code_is_a_referral(api_client, member):
    response = api_client.post(
        reverse("api-v1:member-create"),
        {"phone": "+380672220002", "referral_code": member.referral_code},
        format="json",
    )
    assert response.status_code == 201, response.json()
    new = Member.objects.get(card_number=response.json()["card_number"])
    assert (new.source, new.referred_by) == (MemberSource.REFERRAL, member)


def test_counter_enrolment_at_a_partner_store_is_a_partner_source():
    partner_store = StoreFactory(partner=PartnerFactory())
    member = member_enroll(
        phone="+380672220003", store=partner_store, source=ConsentSource.COUNTER
    )
    assert member.source == MemberSource.PARTNER


def test_staff_without_a_store_enrol_an_unknown_source():
    member = member_enroll(phone="+380672220004", source=ConsentSource.ADMIN)
    assert member.source == MemberSource.OTHER


def test_import_stays_an_import_whatever_the_store(store):
    partner_store = StoreFactory(partner=PartnerFactory())
    outcomes = members_enroll_many(
        rows=[
            EnrollInput(phone="+380672220005", store=store),
            EnrollInput(phone="+380672220006", store=partner_store),
            EnrollInput(phone="+380672220007"),
        ],
        source=ConsentSource.IMPORT,
    )
    assert [o.member.source for o in outcomes] == [MemberSource.IMPORT] * 3
    assert set(Member.objects.values_list("source", flat=True)) == {"import"}


def test_online_signup_keeps_the_first_visits_utm_parameters():
    seen = timezone.now() - dt.timedelta(days=3)
    touch = FirstTouch(
        utm_source="facebook",
        utm_medium="cpc",
        utm_campaign="spring",
        first_seen_at=seen,
    )
    result = member_signup(
        email="olena@example.com",
        password=PASSWORD,
        phone="+380672220008",
        first_touch=touch,
    )
    member = Member.objects.get(pk=result.member.pk)
    assert member.source == MemberSource.ONLINE
    assert (member.utm_source, member.utm_medium, member.utm_campaign) == (
        "facebook",
        "cpc",
        "spring",
    )
    assert member.first_seen_at == seen
    assert member.enrolled_store is None


def test_online_signup_with_a_friends_code_is_a_referral_keeping_the_utm(member):
    result = member_signup(
        email="friend@example.com",
        password=PASSWORD,
        phone="+380672220009",
        referral_code=member.referral_code,
        first_touch=FirstTouch(utm_source="whatsapp"),
    )
    new = Member.objects.get(pk=result.member.pk)
    assert (new.source, new.referred_by, new.utm_source) == (
        MemberSource.REFERRAL,
        member,
        "whatsapp",
    )


def test_claiming_a_counter_membership_online_keeps_its_source(store):
    counter = MemberFactory(store=store, phone="+380672220010", email=None)
    member_signup(
        email="claim@example.com",
        password=PASSWORD,
        phone="+380672220010",
        first_touch=FirstTouch(utm_source="google"),
    )
    counter.refresh_from_db()
    assert (counter.source, counter.utm_source) == (MemberSource.TILL, "")


@pytest.mark.parametrize(
    ("consent_source", "store_kind", "referred", "expected"),
    [
        (ConsentSource.COUNTER, "own", False, "till"),
        (ConsentSource.API, "own", False, "till"),
        (ConsentSource.API, "partner", False, "partner"),
        (ConsentSource.API, "partner", True, "referral"),
        (ConsentSource.PORTAL, None, False, "online"),
        (ConsentSource.IMPORT, "own", True, "import"),
        (ConsentSource.ADMIN, None, False, "other"),
    ],
)
def test_source_rule(consent_source, store_kind, referred, expected):
    store = None
    if store_kind == "own":
        store = StoreFactory()
    elif store_kind == "partner":
        store = StoreFactory(partner=PartnerFactory())
    assert (
        member_source_for(
            consent_source=consent_source, store=store, has_referrer=referred
        )
        == expected
    )


def test_utm_values_are_cut_and_stripped_of_control_characters():
    assert utm_value_clean("  news\x00letter\r\n ") == "newsletter"
    assert utm_value_clean("x" * 500) == "x" * 100
    assert utm_value_clean(["list"]) == ""
    assert utm_value_clean(None) == ""


def test_a_malformed_first_touch_is_ignored():
    assert FirstTouch.from_json("nope") is None
    assert FirstTouch.from_json({"first_seen_at": "yesterday"}) is None
    future = (timezone.now() + dt.timedelta(days=9)).isoformat()
    assert FirstTouch.from_json({"first_seen_at": future}).first_seen_at is None
    naive = dt.datetime(2026, 1, 1).isoformat()  # noqa: DTZ001
    assert FirstTouch.from_json({"first_seen_at": naive}).first_seen_at is None


def test_a_source_learnt_later_is_set_with_an_audit_row(store, manager):
    from members.audit import StaffActor
    from members.models import StaffAuditEvent
    from members.services import member_source_set

    member = MemberFactory(store=store)
    friend = MemberFactory(store=store)
    member_source_set(
        member=member,
        source=MemberSource.REFERRAL,
        referred_by=friend,
        actor=StaffActor(user=manager),
    )
    member.refresh_from_db()
    assert (member.source, member.referred_by) == (MemberSource.REFERRAL, friend)
    event = StaffAuditEvent.objects.get(member=member, actor=manager)
    assert event.details == {"fields": ["source", "referred_by"]}


def test_an_unknown_source_or_a_self_referral_is_refused(store):
    from members.errors import InvalidInput
    from members.services import member_source_set

    member = MemberFactory(store=store)
    with pytest.raises(InvalidInput, match="Unknown source “tv”") as exc:
        member_source_set(member=member, source="tv")
    assert exc.value.field == "source"
    with pytest.raises(InvalidInput, match="cannot refer themselves"):
        member_source_set(member=member, source="referral", referred_by=member)
    member.refresh_from_db()
    assert member.source == MemberSource.TILL
