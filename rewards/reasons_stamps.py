"""The texts rewards writes on stamp cards and memberships (rewards.reasons):
registered when this module is imported, which rewards.apps does in ready().

A stamp entry's reason is built from parts: a purchase (the ledger's own
`purchase_earn`), then maybe "(carried over)" onto the next card, or the stamps
owed it paid; the wrappers hold the inner reason as a nested parameter."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from rewards.reasons import PURCHASE_EARN, ReasonCode, reason_register

# Stamp entries (a purchase's stamps are `purchase_earn`, as in the ledger).
STAMP_CARRIED_OVER = "stamp_carried_over"
STAMP_OWED_PAID = "stamp_owed_paid"
STAMP_CARD_EXPIRED = "stamp_card_expired"
STAMP_RETURN = "stamp_return"
STAMP_RETURN_OWED = "stamp_return_owed"
STAMP_RETURN_VOUCHER_CANCELLED = "stamp_return_voucher_cancelled"
STAMP_MOVED_TO = "stamp_moved_to"
STAMP_MOVED_FROM = "stamp_moved_from"
# A membership's cancellation.
SUBSCRIPTION_CANCELLED_IN_ADMIN = "subscription_cancelled_in_admin"
SUBSCRIPTION_CANCELLED_ONLINE = "subscription_cancelled_online"
SUBSCRIPTION_REFUNDED = "subscription_refunded"

_PURCHASE = {"code": PURCHASE_EARN, "params": {"receipt": "R-1042", "store": "kyiv-1"}}
_RETURN = {"return_receipt": "RT-7", "receipt": "R-1042"}

for _reason in (
    ReasonCode(
        STAMP_CARRIED_OVER,
        _("%(reason)s (carried over)"),
        {"reason": _PURCHASE},
        nested=("reason",),
    ),
    ReasonCode(
        STAMP_OWED_PAID,
        ngettext_lazy(
            "%(reason)s; %(count)s paid stamp owed",
            "%(reason)s; %(count)s paid stamps owed",
            "count",
        ),
        {"reason": _PURCHASE, "count": 2},
        nested=("reason",),
        count="count",
    ),
    ReasonCode(
        STAMP_CARD_EXPIRED,
        ngettext_lazy(
            "Card expired with %(stamps)s of %(needed)s stamp",
            "Card expired with %(stamps)s of %(needed)s stamps",
            "needed",
        ),
        {"stamps": 3, "needed": 10},
        formats={"stamps": "number"},
        count="needed",
    ),
    ReasonCode(
        STAMP_RETURN,
        _("Return %(return_receipt)s of purchase %(receipt)s"),
        _RETURN,
    ),
    ReasonCode(
        STAMP_RETURN_OWED,
        ngettext_lazy(
            "Return %(return_receipt)s of purchase %(receipt)s: %(count)s stamp "
            "owed, the vouchers were used",
            "Return %(return_receipt)s of purchase %(receipt)s: %(count)s stamps "
            "owed, the vouchers were used",
            "count",
        ),
        {**_RETURN, "count": 2},
        count="count",
    ),
    ReasonCode(
        STAMP_RETURN_VOUCHER_CANCELLED,
        _("Return %(return_receipt)s of purchase %(receipt)s: voucher cancelled"),
        _RETURN,
    ),
    ReasonCode(STAMP_MOVED_TO, _("Moved to card #%(number)s"), {"number": 4}),
    ReasonCode(
        STAMP_MOVED_FROM,
        _("Moved from card #%(number)s, undone by a return"),
        {"number": 3},
    ),
    ReasonCode(SUBSCRIPTION_CANCELLED_IN_ADMIN, _("Cancelled in admin"), {}),
    ReasonCode(SUBSCRIPTION_CANCELLED_ONLINE, _("Cancelled by the member online"), {}),
    ReasonCode(
        SUBSCRIPTION_REFUNDED,
        _("Payment %(order)s refunded"),
        {"order": "m12-3f9a"},
    ),
):
    reason_register(_reason)
