"""Reads about points shared by views, admin, API and tasks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import (
    Count,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Window,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from members.formatting import money_format, number_format, signed_number_format
from members.models import Member, Partner, Store
from rewards.earn_config import earn_config_get
from rewards.models import (
    EarningRule,
    LedgerEntry,
    LedgerKind,
    LotDraw,
    MembershipPlan,
    PointsAccount,
    PointsLot,
    ProgramSettings,
    Purchase,
    Reward,
    RuleStatus,
    StampCard,
    StampCardStatus,
    StampEntry,
    StampEntryKind,
    StampProgram,
    Subscription,
    SubscriptionStatus,
    Tier,
    TierQualification,
    TierWindow,
    Voucher,
    VoucherStatus,
)


def program_settings_get() -> ProgramSettings:
    obj, _created = ProgramSettings.objects.get_or_create(
        pk=1, defaults={"currency": settings.LOYALTY_CURRENCY}
    )
    return obj


def earning_rules_active(*, status: str = RuleStatus.ACTIVE) -> list[EarningRule]:
    """The rules purchases earn by, each with `store_ids` (empty = every store)."""
    rules = list(EarningRule.objects.filter(status=status).prefetch_related("stores"))
    for rule in rules:
        rule.store_ids = {store.pk for store in rule.stores.all()}
    return rules


def points_available_get(
    *, account: PointsAccount, now: dt.datetime | None = None
) -> tuple[int, int]:
    """(spendable now, pending) points of an account: pending lots are not spendable."""
    now = now or timezone.now()
    sums = PointsLot.objects.filter(account=account, remaining__gt=0).aggregate(
        pending=Sum("remaining", filter=Q(available_at__gt=now), default=0),
        total=Sum("remaining", default=0),
    )
    return sums["total"] - sums["pending"], sums["pending"]


def points_discount(points: int, point_value: Decimal) -> Decimal:
    """The discount `points` buy at the till, rounded down to the cent (the rule
    of points_redeem, and of every page that says what points are worth)."""
    return (max(points, 0) * point_value).quantize(
        Decimal("0.01"), rounding=ROUND_FLOOR
    )


def points_spendable_now(*, balance: int, pending: int) -> int:
    """Points that can be spent at once: the balance without the pending ones.

    Open lots hold max(balance, 0) (verify_ledger checks it), so this equals
    points_available_get's first figure without another query."""
    return max(max(balance, 0) - pending, 0)


@dataclass(frozen=True)
class PointsOutlook:
    """What the customer should know beyond the balance: points not yet
    spendable, and the next points to expire."""

    pending: int
    pending_until: dt.datetime | None  # when the first pending points free up
    expiring: int
    expiring_on: dt.date | None


def points_outlook_get(
    *, account: PointsAccount, now: dt.datetime | None = None
) -> PointsOutlook:
    """Pending points and the points expiring on the next expiry day. Two queries."""
    now = now or timezone.now()
    open_lots = PointsLot.objects.filter(account=account, remaining__gt=0)
    pending = open_lots.filter(available_at__gt=now).aggregate(
        points=Sum("remaining", default=0), first=Min("available_at")
    )
    expiring, day = 0, None
    for expires_at, remaining in (
        open_lots.filter(expires_at__isnull=False)
        .order_by("expires_at")
        .values_list("expires_at", "remaining")[:100]
    ):
        if day is None:
            day = localtime(expires_at).date()
        elif localtime(expires_at).date() != day:
            break
        expiring += remaining
    return PointsOutlook(pending["points"], pending["first"], expiring, day)


def member_balance_get(*, member_id: int) -> int:
    return PointsAccount.objects.values_list("balance", flat=True).get(
        member_id=member_id
    )


def ledger_entries_for_member(*, member_id: int) -> QuerySet[LedgerEntry]:
    """The statement: newest first, with what caused each entry, in a fixed number of queries."""
    return (
        LedgerEntry.objects.filter(account__member_id=member_id)
        .select_related(
            "purchase__store",
            "purchase_return__purchase__store",
            "purchase_return__store",
            "redemption__store",
            "voucher__reward",
            "expired_lot",
        )
        .order_by("-created_at", "-id")
    )


