"""What the points endpoints of the POS API share.

Every write is idempotent on the store's receipt id: the same request again is a
200 with the first result, the same receipt id with other details a 409. The
services decide both; the views only validate shapes and pick the status.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import status

from members.api.views import member_by_card_or_404, member_by_phone_or_404
from members.models import Member

REPLAY = _(
    "A replay: this store sent the same receipt id with the same details before; "
    "the body is the first result."
)


def replay_status(replayed: bool) -> int:
    return status.HTTP_200_OK if replayed else status.HTTP_201_CREATED


def member_from(data: dict) -> Member:
    """The member a purchase is for: the row alone, purchase_record needs no more."""
    if "card_number" in data:
        return member_by_card_or_404(data["card_number"], related=False)
    return member_by_phone_or_404(data["phone"], related=False)
