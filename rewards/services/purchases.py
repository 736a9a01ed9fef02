"""Till receipts and returns: recording a purchase earns its points, a return claws
back what the returned part earned."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import connection
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from members.errors import InvalidInput
from members.models import Member, Store, User
from members.numbers import is_plain_decimal
from rewards.earn_config import earn_config_get
from rewards.earning import EarnLine, Multiplier, earn_compute, kept_points
from rewards.locks import account_lock, purchase_lock
from rewards.models import (
    LedgerKind,
    MembershipPlan,
    PointsAccount,
    ProgramSettings,
    Purchase,
    PurchaseLine,
    PurchaseReturn,
    Referral,
    ReferralStatus,
    Subscription,
    SubscriptionStatus,
)
from rewards.selectors import program_settings_get
from rewards.services.ledger import (
    CENT,
    FUTURE_TOLERANCE,
    MAX_POINTS,
    MAX_QUANTITY,
    _balance_room_check,
    _fingerprint,
    _idempotent,
    _money,
    _post,
    _receipt,
    _replay,
    points_expiry,
)
from rewards.services.referrals import referral_qualify_on_purchase
from rewards.services.stamps import stamps_award_for_purchase, stamps_revoke_for_return
from rewards.services.tiers import RATE_PLACES, _tier_upgrade


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: Decimal
    unit_price: Decimal = Decimal("0")
    name: str = ""
    category: str = ""


@dataclass(frozen=True)
class ReturnLineInput:
    sku: str
    quantity: Decimal


# --- purchases ------------------------------------------------------------------------


def _quantity(value, *, field: str) -> Decimal:
    """A line's quantity; typed text must be plain digits (members.numbers)."""
    if isinstance(value, str) and not is_plain_decimal(value):
        raise InvalidInput(_("Enter a quantity."), field=field)
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidInput(_("Enter a quantity."), field=field) from None


def _lines_clean(lines: Iterable[LineInput | dict] | None) -> list[LineInput]:
    cleaned = []
    for i, raw in enumerate(lines or []):
        line = raw if isinstance(raw, LineInput) else LineInput(**raw)
        sku = (line.sku or "").strip()
        if not sku:
            raise InvalidInput(_("Enter the SKU."), field=f"lines[{i}].sku")
        qty = _quantity(line.quantity, field=f"lines[{i}].quantity")
        if not qty.is_finite() or qty <= 0 or qty > MAX_QUANTITY:
            raise InvalidInput(
                _("The quantity must be greater than zero."),
                field=f"lines[{i}].quantity",
            )
        price = _money(line.unit_price, field=f"lines[{i}].unit_price", allow_zero=True)
        cleaned.append(
            LineInput(
                sku=sku[:64],
                quantity=qty.quantize(Decimal("0.001")),
                unit_price=price,
                name=(line.name or "")[:200],
                category=(line.category or "")[:100],
            )
        )
    return cleaned


def _line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return (quantity * unit_price).quantize(CENT, rounding=ROUND_HALF_UP)


@functools.cache
def _account_lock_sql(vendor: str) -> str:
    """The statement `_account_lock_for_purchase` sends, written once per database
    vendor: the busiest statement of the busiest write, so Django does not
    build and compile four subqueries again for every purchase (that cost more
    than the round trips it saved). Table names come from the models."""
    account = PointsAccount._meta.db_table
    lock = f" FOR UPDATE OF {account}" if vendor == "postgresql" else ""
    plan_in_force = (
        f"FROM {Subscription._meta.db_table} s JOIN {MembershipPlan._meta.db_table} pl ON pl.id = s.plan_id"
        f" WHERE s.member_id = {account}.member_id AND s.status = %s"
        " AND s.started_at <= %s AND s.current_period_end > %s"
        " ORDER BY s.id LIMIT 1"
    )
    return (
        f"SELECT {account}.*,"  # noqa: S608 - table names from the models, values as parameters
        f" (SELECT p.id FROM {Purchase._meta.db_table} p"
        f"   WHERE p.store_id = %s AND p.receipt_id = %s) AS existing_purchase_id,"
        f" (SELECT pl.name {plan_in_force}) AS plan_name,"
        f" (SELECT pl.earn_multiplier {plan_in_force}) AS plan_multiplier,"
        f" EXISTS (SELECT 1 FROM {Referral._meta.db_table} r"
        f"   WHERE r.referee_id = {account}.member_id AND r.status = %s)"
        f"   AS referral_pending,"
        f" (SELECT config_version FROM {ProgramSettings._meta.db_table}"
        f"   WHERE id = 1) AS settings_version"
        f" FROM {account} WHERE {account}.member_id = %s{lock}"
    )


