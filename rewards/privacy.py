"""What rewards adds to a member's data export and erasure (members.privacy).

The points account, ledger, purchases, returns, redemptions, vouchers, tier
history, referrals, online payments, memberships, stamp cards and promo code
uses go into the export. Erasure keeps all of them (balances
and receipts stay right), blanks the member's phone on the referral that
brought them and deletes the wallet pass. rewards.apps registers both parts.
"""

from __future__ import annotations

from typing import Any

from members.models import Member
from members.privacy import erasure_part_register, export_part_register, export_row
from rewards.models import (
    LedgerEntry,
    Payment,
    PromoCodeUse,
    Purchase,
    PurchaseReturn,
    Redemption,
    Referral,
    StampCard,
    Subscription,
    TierHistory,
    Voucher,
    WalletPass,
)


def account_export(member: Member) -> dict[str, Any]:
    account = getattr(member, "account", None)
    return {"points_account": export_row(account) if account is not None else None}


def history_export(member: Member) -> dict[str, Any]:
    purchases = Purchase.objects.filter(member=member).prefetch_related("lines")
    return {
        "ledger_entries": [
            export_row(e)
            for e in LedgerEntry.objects.filter(account__member=member).order_by(
                "created_at", "id"
            )
        ],
        "purchases": [
            {**export_row(p), "lines": [export_row(line) for line in p.lines.all()]}
            for p in purchases.order_by("occurred_at", "id")
        ],
        "returns": [
            export_row(r)
            for r in PurchaseReturn.objects.filter(purchase__member=member).order_by(
                "created_at", "id"
            )
        ],
        "redemptions": [
            export_row(r)
            for r in Redemption.objects.filter(member=member).order_by(
                "created_at", "id"
            )
        ],
        "vouchers": [
            export_row(v) for v in Voucher.objects.filter(member=member).order_by("pk")
        ],
        "tier_history": [
            export_row(t)
            for t in TierHistory.objects.filter(member=member).order_by(
                "created_at", "id"
            )
        ],
        "referrals_made": [
            export_row(r, exclude=("referee_phone", "referee"))
            for r in Referral.objects.filter(referrer=member).order_by("created_at")
        ],
        "referred_by": (
            export_row(member.referral, exclude=("referee_phone",))
            if Referral.objects.filter(referee=member).exists()
            else None
        ),
        # The saved card token is the provider's key to the card, not the member's data.
        "payments": [
            export_row(p, exclude=("provider_token",))
            for p in Payment.objects.filter(member=member).order_by("created_at", "id")
        ],
        "subscriptions": [
            {**export_row(s), "events": [export_row(e) for e in s.events.all()]}
            for s in Subscription.objects.filter(member=member)
            .prefetch_related("events")
            .order_by("started_at", "id")
        ],
        "stamp_cards": [
            {**export_row(c), "entries": [export_row(e) for e in c.entries.all()]}
            for c in StampCard.objects.filter(member=member)
            .prefetch_related("entries")
            .order_by("pk")
        ],
        "promo_code_uses": [
            {**export_row(u), "code": u.key.code}
            for u in PromoCodeUse.objects.filter(member=member)
            .select_related("key")
            .order_by("used_at", "id")
        ],
    }


def referral_phone_erase(member: Member) -> None:
    """The referral that brought the member stays (the friend's bonus is history);
    the member's phone on it goes."""
    Referral.objects.filter(referee=member).update(referee_phone="")


def wallet_pass_erase(member: Member) -> None:
    """The card in the member's phone stops updating: its pass and the Apple
    devices registered for it go (the web service then refuses its token)."""
    WalletPass.objects.filter(member=member).delete()


def privacy_parts_register() -> None:
    """Called from RewardsConfig.ready(); positions as members.privacy lists them."""
    export_part_register(name="rewards.account", position=200, build=account_export)
    export_part_register(name="rewards.history", position=400, build=history_export)
    erasure_part_register(
        name="rewards.referrals", position=100, erase=referral_phone_erase
    )
    erasure_part_register(name="rewards.wallet", position=120, erase=wallet_pass_erase)