# What ledger_entry_explain and a list of entries read: the entry's own columns
# and the causes' names, dates and amounts, instead of every column of the
# eleven tables ledger_entries_for_member joins (the largest part of the
# dashboard view's CPU in a profile).
EXPLAIN_FIELDS = (
    "kind",
    "points",
    "balance_after",
    "reason",
    "idempotency_key",
    "created_at",
    "purchase__occurred_at",
    "purchase__total",
    "purchase__store__name",
    "purchase_return__amount",
    "purchase_return__purchase__occurred_at",
    "purchase_return__purchase__store__name",
    "purchase_return__store__name",
    "redemption__discount",
    "redemption__store__name",
    "voucher__code",
    "voucher__status",
    "voucher__reward__name",
    "expired_lot__earned_at",
)


def ledger_entries_explained_for_member(
    *, member_id: int, with_breakdown: bool = False
) -> QuerySet[LedgerEntry]:
    """ledger_entries_for_member with only what ledger_entry_explain and an entry
    list show (EXPLAIN_FIELDS), plus the earn breakdown for the statement's "why
    these points" (`with_breakdown`); any other field costs a query per entry."""
    fields = EXPLAIN_FIELDS + (("breakdown",) if with_breakdown else ())
    return ledger_entries_for_member(member_id=member_id).only(*fields)


def purchases_for_member(*, member_id: int) -> QuerySet[Purchase]:
    return (
        Purchase.objects.filter(member_id=member_id)
        .select_related("store")
        .order_by("-occurred_at", "-id")
    )


def _bonus_name(entry: LedgerEntry) -> str:
    """The bonus's name in the active language, from its idempotency key."""
    key = entry.idempotency_key or ""
    if key.startswith("welcome:"):
        return _("Welcome bonus")
    if key.startswith("profile:"):
        return _("Bonus for completing the profile")
    if key.startswith("birthday:"):
        return _("Birthday bonus")
    if key.startswith("referral:") and key.endswith(":referee"):
        return _("Bonus for joining with a friend's code")
    if key.startswith("referral:") and key.endswith(":referrer"):
        return _("Bonus for referring a friend")
    return entry.reason


def ledger_entry_explain(entry: LedgerEntry, *, currency: str) -> str:
    """A sentence that says where an entry's points came from, in the active language."""
    points = signed_number_format(entry.points)
    if entry.kind == LedgerKind.EARN and entry.purchase_id:
        p = entry.purchase
        return _("Purchase %(date)s, %(store)s, %(amount)s → %(points)s points") % {
            "date": date_format(localtime(p.occurred_at), "SHORT_DATE_FORMAT"),
            "store": p.store.name,
            "amount": money_format(p.total, currency),
            "points": points,
        }
    if entry.kind == LedgerKind.CLAWBACK and entry.purchase_return_id:
        r = entry.purchase_return
        return _(
            "Return of %(amount)s from the purchase of %(date)s at %(store)s → %(points)s points"
        ) % {
            "amount": money_format(r.amount, currency),
            "date": date_format(localtime(r.purchase.occurred_at), "SHORT_DATE_FORMAT"),
            "store": r.purchase.store.name,
            "points": points,
        }
    if entry.kind == LedgerKind.REDEEM and entry.redemption_id:
        r = entry.redemption
        return _("Discount of %(amount)s at %(store)s → %(points)s points") % {
            "amount": money_format(r.discount, currency),
            "store": r.store.name,
            "points": points,
        }
    if entry.kind == LedgerKind.REDEEM and entry.voucher_id:
        return _("Reward “%(reward)s”, voucher %(code)s → %(points)s points") % {
            "reward": entry.voucher.reward.name,
            "code": entry.voucher.code,
            "points": points,
        }
    if entry.kind == LedgerKind.REFUND and entry.voucher_id:
        values = {"code": entry.voucher.code, "points": points}
        if entry.voucher.status == VoucherStatus.CANCELLED:
            return (
                _("Voucher %(code)s cancelled, points returned → %(points)s points")
                % values
            )
        return (
            _("Voucher %(code)s expired, points returned → %(points)s points") % values
        )
    if entry.kind == LedgerKind.BONUS:
        return _("%(bonus)s → %(points)s points") % {
            "bonus": _bonus_name(entry),
            "points": points,
        }
    if entry.kind == LedgerKind.EXPIRE and hasattr(entry, "expired_lot"):
        return _("Points earned on %(date)s expired → %(points)s points") % {
            "date": date_format(
                localtime(entry.expired_lot.earned_at), "SHORT_DATE_FORMAT"
            ),
            "points": points,
        }
    if entry.kind == LedgerKind.ADJUST:
        return _("Adjustment by staff: %(reason)s → %(points)s points") % {
            "reason": entry.reason,
            "points": points,
        }
    return f"{entry.get_kind_display()}: {entry.reason} → {points}"


