"""Member 360: everything about a member, newest first (the staff page is
analytics.admin.member360).

The timeline is built from pluggable sources: each is a function
`(member, limit) -> list[TimelineItem]` that returns the member's newest
`limit` items with one bounded query. Areas add theirs with
`timeline_source_register` (complaints, survey answers, ...), so the page's
query count grows by one per source, never with the history.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Max, Q, Sum
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from campaigns.models import Message
from members.formatting import money_format, number_format
from members.models import Member
from rewards.models import LedgerKind, Purchase, PurchaseReturn
from rewards.reasons import PROMO_CODE_REVERSED, reasons_names_load
from rewards.selectors.catalog import vouchers_for_member
from rewards.selectors.ledger import ledger_entries_for_member, purchases_for_member
from rewards.selectors.program import program_settings_get
from rewards.selectors.statement import ledger_entry_explain

PER_PAGE = 25
MAX_PAGES = 40  # a source never reads more than PER_PAGE * MAX_PAGES + 1 rows


@dataclass(frozen=True)
class TimelineItem:
    at: dt.datetime
    kind: str  # a short key: purchase, return, points, voucher, message, ...
    label: str  # the kind, translated
    title: str
    detail: str = ""
    points: int | None = None
    url: str = ""


TimelineSource = Callable[[Member, int], list[TimelineItem]]


def admin_url(name: str, *args) -> str:
    try:
        return reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        return ""


def _money(amount, currency: str) -> str:
    return money_format(amount, currency)


def program_currency() -> str:
    return program_settings_get().currency


def purchases_source(member: Member, limit: int) -> list[TimelineItem]:
    currency = program_currency()
    rows = purchases_for_member(member_id=member.pk).annotate(items=Count("lines"))
    return [
        TimelineItem(
            at=p.occurred_at,
            kind="purchase",
            label=_("Purchase"),
            title=_("%(amount)s at %(store)s")
            % {"amount": _money(p.total, currency), "store": p.store.name},
            detail=ngettext(
                "Receipt %(receipt)s, %(items)s line",
                "Receipt %(receipt)s, %(items)s lines",
                p.items,
            )
            % {"receipt": p.receipt_id, "items": number_format(p.items)}
            + (
                _("; %(amount)s returned")
                % {"amount": _money(p.returned_total, currency)}
                if p.returned_total
                else ""
            ),
            points=p.points_earned,
            url=admin_url("rewards_purchase_change", p.pk),
        )
        for p in rows[:limit]
    ]


def returns_source(member: Member, limit: int) -> list[TimelineItem]:
    currency = program_currency()
    rows = (
        PurchaseReturn.objects.filter(purchase__member_id=member.pk)
        .select_related("store", "purchase")
        .order_by("-created_at", "-id")
    )
    return [
        TimelineItem(
            at=r.created_at,
            kind="return",
            label=_("Return"),
            title=_("%(amount)s back at %(store)s")
            % {"amount": _money(r.amount, currency), "store": r.store.name},
            detail=_("Of receipt %(receipt)s") % {"receipt": r.purchase.receipt_id},
            points=-r.points_reversed,
            url=admin_url("rewards_purchasereturn_change", r.pk),
        )
        for r in rows[:limit]
    ]


def ledger_source(member: Member, limit: int) -> list[TimelineItem]:
    """Points movements other than a purchase's earning and a return's own
    clawback (those show on the purchase and the return themselves). A promo
    code's bonus and its reversal by a return are their own lines."""
    currency = program_currency()
    rows = (
        ledger_entries_for_member(member_id=member.pk)
        .select_related("created_by")
        .exclude(kind=LedgerKind.EARN, purchase__isnull=False)
        .exclude(
            Q(kind=LedgerKind.CLAWBACK, purchase_return__isnull=False)
            & ~Q(reason_code=PROMO_CODE_REVERSED)
        )
    )
    shown = list(rows[:limit])
    reasons_names_load(shown)
    return [
        TimelineItem(
            at=e.created_at,
            kind="points",
            label=e.get_kind_display(),
            title=ledger_entry_explain(e, currency=currency),
            detail=str(e.created_by or ""),
            points=e.points,
        )
        for e in shown
    ]


