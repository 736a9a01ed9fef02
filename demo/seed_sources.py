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
was.

The bulk seed (demo.bulk) draws its own mix, `bulk_sources_plan`: members who
joined in the launch month come over from the old card system about half the
time; the others online (a third, by the LINKS), by a friend's referral, at
the partner bakery's counter or at a till; and its acquisition spend per
channel, `bulk_channel_spend_save`, follows each month's new members of the channel
at a cost per member of the channel (BULK_CAC), so the Acquisition page has
figures worth comparing."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from analytics.models import MarketingSpend, SpendKind
from analytics.selectors.periods import month_add, month_start
from analytics.services.inputs import marketing_spend_bulk_save
from demo.data import PARTNER, PARTNER_STORE
from members.models import ConsentSource, Member, MemberSource, Store
from members.services import (
    FirstTouch,
    member_source_set,
    partner_create,
    store_get_or_create,
)

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


# --- the bulk seed ---------------------------------------------------------------

BULK_IMPORT_SHARE = 0.45  # of the launch month's members
# Of the others: the channel and its share (the rest: till).
BULK_MIX = [
    (MemberSource.ONLINE, 0.30),
    (MemberSource.REFERRAL, 0.14),
    (MemberSource.PARTNER, 0.06),
]
# What one new member of a channel costs (UAH), drawn ±30 % per month: ads
# online, leaflets and radio for the tills, the referral card's print, the
# bakery's co-marketing; an import costs nothing new.
BULK_CAC = {
    MemberSource.ONLINE: 90,
    MemberSource.TILL: 35,
    MemberSource.REFERRAL: 45,
    MemberSource.PARTNER: 60,
}
BULK_CAMPAIGNS = {
    MemberSource.ONLINE: "Instagram",
    MemberSource.TILL: "Leaflets",
    **CHANNEL_CAMPAIGNS,
}


def bulk_partner_store() -> Store:
    """The partner bakery and its store, as seed_demo's partner plan makes
    them (the bulk seed's partner members enrolled at its counter)."""
    name, email, phone, value = PARTNER
    code, store_name, address = PARTNER_STORE
    store, _created = store_get_or_create(code=code, name=store_name, address=address)
    if store.partner_id is None:
        partner_create(
            name=name,
            stores=[store],
            contact_email=email,
            contact_phone=phone,
            point_value=value,
        )
        store.refresh_from_db(fields=["partner"])
    return store


def bulk_sources_plan(
    plans: list[dict],
    *,
    first_id: int,
    launch_days: int,
    rng: random.Random,
) -> None:
    """Give each planned bulk member ("i", "enrolled", "first_day") a source:
    plan["source"], ["utm"] (three values), ["first_seen"], ["referred_by"] (the
    id of a member written before them and enrolled earlier: ids follow the
    plans' order, first_id for the first) and ["partner"] (enrolled at the
    partner's counter). Draws only from `rng`."""
    written: list[tuple[dt.datetime, int]] = []  # (enrolled, member id) so far
    for k, plan in enumerate(plans):
        source, utm, first_seen, referrer = MemberSource.TILL, ("", "", ""), None, None
        r = rng.random()
        if plan["i"] == 0:  # the demo customer, as in the small demo
            source = MemberSource.ONLINE
        elif plan["first_day"] < launch_days and r < BULK_IMPORT_SHARE:
            source = MemberSource.IMPORT
        else:
            r = rng.random()
            for channel, share in BULK_MIX:
                if r < share:
                    source = channel
                    break
                r -= share
        if source == MemberSource.REFERRAL:
            for _try in range(5):
                if not written:
                    break
                at, member_id = written[rng.randrange(len(written))]
                if at < plan["enrolled"]:
                    referrer = member_id
                    break
            if referrer is None:
                source = MemberSource.TILL  # nobody had joined before them
        if source == MemberSource.ONLINE:
            index = 0 if plan["i"] == 0 else rng.randrange(len(LINKS))
            utm = LINKS[index]
            first_seen = plan["enrolled"] - dt.timedelta(
                days=rng.randint(0, 6), hours=rng.randint(1, 20)
            )
        plan.update(
            source=str(source),
            utm=utm,
            first_seen=first_seen,
            referred_by=referrer,
            partner=source == MemberSource.PARTNER,
        )
        written.append((plan["enrolled"], first_id + k))


def bulk_channel_spend_save(
    plans: list[dict], *, partner_store: Store, rng: random.Random
) -> dict[str, int]:
    """Write the acquisition spend per month and channel: the month's new
    members of the channel times its cost per member (BULK_CAC) ±30 %; the
    partner's at its store, the others program-wide. Returns the members per
    source."""
    counts: dict[tuple[dt.date, str], int] = {}
    for plan in plans:
        month = month_start(timezone.localtime(plan["enrolled"]).date())
        key = (month, plan["source"])
        counts[key] = counts.get(key, 0) + 1
    rows = []
    for (month, channel), n in sorted(counts.items()):
        if channel not in BULK_CAC:
            continue
        amount = Decimal(round(n * BULK_CAC[channel] * rng.uniform(0.7, 1.3)))
        rows.append(
            MarketingSpend(
                month=month,
                amount=amount,
                kind=SpendKind.ACQUISITION,
                channel=channel,
                store=partner_store if channel == MemberSource.PARTNER else None,
                campaign=BULK_CAMPAIGNS[channel],
            )
        )
    marketing_spend_bulk_save(rows=rows, entered_by=None)
    by_source: dict[str, int] = {}
    for (_month, channel), n in counts.items():
        by_source[channel] = by_source.get(channel, 0) + n
    return dict(sorted(by_source.items()))