def _multiplier_text(value: str) -> str:
    """ "2.00" → "×2", "1.50" → "×1.5", in the active language's number format."""
    number = Decimal(value).normalize()
    places = max(-number.as_tuple().exponent, 0)
    return "×" + number_format(number, places)


def earn_breakdown_explain(entry: LedgerEntry, *, currency: str) -> list[dict]:
    """ "Why you got these points": one line per stage or rule that gave points,
    in the order they were applied, in the active language."""
    lines = []
    for item in entry.breakdown or []:
        stage, name, mult = item["stage"], item.get("name", ""), item.get("multiplier")
        if stage == "base":
            label = _("Base rate: %(rate)s per %(currency)s") % {
                "rate": number_format(Decimal(mult).normalize()),
                "currency": currency,
            }
        elif stage == "tier":
            label = _("%(tier)s tier (%(multiplier)s)") % {
                "tier": name,
                "multiplier": _multiplier_text(mult),
            }
        elif stage == "membership":
            label = _("%(plan)s membership (%(multiplier)s)") % {
                "plan": name,
                "multiplier": _multiplier_text(mult),
            }
        elif mult:
            label = f"{name} ({_multiplier_text(mult)})"
        else:
            label = name
        lines.append({"stage": stage, "label": label, "points": item["points"]})
    return lines


def ledger_discrepancies() -> list[dict]:
    """Accounts whose cached balance differs from the sum of their entries."""
    # Filtered in SQL: only the offenders come back, however many accounts there are.
    return list(
        PointsAccount.objects.annotate(total=Coalesce(Sum("entries__points"), 0))
        .exclude(balance=F("total"))
        .values("member_id", "member__card_number", "balance", "total")
    )


@dataclass(frozen=True)
class LedgerViolation:
    """One broken ledger invariant: which check, whose card, and what was found."""

    check: str
    card_number: str
    detail: str


def _balance_vs_entries() -> Iterator[LedgerViolation]:
    rows = (
        PointsAccount.objects.annotate(total=Coalesce(Sum("entries__points"), 0))
        .exclude(balance=F("total"))
        .values_list("member__card_number", "balance", "total")
        .order_by("pk")
    )
    for card, balance, total in rows.iterator(chunk_size=2000):
        yield LedgerViolation(
            "balance",
            card,
            _("cached balance %(balance)s, sum of entries %(total)s")
            % {"balance": balance, "total": total},
        )


def _running_balances() -> Iterator[LedgerViolation]:
    rows = (
        LedgerEntry.objects.annotate(
            running=Window(
                Sum("points"),
                partition_by=[F("account_id")],
                order_by=[F("created_at").asc(), F("id").asc()],
            )
        )
        .filter(~Q(balance_after=F("running")))
        .values_list("account__member__card_number", "id", "balance_after", "running")
        .order_by("account_id", "created_at", "id")
    )
    for card, entry_id, after, running in rows.iterator(chunk_size=2000):
        yield LedgerViolation(
            "running_balance",
            card,
            _("entry %(id)s says balance %(after)s, running sum %(running)s")
            % {"id": entry_id, "after": after, "running": running},
        )


def _overdrawn_entries() -> Iterator[LedgerViolation]:
    rows = (
        # A credit to a member in debt (after a clawback) leaves the balance
        # below zero but higher than before: only debits can overdraw.
        LedgerEntry.objects.filter(
            kind__in=[LedgerKind.REDEEM, LedgerKind.ADJUST, LedgerKind.EXPIRE],
            points__lt=0,
            balance_after__lt=0,
        )
        .values_list("account__member__card_number", "id", "kind", "balance_after")
        .order_by("id")
    )
    for card, entry_id, kind, after in rows.iterator(chunk_size=2000):
        yield LedgerViolation(
            "overdrawn",
            card,
            _("%(kind)s entry %(id)s left the balance at %(after)s")
            % {"kind": kind, "id": entry_id, "after": after},
        )


