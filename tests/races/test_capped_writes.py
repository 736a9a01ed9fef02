"""Every write checked against a cap or threshold, raced.

A cap read and then written without a lock lets N concurrent requests all read
the count from before the others' writes (issue 12: ten sign-ups made four
valid one-time codes, three +499 adjustments dodged a threshold of 500). Each
CappedWrite below sets a world up, races THREADS writers at once, each on its
own connection, and checks that the cap held and that every writer got a
result or a ServiceError (never a deadlock, a unique violation or a lost row).

A new cap goes into CAPPED_WRITES with the lock (or constraint) that keeps it,
and is raced with the others. Here, above the apps, because the caps live in
members, rewards and campaigns alike. PostgreSQL only: SQLite serializes
writers, so a race there proves nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.db.models import Sum
from django.db.models.functions import Abs
from django.utils import timezone

from conftest import staff_user_make
from members.audit import StaffActor
from members.errors import ServiceError
from members.models import AuditAction, Channel, Member, OneTimeCode
from members.services import (
    OTP_MAX_ATTEMPTS,
    OTP_MAX_PER_HOUR,
    WrongCode,
    member_claim_verify,
    member_enroll,
    member_signup,
)
from members.tests.factories import MemberFactory, StoreFactory
from rewards.models import (
    AdjustmentRequest,
    AdjustmentStatus,
    BonusSettings,
    Purchase,
    PurchaseReturn,
    Redemption,
    Referral,
    ReferralStatus,
    Reward,
    StaffControls,
    Subscription,
    Voucher,
    VoucherSource,
)
from rewards.services import (
    adjustment_request,
    counter_hook,
    points_adjust,
    points_redeem,
    purchase_record,
    purchase_return_record,
    reward_redeem,
    subscription_sell,
    voucher_grant,
)
from rewards.tests.factories import MembershipPlanFactory, RewardFactory
from rewards.tests.ledger.test_races import assert_ledger_exact, run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 10
PASSWORD = "a long pass phrase 7"  # noqa: S105 - a test login


@dataclass(frozen=True)
class CappedWrite:
    """One capped write: `setup(store)` returns a world (a dict), `racer(world,
    i)` is the i-th concurrent write, `check(world, results)` asserts the cap
    held. `kept_by` says what serializes it (for the reader and the report)."""

    name: str
    kept_by: str
    setup: Callable[[Any], dict]
    racer: Callable[[dict, int], object]
    check: Callable[[dict, list], None]


def _ok(results: list) -> list:
    return [r for r in results if not isinstance(r, Exception)]


def _rich(store, points: int) -> Member:
    member = MemberFactory(store=store)
    points_adjust(member=member, points=points, reason="Opening", created_by=None)
    return member


# --- members: one-time codes ------------------------------------------------------


def _otp_setup(store) -> dict:
    return {"member": MemberFactory(store=store, phone="+380671110000")}


def _otp_racer(world: dict, i: int):
    return member_signup(
        email=f"claim{i}@example.com",
        password=PASSWORD,
        phone=world["member"].phone,
    )


def _otp_check(world: dict, results: list) -> None:
    codes = OneTimeCode.objects.filter(
        member=world["member"], created_at__gte=timezone.now() - dt.timedelta(hours=1)
    )
    assert 1 <= codes.count() <= OTP_MAX_PER_HOUR, list(codes.values())
    assert codes.filter(used_at__isnull=True).count() == 1
    assert len(_ok(results)) == codes.count()


def _attempts_setup(store) -> dict:
    member = MemberFactory(store=store, phone="+380671110001")
    otp = member_signup(
        email="guess@example.com", password=PASSWORD, phone=member.phone
    ).pending_code
    OneTimeCode.objects.filter(pk=otp.pk).update(code_hash=make_password("111111"))
    return {"otp": otp}


def _attempts_check(world: dict, results: list) -> None:
    otp = OneTimeCode.objects.get(pk=world["otp"].pk)
    assert otp.attempts == OTP_MAX_ATTEMPTS
    assert sum(isinstance(r, WrongCode) for r in results) == OTP_MAX_ATTEMPTS


# --- members/rewards: the adjustment approval threshold ---------------------------


def _adjust_setup(store) -> dict:
    StaffControls.objects.update_or_create(
        pk=1, defaults={"adjustment_approval_threshold": 500}
    )
    return {
        "member": MemberFactory(store=store),
        "manager": staff_user_make("Manager", "splitter", store),
    }


def _adjust_racer(world: dict, i: int):
    return adjustment_request(
        member=world["member"],
        points=499,
        reason="Split on purpose",
        actor=StaffActor(user=world["manager"]),
        idempotency_key=f"split-{i}",
    )


def _adjust_check(world: dict, results: list) -> None:
    applied = AdjustmentRequest.objects.filter(
        member=world["member"],
        status=AdjustmentStatus.APPROVED,
        decided_by__isnull=True,
    )
    assert applied.count() == 1
    assert applied.aggregate(s=Sum(Abs("points")))["s"] <= 500
    pending = AdjustmentRequest.objects.filter(status=AdjustmentStatus.PENDING)
    assert pending.count() == THREADS - 1
    assert assert_ledger_exact(world["member"]) == 499


# --- members: referral caps of the referrer ---------------------------------------


def _referral_setup(*, cap: int, review: int):
    def setup(store) -> dict:
        BonusSettings.objects.update_or_create(
            pk=1,
            defaults={
                "referral_cap_per_month": cap,
                "referral_review_per_day": review,
            },
        )
        return {"referrer": MemberFactory(store=store)}

    return setup


def _referral_racer(world: dict, i: int):
    return member_enroll(
        phone=f"+38067222{i:04d}", referral_code=world["referrer"].referral_code
    )


def _referral_cap_check(world: dict, results: list) -> None:
    made = Referral.objects.filter(referrer=world["referrer"])
    assert made.count() == THREADS
    assert made.exclude(status=ReferralStatus.REFUSED).count() == 3


def _referral_review_check(world: dict, results: list) -> None:
    made = Referral.objects.filter(referrer=world["referrer"])
    assert made.filter(status=ReferralStatus.PENDING).count() == 2
    assert made.filter(status=ReferralStatus.REVIEW).count() == THREADS - 2


# --- rewards: stock, per-member limit, balance, cashier limits ---------------------


def _stock_setup(store) -> dict:
    return {
        "members": [_rich(store, 200) for _i in range(THREADS)],
        "reward": RewardFactory(name="Tote bag", points_cost=150, stock=3),
    }


def _stock_racer(world: dict, i: int):
    return reward_redeem(
        member=world["members"][i], reward=world["reward"], idempotency_key=f"s-{i}"
    )


def _stock_check(world: dict, results: list) -> None:
    assert Voucher.objects.filter(reward=world["reward"]).count() == 3
    assert Reward.objects.get(pk=world["reward"].pk).stock == 0


def _limit_setup(store) -> dict:
    return {
        "member": _rich(store, 150 * THREADS),
        "reward": RewardFactory(name="Coffee", limit_count=2, limit_days=30),
    }


def _limit_racer(world: dict, i: int):
    return reward_redeem(
        member=world["member"], reward=world["reward"], idempotency_key=f"l-{i}"
    )


def _limit_check(world: dict, results: list) -> None:
    assert Voucher.objects.filter(member=world["member"]).count() == 2
    assert assert_ledger_exact(world["member"]) == 150 * (THREADS - 2)


def _balance_setup(store) -> dict:
    return {"member": _rich(store, 100), "store": store}


def _balance_racer(world: dict, i: int):
    return points_redeem(
        member=world["member"], store=world["store"], points=30, receipt_id=f"B-{i}"
    )


def _balance_check(world: dict, results: list) -> None:
    assert Redemption.objects.count() == 3
    assert assert_ledger_exact(world["member"]) == 10


def _cashier_points_setup(store) -> dict:
    StaffControls.objects.update_or_create(
        pk=1, defaults={"cashier_daily_redeemed_points": 500}
    )
    return {
        "members": [_rich(store, 100) for _i in range(THREADS)],
        "cashier": staff_user_make("Cashier", "busy-till", store),
        "store": store,
    }


def _cashier_points_racer(world: dict, i: int):
    return points_redeem(
        member=world["members"][i],
        store=world["store"],
        points=100,
        receipt_id=f"C-{i}",
        created_by=world["cashier"],
        on_written=counter_hook(
            actor=StaffActor(user=world["cashier"]), action=AuditAction.POINTS_REDEEMED
        ),
    )


def _cashier_points_check(world: dict, results: list) -> None:
    done = Redemption.objects.filter(created_by=world["cashier"])
    assert done.aggregate(s=Sum("points"))["s"] == 500


def _cashier_returns_setup(store) -> dict:
    StaffControls.objects.update_or_create(pk=1, defaults={"cashier_daily_returns": 3})
    purchases = [
        purchase_record(
            store=store,
            member=MemberFactory(store=store),
            receipt_id=f"P-{i}",
            total="100.00",
        )[0]
        for i in range(THREADS)
    ]
    return {
        "purchases": purchases,
        "cashier": staff_user_make("Cashier", "returns-till", store),
        "store": store,
    }


def _cashier_returns_racer(world: dict, i: int):
    return purchase_return_record(
        purchase=world["purchases"][i],
        store=world["store"],
        receipt_id=f"RET-{i}",
        amount=Decimal("10.00"),
        created_by=world["cashier"],
        on_written=counter_hook(
            actor=StaffActor(user=world["cashier"]), action=AuditAction.RETURN_RECORDED
        ),
    )


def _cashier_returns_check(world: dict, results: list) -> None:
    assert PurchaseReturn.objects.filter(created_by=world["cashier"]).count() == 3
    assert Purchase.objects.count() == THREADS


def _membership_setup(store) -> dict:
    return {
        "member": MemberFactory(store=store),
        "plans": [MembershipPlanFactory() for _i in range(THREADS)],
        "store": store,
    }


def _membership_racer(world: dict, i: int):
    return subscription_sell(
        member=world["member"],
        plan=world["plans"][i],
        store=world["store"],
        receipt_id=f"M-{i}",
    )


def _membership_check(world: dict, results: list) -> None:
    assert Subscription.objects.filter(member=world["member"]).count() == 1


def _coupon_setup(store) -> dict:
    return {"member": MemberFactory(store=store), "reward": RewardFactory()}


def _coupon_racer(world: dict, i: int):
    return voucher_grant(
        member=world["member"],
        reward=world["reward"],
        source=VoucherSource.CAMPAIGN,
        idempotency_key=f"campaign-run:1:{world['member'].pk}",
    )


def _coupon_check(world: dict, results: list) -> None:
    assert Voucher.objects.filter(member=world["member"]).count() == 1


# --- campaigns: event places, the marketing frequency cap, one answer a survey -----


def _event_setup(store) -> dict:
    from campaigns.tests.events.test_services import make_event

    return {
        "members": [MemberFactory(store=store) for _i in range(THREADS)],
        "event": make_event(store, capacity=3),
    }


def _event_racer(world: dict, i: int):
    from campaigns.events.services import event_rsvp

    return event_rsvp(member=world["members"][i], event_id=world["event"].pk)


def _event_check(world: dict, results: list) -> None:
    from campaigns.models import Event, EventRsvp, RsvpStatus

    event = Event.objects.get(pk=world["event"].pk)
    going = EventRsvp.objects.filter(event=event, status=RsvpStatus.GOING)
    assert event.going_count == going.count() == 3


def _frequency_setup(store) -> dict:
    from campaigns.messaging.services import delivery_settings_get
    from campaigns.models import Message

    conf = delivery_settings_get()
    conf.frequency_cap = 2
    conf.save()
    member = MemberFactory(store=store)
    Member.objects.filter(pk=member.pk).update(email_consent=True)
    ids = [
        Message.objects.create(
            member=member,
            key=f"offer:{i}",
            kind="campaign",
            marketing=True,
            channel=Channel.EMAIL,
            to=member.email,
            language="en",
            subject="Offer",
            body="20% off",
        ).pk
        for i in range(THREADS)
    ]
    return {"ids": ids}


def _frequency_racer(world: dict, i: int):
    from campaigns.messaging.delivery import message_deliver

    return message_deliver(message_id=world["ids"][i])


def _frequency_check(world: dict, results: list) -> None:
    from campaigns.models import Message, MessageStatus

    sent = Message.objects.filter(pk__in=world["ids"], status=MessageStatus.SENT)
    assert sent.count() == 2


def _survey_setup(store) -> dict:
    from campaigns.tests.factories import survey_make

    return {"member": MemberFactory(store=store), "survey": survey_make()}


def _survey_racer(world: dict, i: int):
    from campaigns.feedback.surveys import survey_response_submit

    return survey_response_submit(
        survey=world["survey"], member=world["member"], purchase=None, score=9
    )


def _survey_check(world: dict, results: list) -> None:
    from campaigns.models import SurveyResponse

    assert SurveyResponse.objects.filter(member=world["member"]).count() == 1


CAPPED_WRITES = [
    CappedWrite(
        "one-time codes: 3 an hour, one valid",
        "member_lock (members.locks) + unique unused code per member",
        _otp_setup,
        _otp_racer,
        _otp_check,
    ),
    CappedWrite(
        "one-time code: 5 wrong attempts",
        "member_lock, then one_time_code_lock",
        _attempts_setup,
        lambda world, i: member_claim_verify(otp_id=world["otp"].pk, code="000000"),
        _attempts_check,
    ),
    CappedWrite(
        "adjustments: approval threshold per staff, member and 24 hours",
        "member_lock (members.locks), then the account",
        _adjust_setup,
        _adjust_racer,
        _adjust_check,
    ),
    CappedWrite(
        "referrals: the referrer's cap per month",
        "member_lock on the referrer",
        _referral_setup(cap=3, review=100),
        _referral_racer,
        _referral_cap_check,
    ),
    CappedWrite(
        "referrals: review beyond the referrer's count per day",
        "member_lock on the referrer",
        _referral_setup(cap=100, review=2),
        _referral_racer,
        _referral_review_check,
    ),
    CappedWrite(
        "rewards: stock",
        "account_lock, then reward_lock; CheckConstraint stock >= 0",
        _stock_setup,
        _stock_racer,
        _stock_check,
    ),
    CappedWrite(
        "rewards: per-member limit in a period",
        "account_lock, then reward_lock",
        _limit_setup,
        _limit_racer,
        _limit_check,
    ),
    CappedWrite(
        "points: the spendable balance",
        "account_lock",
        _balance_setup,
        _balance_racer,
        _balance_check,
    ),
    CappedWrite(
        "counter: points a cashier redeems a day",
        "staff_user_lock",
        _cashier_points_setup,
        _cashier_points_racer,
        _cashier_points_check,
    ),
    CappedWrite(
        "counter: returns a cashier records a day",
        "staff_user_lock",
        _cashier_returns_setup,
        _cashier_returns_racer,
        _cashier_returns_check,
    ),
    CappedWrite(
        "memberships: one active per member",
        "account_lock + partial unique constraint",
        _membership_setup,
        _membership_racer,
        _membership_check,
    ),
    CappedWrite(
        "campaign coupon: once per member and run",
        "account_lock + unique idempotency key",
        _coupon_setup,
        _coupon_racer,
        _coupon_check,
    ),
    CappedWrite(
        "events: places up to the capacity",
        "event row lock + CheckConstraint going_count <= capacity",
        _event_setup,
        _event_racer,
        _event_check,
    ),
    CappedWrite(
        "messages: marketing frequency cap",
        "member rows locked by the delivery batch",
        _frequency_setup,
        _frequency_racer,
        _frequency_check,
    ),
    CappedWrite(
        "surveys: one answer per member (and purchase)",
        "partial unique constraints",
        _survey_setup,
        _survey_racer,
        _survey_check,
    ),
]


@pytest.fixture
def store(db):
    return StoreFactory(code="race", name="Race Street")


@pytest.mark.parametrize("case", CAPPED_WRITES, ids=lambda case: case.name)
def test_racing_writers_never_pass_the_cap(case: CappedWrite, store):
    world = case.setup(store)

    results = run_together(THREADS, lambda i: case.racer(world, i))

    unexpected = [
        r
        for r in results
        if isinstance(r, Exception) and not isinstance(r, ServiceError)
    ]
    assert not unexpected, unexpected
    case.check(world, results)