def _account_lock_for_purchase(
    *, member_id: int, store_id: int, receipt_id: str, perks_at: dt.datetime
) -> PointsAccount:
    """Lock the member's account and read, in the same statement, everything else a
    purchase needs to know first: the purchase already recorded with this
    receipt id at this store (`existing_purchase_id`; unique per store), the
    paid membership in force at `perks_at` (`plan_name`, `plan_multiplier`, as
    membership_multiplier_get reads them), whether the member has a pending
    referral their purchase may qualify (`referral_pending`), and the settings
    row's configuration token (`settings_version`, None before the row exists).
    One round trip where there were five; the subqueries read rows this
    transaction does not lock, as the separate reads did. Raises
    PointsAccount.DoesNotExist as account_lock does."""
    at = connection.ops.adapt_datetimefield_value(perks_at)
    params = [
        store_id,
        receipt_id,
        SubscriptionStatus.ACTIVE,
        at,
        at,
        SubscriptionStatus.ACTIVE,
        at,
        at,
        ReferralStatus.PENDING,
        member_id,
    ]
    rows = list(PointsAccount.objects.raw(_account_lock_sql(connection.vendor), params))
    if not rows:
        raise PointsAccount.DoesNotExist(f"No points account for member {member_id}")
    account = rows[0]
    if account.plan_multiplier is not None:  # SQLite hands back a float
        account.plan_multiplier = Decimal(str(account.plan_multiplier))
    return account


def purchase_time_check(*, occurred_at: dt.datetime) -> None:
    """Refuse a time of purchase a till may not send: in the future (beyond a
    small clock skew), before ProgramSettings.started_on, or more than
    ProgramSettings.backdate_days ago. Imports are not checked: they bring the
    history. Raises InvalidInput naming occurred_at; locks nothing."""
    now = timezone.now()
    if occurred_at > now + FUTURE_TOLERANCE:
        raise InvalidInput(
            _("The time of purchase is in the future."), field="occurred_at"
        )
    conf = program_settings_get()
    earliest = now - dt.timedelta(days=conf.backdate_days)
    if conf.started_on is not None:
        started = dt.datetime.combine(
            conf.started_on, dt.time.min, tzinfo=timezone.get_current_timezone()
        )
        earliest = max(earliest, started)
    if occurred_at < earliest:
        raise InvalidInput(
            _("A purchase may be recorded from %(date)s on; this one is older.")
            % {"date": date_format(timezone.localtime(earliest), "SHORT_DATE_FORMAT")},
            field="occurred_at",
        )