def _purchases() -> Iterator[LedgerViolation]:
    earned = Coalesce(
        Sum("ledger_entries__points", filter=Q(ledger_entries__kind=LedgerKind.EARN)),
        0,
    )
    clawed = Coalesce(
        Sum(
            "ledger_entries__points",
            filter=Q(ledger_entries__kind=LedgerKind.CLAWBACK),
        ),
        0,
    )
    rows = (
        Purchase.objects.annotate(earned=earned, clawed=clawed)
        .filter(
            ~Q(earned=F("points_earned"))
            | ~Q(clawed=-F("points_reversed"))
            | Q(points_reversed__gt=F("points_earned"))
            | Q(returned_total__gt=F("total"))
        )
        .values_list(
            "member__card_number",
            "store__code",
            "receipt_id",
            "points_earned",
            "earned",
            "points_reversed",
            "clawed",
            "total",
            "returned_total",
        )
        .order_by("pk")
    )
    for (
        card,
        store,
        receipt,
        p_earned,
        e_earned,
        p_rev,
        e_clawed,
        total,
        ret,
    ) in rows.iterator(chunk_size=2000):
        where = {"store": store, "receipt": receipt}
        if e_earned != p_earned:
            yield LedgerViolation(
                "purchase_earn",
                card,
                _(
                    "purchase %(store)s #%(receipt)s earned %(points)s, "
                    "its earn entries sum to %(entries)s"
                )
                % {**where, "points": p_earned, "entries": e_earned},
            )
        if e_clawed != -p_rev:
            yield LedgerViolation(
                "purchase_clawback",
                card,
                _(
                    "purchase %(store)s #%(receipt)s took back %(points)s, "
                    "its clawback entries sum to %(entries)s"
                )
                % {**where, "points": p_rev, "entries": e_clawed},
            )
        if p_rev > p_earned:
            yield LedgerViolation(
                "purchase_reversed",
                card,
                _("purchase %(store)s #%(receipt)s took back %(rev)s of %(earned)s")
                % {**where, "rev": p_rev, "earned": p_earned},
            )
        if ret > total:
            yield LedgerViolation(
                "purchase_returned",
                card,
                _("purchase %(store)s #%(receipt)s returned %(ret)s of %(total)s")
                % {**where, "ret": ret, "total": total},
            )


def _lots() -> Iterator[LedgerViolation]:
    """Per account, the points left in lots == max(balance, 0); per lot, what
    is left == its points minus what debits drew from it (plus the debt it paid
    at birth, so: remaining <= points - draws)."""
    left = Coalesce(
        Subquery(
            PointsLot.objects.filter(account=OuterRef("pk"))
            .values("account")
            .annotate(s=Sum("remaining"))
            .values("s")
        ),
        0,
    )
    rows = (
        PointsAccount.objects.annotate(left=left)
        .filter(
            (Q(balance__gte=0) & ~Q(left=F("balance")))
            | (Q(balance__lt=0) & ~Q(left=0))
        )
        .values_list("member__card_number", "balance", "left")
        .order_by("pk")
    )
    for card, balance, lots_left in rows.iterator(chunk_size=2000):
        yield LedgerViolation(
            "lots",
            card,
            _("the balance is %(balance)s, its points lots hold %(left)s")
            % {"balance": balance, "left": lots_left},
        )
    drawn = Coalesce(
        Subquery(
            LotDraw.objects.filter(lot=OuterRef("pk"))
            .values("lot")
            .annotate(s=Sum("points"))
            .values("s")
        ),
        0,
    )
    lots = (
        PointsLot.objects.annotate(drawn=drawn)
        .filter(remaining__gt=F("points") - F("drawn"))
        .values_list("account__member__card_number", "pk", "points", "drawn")
        .order_by("pk")
    )
    for card, lot_id, points, lot_drawn in lots.iterator(chunk_size=2000):
        yield LedgerViolation(
            "lot_draws",
            card,
            _("lot %(id)s of %(points)s points had %(drawn)s drawn but holds more")
            % {"id": lot_id, "points": points, "drawn": lot_drawn},
        )