def vouchers_source(member: Member, limit: int) -> list[TimelineItem]:
    return [
        TimelineItem(
            at=v.issued_at,
            kind="voucher",
            label=_("Voucher"),
            title=_("%(reward)s, voucher %(code)s")
            % {"reward": v.reward.name, "code": v.code},
            detail=f"{v.get_source_display()} · {v.get_status_display()}",
            url=admin_url("rewards_voucher_change", v.pk),
        )
        for v in vouchers_for_member(member_id=member.pk)[:limit]
    ]


def messages_source(member: Member, limit: int) -> list[TimelineItem]:
    rows = Message.objects.filter(member_id=member.pk).order_by("-created_at", "-id")
    return [
        TimelineItem(
            at=m.created_at,
            kind="message",
            label=m.get_channel_display(),
            title=m.subject or m.body[:80],
            detail=f"{m.kind} · {m.get_status_display()}",
        )
        for m in rows.only(
            "created_at", "channel", "subject", "body", "kind", "status"
        )[:limit]
    ]


TIMELINE_SOURCES: list[TimelineSource] = [
    purchases_source,
    returns_source,
    ledger_source,
    vouchers_source,
    messages_source,
]


def timeline_source_register(source: TimelineSource) -> TimelineSource:
    """Add a source to every Member 360 timeline (usable as a decorator)."""
    if source not in TIMELINE_SOURCES:
        TIMELINE_SOURCES.append(source)
    return source


@dataclass(frozen=True)
class TimelinePage:
    items: list[TimelineItem]
    page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def member_timeline(
    member: Member,
    *,
    page: int = 1,
    per_page: int = PER_PAGE,
    sources: list[TimelineSource] | None = None,
) -> TimelinePage:
    """One page of the merged timeline, newest first: one query per source.

    Page p needs at most p × per_page rows of any one source, so each source
    reads that many (plus one, to know whether a next page exists).
    """
    page = min(max(page, 1), MAX_PAGES)
    limit = page * per_page + 1
    streams = [
        sorted(source(member, limit), key=lambda i: i.at, reverse=True)
        for source in (TIMELINE_SOURCES if sources is None else sources)
    ]
    merged = list(heapq.merge(*streams, key=lambda i: i.at, reverse=True))
    start = (page - 1) * per_page
    return TimelinePage(
        items=merged[start : start + per_page],
        page=page,
        has_next=len(merged) > start + per_page and page < MAX_PAGES,
    )


@dataclass(frozen=True)
class PurchaseFacts:
    """A member's purchases as they stand now, read from the same rows as the
    timeline (the RFM row is last night's snapshot and says so)."""

    purchases: int
    net_spend: Decimal
    last_at: dt.datetime | None

    @property
    def days_since_last(self) -> int | None:
        """Calendar days (TIME_ZONE) from the last purchase to today; 0 today."""
        if self.last_at is None:
            return None
        return (timezone.localdate() - timezone.localdate(self.last_at)).days


def member_purchase_facts(*, member_id: int) -> PurchaseFacts:
    """Count, net spend (total − returned) and time of the last purchase: one
    aggregate over the member's purchases."""
    money = DecimalField(max_digits=14, decimal_places=2)
    row = Purchase.objects.filter(member_id=member_id).aggregate(
        purchases=Count("id"),
        net=Sum(
            ExpressionWrapper(F("total") - F("returned_total"), output_field=money)
        ),
        last_at=Max("occurred_at"),
    )
    return PurchaseFacts(
        purchases=row["purchases"],
        net_spend=row["net"] or Decimal("0"),
        last_at=row["last_at"],
    )