def purchase_record(
    *,
    store: Store,
    member: Member,
    receipt_id: str,
    total: Decimal | str | None = None,
    lines: Iterable[LineInput | dict] | None = None,
    occurred_at: dt.datetime | None = None,
    source: str = Purchase.Source.API,
    created_by: User | None = None,
    recorded_at: dt.datetime | None = None,
    on_written: Callable[[Purchase], None] | None = None,
) -> tuple[Purchase, bool]:
    """Record a till receipt and earn its points. Returns (purchase, replayed).

    Locks the member's account. Earning: the active earning rules in their
    fixed order (rewards.earning: exclusions, minimum spend, base rate, product
    multipliers and fixed bonuses, the tier's multiplier before this purchase,
    promotions), rounded down, with the breakdown kept on the EARN entry; the
    points are pending for the program's pending days. The membership stage
    is the earn multiplier of the paid membership active at the time of
    purchase. An earlier negative balance is paid back by the new points simply
    because they are added to it. Then the
    member moves up at once to the highest tier they now qualify for
    (TierHistory in the same transaction). Queues nothing.
    `on_written(row)`, when given, runs inside the transaction after the write
    (not on a replay); raising there rolls the write back (staff audit, limits).
    """
    receipt_id = _receipt(receipt_id)
    clean_lines = _lines_clean(lines)
    lines_total = sum(
        (_line_amount(line.quantity, line.unit_price) for line in clean_lines),
        Decimal("0"),
    )
    if total is None or total == "":
        if not clean_lines:
            raise InvalidInput(_("Enter the total."), field="total")
        total = lines_total
    total = _money(total, field="total")
    if clean_lines and lines_total != total:
        raise InvalidInput(
            _("The total %(total)s does not equal the sum of the lines, %(lines)s.")
            % {"total": total, "lines": lines_total},
            field="total",
        )
    if occurred_at is not None and occurred_at > timezone.now() + FUTURE_TOLERANCE:
        raise InvalidInput(
            _("The time of purchase is in the future."), field="occurred_at"
        )
    fingerprint = _fingerprint(
        {
            "member": member.pk,
            "total": str(total),
            "occurred_at": occurred_at.isoformat() if occurred_at else None,
            "lines": [line.__dict__ for line in clean_lines],
        }
    )
    mismatch = _(
        "Receipt %(receipt)s was already recorded at this store with other details."
    ) % {"receipt": receipt_id}

    def lookup() -> Purchase | None:
        return Purchase.objects.filter(store=store, receipt_id=receipt_id).first()

    def work() -> tuple[Purchase, bool]:
        perks_at = occurred_at or recorded_at or timezone.now()
        account = _account_lock_for_purchase(
            member_id=member.pk,
            store_id=store.pk,
            receipt_id=receipt_id,
            perks_at=perks_at,
        )
        if account.existing_purchase_id is not None:
            existing = Purchase.objects.get(pk=account.existing_purchase_id)
            return _replay(existing, fingerprint, mismatch)
        held = earn_config_get(account.settings_version)
        conf = held.settings
        tiers = list(held.tiers)
        when = occurred_at or timezone.now()
        tier = next((t for t in tiers if t.pk == account.tier_id), None)
        plan = (
            (account.plan_name, Decimal(account.plan_multiplier))
            if account.plan_name is not None
            else None
        )
        plan_multiplier = plan[1] if plan else Decimal(1)
        earn_lines = [
            EarnLine(
                sku=line.sku,
                category=line.category,
                quantity=line.quantity,
                amount=_line_amount(line.quantity, line.unit_price),
            )
            for line in clean_lines
        ] or [EarnLine(sku="", category="", quantity=Decimal(1), amount=total)]
        result = earn_compute(
            lines=earn_lines,
            at=when,
            store_id=store.pk,
            base_rate=conf.points_per_unit,
            min_purchase=conf.min_purchase,
            rules=held.rules,
            tier=Multiplier(tier.name, tier.earn_multiplier) if tier else None,
            membership=Multiplier(*plan) if plan else None,
        )
        points = result.points
        if points > MAX_POINTS:
            raise InvalidInput(
                _(
                    "This purchase would earn %(points)s points, more than the %(max)s allowed at once."
                )
                % {"points": points, "max": MAX_POINTS},
                field="total",
            )
        _balance_room_check(account, points)  # before balance_after is written below
        purchase = Purchase.objects.create(
            store=store,
            receipt_id=receipt_id,
            member=member,
            total=total,
            occurred_at=when,
            points_earned=points,
            # The effective base rate, for staff to read; returns use the exact points.
            points_per_unit=(
                conf.points_per_unit
                * (tier.earn_multiplier if tier else 1)
                * plan_multiplier
            ).quantize(RATE_PLACES, rounding=ROUND_FLOOR),
            min_purchase=conf.min_purchase,
            points_exact=result.exact,
            eligible_total=result.eligible_total,
            tier_multiplier=tier.earn_multiplier if tier else Decimal(1),
            membership_multiplier=plan_multiplier,
            balance_after=account.balance + points,
            source=source,
            fingerprint=fingerprint,
            created_by=created_by,
            created_at=recorded_at or timezone.now(),
        )
        if clean_lines:
            PurchaseLine.objects.bulk_create(
                PurchaseLine(
                    purchase=purchase,
                    sku=line.sku,
                    name=line.name,
                    category=line.category,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    amount=earn_line.amount,
                    eligible=eligible,
                    points_exact=exact,
                )
                for line, earn_line, eligible, exact in zip(
                    clean_lines,
                    earn_lines,
                    result.line_eligible,
                    result.line_exact,
                    strict=True,
                )
            )
        if points:
            recorded = recorded_at or timezone.now()
            _post(
                account=account,
                kind=LedgerKind.EARN,
                points=points,
                reason=f"Purchase {receipt_id} at {store.code}",
                purchase=purchase,
                created_by=created_by,
                recorded_at=recorded_at,
                breakdown=result.breakdown,
                available_at=recorded + dt.timedelta(days=conf.pending_days),
                expires_at=points_expiry(recorded, conf),
            )
        stamps_award_for_purchase(
            purchase=purchase,
            programs=held.stamp_programs_running(
                store_id=store.pk,
                on=timezone.localtime(purchase.occurred_at).date(),
            ),
        )
        _tier_upgrade(
            account, member_id=member.pk, tiers=tiers, at=recorded_at or timezone.now()
        )
        if account.referral_pending:
            referral_qualify_on_purchase(member=member, purchase=purchase)
        if on_written is not None:
            on_written(purchase)
        return purchase, False

    return _idempotent(
        work, lookup, lambda existing: _replay(existing, fingerprint, mismatch)
    )


