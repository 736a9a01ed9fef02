"""Automated journeys: who is due, and the message each gets once per occurrence.

Each journey is a periodic task (campaigns.tasks.journey_<kind>_due) calling
`journey_run`: one query selects the due members together with the occurrence
they are due for, leaving out those whose message for it exists; the list is
sent in chunks of CHUNK by `tasks.journey_send_chunk`. The message key names the
occurrence, so a rerun, a retried chunk or an overlapping run sends nothing twice:

    welcome           journey:welcome                   once per member
    birthday          journey:birthday:<year>           once a year
    points_expiring   journey:expiring:<lot id>         at most one per `days`
    tier_up/down      journey:tier:<tier history id>    once per move
    win_back          journey:winback:<last purchase>   once per lapse
    voucher_reminder  journey:voucher:<voucher id>      once per voucher
    membership        journey:membership:<sub>:<end>    once per paid period

Welcome runs hourly over the last `days` of enrolments instead of hooking
member_enroll: enrolment happens in five places (counter, sign-up, API, admin,
CSV import) inside their own transactions, and a sweep catches all of them
without touching the members app; an hour's delay suits a welcome.

Voucher reminders and membership renewals are service messages (about something
the member holds or paid for: no consent needed, no cap, no quiet hours); the
others are marketing.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db.models import (
    CharField,
    Exists,
    IntegerField,
    OuterRef,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from campaigns.journeys.render import render
from campaigns.messaging.services import message_send
from campaigns.messaging.variables import TemplateVariables
from campaigns.models import Journey, JourneyKind, Message
from campaigns.queueing import task_queue
from campaigns.segments.selectors import segment_members
from members.audit import StaffActor, audited_save
from members.formatting import date_format
from members.models import LeaveTrigger, Member
from members.services import leave_reason_link
from rewards.models import PointsLot, Purchase, TierHistory, Voucher, VoucherStatus

log = logging.getLogger(__name__)

CHUNK = 200
JOURNEY_SEND_CHUNK_TASK = "campaigns.tasks.journey_send_chunk"
EXPIRING_WITHIN = dt.timedelta(days=30)  # the {{ points_expiring }} of other journeys
TIER_LOOKBACK = dt.timedelta(days=3)  # a missed hourly run still catches a move
# What each periodic task runs: tier_change covers both tier journeys.
RUNS = {
    "welcome": [JourneyKind.WELCOME],
    "birthday": [JourneyKind.BIRTHDAY],
    "points_expiring": [JourneyKind.POINTS_EXPIRING],
    "tier_change": [JourneyKind.TIER_UP, JourneyKind.TIER_DOWN],
    "win_back": [JourneyKind.WIN_BACK],
    "voucher_reminder": [JourneyKind.VOUCHER_REMINDER],
}


def journeys_switch(*, journey_ids: list[int], enabled: bool) -> int:
    """Switch journeys on or off (admin's actions); returns how many changed.
    The hourly sweeps read `enabled` on their next run; nothing is queued."""
    return (
        Journey.objects.filter(pk__in=journey_ids)
        .exclude(enabled=enabled)
        .update(enabled=enabled)
    )


def journey_save(*, journey: Journey, actor: StaffActor | None = None) -> Journey:
    """Add or change a journey (kind, on/off, channel, days) as staff edited it
    in the admin, with its texts in every language, and the audit row of
    `actor`. Locks nothing; queues nothing: the next run reads it."""
    return audited_save(obj=journey, actor=actor)


def journey_enabled_get(kind: str) -> Journey | None:
    return Journey.objects.filter(kind=kind, enabled=True).first()


def _sent(key) -> Exists:
    """A message with this key (an expression over the outer row) exists."""
    return Exists(Message.objects.filter(member_id=OuterRef("member_id"), key=key))


def _key(prefix: str, ref: str) -> Concat:
    return Concat(
        Value(prefix), Cast(OuterRef(ref), CharField()), output_field=CharField()
    )


# --- who is due: one query per journey ----------------------------------------------


def _due_welcome(journey: Journey, now: dt.datetime) -> list:
    rows = (
        Member.objects.filter(
            enrolled_at__gt=now - dt.timedelta(days=journey.days),
            enrolled_at__lte=now,
        )
        .filter(
            ~Exists(
                Message.objects.filter(member_id=OuterRef("pk"), key="journey:welcome")
            )
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return [[pk, "journey:welcome", {}] for pk in rows]


def _due_birthday(journey: Journey, now: dt.datetime) -> list:
    today = timezone.localdate(now)
    key = f"journey:birthday:{today.year}"
    members = Member.objects.filter(
        birthday__month=today.month, birthday__day=today.day
    )
    leap = today.year % 4 == 0 and (today.year % 100 != 0 or today.year % 400 == 0)
    if today.month == 2 and today.day == 28 and not leap:
        members = Member.objects.filter(birthday__month=2, birthday__day__in=[28, 29])
    rows = (
        members.filter(
            ~Exists(Message.objects.filter(member_id=OuterRef("pk"), key=key))
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return [[pk, key, {}] for pk in rows]


def _due_points_expiring(journey: Journey, now: dt.datetime) -> list:
    window = dt.timedelta(days=journey.days)
    recent = Message.objects.filter(
        member_id=OuterRef("account__member_id"),
        kind=f"journey:{JourneyKind.POINTS_EXPIRING}",
        created_at__gt=now - window,
    )
    rows = (
        PointsLot.objects.filter(
            remaining__gt=0,
            expiry_entry__isnull=True,
            expires_at__gt=now,
            expires_at__lte=now + window,
        )
        .filter(~Exists(recent))
        .order_by("account__member_id", "expires_at", "pk")
        .values_list("account__member_id", "pk")
    )
    due, seen = [], set()
    for member_id, lot_id in rows:  # the earliest lot speaks for the member
        if member_id not in seen:
            seen.add(member_id)
            due.append([member_id, f"journey:expiring:{lot_id}", {}])
    return due


def _due_tier(journey: Journey, now: dt.datetime) -> list:
    move = (
        TierHistory.Kind.UP
        if journey.kind == JourneyKind.TIER_UP
        else TierHistory.Kind.DOWN
    )
    rows = (
        TierHistory.objects.filter(
            kind=move, created_at__gt=now - TIER_LOOKBACK, created_at__lte=now
        )
        .filter(~_sent(_key("journey:tier:", "pk")))
        .order_by("pk")
        .values_list("member_id", "pk", "from_tier__name", "to_tier__name")
    )
    return [
        [
            member_id,
            f"journey:tier:{pk}",
            {"previous_tier": from_name or "", "tier": to_name or ""},
        ]
        for member_id, pk, from_name, to_name in rows
    ]


def _due_win_back(journey: Journey, now: dt.datetime) -> list:
    last = Purchase.objects.filter(member_id=OuterRef("pk")).order_by(
        "-occurred_at", "-pk"
    )
    rows = (
        Member.objects.annotate(
            last_id=Subquery(last.values("pk")[:1]),
            last_at=Subquery(last.values("occurred_at")[:1]),
        )
        .filter(last_at__lte=now - dt.timedelta(days=journey.days))
        .filter(
            ~Exists(
                Message.objects.filter(
                    member_id=OuterRef("pk"),
                    key=Concat(
                        Value("journey:winback:"),
                        Cast(OuterRef("last_id"), CharField()),
                        output_field=CharField(),
                    ),
                )
            )
        )
        .order_by("pk")
        .values_list("pk", "last_id", "last_at")
    )
    return [
        [pk, f"journey:winback:{last_id}", {"days_since_purchase": (now - at).days}]
        for pk, last_id, at in rows
    ]


def _due_voucher_reminder(journey: Journey, now: dt.datetime) -> list:
    rows = (
        Voucher.objects.filter(
            status=VoucherStatus.ISSUED,
            expires_at__gt=now,
            expires_at__lte=now + dt.timedelta(days=journey.days),
        )
        .filter(~_sent(_key("journey:voucher:", "pk")))
        .order_by("pk")
        .values_list("member_id", "pk", "code", "reward__name", "expires_at")
    )
    return [
        [
            member_id,
            f"journey:voucher:{pk}",
            {
                "voucher_code": code,
                "reward": reward,
                "voucher_expires_date": expires.isoformat(),
            },
        ]
        for member_id, pk, code, reward, expires in rows
    ]


DUE = {
    JourneyKind.WELCOME: _due_welcome,
    JourneyKind.BIRTHDAY: _due_birthday,
    JourneyKind.POINTS_EXPIRING: _due_points_expiring,
    JourneyKind.TIER_UP: _due_tier,
    JourneyKind.TIER_DOWN: _due_tier,
    JourneyKind.WIN_BACK: _due_win_back,
    JourneyKind.VOUCHER_REMINDER: _due_voucher_reminder,
}


def journey_due(*, journey: Journey, now: dt.datetime | None = None) -> list:
    """[member_id, message key, extra variables] of everyone due now (one query;
    one more for the members of the journey's segment when it has one)."""
    now = now or timezone.now()
    due = DUE[journey.kind](journey, now)
    if journey.segment_id is None or not due:
        return due
    allowed = set(
        segment_members(journey.segment, now=now)
        .filter(pk__in=[row[0] for row in due])
        .values_list("pk", flat=True)
    )
    return [row for row in due if row[0] in allowed]


def journey_run(*, kind: str, now: dt.datetime | None = None) -> int:
    """Run one periodic journey task (`kind` a key of RUNS): for each of its
    journeys that is switched on, select who is due and queue
    `tasks.journey_send_chunk` per CHUNK of them. Locks nothing; returns how
    many were due."""
    now = now or timezone.now()
    due_total = 0
    for journey_kind in RUNS[kind]:
        journey = Journey.objects.filter(kind=journey_kind, enabled=True).first()
        if journey is None:
            continue
        due = journey_due(journey=journey, now=now)
        due_total += len(due)
        for start in range(0, len(due), CHUNK):
            task_queue(
                JOURNEY_SEND_CHUNK_TASK, str(journey_kind), due[start : start + CHUNK]
            )
    return due_total


# --- sending one chunk ----------------------------------------------------------------


def _members_with_facts(ids, *, now: dt.datetime, within: dt.timedelta):
    """The members of a chunk with what texts may say about them, in one query."""
    lots = PointsLot.objects.filter(
        account__member_id=OuterRef("pk"),
        remaining__gt=0,
        expiry_entry__isnull=True,
        expires_at__gt=now,
        expires_at__lte=now + within,
    )
    expiring = (
        lots.order_by()
        .values("account_id")
        .annotate(total=Sum("remaining"))
        .values("total")
    )
    return (
        Member.objects.filter(pk__in=ids)
        .select_related("account__tier")
        .annotate(
            points_expiring=Coalesce(
                Subquery(expiring, output_field=IntegerField()), Value(0)
            ),
            points_expiring_at=Subquery(
                lots.order_by("expires_at").values("expires_at")[:1]
            ),
        )
    )


def _date_value(value) -> dt.date | str:
    """A day from a date, a date-time or its ISO text ("" for none): the
    sandbox writes it in the text's language when it prints."""
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        value = timezone.localdate(value)
    return value


def _date_text(value) -> str:
    day = _date_value(value)
    return date_format(day) if day else ""


def member_context(
    member: Member, extras: dict, added: TemplateVariables | None = None
) -> dict:
    """The flat dict a journey text is rendered with (in the member's language).
    The variables other apps add (campaigns.messaging.variables) are lazy: read
    only when the text uses them."""
    added = added or TemplateVariables([member.pk])
    account = getattr(member, "account", None)
    tier = account.tier.name if account is not None and account.tier else ""
    context = {
        "first_name": member.first_name,
        "balance": account.balance if account is not None else 0,
        "tier": tier,
        "points_expiring": getattr(member, "points_expiring", 0) or 0,
        "points_expiring_date": _date_value(
            getattr(member, "points_expiring_at", None)
        ),
        "card_number": member.card_number,
        **added.context(member),
    }
    for name, value in extras.items():
        context[name] = _date_value(value) if name.endswith("_date") else value
    return context


def journey_text_pick(journey: Journey, language: str) -> tuple[str, str] | None:
    """(subject, text) of the journey for a reader of `language`, both from the
    first language in the fallback order that has a text; None with no text."""
    _lang, subject, body = journey.content_for(language)
    return (subject, body) if body else None


def journey_send_chunk(
    *, kind: str, items: list, now: dt.datetime | None = None
) -> int:
    """Send a chunk of a journey's due members through message_send, each with its
    occurrence key (so a retried chunk sends nothing twice). A journey switched
    off meanwhile sends nothing. One query for the members and their facts, then
    message_send per member (which queues delivery on commit). Returns how many
    messages were written."""
    journey = journey_enabled_get(kind)
    if journey is None:
        return 0
    now = now or timezone.now()
    within = (
        dt.timedelta(days=journey.days)
        if kind == JourneyKind.POINTS_EXPIRING
        else EXPIRING_WITHIN
    )
    members = _members_with_facts(
        [item[0] for item in items], now=now, within=within
    ).in_bulk()
    added = TemplateVariables(list(members), now)
    written = 0
    for member_id, key, extras in items:
        member = members.get(member_id)
        if member is None:
            continue
        if journey_message_send(
            journey=journey,
            member=member,
            key=key,
            extras=extras,
            added=added,
        ):
            written += 1
    return written


def _with_leave_reason_link(
    body_text: str, context: dict, member: Member, key: str, language: str
) -> str:
    """The win-back message carries the one-tap "why did you leave?" link
    ({{ leave_reason_link }}, signed for this lapse: no login needed, a second
    answer replaces the first). A text that does not place it gets it as a
    last line, in the text's language."""
    context["leave_reason_link"] = leave_reason_link(
        member=member, trigger=LeaveTrigger.WIN_BACK, key=key
    )
    if "leave_reason_link" in body_text:
        return body_text
    with translation.override(language):
        line = _("Not coming back? Tell us why in one tap:")
    return f"{body_text}\n\n{line} {{{{ leave_reason_link }}}}"


def journey_message_send(
    *,
    journey: Journey,
    member: Member,
    key: str,
    extras: dict,
    added: TemplateVariables | None = None,
) -> Message | None:
    """Render the journey's text for one member and send it with `key`
    (`added`: the chunk's added variables, set up once per chunk)."""
    language, subject_text, body_text = journey.content_for(member.language)
    if not body_text:
        log.warning("journey %s has no text; %s not sent", journey.kind, key)
        return None
    with translation.override(member.language):
        context = member_context(member, extras, added)
    if journey.kind == JourneyKind.WIN_BACK:
        body_text = _with_leave_reason_link(body_text, context, member, key, language)
    # Numbers, dates and plural forms in the language the text is written in.
    subject = render(subject_text, context, language)
    body = render(body_text, context, language)
    return message_send(
        member=member,
        key=key,
        kind=f"journey:{journey.kind}",
        subject=subject,
        body=body,
        channel=journey.channel or None,
        marketing=journey.marketing,
    )


# --- paid membership renewal: the reminder sender of rewards ------------------------


def membership_reminder_send(*, subscription) -> Message | None:
    """LOYALTY_MEMBERSHIP_REMINDER_SENDER: the renewal reminder through
    message_send, once per paid period (key journey:membership:<id>:<end>).
    Uses the renewal journey's text when there is one; a journey switched off
    sends nothing; with no journey row at all the built-in text goes, so the
    reminder works before anyone has set journeys up. A service message."""
    journey = Journey.objects.filter(kind=JourneyKind.MEMBERSHIP_RENEWAL).first()
    if journey is not None and not journey.enabled:
        return None
    member = subscription.member
    end = subscription.current_period_end
    key = f"journey:membership:{subscription.pk}:{end:%Y%m%d}"
    extras = {"plan": subscription.plan.name, "membership_ends_date": end.isoformat()}
    text = journey_text_pick(journey, member.language) if journey else None
    if text is not None:
        return journey_message_send(
            journey=journey, member=member, key=key, extras=extras
        )
    with translation.override(member.language):
        body = _(
            "Your %(plan)s membership ends on %(date)s. Renew it at any of our "
            "stores to keep its perks."
        ) % {"plan": subscription.plan.name, "date": _date_text(end)}
        subject = _("Your membership ends soon")
    return message_send(
        member=member,
        key=key,
        kind=f"journey:{JourneyKind.MEMBERSHIP_RENEWAL}",
        subject=subject,
        body=body,
        marketing=False,
    )
