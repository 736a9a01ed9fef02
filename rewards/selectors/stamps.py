"""Stamp cards: a member's open and completed cards, what a purchase stamped."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from rewards.models import (
    Purchase,
    StampCard,
    StampCardStatus,
    StampEntry,
    StampEntryKind,
    StampProgram,
    Voucher,
)

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