# --- returns ---------------------------------------------------------------------------


def purchase_return_record(
    *,
    purchase: Purchase,
    store: Store,
    receipt_id: str,
    amount: Decimal | str | None = None,
    lines: Iterable[ReturnLineInput | dict] | None = None,
    created_by: User | None = None,
    recorded_at: dt.datetime | None = None,
    on_written: Callable[[PurchaseReturn], None] | None = None,
) -> tuple[PurchaseReturn, bool]:
    """Return part or all of a purchase, by amount or by lines; claw back its points.

    The points taken back are those the returned part earned: after all returns,
    the member keeps the kept share of what the purchase earned, line by line
    and promotions included (rewards.earning.kept_points), nothing if the kept
    part is below the minimum spend. So all returns together never take back more than the
    purchase earned, and a full return takes back all of it. If the points were
    spent the balance goes negative. Locks the account, then the purchase.

    `on_written(row)`, when given, runs inside the transaction after the write
    (not on a replay); raising there rolls the write back (staff audit, limits).
    """
    receipt_id = _receipt(receipt_id)
    lines = [
        line if isinstance(line, ReturnLineInput) else ReturnLineInput(**line)
        for line in (lines or [])
    ]
    if (amount in (None, "")) == (not lines):
        raise InvalidInput(
            _("Give either an amount or lines to return, not both."), field="amount"
        )
    if amount not in (None, ""):
        amount = _money(amount, field="amount")
    clean_lines = []
    for i, line in enumerate(lines):
        qty = _quantity(line.quantity, field=f"lines[{i}].quantity")
        if not qty.is_finite() or qty <= 0:
            raise InvalidInput(
                _("The quantity must be greater than zero."),
                field=f"lines[{i}].quantity",
            )
        if qty > MAX_QUANTITY:  # quantize() below raises InvalidOperation on 1e999
            raise InvalidInput(
                _("The quantity is too large."), field=f"lines[{i}].quantity"
            )
        clean_lines.append(
            {
                "sku": (line.sku or "").strip(),
                "quantity": str(qty.quantize(Decimal("0.001"))),
            }
        )
    fingerprint = _fingerprint(
        {
            "purchase": purchase.pk,
            "amount": str(amount) if amount else None,
            "lines": clean_lines,
        }
    )
    mismatch = _(
        "Return receipt %(receipt)s was already recorded at this store with other details."
    ) % {"receipt": receipt_id}

    def lookup() -> PurchaseReturn | None:
        return PurchaseReturn.objects.filter(store=store, receipt_id=receipt_id).first()

    def work() -> tuple[PurchaseReturn, bool]:
        account = account_lock(member_id=purchase.member_id)
        existing = lookup()
        if existing:
            return _replay(existing, fingerprint, mismatch)
        p = purchase_lock(purchase_id=purchase.pk)
        value = amount if amount else _return_lines_apply(p, clean_lines)
        if value <= 0:
            # Only free items came back: no money, no points, and the database
            # refuses a zero-amount return, so say so instead of failing there.
            raise InvalidInput(
                _(
                    "The returned items are worth nothing; there are no points to take back."
                ),
                field="lines",
            )
        if value > p.returnable_total:
            raise InvalidInput(
                _(
                    "You cannot return %(amount)s: only %(left)s of this purchase is left to return."
                )
                % {"amount": value, "left": p.returnable_total},
                field="amount" if amount else "lines",
            )
        p.returned_total += value
        reversed_total = p.points_earned - kept_points(
            total=p.total,
            returned_total=p.returned_total,
            min_purchase=p.min_purchase,
            exact=p.points_exact,
            eligible_total=p.eligible_total,
            lines=[
                (
                    line.points_exact,
                    line.quantity,
                    line.quantity_returned,
                    line.amount - _line_amount(line.quantity_returned, line.unit_price),
                    line.eligible,
                )
                for line in p.lines.all()
            ],
        )
        delta = reversed_total - p.points_reversed
        p.points_reversed = reversed_total
        p.save(update_fields=["returned_total", "points_reversed"])
        ret = PurchaseReturn.objects.create(
            purchase=p,
            store=store,
            receipt_id=receipt_id,
            amount=value,
            points_reversed=delta,
            balance_after=account.balance - delta,
            lines=clean_lines,
            fingerprint=fingerprint,
            created_by=created_by,
            created_at=recorded_at or timezone.now(),
        )
        if delta:
            _post(
                account=account,
                kind=LedgerKind.CLAWBACK,
                points=-delta,
                reason=f"Return {receipt_id} of purchase {p.receipt_id} at {p.store.code}",
                purchase=p,
                purchase_return=ret,
                draw_first_purchase_id=p.pk,
                created_by=created_by,
                recorded_at=recorded_at,
            )
        stamps_revoke_for_return(purchase_return=ret)
        if on_written is not None:
            on_written(ret)
        return ret, False

    return _idempotent(
        work, lookup, lambda existing: _replay(existing, fingerprint, mismatch)
    )


