"""Tiers: qualification values over a window, and the progress text customers read."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db import DEFAULT_DB_ALIAS, connection, router
from django.db.models import Count, F, Min, Sum
from django.utils import timezone
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from members.formatting import date_format, money_format, number_format
from members.models import Member
from members.rows import row_fetch
from rewards.earn_config import earn_config_get
from rewards.models import (
    LedgerEntry,
    LedgerKind,
    PointsAccount,
    ProgramSettings,
    Purchase,
    Subscription,
    Tier,
    TierQualification,
    TierWindow,
)
from rewards.selectors.program import program_settings_get


@dataclass(frozen=True)
class TierValue:
    """A member's qualification value for a tier, and when the oldest counted event was."""

    value: Decimal
    first_at: dt.datetime | None


ZERO_VALUE = TierValue(Decimal("0"), None)


def tiers_active() -> list[Tier]:
    return list(Tier.objects.filter(is_active=True).order_by("rank"))


def tier_window_start(tier: Tier, *, at: dt.datetime) -> dt.datetime:
    """Where the tier's window begins for a value measured at `at`."""
    if tier.window == TierWindow.CALENDAR_YEAR:
        local = localtime(at)
        return local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return at - relativedelta(months=tier.window_months)


def tier_window_end(tier: Tier, *, at: dt.datetime, first_at: dt.datetime | None):
    """The date by which the missing amount must be reached: the end of the calendar
    year, or for a rolling window the day the oldest counted event leaves it."""
    if tier.window == TierWindow.CALENDAR_YEAR:
        return dt.date(localtime(at).year, 12, 31)
    base = first_at or at
    return localtime(base + relativedelta(months=tier.window_months)).date()


def _tier_key(tier: Tier) -> tuple:
    return (tier.qualification, tier.window, tier.window_months)


@functools.cache
def _tier_value_parts(qualification: str) -> tuple[str, str, str]:
    """(the value's aggregate, the first event's aggregate, FROM ... WHERE ...)
    of a member's value for `qualification` since a start (PostgreSQL); the
    parameters are the member's id, for points earned the EARN kind, and the
    start."""
    quote = connection.ops.quote_name
    if qualification == TierQualification.POINTS_EARNED:
        entry, account = LedgerEntry._meta, PointsAccount._meta
        return (
            f"SUM(e.{quote('points')})",
            f"MIN(e.{quote('created_at')})",
            f"FROM {quote(entry.db_table)} e JOIN {quote(account.db_table)} a"
            f" ON a.{quote('id')} = e.{quote('account_id')}"
            f" WHERE a.{quote('member_id')} = %s AND e.{quote('kind')} = %s"
            f" AND e.{quote('created_at')} >= %s",
        )
    value = (
        f"SUM({quote('total')} - {quote('returned_total')})"
        if qualification == TierQualification.SPEND
        else f"COUNT({quote('id')})"
    )
    return (
        value,
        f"MIN({quote('occurred_at')})",
        f"FROM {quote(Purchase._meta.db_table)}"
        f" WHERE {quote('member_id')} = %s AND {quote('occurred_at')} >= %s",
    )


@functools.cache
def _tier_value_sql(qualification: str) -> str:
    """_tier_value_one's aggregate as a statement written once (PostgreSQL):
    the ORM spent more CPU building and compiling it than PostgreSQL spent
    answering it, after every purchase (docs/BENCHMARKS.md, issue 18)."""
    value, first, source = _tier_value_parts(qualification)
    return f"SELECT {value}, {first} {source}"  # noqa: S608 - names from the models


def _tier_value_params(tier: Tier, member_id: int, start: dt.datetime) -> list:
    if tier.qualification == TierQualification.POINTS_EARNED:
        return [member_id, LedgerKind.EARN, start]
    return [member_id, start]


def _on_primary_postgres() -> bool:
    # (SQLite sums its decimals as floats: the ORM converts them back. A
    # replica read stays with the ORM and the router.)
    return (
        connection.vendor == "postgresql"
        and router.db_for_read(Purchase) == DEFAULT_DB_ALIAS
    )


