"""Rendering a campaign's texts for its members: the facts a text may name
(gathered in bulk per chunk), the available rewards, and the compiled texts per
variant and language. Used by the chunked fan-out (campaigns.sending.chunks) and
the preview and test send (campaigns.sending.services)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Min, Sum
from django.utils import timezone

from campaigns.feedback.selectors import survey_link_sample_url
from campaigns.messaging.templating import (
    EXPIRING_WITHIN,
    MemberFacts,
    RewardOffer,
    member_context,
    template_compile,
    template_render,
)
from campaigns.messaging.variables import TemplateVariables
from campaigns.models import (
    Campaign,
    CampaignRecipient,
    CampaignVariant,
    PromotionKind,
)
from members.models import Member
from rewards.models import PointsLot
from rewards.selectors.catalog import reward_list_available


def facts_for(recipients: list[CampaignRecipient], now: dt.datetime) -> dict[int, dict]:
    """Points expiring soon per member of a chunk: one query."""
    rows = (
        PointsLot.objects.filter(
            account__member_id__in=[r.member_id for r in recipients],
            remaining__gt=0,
            expires_at__gt=now,
            expires_at__lte=now + EXPIRING_WITHIN,
        )
        .values("account__member_id")
        .annotate(points=Sum("remaining"), first=Min("expires_at"))
    )
    return {row["account__member_id"]: row for row in rows}


def rewards_by_cost() -> list[RewardOffer]:
    """Available rewards (active, within their dates, in stock), cheapest
    first, as (name, points cost, the tiers each is only for). One query;
    member_context keeps those the member's tier may take."""
    offers: dict[int, tuple[str, int, set[int]]] = {}
    rows = reward_list_available().values_list("pk", "name", "points_cost", "tiers")
    for pk, name, cost, tier_id in rows:  # one row per (reward, tier)
        offer = offers.setdefault(pk, (name, cost, set()))
        if tier_id is not None:
            offer[2].add(tier_id)
    return [(name, cost, frozenset(tiers)) for name, cost, tiers in offers.values()]


def member_facts(
    member: Member,
    *,
    expiring: dict | None = None,
    coupon_code: str = "",
    survey_link: str = "",
) -> MemberFacts:
    account = getattr(member, "account", None)
    expiring = expiring or {}
    first = expiring.get("first")
    return MemberFacts(
        first_name=member.first_name,
        balance=account.balance if account else 0,
        tier=account.tier.name if account and account.tier_id else "",
        tier_id=account.tier_id if account else None,
        points_expiring=expiring.get("points") or 0,
        points_expiring_date=timezone.localtime(first).date() if first else None,
        coupon_code=coupon_code,
        survey_link=survey_link,
    )


class CampaignTexts:
    """Compiled subject and body per (variant, language), compiled once per chunk."""

    def __init__(self, variants: dict[str, CampaignVariant]):
        self.variants = variants
        self._cache: dict[tuple[str, str], tuple] = {}

    def render(self, label: str, language: str, context: dict) -> tuple[str, str, str]:
        key = (label, language)
        if key not in self._cache:
            lang, subject, body = self.variants[label].content_for(language)
            self._cache[key] = (lang, template_compile(subject), template_compile(body))
        lang, subject, body = self._cache[key]
        # Numbers, dates and plural forms in the language the text is written
        # in (a fallback text in Ukrainian says "5 балів" to any reader).
        return (
            lang,
            template_render(subject, context, lang).strip()[:200],
            template_render(body, context, lang),
        )


def campaign_render(
    *, campaign: Campaign, variant: CampaignVariant, member: Member
) -> tuple[str, str, str]:
    """(language, subject, body) of a variant for one member, as the fan-out would
    render it (a coupon shows as a sample code: none is granted for a preview;
    a survey link as a sample link that answers nothing)."""
    member = Member.objects.select_related("account__tier").get(pk=member.pk)
    now = timezone.now()
    recipient = CampaignRecipient(member=member)
    expiring = facts_for([recipient], now).get(member.pk)
    coupon = "SAMPLE-CODE" if campaign.promotion == PromotionKind.COUPON else ""
    link = survey_link_sample_url() if campaign.survey_id else ""
    facts = member_facts(
        member, expiring=expiring, coupon_code=coupon, survey_link=link
    )
    texts = CampaignTexts({variant.label: variant})
    return texts.render(
        variant.label,
        member.language,
        member_context(
            facts,
            rewards_by_cost(),
            TemplateVariables([member.pk], now).context(member),
        ),
    )
