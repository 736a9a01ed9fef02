"""What a wallet pass shows, read once for both wallets: the program's name and
colours (members.branding), the card number the card page's QR carries, the
balance and the tier in the member's language."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import translation

from members.branding import Brand, branding_get
from members.cards import card_number_format
from members.models import Member
from rewards.models import PointsAccount


@dataclass(frozen=True)
class WalletCard:
    """One member's card as both wallets draw it."""

    brand: Brand
    program_name: str
    card_number: str  # as the QR carries it: digits only
    card_number_display: str  # in groups of four, for people
    holder: str
    balance: int
    tier: str  # "" without a tier
    language: str


def wallet_card_get(*, member: Member) -> WalletCard:
    """The card of `member`, the tier named in the member's language."""
    account = (
        PointsAccount.objects.select_related("tier")
        .only("balance", "tier")
        .filter(member_id=member.pk)
        .first()
    )
    brand = branding_get()
    with translation.override(member.language or None):
        tier = account.tier.name if account and account.tier_id else ""
        program_name = str(brand.name)
    return WalletCard(
        brand=brand,
        program_name=program_name,
        card_number=member.card_number,
        card_number_display=card_number_format(member.card_number),
        holder=member.full_name,
        balance=account.balance if account else 0,
        tier=tier,
        language=member.language,
    )