def _tier_value_one(tier: Tier, member_id: int, start: dt.datetime) -> dict:
    if _on_primary_postgres():
        value, first = row_fetch(
            _tier_value_sql(tier.qualification),
            _tier_value_params(tier, member_id, start),
            prepared=True,
        )
        return {member_id: TierValue(Decimal(value or 0), first)}
    return _tier_value_orm(tier, member_id, start)


def tier_value_subqueries(
    *, member_id: int, tiers: list[Tier], at: dt.datetime
) -> dict[tuple, tuple[str, list]] | None:
    """The member's values for `tiers` as scalar subqueries (SQL, params), one
    per distinct (qualification, window), for a write statement of the
    caller's to answer under the same lock (rewards.ledger_rows.entry_write's
    `also`); tier_values_found reads their answers. None where they are not
    read with SQL of ours (SQLite, a replica): tier_values then."""
    if not _on_primary_postgres():
        return None
    found = {}
    for tier in tiers:
        key = _tier_key(tier)
        if key not in found:
            value, _first, source = _tier_value_parts(tier.qualification)
            start = tier_window_start(tier, at=at)
            found[key] = (
                f"SELECT {value} {source}",  # noqa: S608 - names from the models
                _tier_value_params(tier, member_id, start),
            )
    return found


def tier_values_found(
    *,
    member_id: int,
    tiers: list[Tier],
    at: dt.datetime,
    answers: dict[tuple, object],
    purchase: Purchase,
    entry: LedgerEntry,
) -> dict[int, dict[int, TierValue]]:
    """tier_values' answer from the values of tier_value_subqueries (`answers`,
    by key), read by the statement that wrote `purchase` and its EARN `entry`:
    that statement did not see its own rows, so they are added here as the
    aggregate counts them. `first_at` is not read (None)."""
    result: dict[int, dict[int, TierValue]] = {}
    starts: dict[tuple, dt.datetime] = {}
    for tier in tiers:
        key = _tier_key(tier)
        if key not in starts:
            starts[key] = tier_window_start(tier, at=at)
        start = starts[key]
        value = Decimal(answers[key] or 0)
        if tier.qualification == TierQualification.POINTS_EARNED:
            if entry.kind == LedgerKind.EARN and entry.created_at >= start:
                value += entry.points
        elif purchase.occurred_at >= start:
            value += (
                purchase.total - purchase.returned_total
                if tier.qualification == TierQualification.SPEND
                else 1
            )
        result[tier.pk] = {member_id: TierValue(value, None)}
    return result


def _tier_value_orm(tier: Tier, member_id: int, start: dt.datetime) -> dict:
    if tier.qualification == TierQualification.POINTS_EARNED:
        row = LedgerEntry.objects.filter(
            account__member_id=member_id, kind=LedgerKind.EARN, created_at__gte=start
        ).aggregate(value=Sum("points"), first=Min("created_at"))
    else:
        value = (
            Sum(F("total") - F("returned_total"))
            if tier.qualification == TierQualification.SPEND
            else Count("id")
        )
        row = Purchase.objects.filter(
            member_id=member_id, occurred_at__gte=start
        ).aggregate(value=value, first=Min("occurred_at"))
    return {member_id: TierValue(Decimal(row["value"] or 0), row["first"])}


def _tier_values_many(tier: Tier, member_ids: list[int], start: dt.datetime) -> dict:
    if tier.qualification == TierQualification.POINTS_EARNED:
        rows = (
            LedgerEntry.objects.filter(
                account__member_id__in=member_ids,
                kind=LedgerKind.EARN,
                created_at__gte=start,
            )
            .values(who=F("account__member_id"))
            .annotate(value=Sum("points"), first=Min("created_at"))
        )
    else:
        value = (
            Sum(F("total") - F("returned_total"))
            if tier.qualification == TierQualification.SPEND
            else Count("id")
        )
        rows = (
            Purchase.objects.filter(member_id__in=member_ids, occurred_at__gte=start)
            .values(who=F("member_id"))
            .annotate(value=value, first=Min("occurred_at"))
        )
    return {
        row["who"]: TierValue(Decimal(row["value"] or 0), row["first"])
        for row in rows.order_by()
    }


