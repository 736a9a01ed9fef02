"""Referrals: codes, the bonuses of both members, refusals, the cap and the review queue."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from members.errors import Conflict, InvalidInput
from members.models import Member
from members.services import (
    REFERRAL_ALPHABET,
    MemberAlreadyEnrolled,
    member_enroll,
    member_signup,
)
from members.tests.factories import MemberFactory
from rewards.models import (
    BonusSettings,
    LedgerEntry,
    LedgerKind,
    Referral,
    ReferralStatus,
    RefusalReason,
)
from rewards.selectors.invariants import ledger_discrepancies
from rewards.services import purchase_record, referral_approve, referral_refuse

pytestmark = pytest.mark.django_db


@pytest.fixture
def conf():
    row, _created = BonusSettings.objects.update_or_create(
        pk=1,
        defaults={
            "referee_points": 40,
            "referrer_points": 60,
            "referral_min_purchase": Decimal("100"),
            "referral_cap_per_month": 3,
            "referral_review_per_day": 5,
        },
    )
    return row


@pytest.fixture
def referrer(store):
    return member_enroll(
        phone="+380501110000",
        email="anna.koval@gmail.com",
        first_name="Anna",
        last_name="Koval",
        store=store,
        device_id="device-anna",
    )


def _balance(member: Member) -> int:
    member.account.refresh_from_db()
    return member.account.balance


def _join(referrer: Member, n: int, **kwargs) -> Member:
    return member_enroll(
        phone=f"+38067222{n:04d}",
        email=kwargs.pop("email", f"friend{n}@example.net"),
        referral_code=referrer.referral_code,
        **kwargs,
    )


def test_every_member_gets_a_short_unambiguous_referral_code(referrer):
    code = referrer.referral_code

    assert len(code) == 8
    assert set(code) <= set(REFERRAL_ALPHABET)
    assert not set(code) & set("01OIL")


def test_new_member_gets_the_referral_bonus_at_enrollment(conf, referrer):
    friend = _join(referrer, 1)

    referral = Referral.objects.get(referee=friend)
    assert referral.referrer == referrer
    assert referral.status == ReferralStatus.PENDING
    assert _balance(friend) == 40
    assert _balance(referrer) == 0


def test_code_is_read_without_case_or_spaces(conf, referrer):
    friend = member_enroll(
        phone="+380672220099",
        referral_code=f" {referrer.referral_code.lower()} ",
    )

    assert friend.referral.referrer == referrer


def test_unknown_code_is_refused_and_nothing_is_enrolled(conf):
    with pytest.raises(InvalidInput, match="No member has the referral code “NOPE”."):
        member_enroll(phone="+380672220001", referral_code="NOPE")

    assert not Member.objects.filter(phone="+380672220001").exists()


def test_referrer_bonus_only_after_first_qualifying_purchase_and_only_once(
    conf, referrer, store
):
    friend = _join(referrer, 1)

    purchase_record(store=store, member=friend, receipt_id="R1", total="50.00")
    assert _balance(referrer) == 0
    assert Referral.objects.get(referee=friend).status == ReferralStatus.PENDING

    purchase_record(store=store, member=friend, receipt_id="R2", total="150.00")
    purchase_record(store=store, member=friend, receipt_id="R3", total="300.00")
    _purchase, replayed = purchase_record(
        store=store, member=friend, receipt_id="R2", total="150.00"
    )

    assert replayed
    referral = Referral.objects.get(referee=friend)
    assert referral.status == ReferralStatus.QUALIFIED
    assert referral.qualified_at is not None
    assert _balance(referrer) == 60
    assert list(
        LedgerEntry.objects.filter(
            account__member=referrer, kind=LedgerKind.BONUS
        ).values_list("idempotency_key", flat=True)
    ) == [f"referral:{referral.pk}:referrer"]
    assert ledger_discrepancies() == []


def test_self_referral_by_the_same_mailbox_is_refused_with_reason(conf, referrer):
    friend = _join(referrer, 1, email="annakoval+second@gmail.com")

    referral = Referral.objects.get(referee=friend)
    assert referral.status == ReferralStatus.REFUSED
    assert referral.refusal_reason == RefusalReason.SELF_REFERRAL
    assert referral.get_refusal_reason_display() == (
        "Self-referral (same phone, email or device)"
    )
    assert _balance(friend) == 0


def test_self_referral_by_the_same_device_is_refused(conf, referrer):
    friend = _join(referrer, 1, device_id="device-anna")

    assert friend.referral.refusal_reason == RefusalReason.SELF_REFERRAL


def test_self_referral_by_the_same_phone_is_refused_and_kept(conf, referrer):
    with pytest.raises(MemberAlreadyEnrolled):
        member_enroll(phone=referrer.phone, referral_code=referrer.referral_code)

    referral = Referral.objects.get(referrer=referrer)
    assert referral.status == ReferralStatus.REFUSED
    assert referral.refusal_reason == RefusalReason.SELF_REFERRAL
    assert referral.referee is None


def test_already_enrolled_member_is_refused_with_reason(conf, referrer):
    existing = MemberFactory()

    result = member_signup(
        email="someone.new@example.com",
        password="pass-word-123",
        phone=existing.phone,
        referral_code=referrer.referral_code,
    )

    assert result.pending_code is not None  # the claim goes on without a bonus
    referral = Referral.objects.get(referrer=referrer)
    assert referral.refusal_reason == RefusalReason.ALREADY_ENROLLED
    assert referral.referee_phone == existing.phone
    assert _balance(existing) == 0


def test_referrals_over_the_monthly_cap_are_refused(conf, referrer):
    friends = [_join(referrer, n) for n in range(4)]

    statuses = [
        (f.referral.status, f.referral.refusal_reason)
        for f in Member.objects.filter(pk__in=[f.pk for f in friends])
        .select_related("referral")
        .order_by("pk")
    ]
    assert statuses == [
        (ReferralStatus.PENDING, ""),
        (ReferralStatus.PENDING, ""),
        (ReferralStatus.PENDING, ""),
        (ReferralStatus.REFUSED, RefusalReason.OVER_CAP),
    ]
    assert _balance(friends[3]) == 0


def test_cap_counts_the_calendar_month_only(conf, referrer):
    long_ago = timezone.now() - dt.timedelta(days=70)
    for n in range(3):
        _join(referrer, n, enrolled_at=long_ago)

    friend = _join(referrer, 9)

    assert friend.referral.status == ReferralStatus.PENDING


def test_many_referrals_in_one_day_wait_for_review_without_bonus(conf, referrer):
    conf.referral_review_per_day = 1
    conf.save()
    _join(referrer, 1)

    second = _join(referrer, 2)

    assert second.referral.status == ReferralStatus.REVIEW
    assert second.referral.review_note == "Many referrals by this member in one day."
    assert _balance(second) == 0


def test_same_family_name_and_email_domain_waits_for_review(conf, referrer):
    friend = _join(referrer, 1, email="petro.koval@gmail.com", last_name="Koval")

    assert friend.referral.status == ReferralStatus.REVIEW
    assert friend.referral.review_note == (
        "Same last name and email domain as the referrer."
    )


def test_approving_from_review_gives_both_bonuses_when_already_bought(
    conf, referrer, store, admin_user
):
    friend = _join(referrer, 1, email="petro.koval@gmail.com", last_name="Koval")
    purchase_record(store=store, member=friend, receipt_id="R1", total="120.00")
    assert _balance(referrer) == 0

    referral = referral_approve(referral=friend.referral, by=admin_user)

    assert referral.status == ReferralStatus.QUALIFIED
    assert referral.decided_by == admin_user
    assert _balance(referrer) == 60
    assert _balance(friend) == 40 + 120
    with pytest.raises(
        Conflict, match="Only a referral waiting for review can be approved."
    ):
        referral_approve(referral=referral, by=admin_user)
    assert ledger_discrepancies() == []


def test_approved_referral_qualifies_on_the_next_purchase(
    conf, referrer, store, admin_user
):
    friend = _join(referrer, 1, email="petro.koval@gmail.com", last_name="Koval")
    referral_approve(referral=friend.referral, by=admin_user)
    assert Referral.objects.get(referee=friend).status == ReferralStatus.PENDING

    purchase_record(store=store, member=friend, receipt_id="R1", total="100.00")

    assert Referral.objects.get(referee=friend).status == ReferralStatus.QUALIFIED
    assert _balance(referrer) == 60


def test_refusing_from_review_gives_no_bonus(conf, referrer, store, admin_user):
    friend = _join(referrer, 1, email="petro.koval@gmail.com", last_name="Koval")

    referral = referral_refuse(referral=friend.referral, by=admin_user)
    purchase_record(store=store, member=friend, receipt_id="R1", total="500.00")

    assert referral.status == ReferralStatus.REFUSED
    assert referral.refusal_reason == RefusalReason.STAFF
    assert _balance(referrer) == 0
    assert _balance(friend) == 500
