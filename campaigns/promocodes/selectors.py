"""Reads of promo codes on the campaigns side."""

from __future__ import annotations

from campaigns.models import PromoCodeTargeting


def promo_code_campaigns() -> dict[int, str]:
    """{promo code id: its campaign's name}, for the promo code report per
    campaign (registered with rewards from CampaignsConfig). One query."""
    return dict(
        PromoCodeTargeting.objects.filter(campaign__isnull=False).values_list(
            "promo_code_id", "campaign__name"
        )
    )