def tier_values(
    *, member_ids: list[int], tiers: list[Tier], at: dt.datetime
) -> dict[int, dict[int, TierValue]]:
    """{tier pk: {member id: value}} with one aggregate query per distinct
    (qualification, window) among `tiers`, whatever the number of members.

    Spend is what was kept (total - returned); points earned are EARN entries
    only, never the balance; visits count purchases."""
    result: dict[int, dict[int, TierValue]] = {}
    cache: dict[tuple, dict[int, TierValue]] = {}
    for tier in tiers:
        key = _tier_key(tier)
        if key not in cache:
            start = tier_window_start(tier, at=at)
            if (
                len(member_ids) == 1
            ):  # after each purchase: a plain aggregate is cheaper
                cache[key] = _tier_value_one(tier, member_ids[0], start)
            else:
                cache[key] = _tier_values_many(tier, member_ids, start)
        result[tier.pk] = cache[key]
    return result


def tier_value_text(tier: Tier, value: Decimal, *, currency: str) -> str:
    """'1 240,50 грн', '300 points', '5 visits' in the active language."""
    if tier.qualification == TierQualification.SPEND:
        return money_format(value, currency)
    count = int(value)
    if tier.qualification == TierQualification.POINTS_EARNED:
        return ngettext("%(count)s point", "%(count)s points", count) % {
            "count": number_format(count)
        }
    return ngettext("%(count)s visit", "%(count)s visits", count) % {
        "count": number_format(count)
    }


def tier_window_text(tier: Tier) -> str:
    if tier.window == TierWindow.CALENDAR_YEAR:
        return _("the calendar year")
    return ngettext("%(count)s month", "%(count)s months", tier.window_months) % {
        "count": tier.window_months
    }


def tier_requirement_text(tier: Tier, *, currency: str) -> str:
    """What a tier asks for: 'Reach 1 000,00 грн in 12 months.', or for a tier with
    no threshold, that the first purchase gives it (no 'reach 0')."""
    if tier.threshold <= 0:
        return _("Yours with your first purchase.")
    return _("Reach %(amount)s in %(window)s.") % {
        "amount": tier_value_text(tier, tier.threshold, currency=currency),
        "window": tier_window_text(tier),
    }


def tier_deadline_text(day: dt.date) -> str:
    """The date a tier sentence names ("by 1 March 2027")."""
    return date_format(day)


@dataclass(frozen=True)
class TierProgress:
    """What the customer pages show about tiers."""

    current: Tier | None
    next: Tier | None
    value: Decimal  # towards the next tier (by its qualification)
    missing: Decimal
    deadline: dt.date | None
    percent: int
    sentence: str  # "Spend 1 240.00 UAH more by 1 March 2027 to reach Gold."
    keep_sentence: str  # what keeps the current tier


def _tier_reach_sentence(
    tier: Tier, missing: Decimal, *, deadline: dt.date, currency: str
) -> str:
    """What is missing for `tier` by when; one whole sentence per qualification."""
    if missing <= 0:
        return _("You qualify for %(tier)s with your next purchase.") % {
            "tier": tier.name
        }
    params = {
        "amount": tier_value_text(tier, missing, currency=currency),
        "date": tier_deadline_text(deadline),
        "tier": tier.name,
    }
    if tier.qualification == TierQualification.SPEND:
        return _("Spend %(amount)s more by %(date)s to reach %(tier)s.") % params
    if tier.qualification == TierQualification.POINTS_EARNED:
        return _("Earn %(amount)s more by %(date)s to reach %(tier)s.") % params
    return _("Make %(amount)s more by %(date)s to reach %(tier)s.") % params


def membership_guarantees(membership: Subscription | None, tier: Tier) -> bool:
    """Whether the paid membership in force keeps `tier` (the nightly
    downgrade's rule: rewards.selectors.memberships.membership_guaranteed_ranks)."""
    guaranteed = membership.plan.guaranteed_tier if membership is not None else None
    return (
        guaranteed is not None and guaranteed.is_active and guaranteed.rank >= tier.rank
    )


