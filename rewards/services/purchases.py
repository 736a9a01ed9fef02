"""Purchases: recording a till receipt earns its points (and stamps, and may move
the member up a tier)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import ROUND_FLOOR, Decimal

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from members.errors import InvalidInput
from members.formatting import date_format
from members.models import Member, Store, User
from members.rows import instance_insert
from rewards.earn_config import earn_config_get
from rewards.earning import EarnLine, Multiplier, earn_compute, points_cap_exact
from rewards.ledger_rows import row_insert_guarded
from rewards.locks import account_lock_for_purchase
from rewards.models import PointsAccount, PromoUseSource, Purchase, PurchaseLine
from rewards.reasons import PURCHASE_EARN, system_reason
from rewards.selectors.program import program_settings_get
from rewards.selectors.tiers import tier_value_subqueries, tier_values_found
from rewards.services.earning import program_settings_ensure
from rewards.services.inputs import (
    FUTURE_TOLERANCE,
    MAX_POINTS,
    amount_clean,
    line_amount,
    receipt_id_clean,
)
from rewards.services.ledger import (
    AccountChanged,
    balance_room_check,
    points_expiry,
)
from rewards.services.lines import LineInput, purchase_lines_clean
from rewards.services.promocodes import (
    promo_code_claim,
    promo_code_normalize,
    promo_extra_points,
    promo_rules,
    promo_use_record,
)
from rewards.services.receipts import TillReceipt, receipt_record
from rewards.services.referrals import referral_qualify_on_purchase
from rewards.services.stamps import stamps_award_for_purchase
from rewards.services.tiers import RATE_PLACES, tier_upgrade, tiers_to_check


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
            % {"date": date_format(timezone.localtime(earliest))},
            field="occurred_at",
        )


def earn_lines_make(clean_lines: list, total: Decimal) -> list[EarnLine]:
    """What earning counts of a receipt: its lines, or its whole total as one
    line when it has none."""
    return [
        EarnLine(
            sku=line.sku,
            category=line.category,
            quantity=line.quantity,
            amount=line_amount(line.quantity, line.unit_price),
        )
        for line in clean_lines
    ] or [EarnLine(sku="", category="", quantity=Decimal(1), amount=total)]


def purchase_earn(conf, *, lines, at, store_id, rules, tier, plan):
    """The points a purchase earns under the program settings `conf`, `rules`
    (promotions, with a promo code's), the member's `tier` and paid membership
    `plan` ((name, multiplier) or None)."""
    return earn_compute(
        lines=lines,
        at=at,
        store_id=store_id,
        base_rate=conf.points_per_unit,
        min_purchase=conf.min_purchase,
        rules=rules,
        tier=(
            Multiplier(tier.name, tier.earn_multiplier, ref=tier.pk) if tier else None
        ),
        membership=Multiplier(*plan) if plan else None,
        cap_percent=conf.earn_cap_percent,
        point_value=conf.point_value,
    )


def purchase_lines_make(
    purchase: Purchase, clean_lines: list, earn_lines: list, result
) -> list[PurchaseLine]:
    """The receipt's lines as stored, each with the amount earning counted and
    whether it was eligible and exact (`result`: the earn computation's)."""
    return [
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
    ]


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
    promo_code: str | None = None,
) -> tuple[Purchase, bool]:
    """Record a till receipt and earn its points. Returns (purchase, replayed).

    Locks the member's account. Earning: the active earning rules in their
    fixed order (rewards.earning: exclusions, minimum spend, base rate, product
    multipliers and fixed bonuses, the tier's multiplier before this purchase,
    promotions, then the program's cap on one purchase), rounded down, with
    the breakdown kept on the EARN entry; the points are pending for the
    program's pending days. The membership stage is the earn multiplier of the
    paid membership active at the time of purchase. An earlier negative balance
    is paid back by the new points simply because they are added to it. Then
    the member moves up at once to the highest tier they now qualify for
    (TierHistory in the same transaction). Queues nothing.
    `promo_code`, when given, is used in the same transaction (locked after
    the account: rewards.services.promocodes, which says how it earns and
    stacks); a code that cannot be used refuses the purchase naming
    `promo_code`. A replay with the same code is the same request.
    `on_written(row)`, when given, runs inside the transaction after the write
    (not on a replay); raising there rolls the write back (staff audit, limits).
    A purchase just written (not a replay) carries `earn_details`: (its EARN
    entry's breakdown, or [] without one; whether it gave stamps), so that the
    till's answer needs no query to read them back.
    """
    receipt_id = receipt_id_clean(receipt_id)
    clean_lines = purchase_lines_clean(lines)
    lines_total = sum(
        (line_amount(line.quantity, line.unit_price) for line in clean_lines),
        Decimal("0"),
    )
    if total is None or total == "":
        if not clean_lines:
            raise InvalidInput(_("Enter the total."), field="total")
        total = lines_total
    total = amount_clean(total, field="total")
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
    body = {
        "member": member.pk,
        "total": str(total),
        "occurred_at": occurred_at.isoformat() if occurred_at else None,
        "lines": [line.__dict__ for line in clean_lines],
    }
    if promo_code:
        # Only when given, so that the receipts recorded before codes replay alike.
        promo_code = promo_code_normalize(promo_code)
        body["promo_code"] = promo_code
    receipt = TillReceipt(
        Purchase, store, receipt_id, member.pk, body, created_by, recorded_at
    )
    receipt.fingerprint  # noqa: B018 - a cached_property: made before the lock

    def lock(locked: bool = True) -> tuple[PointsAccount, Purchase | None]:
        """The account lock that also reads what a purchase needs first."""
        account = account_lock_for_purchase(
            member_id=member.pk,
            store_id=store.pk,
            receipt_id=receipt_id,
            perks_at=occurred_at or recorded_at or timezone.now(),
            locked=locked,
        )
        if account.existing_purchase_id is None:
            return account, None
        return account, Purchase.objects.get(pk=account.existing_purchase_id)

    def read() -> tuple[PointsAccount, Purchase | None]:
        """On PostgreSQL, without a promo code (whose lock comes after the
        account's), the same read unlocked: the write statement takes the
        lock (entry_post(guarded=True)), which is then held from that
        statement to the commit instead of from the read, while the points
        are computed. When the account changed in between, receipt_record
        locks it (`lock`) and the purchase is written again."""
        return lock(locked=promo_code is not None or connection.vendor != "postgresql")

    def write(account: PointsAccount) -> Purchase:
        if account.settings_version is None:
            program_settings_ensure()  # an emptied database: the first write makes it
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
        earn_lines = earn_lines_make(clean_lines, total)
        offer = (
            promo_code_claim(
                code=promo_code, member=member, store=store, paid=total, at=when
            )
            if promo_code
            else None
        )
        rules, compare_rules = promo_rules(offer, held.rules)

        def earn(rules):
            return purchase_earn(
                conf,
                lines=earn_lines,
                at=when,
                store_id=store.pk,
                rules=rules,
                tier=tier,
                plan=plan,
            )

        result = earn(rules)
        extra_points = 0
        if offer is not None:
            cap_exact = (
                points_cap_exact(total, result.cap_per_unit)
                if result.cap_per_unit is not None
                else None
            )
            extra_points = promo_extra_points(
                offer, exact=result.exact, points=result.points, cap_exact=cap_exact
            )
            if compare_rules is not None:
                # "Best of": the code without the promotions, or the promotions alone.
                plain = earn(compare_rules)
                code_extra = promo_extra_points(
                    offer, exact=plain.exact, points=plain.points, cap_exact=cap_exact
                )
                if plain.points + code_extra > result.points:
                    result, extra_points = plain, code_extra
                else:
                    offer, extra_points = None, 0
        points = result.points
        if points + extra_points > MAX_POINTS:
            raise InvalidInput(
                _(
                    "This purchase would earn %(points)s points, more than the %(max)s allowed at once."
                )
                % {"points": points + extra_points, "max": MAX_POINTS},
                field="total",
            )
        balance_room_check(account, points + extra_points)  # before balance_after
        purchase = receipt.row_new(
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
            tier=tier,
            points_cap_per_unit=result.cap_per_unit,
            membership_multiplier=plan_multiplier,
            balance_after=account.balance + points,
            source=source,
        )
        recorded = recorded_at or timezone.now()
        checked = tiers_to_check(account, tiers=tiers)
        tier_values = None
        if points:
            # The purchase row inserted with its entry, balance and lot, and
            # the member's tier values read: one round trip under the lock on
            # PostgreSQL (ledger_rows.entry_write).
            subqueries = (
                tier_value_subqueries(
                    member_id=member.pk, tiers=checked[1], at=recorded
                )
                if checked[1]
                else None
            )
            entry = receipt.entry_post(
                account,
                purchase,
                points,
                system_reason(PURCHASE_EARN, receipt=receipt_id, store=store.code),
                breakdown=result.breakdown,
                available_at=recorded + dt.timedelta(days=conf.pending_days),
                expires_at=points_expiry(recorded, conf),
                insert_link=True,
                also=list(subqueries.values()) if subqueries else None,
                guarded=not account.locked,
            )
            if subqueries:
                tier_values = tier_values_found(
                    member_id=member.pk,
                    tiers=checked[1],
                    at=recorded,
                    answers=dict(zip(subqueries, entry.also_values, strict=True)),
                    purchase=purchase,
                    entry=entry,
                )
        elif account.locked:
            instance_insert(purchase)
        elif not row_insert_guarded(account, purchase):  # takes the lock
            raise AccountChanged
        if clean_lines:
            PurchaseLine.objects.bulk_create(
                purchase_lines_make(purchase, clean_lines, earn_lines, result)
            )
        if offer is not None:
            promo_use_record(
                offer=offer,
                account=account,
                member=member,
                purchase=purchase,
                extra_points=extra_points,
                source=(
                    PromoUseSource.COUNTER
                    if source == Purchase.Source.COUNTER
                    else PromoUseSource.TILL
                ),
                available_at=recorded + dt.timedelta(days=conf.pending_days),
                expires_at=points_expiry(recorded, conf),
            )
        stamped = stamps_award_for_purchase(
            purchase=purchase,
            programs=held.stamp_programs_running(
                store_id=store.pk,
                on=timezone.localtime(purchase.occurred_at).date(),
            ),
        )
        tier_upgrade(
            account,
            member_id=member.pk,
            tiers=tiers,
            at=recorded,
            values=tier_values,
            checked=checked,
        )
        if account.referral_pending:
            referral_qualify_on_purchase(member=member, purchase=purchase)
        # What the till's answer shows, as written (a replay reads it back):
        # the EARN entry's breakdown and whether the purchase gave stamps.
        purchase.earn_details = (result.breakdown if points else [], bool(stamped))
        return purchase

    return receipt_record(
        receipt, write=write, lock=read, relock=lock, on_written=on_written
    )
