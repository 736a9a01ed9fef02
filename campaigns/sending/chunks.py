"""The chunked fan-out of a campaign run and the campaign bonus.

A run's recipients are frozen when it starts (campaigns.sending.services);
`campaign_chunk_send` then walks them by member id (keyset), writing each
chunk's messages with one bulk insert that ignores (member, key) conflicts, so
a chunk run twice (acks_late redelivery, two workers) writes nothing twice and
delivery's conditional claim sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from campaigns.feedback.selectors import survey_link_url
from campaigns.locks import chunk_lock
from campaigns.messaging import delivery
from campaigns.messaging.templating import member_context
from campaigns.messaging.variables import TemplateVariables
from campaigns.models import (
    Campaign,
    CampaignChunk,
    CampaignRecipient,
    CampaignRun,
    CampaignStatus,
    Message,
    MessageStatus,
    PromotionKind,
    RunStatus,
    SurveyInvitation,
    SurveyTrigger,
)
from campaigns.reasons import CAMPAIGN_BONUS
from campaigns.sending.rendering import (
    CampaignTexts,
    facts_for,
    member_facts,
    rewards_by_cost,
)
from campaigns.sending.services import MESSAGE_KIND, recipient_group, run_finish
from members.messages import member_address, member_channel
from members.models import Channel
from rewards.models import Purchase, VoucherSource
from rewards.reasons import system_reason
from rewards.services import points_bonus_grant, voucher_grant

# The channels whose messages carry the campaign's subject.
SUBJECT_CHANNELS = (Channel.EMAIL, Channel.PUSH)


@dataclass
class ChunkResult:
    recipients: int = 0
    held_out: int = 0
    written: int = 0
    delivered: int = 0


def _coupons_grant(
    campaign: Campaign, run: CampaignRun, recipients: list[CampaignRecipient]
) -> None:
    """A voucher for every recipient without one, each by voucher_grant (idempotent key)."""
    for recipient in recipients:
        if recipient.holdout or recipient.voucher_id:
            continue
        voucher, _replayed = voucher_grant(
            member=recipient.member,
            reward=campaign.coupon_reward,
            source=VoucherSource.CAMPAIGN,
            idempotency_key=f"campaign-run:{run.pk}:{recipient.member_id}",
        )
        recipient.voucher = voucher


def campaign_chunk_send(*, chunk_id: int) -> ChunkResult | None:
    """Send one chunk of a run; safe to run twice, even at the same time.

    Reads the chunk's frozen recipients (member ids in (after_id, upto_id]) in
    one query, decides holdout and variant by hash, grants coupons
    (voucher_grant, one durable transaction each, idempotent by key), then in
    one transaction that locks the chunk row: updates the recipients with one
    bulk UPDATE and writes the messages with one bulk INSERT ignoring
    (member, key) conflicts. After commit it delivers the chunk's messages
    still queued with messages_deliver_many (batches of 200 decided in one
    transaction each; its conditional claim makes a second caller send
    nothing, and the messages a killed worker left sending are not queued: a
    redelivered chunk leaves them to the sweep's messages_recover_interrupted),
    then counts the chunk done once and finishes the run when it was
    the last. Returns None when the chunk is gone or done.
    """
    now = timezone.now()
    chunk = (
        CampaignChunk.objects.select_related(
            "run__campaign__coupon_reward", "run__campaign__survey"
        )
        .filter(pk=chunk_id)
        .first()
    )
    if chunk is None or chunk.done_at is not None:
        return None
    run = chunk.run
    campaign = run.campaign
    result = ChunkResult()
    if run.status != RunStatus.SENDING or campaign.status != CampaignStatus.SENDING:
        _chunk_done(chunk)
        return result
    CampaignChunk.objects.filter(pk=chunk.pk).update(attempts=F("attempts") + 1)
    recipients = list(
        CampaignRecipient.objects.filter(
            run=run, member_id__gt=chunk.after_id, member_id__lte=chunk.upto_id
        )
        .select_related("member__account__tier", "voucher")
        .order_by("member_id")
    )
    variants = {v.label: v for v in campaign.variants.all()}
    result.recipients = len(recipients)
    for recipient in recipients:
        holdout, label = recipient_group(campaign, recipient.member_id)
        recipient.holdout = holdout
        recipient.variant = variants.get(label) if label else None
        recipient.processed = True
    if campaign.promotion == PromotionKind.COUPON and campaign.coupon_reward_id:
        _coupons_grant(campaign, run, recipients)
    expiring = facts_for(recipients, now)
    rewards = rewards_by_cost()
    texts = CampaignTexts(variants)
    added = TemplateVariables([r.member_id for r in recipients if not r.holdout], now)
    messages = []
    explicit = campaign.channel if campaign.channel in Channel.values else None
    for recipient in recipients:
        if recipient.holdout:
            result.held_out += 1
            continue
        member = recipient.member
        facts = member_facts(
            member,
            expiring=expiring.get(member.pk),
            coupon_code=recipient.voucher.code if recipient.voucher_id else "",
            survey_link=_survey_link(campaign, member),
        )
        language, subject, body = texts.render(
            recipient.variant.label,
            member.language,
            member_context(facts, rewards, added.context(member)),
        )
        # The one channel rule; a member with no address at all still gets
        # a row (suppressed), so the run accounts for every recipient.
        channel = (
            member_channel(member, channel=explicit, marketing=True) or Channel.EMAIL
        )
        to = member_address(member, channel)
        messages.append(
            Message(
                member=member,
                key=run.key,
                kind=MESSAGE_KIND,
                marketing=True,
                channel=channel,
                to=to,
                language=language,
                # An email's subject; a web push's title. An SMS has none.
                subject=subject if channel in SUBJECT_CHANNELS else "",
                body=body,
                status=MessageStatus.QUEUED if to else MessageStatus.SUPPRESSED,
                error="" if to else "no address for this channel",
                campaign=campaign,
                variant=recipient.variant,
            )
        )
    with transaction.atomic():
        # Two copies of this chunk (a redelivery racing the original) write one
        # after the other; the second finds every row there already.
        chunk_lock(chunk_id=chunk.pk)
        CampaignRecipient.objects.bulk_update(
            recipients, ["holdout", "variant", "processed", "voucher"], batch_size=1000
        )
        Message.objects.bulk_create(messages, ignore_conflicts=True, batch_size=1000)
        if campaign.survey_id:
            _survey_invitations_write(campaign, messages)
    result.written = len(messages)
    to_deliver = list(
        Message.objects.filter(
            key=run.key,
            member_id__in=[m.member_id for m in messages],
            status=MessageStatus.QUEUED,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    delivered = delivery.messages_deliver_many(message_ids=to_deliver)
    result.delivered = delivered.handed_over
    _chunk_done(chunk)
    return result


def _survey_link(campaign: Campaign, member) -> str:
    """The member's own link to the campaign's survey: the link every survey
    trigger sends, naming the campaign so the answer is attributed to it."""
    if not campaign.survey_id:
        return ""
    return survey_link_url(
        survey=campaign.survey, member=member, purchase=None, campaign=campaign
    )


def _survey_invitations_write(campaign: Campaign, messages: list[Message]) -> None:
    """One SurveyInvitation (trigger "campaign") per member sent the survey,
    in one INSERT; a member invited to it before keeps their first row (the
    unique constraint; a chunk run twice writes nothing twice)."""
    SurveyInvitation.objects.bulk_create(
        [
            SurveyInvitation(
                survey_id=campaign.survey_id,
                member=message.member,
                trigger=SurveyTrigger.CAMPAIGN,
                campaign=campaign,
            )
            for message in messages
            if message.status == MessageStatus.QUEUED
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )


def _chunk_done(chunk: CampaignChunk) -> None:
    """Count a chunk done, once; close the run when it was the last."""
    with transaction.atomic():
        counted = CampaignChunk.objects.filter(
            pk=chunk.pk, done_at__isnull=True
        ).update(done_at=timezone.now())
        if counted:
            CampaignRun.objects.filter(pk=chunk.run_id).update(
                chunks_done=F("chunks_done") + 1
            )
    if counted:
        run_finish(chunk.run_id)


# --- the campaign bonus --------------------------------------------------------------


def campaign_bonuses_grant_due(*, now: dt.datetime | None = None) -> int:
    """Give each recipient of a bonus campaign who bought within the window its bonus.

    Set-based: one query finds recipients (not held out, no bonus yet) with a
    purchase in [run start, run start + window) among runs whose window is
    open or closed less than a day ago; each gets `points_bonus_grant` with the
    key "campaign-bonus:<run>:<member>" (at most once, even if this job and a
    retry race), then its recipient row is stamped. Returns how many were given.
    """
    now = now or timezone.now()
    given = 0
    runs = CampaignRun.objects.filter(
        campaign__promotion=PromotionKind.BONUS,
        campaign__bonus_points__gt=0,
        status__in=[RunStatus.SENDING, RunStatus.SENT],
        started_at__lte=now,
    ).select_related("campaign")
    for run in runs:
        end = run.started_at + dt.timedelta(days=run.campaign.window_days)
        if end + dt.timedelta(days=1) < now:
            continue
        buyers = (
            CampaignRecipient.objects.filter(
                run=run, holdout=False, processed=True, bonus_granted_at__isnull=True
            )
            .filter(
                member_id__in=Purchase.objects.filter(
                    occurred_at__gte=run.started_at, occurred_at__lt=min(end, now)
                ).values("member_id")
            )
            .select_related("member")
        )
        for recipient in buyers.iterator(chunk_size=500):
            points_bonus_grant(
                member=recipient.member,
                points=run.campaign.bonus_points,
                reason=system_reason(
                    CAMPAIGN_BONUS,
                    campaign_id=run.campaign.pk,
                    campaign=run.campaign.name,
                    days=run.campaign.window_days,
                ),
                idempotency_key=f"campaign-bonus:{run.pk}:{recipient.member_id}",
            )
            CampaignRecipient.objects.filter(pk=recipient.pk).update(
                bonus_granted_at=now
            )
            given += 1
    return given
