"""Promo codes' campaign and segments: saving the link, and the segment check
rewards calls through its extension point."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from campaigns.models import PromoCodeTargeting, Segment
from campaigns.segments.selectors import segment_members
from members.audit import StaffActor, audited_save
from members.models import Member
from rewards.models import PromoCode


def promo_code_segment_check(promo: PromoCode, member: Member) -> bool:
    """Whether `member` may use `promo` as far as segments go: yes when the
    code names no segment, else when the member is in one of them (each
    segment one EXISTS query). Registered with rewards from CampaignsConfig."""
    segments = list(Segment.objects.filter(promo_codes__promo_code_id=promo.pk))
    if not segments:
        return True
    return any(
        segment_members(segment).filter(pk=member.pk).exists() for segment in segments
    )


def promo_code_targeting_save(
    *,
    targeting: PromoCodeTargeting,
    segments: Iterable[Segment] | None = None,
    actor: StaffActor | None = None,
) -> PromoCodeTargeting:
    """Write a code's campaign and segments, with the audit row of `actor`.
    Locks nothing; queues nothing."""
    with transaction.atomic():
        targeting = audited_save(obj=targeting, actor=actor)
        if segments is not None:
            targeting.segments.set(segments)
    return targeting