def _tier_keep_sentence(
    tier: Tier,
    *,
    value: Decimal,
    lapsed_on: dt.date | None,
    membership: Subscription | None,
    at: dt.datetime,
    currency: str,
) -> str:
    """What the member must do by when to keep `tier`, or "" when nothing: the
    value counted now meets the threshold. Below it, a paid membership that
    guarantees the tier keeps it until the membership's end: that is said
    instead of a target.

    Below the threshold, the nightly downgrade (rewards.services.tiers) moves
    the member down once the tier's grace days have passed since they were
    first found below it: that day is the deadline."""
    missing = tier.threshold - value
    if missing <= 0:
        return ""
    if membership_guarantees(membership, tier):
        return _("Your %(plan)s membership keeps %(tier)s for you until %(date)s.") % {
            "plan": membership.plan.name,
            "tier": tier.name,
            "date": tier_deadline_text(localtime(membership.current_period_end).date()),
        }
    below_since = lapsed_on or localtime(at).date()
    params = {
        "amount": tier_value_text(tier, missing, currency=currency),
        "date": tier_deadline_text(below_since + dt.timedelta(days=tier.grace_days)),
        "tier": tier.name,
    }
    if tier.qualification == TierQualification.SPEND:
        return _("To keep %(tier)s, spend %(amount)s more by %(date)s.") % params
    if tier.qualification == TierQualification.POINTS_EARNED:
        return _("To keep %(tier)s, earn %(amount)s more by %(date)s.") % params
    return _("To keep %(tier)s, make %(amount)s more by %(date)s.") % params


def tier_progress_get(
    *,
    member: Member,
    at: dt.datetime | None = None,
    program: ProgramSettings | None = None,
    membership: Subscription | None = None,
) -> TierProgress | None:
    """The member's tier, the next one and how far it is; None when no tier is set up.

    Three queries at most: the program settings, the tiers, one aggregate per
    distinct qualification of the current and the next tier. A caller that has
    read the settings passes them as `program`: then the tiers come from the
    process's earn configuration (rewards.earn_config), which that row's token
    keeps current, and the aggregates are the only queries. `membership`: the
    paid membership in force with its plan (membership_active_get), if the
    caller has read it: a tier it guarantees is kept by it until its end."""
    at = at or timezone.now()
    if program is None:
        tiers = tiers_active()
        if not tiers:
            return None
        program = program_settings_get()
    else:
        tiers = list(earn_config_get(program.config_version).tiers)
        if not tiers:
            return None
    currency = program.currency
    tier_id = member.account.tier_id  # select_related by the member selectors
    current = next((t for t in tiers if t.pk == tier_id), None)
    above = [t for t in tiers if current is None or t.rank > current.rank]
    upcoming = above[0] if above else None
    wanted = [t for t in (current, upcoming) if t is not None]
    values = tier_values(member_ids=[member.pk], tiers=wanted, at=at)
    sentence, keep = "", ""
    value = missing = Decimal("0")
    deadline, percent = None, 100
    if upcoming is not None:
        got = values[upcoming.pk].get(member.pk, ZERO_VALUE)
        value = got.value
        missing = max(upcoming.threshold - value, Decimal("0"))
        deadline = tier_window_end(upcoming, at=at, first_at=got.first_at)
        if upcoming.threshold <= 0:
            # A tier without a threshold comes with a purchase, not an amount:
            # nothing to measure, so an empty bar until then.
            percent = 0
            sentence = _("Your next purchase makes you %(tier)s.") % {
                "tier": upcoming.name
            }
        else:
            percent = min(100, int(value * 100 / upcoming.threshold))
            sentence = _tier_reach_sentence(
                upcoming, missing, deadline=deadline, currency=currency
            )
    if current is not None and current.threshold > 0:
        keep = _tier_keep_sentence(
            current,
            value=values[current.pk].get(member.pk, ZERO_VALUE).value,
            lapsed_on=member.account.tier_lapsed_on,
            membership=membership,
            at=at,
            currency=currency,
        )
    elif current is not None:
        keep = _("%(tier)s is yours to keep.") % {"tier": current.name}
    return TierProgress(
        current=current,
        next=upcoming,
        value=value,
        missing=missing,
        deadline=deadline,
        percent=percent,
        sentence=sentence,
        keep_sentence=keep,
    )