def _stamp_cards() -> Iterator[LedgerViolation]:
    rows = (
        StampCard.objects.annotate(
            total=Coalesce(Sum("entries__delta"), 0),
            owed_total=Coalesce(Sum("entries__owed_delta"), 0),
        )
        .filter(~Q(stamps=F("total")) | ~Q(owed=F("owed_total")))
        .values_list(
            "member__card_number", "id", "stamps", "total", "owed", "owed_total"
        )
        .order_by("pk")
    )
    for card, card_id, stamps, total, owed, owed_total in rows.iterator(
        chunk_size=2000
    ):
        yield LedgerViolation(
            "stamp_cards",
            card,
            _(
                "stamp card %(id)s has %(stamps)s stamps and %(owed)s owed, its "
                "entries add up to %(total)s and %(owed_total)s"
            )
            % {
                "id": card_id,
                "stamps": stamps,
                "owed": owed,
                "total": total,
                "owed_total": owed_total,
            },
        )


def stamp_card_violations() -> list[LedgerViolation]:
    """Stamp cards whose stamps or stamps owed differ from the sums of their entries."""
    return list(_stamp_cards())


# Each check is one aggregate query over the whole table (no per-member loop).
LEDGER_CHECKS: list[tuple[str, Callable[[], Iterator[LedgerViolation]]]] = [
    ("balance", _balance_vs_entries),
    ("running_balance", _running_balances),
    ("overdrawn", _overdrawn_entries),
    ("purchases", _purchases),
    ("lots", _lots),
    ("stamp_cards", _stamp_cards),
]


def ledger_invariant_violations() -> list[LedgerViolation]:
    """Every broken ledger invariant in the database: cached balance == sum of
    entries; each entry's balance_after == the running sum in (created_at, id)
    order; no redeem or adjustment below zero; per purchase, the earn entries
    == points_earned, the clawbacks == -points_reversed, points_reversed <=
    points_earned and returned_total <= total; the points lots hold exactly
    max(balance, 0) and no lot holds more than its draws left it; per stamp
    card, stamps and stamps owed == the sums of its entries."""
    return [v for _name, check in LEDGER_CHECKS for v in check()]


# --- rewards catalog and vouchers -------------------------------------------------------

VOUCHER_CODE_CHARS = frozenset("ABCDEFGHJKMNPQRSTUVWXYZ23456789")


def reward_list_available(*, now: dt.datetime | None = None) -> QuerySet[Reward]:
    """The catalog as customers see it: active, within its dates, not out of stock."""
    now = now or timezone.now()
    return (
        Reward.objects.filter(is_active=True)
        .filter(Q(active_from__isnull=True) | Q(active_from__lte=now))
        .filter(Q(active_until__isnull=True) | Q(active_until__gt=now))
        .filter(Q(stock__isnull=True) | Q(stock__gt=0))
        .order_by("points_cost", "name")
    )


def vouchers_for_member(*, member_id: int) -> QuerySet[Voucher]:
    return (
        Voucher.objects.filter(member_id=member_id)
        .select_related("reward", "used_store")
        .order_by("-issued_at", "-id")
    )


def voucher_code_normalize(code: str | None) -> str | None:
    """'k7pq2 xm9rd', 'K7PQ2XM9RD' → 'K7PQ2-XM9RD'; None when it cannot be a code."""
    raw = "".join(ch for ch in (code or "").upper() if ch not in " -")
    if len(raw) != 10 or not set(raw) <= VOUCHER_CODE_CHARS:
        return None
    return f"{raw[:5]}-{raw[5:]}"


def voucher_refusal(
    voucher: Voucher, *, now: dt.datetime | None = None, till: Store | None = None
) -> str:
    """Why the voucher cannot be used now, as a sentence; "" when it can.

    `till`: the store whose till (API or Counter) asks. A till learns only that
    the voucher was used and when; another store's name and receipt are not its
    business. Without `till` (the member's own pages, the back office) the
    sentence says where and on which receipt.
    """
    now = now or timezone.now()
    if voucher.status == VoucherStatus.USED and till is not None:
        return _(
            "Voucher %(code)s was already used on %(date)s; a voucher is used once."
        ) % {
            "code": voucher.code,
            "date": date_format(localtime(voucher.used_at), "SHORT_DATETIME_FORMAT"),
        }
    if voucher.status == VoucherStatus.USED:
        where = voucher.used_store.name if voucher.used_store_id else ""
        return _(
            "Voucher %(code)s was already used on %(date)s at %(store)s "
            "(receipt %(receipt)s)."
        ) % {
            "code": voucher.code,
            "date": date_format(localtime(voucher.used_at), "SHORT_DATETIME_FORMAT"),
            "store": where,
            "receipt": voucher.used_receipt_id,
        }
    if voucher.status == VoucherStatus.CANCELLED:
        return _("Voucher %(code)s was cancelled on %(date)s.") % {
            "code": voucher.code,
            "date": date_format(localtime(voucher.cancelled_at), "SHORT_DATE_FORMAT"),
        }
    if voucher.status == VoucherStatus.EXPIRED or voucher.expires_at <= now:
        return _("Voucher %(code)s expired on %(date)s.") % {
            "code": voucher.code,
            "date": date_format(localtime(voucher.expires_at), "SHORT_DATE_FORMAT"),
        }
    return ""


