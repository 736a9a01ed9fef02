"""Returns: a return of part or all of a purchase claws back what the returned
part earned (and the stamps it gave)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal

from django.utils.translation import gettext as _

from members.errors import InvalidInput
from members.models import Store, User
from rewards.earning import kept_points
from rewards.locks import purchase_lines_lock, purchase_lock
from rewards.models import (
    PointsAccount,
    Purchase,
    PurchaseLine,
    PurchaseReturn,
)
from rewards.reasons import RETURN_CLAWBACK, system_reason
from rewards.services.inputs import (
    amount_clean,
    line_amount,
    receipt_id_clean,
)
from rewards.services.lines import ReturnLineInput, return_lines_clean
from rewards.services.promocodes import promo_use_reverse
from rewards.services.receipts import TillReceipt, receipt_record
from rewards.services.stamps import stamps_revoke_for_return


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
    part is below the minimum spend, at most the purchase's cap of the money
    kept. So all returns together never take back more than the
    purchase earned, and a full return takes back all of it. If the points were
    spent the balance goes negative. Locks the account, then the purchase.
    The return that leaves nothing of the purchase also reverses its promo
    code's use (rewards.services.promocodes.promo_use_reverse); a partial one
    keeps it.

    `on_written(row)`, when given, runs inside the transaction after the write
    (not on a replay); raising there rolls the write back (staff audit, limits).
    """
    receipt_id = receipt_id_clean(receipt_id)
    lines = [
        line if isinstance(line, ReturnLineInput) else ReturnLineInput(**line)
        for line in (lines or [])
    ]
    if (amount in (None, "")) == (not lines):
        raise InvalidInput(
            _("Give either an amount or lines to return, not both."), field="amount"
        )
    if amount not in (None, ""):
        amount = amount_clean(amount, field="amount")
    clean_lines = return_lines_clean(lines)
    body = {
        "purchase": purchase.pk,
        "amount": str(amount) if amount else None,
        "lines": clean_lines,
    }
    receipt = TillReceipt(
        PurchaseReturn,
        store,
        receipt_id,
        purchase.member_id,
        body,
        created_by,
        recorded_at,
    )

    def write(account: PointsAccount) -> PurchaseReturn:
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
            cap_per_unit=p.points_cap_per_unit,
            lines=[
                (
                    line.points_exact,
                    line.quantity,
                    line.quantity_returned,
                    line.amount - line_amount(line.quantity_returned, line.unit_price),
                    line.eligible,
                )
                for line in p.lines.all()
            ],
        )
        delta = reversed_total - p.points_reversed
        p.points_reversed = reversed_total
        p.save(update_fields=["returned_total", "points_reversed"])
        ret = receipt.row_create(
            purchase=p,
            amount=value,
            points_reversed=delta,
            balance_after=account.balance - delta,
            lines=clean_lines,
        )
        if delta:
            reason = system_reason(
                RETURN_CLAWBACK,
                return_receipt=receipt_id,
                receipt=p.receipt_id,
                store=p.store.code,
            )
            receipt.entry_post(
                account, ret, -delta, reason, purchase=p, draw_first_purchase_id=p.pk
            )
        if p.returned_total == p.total:
            # Nothing of the purchase is left: its promo code use goes too, once.
            promo_use_reverse(account=account, purchase=p, purchase_return=ret)
        stamps_revoke_for_return(purchase_return=ret)
        return ret

    return receipt_record(receipt, write=write, on_written=on_written)


def _return_lines_apply(purchase: Purchase, lines: list[dict]) -> Decimal:
    """Mark returned quantities on the purchase's lines; the money value of what comes back."""
    by_sku: dict[str, list[PurchaseLine]] = {}
    for pl in purchase_lines_lock(purchase=purchase):
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
            value += line_amount(
                c.quantity_returned + take, c.unit_price
            ) - line_amount(c.quantity_returned, c.unit_price)
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
