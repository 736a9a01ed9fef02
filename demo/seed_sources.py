"""Demo data for "where members come from": a mix of sources and the
marketing spend of each channel. seed_demo calls `plans_sources_assign` after
planning the referrals (so friends keep their referral) and `seed` at the end.

- online: every third member who joined without a friend's code signs up on
  the portal, from a link with UTM parameters (a campaign of LINKS), first
  seen a few days before; the demo customer came from an Instagram post;
- import: every fifth of the others came over from the old card system;
- referral: the friends planned by seed_plan;
- partner: the two newest till members joined at the partner bakery's counter
  (entered through our till, corrected afterwards: member_source_set);
- till: the rest.

No draws from the history's random stream: the rest of the demo stays as it
was."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from analytics.models import MarketingSpend, SpendKind
from analytics.selectors.periods import month_add, month_start
from analytics.services.inputs import marketing_spend_bulk_save
from members.models import ConsentSource, Member, MemberSource
from members.services import FirstTouch, member_source_set

# (utm_source, utm_medium, utm_campaign) of the links the demo's members came by.
LINKS = [
    ("instagram", "social", "spring-coffee"),
    ("facebook", "cpc", "loyalty-launch"),
    ("google", "cpc", "brand"),
    ("newsletter", "email", "friends-of-the-shop"),
]
PARTNER_MEMBERS = 2
# Monthly acquisition spend of the channels seed_analytics does not buy
# (it buys online ads, leaflets and radio): referral cards and the partner's
# co-marketing. UAH.
CHANNEL_SPEND = {
    MemberSource.REFERRAL: (500, 1500),
    MemberSource.PARTNER: (800, 2000),
}
CHANNEL_CAMPAIGNS = {
    MemberSource.REFERRAL: "Referral cards",
    MemberSource.PARTNER: "Bakery co-marketing",
}
CAMPAIGN_CHANNELS = {
    "Instagram": MemberSource.ONLINE,
    "Leaflets": MemberSource.TILL,
    "Radio": MemberSource.TILL,
}


def _touch(index: int, enrolled_at: dt.datetime) -> FirstTouch:
    source, medium, campaign = LINKS[index % len(LINKS)]
    return FirstTouch(
        utm_source=source,
        utm_medium=medium,
        utm_campaign=campaign,
        first_seen_at=enrolled_at - dt.timedelta(days=1 + index % 6, hours=3),
    )


def plans_sources_assign(plans: list) -> None:
    """Give the planned members their sources (module docstring)."""
    ordered = sorted(plans, key=lambda p: p.enrolled_at)
    others = 0
    for i, plan in enumerate(ordered):
        if plan.is_demo:
            plan.first_touch = _touch(0, plan.enrolled_at)
            continue
        if plan.referred_by is not None:
            continue
        others += 1
        if others % 3 == 0:
            plan.source = ConsentSource.PORTAL
            plan.first_touch = _touch(i, plan.enrolled_at)
        elif others % 5 == 0:
            plan.source = ConsentSource.IMPORT


def channel_for_campaign(campaign: str) -> str:
    """The channel of seed_analytics' acquisition campaigns ("" → other)."""
    return CAMPAIGN_CHANNELS.get(campaign, MemberSource.OTHER)


def seed(*, command) -> None:
    """After the history: the partner's members and the channels' spend."""
    partner_store = command.stores[-1]
    for member in Member.objects.filter(source=MemberSource.TILL).order_by(
        "-enrolled_at", "-pk"
    )[:PARTNER_MEMBERS]:
        member_source_set(member=member, source=MemberSource.PARTNER)
    rng = random.Random(getattr(command, "seed", 42) + 16)
    spend = []
    month = month_start(timezone.localtime(command.start).date())
    while month <= timezone.localdate():
        for channel, (low, high) in CHANNEL_SPEND.items():
            spend.append(
                MarketingSpend(
                    month=month,
                    amount=Decimal(rng.randint(low, high)),
                    kind=SpendKind.ACQUISITION,
                    channel=channel,
                    store=partner_store if channel == MemberSource.PARTNER else None,
                    campaign=CHANNEL_CAMPAIGNS[channel],
                )
            )
        month = month_add(month, 1)
    marketing_spend_bulk_save(rows=spend, entered_by=None)
    command.stdout.write(
        "Sources: "
        + ", ".join(
            f"{row['source']} {row['n']}"
            for row in Member.objects.values("source")
            .order_by("source")
            .annotate(n=Count("pk"))
        )
    )