# --- tiers ---------------------------------------------------------------------------


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


def _tier_value_one(tier: Tier, member_id: int, start: dt.datetime) -> dict:
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
    """'1 240,00 ₴', '300 points', '5 visits' in the active language."""
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


def tier_progress_get(
    *,
    member: Member,
    at: dt.datetime | None = None,
    program: ProgramSettings | None = None,
) -> TierProgress | None:
    """The member's tier, the next one and how far it is; None when no tier is set up.

    Three queries at most: the program settings, the tiers, one aggregate per
    distinct qualification of the current and the next tier. A caller that has
    read the settings passes them as `program`: then the tiers come from the
    process's earn configuration (rewards.earn_config), which that row's token
    keeps current, and the aggregates are the only queries."""
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
        percent = (
            100
            if upcoming.threshold <= 0
            else min(100, int(value * 100 / upcoming.threshold))
        )
        values_text = {
            "amount": tier_value_text(upcoming, missing, currency=currency),
            "date": date_format(deadline, "j F Y"),
            "tier": upcoming.name,
        }
        if missing <= 0:
            sentence = _("You qualify for %(tier)s with your next purchase.") % {
                "tier": upcoming.name
            }
        elif upcoming.qualification == TierQualification.SPEND:
            sentence = (
                _("Spend %(amount)s more by %(date)s to reach %(tier)s.") % values_text
            )
        elif upcoming.qualification == TierQualification.POINTS_EARNED:
            sentence = (
                _("Earn %(amount)s more by %(date)s to reach %(tier)s.") % values_text
            )
        else:
            sentence = (
                _("Make %(amount)s more by %(date)s to reach %(tier)s.") % values_text
            )
    if current is not None and current.threshold > 0:
        now_value = values[current.pk].get(member.pk, ZERO_VALUE).value
        keep = _(
            "%(tier)s stays yours while you reach %(threshold)s in %(window)s; "
            "you have %(value)s now."
        ) % {
            "tier": current.name,
            "threshold": tier_value_text(current, current.threshold, currency=currency),
            "window": tier_window_text(current),
            "value": tier_value_text(current, now_value, currency=currency),
        }
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


# --- stamp cards ------------------------------------------------------------------------

PAST_STAMP_CARDS = 10


