"""Every ledger entry and tier change the system writes carries a reason code,
and a reader in English sees none of the program's default language.

One member goes through the main services of every app that writes points
(enrolment with welcome, profile and referral bonuses, purchase, return,
redemption at the till, a reward and its cancelled voucher, expiry, birthday,
tier up, membership tier, tier down, campaign bonus, event check-in, complaint
goodwill) with the program's default language Ukrainian, so the `reason`
column holds Ukrainian wherever the catalog has it. Only the staff member's
typed adjustment may lack a code; the English statement shows no Cyrillic."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from campaigns.events.checkin import event_checkin
from campaigns.feedback.services import complaint_file, complaint_resolve
from campaigns.models import CampaignRecipient, CampaignRun, ComplaintTopic, Event
from campaigns.sending.chunks import campaign_bonuses_grant_due
from campaigns.tests.factories import campaign_make, segment_all
from members.audit import StaffActor
from members.services import member_enroll
from members.tests.factories import MemberFactory, UserFactory
from rewards.models import LedgerEntry, LedgerKind, TierHistory, Voucher
from rewards.reasons import REASONS
from rewards.services import (
    birthday_bonus_grant_due,
    bonus_settings_update,
    points_adjust,
    points_expire_due,
    points_redeem,
    program_settings_update,
    purchase_record,
    purchase_return_record,
    reward_redeem,
    subscription_sell,
    voucher_cancel,
)
from rewards.tests.factories import MembershipPlanFactory, RewardFactory, TierFactory

pytestmark = pytest.mark.django_db
CYRILLIC = re.compile("[\u0400-\u04ff]")


@pytest.fixture
def journey(store, manager, cashier, settings):
    """The member's whole history, written with Ukrainian as the default language."""
    settings.LANGUAGE_CODE = "uk"
    now = timezone.now()
    program_settings_update(points_expire_months=1)
    bonus_settings_update(
        welcome_points=5,
        profile_points=7,
        birthday_points=9,
        referee_points=3,
        referrer_points=4,
        referral_min_purchase=Decimal("1"),
    )
    TierFactory(name="Bronze", rank=1, threshold=Decimal("0"))
    TierFactory(name="Gold", rank=2, threshold=Decimal("500"), grace_days=0)
    referrer = MemberFactory(store=store)
    user = UserFactory(username="reader@example.com")
    with translation.override("uk"):
        member = member_enroll(
            phone="+380671112233",
            email="reader@example.com",
            first_name="Olena",
            last_name="Koval",
            birthday=timezone.localdate() - dt.timedelta(days=365 * 30),
            store=store,
            referral_code=referrer.referral_code,
            enrolled_at=now - dt.timedelta(days=90),
        )
    member.user = user
    member.save(update_fields=["user"])

    purchase_record(
        store=store,
        member=member,
        receipt_id="R-OLD",
        total="40.00",
        occurred_at=now - dt.timedelta(days=60),
        recorded_at=now - dt.timedelta(days=60),
    )
    assert points_expire_due(now=now - dt.timedelta(days=20)) >= 1
    big, _ = purchase_record(store=store, member=member, receipt_id="R-1", total="600")
    points_redeem(member=member, store=store, points=5, receipt_id="R-2")
    reward = RewardFactory(
        name="Free latte", points_cost=10, refund_points_on_cancel=True
    )
    voucher, _ = reward_redeem(member=member, reward=reward, idempotency_key="k-1")
    voucher_cancel(voucher=Voucher.objects.get(pk=voucher.pk), by=None)
    purchase_return_record(
        purchase=big, store=store, receipt_id="RT-1", amount=Decimal("300")
    )
    birthday_bonus_grant_due(today=_birthday(member))
    platinum = TierFactory(name="Platinum", rank=3, threshold=Decimal("99999"))
    plan = MembershipPlanFactory(name="Club", guaranteed_tier=platinum)
    subscription_sell(member=member, plan=plan, store=store, receipt_id="M-1")

    run_campaign(store, member, now)
    checkin_event(store, member, cashier, now)
    complaint = complaint_file(
        member=member, topic=ComplaintTopic.SERVICE, body="Slow till."
    )
    complaint_resolve(
        complaint_id=complaint.pk,
        actor=StaffActor(user=manager, ip="10.0.0.1"),
        goodwill_points=20,
    )
    points_adjust(member=member, points=11, reason="Ticket 7", created_by=manager)
    return user, member


def _birthday(member) -> dt.date:
    today = timezone.localdate()
    return member.birthday.replace(year=today.year)


def run_campaign(store, member, now) -> None:
    campaign = campaign_make(segment=segment_all(), name="Autumn coffee")
    campaign.promotion = "bonus"
    campaign.bonus_points = 25
    campaign.save()
    run = CampaignRun.objects.create(
        campaign=campaign,
        number=1,
        key=f"campaign:{campaign.pk}",
        started_at=now - dt.timedelta(hours=1),
        status="sent",
    )
    CampaignRecipient.objects.create(run=run, member=member, processed=True)
    purchase_record(store=store, member=member, receipt_id="R-C", total="15.00")
    assert campaign_bonuses_grant_due() == 1


def checkin_event(store, member, cashier, now) -> None:
    from campaigns.events.services import event_save

    starts = now + dt.timedelta(minutes=30)
    event = event_save(
        event=Event(
            kind="tasting",
            title_uk="Дегустація сирів",
            title_en="Cheese tasting",
            store=store,
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2),
            capacity=5,
            status="published",
            checkin_points=8,
        )
    )
    event_checkin(event_id=event.pk, member=member, actor=StaffActor(user=cashier))


def test_every_entry_the_system_writes_has_a_code(journey):
    _user, member = journey
    entries = list(LedgerEntry.objects.filter(account__member=member))
    typed = [e for e in entries if not e.reason_code]
    assert [(e.kind, e.reason) for e in typed] == [(LedgerKind.ADJUST, "Ticket 7")]
    assert all(e.reason_code in REASONS for e in entries if e.reason_code)
    written = {e.reason_code for e in entries}
    assert written >= {
        "bonus_welcome",
        "bonus_profile",
        "bonus_referee",
        "bonus_birthday",
        "purchase_earn",
        "return_clawback",
        "redemption_discount",
        "reward_redeem",
        "voucher_cancelled_refund",
        "points_expired",
        "campaign_bonus",
        "event_checkin",
        "complaint_goodwill",
    }, written
    referrer_bonus = LedgerEntry.objects.filter(idempotency_key__endswith=":referrer")
    assert [e.reason_code for e in referrer_bonus] == ["bonus_referrer"]
    history = list(TierHistory.objects.filter(member=member))
    assert history and all(h.reason_code in REASONS for h in history)
    assert {h.reason_code for h in history} >= {
        "tier_spend_months",
        "tier_membership",
    }
    # The fallback column is in the default language, where the catalog has it.
    welcome = next(e for e in entries if e.reason_code == "bonus_welcome")
    with translation.override("uk"):
        assert welcome.reason == welcome.reason_text()


def test_english_statement_shows_no_cyrillic(journey, client):
    user, member = journey
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert LedgerEntry.objects.filter(reason__regex="[А-яІіЇїЄєҐґ]").exists()

    page = client.get(reverse("rewards:statement"), HTTP_ACCEPT_LANGUAGE="en")

    assert page.status_code == 200
    text = page.content.decode()
    for entry, line, _why in page.context["entries"]:
        assert not CYRILLIC.search(line), (entry.reason_code, line)
    assert "Cheese tasting" in text
    assert "Autumn coffee" in text