def _return_lines_apply(purchase: Purchase, lines: list[dict]) -> Decimal:
    """Mark returned quantities on the purchase's lines; the money value of what comes back."""
    by_sku: dict[str, list[PurchaseLine]] = {}
    for pl in purchase.lines.select_for_update().order_by("pk"):
        by_sku.setdefault(pl.sku, []).append(pl)
    value = Decimal("0")
    touched = []
    for i, line in enumerate(lines):
        wanted = Decimal(line["quantity"])
        candidates = by_sku.get(line["sku"])
        if not candidates:
            raise InvalidInput(
                _("SKU %(sku)s is not on this receipt.") % {"sku": line["sku"]},
                field=f"lines[{i}].sku",
            )
        left = sum((c.quantity - c.quantity_returned for c in candidates), Decimal("0"))
        if wanted > left:
            raise InvalidInput(
                _(
                    "You cannot return %(wanted)s of %(sku)s: only %(left)s left to return."
                )
                % {
                    "wanted": _quantity_text(wanted),
                    "sku": line["sku"],
                    "left": _quantity_text(left),
                },
                field=f"lines[{i}].quantity",
            )
        for c in candidates:
            take = min(wanted, c.quantity - c.quantity_returned)
            if take <= 0:
                continue
            # The value of what a line has had back is always the rounded value
            # of its returned quantity, so partial returns of a line add up to
            # exactly its amount: rounding each piece on its own could pass it.
            value += _line_amount(
                c.quantity_returned + take, c.unit_price
            ) - _line_amount(c.quantity_returned, c.unit_price)
            c.quantity_returned += take
            wanted -= take
            touched.append(c)
            if wanted == 0:
                break
    PurchaseLine.objects.bulk_update(set(touched), ["quantity_returned"])
    return value


def _quantity_text(quantity: Decimal) -> str:
    """3.000 → "3", 0.500 → "0.5", 20.000 → "20" (normalize() alone gives "2E+1")."""
    return format(quantity.normalize(), "f")