def stamp_cards_open_for_member(
    *, member_id: int, now: dt.datetime | None = None
) -> list[StampCard]:
    """The member's cards being collected, one per running program, by program name.
    A card past its date that the nightly job has not closed yet is left out."""
    now = now or timezone.now()
    return list(
        StampCard.objects.filter(
            member_id=member_id, status=StampCardStatus.OPEN, program__active=True
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .select_related("program__reward")
        .order_by("program__name", "program_id")
    )


def stamp_cards_completed_for_member(
    *, member_id: int, limit: int = PAST_STAMP_CARDS
) -> list[StampCard]:
    """The member's latest full cards with the vouchers they gave, newest first."""
    return list(
        StampCard.objects.filter(member_id=member_id, status=StampCardStatus.COMPLETED)
        .select_related("program", "voucher__reward", "voucher__used_store")
        .order_by("-completed_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class StampProgress:
    """What one purchase did to one program's cards, for the till and the Counter."""

    program: StampProgram
    earned: int
    stamps: int
    needed: int
    owed: int
    vouchers: list[Voucher]

    @property
    def voucher_codes(self) -> list[str]:
        return [voucher.code for voucher in self.vouchers]


def stamp_progress_for_purchase(*, purchase: Purchase) -> list[StampProgress]:
    """Per program the purchase stamped: the stamps it gave, where the member's open
    card stands now, and the vouchers of the cards it filled. Three queries."""
    entries = list(
        StampEntry.objects.filter(purchase=purchase, kind=StampEntryKind.EARN)
        .select_related("card__program", "card__voucher__reward")
        .order_by("id")
    )
    if not entries:
        return []
    open_cards = {
        card.program_id: card
        for card in StampCard.objects.filter(
            member_id=purchase.member_id,
            status=StampCardStatus.OPEN,
            program_id__in={e.card.program_id for e in entries},
        )
    }
    programs: dict[int, dict] = {}
    for entry in entries:
        row = programs.setdefault(
            entry.card.program_id,
            {"program": entry.card.program, "earned": 0, "vouchers": []},
        )
        row["earned"] += entry.delta - entry.owed_delta
        voucher = entry.card.voucher
        if voucher is not None and voucher not in row["vouchers"]:
            row["vouchers"].append(voucher)
    result = []
    for program_id, row in programs.items():
        card = open_cards.get(program_id)
        result.append(
            StampProgress(
                program=row["program"],
                earned=row["earned"],
                stamps=card.stamps if card else 0,
                needed=card.needed if card else row["program"].stamps_needed,
                owed=card.owed if card else 0,
                vouchers=row["vouchers"],
            )
        )
    return result


# --- paid membership -------------------------------------------------------------------


def membership_plans_on_sale() -> QuerySet[MembershipPlan]:
    return (
        MembershipPlan.objects.filter(is_active=True)
        .select_related("monthly_reward", "guaranteed_tier")
        .order_by("price", "name")
    )


def subscriptions_in_force(member_id: int, at: dt.datetime | None):
    """Active and paid until after `at` (a subscription past its end counts as
    over even before the nightly job marks it expired). purchase_record reads
    the same rule in its account-lock SQL (rewards/services/purchases.py)."""
    at = at or timezone.now()
    return Subscription.objects.filter(
        member_id=member_id,
        status=SubscriptionStatus.ACTIVE,
        started_at__lte=at,
        current_period_end__gt=at,
    )


def membership_active_get(
    *, member_id: int, at: dt.datetime | None = None
) -> Subscription | None:
    """The member's subscription whose perks apply at `at`. One query, with the
    plan and its perks."""
    return (
        subscriptions_in_force(member_id, at)
        .select_related("plan__monthly_reward", "plan__guaranteed_tier")
        .first()
    )


def membership_multiplier_get(
    *, member_id: int, at: dt.datetime | None = None
) -> tuple[str, Decimal] | None:
    """(plan name, earn multiplier) of the membership in force at `at`, or None:
    what the earning order's membership stage needs, without building models."""
    return (
        subscriptions_in_force(member_id, at)
        .values_list("plan__name", "plan__earn_multiplier")
        .first()
    )


def membership_earn_multiplier(
    *, member_id: int, at: dt.datetime | None = None
) -> Decimal:
    """The paid membership's earn multiplier for the member at `at`; 1 without one."""
    found = membership_multiplier_get(member_id=member_id, at=at)
    return found[1] if found else Decimal("1")


def membership_guaranteed_ranks(
    *, member_ids: list[int], at: dt.datetime
) -> dict[int, int]:
    """{member id: rank of the (active) tier their paid membership guarantees at `at`},
    one query for any number of members; members without a guarantee are absent."""
    rows = Subscription.objects.filter(
        member_id__in=member_ids,
        status=SubscriptionStatus.ACTIVE,
        started_at__lte=at,
        current_period_end__gt=at,
        plan__guaranteed_tier__is_active=True,
    ).values_list("member_id", "plan__guaranteed_tier__rank")
    return dict(rows)


def subscriptions_for_member(*, member_id: int) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(member_id=member_id)
        .select_related("plan")
        .order_by("-started_at", "-id")
    )


# --- partners: the monthly settlement ----------------------------------------------------


@dataclass(frozen=True)
class PartnerSettlement:
    """A partner's figures for one calendar month (see partner_settlements)."""

    partner: Partner
    month: dt.date  # the first day
    point_value: Decimal
    points_earned: int
    points_clawed_back: int  # <= 0
    points_redeemed_at_till: int  # discounts at the partner's tills
    voucher_count: int
    voucher_points: int  # spent on the vouchers counted

    @property
    def points_issued(self) -> int:
        return self.points_earned + self.points_clawed_back

    @property
    def points_redeemed(self) -> int:
        return self.points_redeemed_at_till + self.voucher_points

    @property
    def issued_value(self) -> Decimal:
        return (self.points_issued * self.point_value).quantize(Decimal("0.01"))

    @property
    def redeemed_value(self) -> Decimal:
        return (self.points_redeemed * self.point_value).quantize(Decimal("0.01"))

    @property
    def net_value(self) -> Decimal:
        """Positive: the partner owes the program; negative: the program owes it."""
        return self.issued_value - self.redeemed_value


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[first instant, first instant of the next month) in the current time zone."""
    start = dt.datetime(
        month.year, month.month, 1, tzinfo=timezone.get_current_timezone()
    )
    return start, start + relativedelta(months=1)


def partner_settlements(
    *, month: dt.date, partner_ids: list[int] | None = None
) -> list[PartnerSettlement]:
    """Every partner's settlement for the calendar month of `month`.

    - points earned: EARN entries of purchases at the partner's stores, posted
      in the month; clawed back: CLAWBACK entries (returns) of such purchases
      posted in the month, wherever the return was made. Issued = the sum.
    - redeemed at the till: points spent as a discount (Redemption) at the
      partner's stores in the month.
    - vouchers: vouchers USED in the month that either are of a reward the
      partner funds or were used at one of its stores (each counted once),
      with the points spent on them (0 for vouchers the program gave free).
      A voucher of a reward one partner funds, used at another partner's
      store, counts for the funder.
      Counted when used, not when bought, because a bought voucher can still
      be cancelled or expire with its points returned.
    - money: each figure × the partner's point value (the program's when
      unset); net = issued value − redeemed value.

    Three aggregate queries in all (ledger, vouchers, partners), grouped by
    partner, whatever the number of members or partners."""
    start, end = month_bounds(month)
    partners = Partner.objects.order_by("name")
    if partner_ids is not None:
        partners = partners.filter(pk__in=partner_ids)
    partners = list(partners)
    ids = [p.pk for p in partners]
    ledger = (
        LedgerEntry.objects.filter(created_at__gte=start, created_at__lt=end)
        .filter(
            Q(
                kind__in=[LedgerKind.EARN, LedgerKind.CLAWBACK],
                purchase__store__partner_id__in=ids,
            )
            | Q(kind=LedgerKind.REDEEM, redemption__store__partner_id__in=ids)
        )
        .annotate(
            who=Coalesce("purchase__store__partner_id", "redemption__store__partner_id")
        )
        .values("who")
        .annotate(
            earned=Sum("points", filter=Q(kind=LedgerKind.EARN)),
            clawed=Sum("points", filter=Q(kind=LedgerKind.CLAWBACK)),
            redeemed=Sum("points", filter=Q(kind=LedgerKind.REDEEM)),
        )
        .order_by()
    )
    by_ledger = {row["who"]: row for row in ledger}
    vouchers = (
        Voucher.objects.filter(
            status=VoucherStatus.USED, used_at__gte=start, used_at__lt=end
        )
        .filter(Q(reward__funded_by_id__in=ids) | Q(used_store__partner_id__in=ids))
        .annotate(who=Coalesce("reward__funded_by_id", "used_store__partner_id"))
        .values("who")
        .annotate(
            count=Count("id"), points=Sum(F("points_spent") - F("points_refunded"))
        )
        .order_by()
    )
    by_voucher = {row["who"]: row for row in vouchers}
    default_value = program_settings_get().point_value
    result = []
    for partner in partners:
        led = by_ledger.get(partner.pk, {})
        vou = by_voucher.get(partner.pk, {})
        result.append(
            PartnerSettlement(
                partner=partner,
                month=dt.date(month.year, month.month, 1),
                point_value=partner.point_value or default_value,
                points_earned=led.get("earned") or 0,
                points_clawed_back=led.get("clawed") or 0,
                points_redeemed_at_till=-(led.get("redeemed") or 0),
                voucher_count=vou.get("count") or 0,
                voucher_points=vou.get("points") or 0,
            )
        )
    return result


def partner_settlement(*, partner: Partner, month: dt.date) -> PartnerSettlement:
    """One partner's settlement for the month (partner_settlements says what counts)."""
    return partner_settlements(month=month, partner_ids=[partner.pk])[0]
