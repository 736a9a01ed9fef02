"""Every write to campaigns: save, schedule, send now, cancel, the per-minute
dispatcher, the start of a run (recipients frozen), the chunked fan-out, and
the campaign bonus for recipients who buy.

A run's recipients are frozen by one INSERT ... SELECT of the segment's query
when it starts; chunk tasks then walk them by member id (keyset), each writing
its messages with one bulk insert that ignores (member, key) conflicts, so a
chunk run twice (acks_late redelivery, two workers) writes nothing twice and
delivery's conditional claim sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, Min, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import (
    Campaign,
    CampaignChannel,
    CampaignChunk,
    CampaignRecipient,
    CampaignRun,
    CampaignStatus,
    CampaignVariant,
    Message,
    MessageStatus,
    PromotionKind,
    Recurrence,
    RunStatus,
    VariantLabel,
)
from campaigns.segments import segment_members
from campaigns.templating import (
    EXPIRING_WITHIN,
    MemberFacts,
    RewardOffer,
    Suggestions,
    member_context,
    template_check,
    template_compile,
    template_render,
)
from members.errors import InvalidInput
from members.messages import member_address, member_channel
from members.models import Channel, Member, User

log = logging.getLogger(__name__)

CHUNK_SIZE = 1000  # settings.CAMPAIGN_CHUNK_SIZE overrides it
# A chunk queued this long ago and still not done is queued again by the dispatcher
# (its task was lost: broker restarted, message dropped).
CHUNK_STALE_AFTER = dt.timedelta(minutes=15)
MESSAGE_KIND = "campaign"
# How far in the past a schedule time may be (the form was open a while, the
# clocks differ a little); anything older is refused: use "send now" instead.
SCHEDULE_GRACE = dt.timedelta(minutes=1)
TEST_KIND = "campaign-test"


# --- assignment --------------------------------------------------------------------


def _bucket(campaign_id: int, member_id: int, salt: str) -> int:
    """A stable number 0..9999 for (campaign, member): the same in every run."""
    digest = hashlib.sha256(f"{salt}:{campaign_id}:{member_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10000


def recipient_group(campaign: Campaign, member_id: int) -> tuple[bool, str]:
    """(held out, variant label) of a member in a campaign; deterministic."""
    if _bucket(campaign.pk, member_id, "holdout") < campaign.holdout_percent * 100:
        return True, ""
    if _bucket(campaign.pk, member_id, "ab") < campaign.variant_b_percent * 100:
        return False, VariantLabel.B
    return False, VariantLabel.A


# --- checks and state changes ------------------------------------------------------


def campaign_problems(campaign: Campaign) -> list[str]:
    """Why a campaign cannot go out (empty when it can)."""
    problems = []
    variants = {v.label: v for v in campaign.variants.all()}
    if VariantLabel.A not in variants or not variants[VariantLabel.A].languages():
        problems.append(_("Write the text of variant A in at least one language."))
    if campaign.variant_b_percent and (
        VariantLabel.B not in variants or not variants[VariantLabel.B].languages()
    ):
        problems.append(_("Variant B gets a share: write its text too."))
    if campaign.promotion == PromotionKind.COUPON and campaign.coupon_reward_id is None:
        problems.append(_("Choose the reward the coupon is for."))
    if campaign.promotion == PromotionKind.BONUS and not campaign.bonus_points:
        problems.append(_("Enter the bonus points."))
    for variant in variants.values():
        for lang in variant.languages():
            for text in (
                getattr(variant, f"subject_{lang}"),
                getattr(variant, f"body_{lang}"),
            ):
                problems.extend(template_check(text).errors)
    return problems


def campaign_unknown_variables(campaign: Campaign) -> list[str]:
    """Variables used in a campaign's texts that no member has (they render empty)."""
    unknown: list[str] = []
    for variant in campaign.variants.all():
        for lang in variant.languages():
            for text in (
                getattr(variant, f"subject_{lang}"),
                getattr(variant, f"body_{lang}"),
            ):
                unknown.extend(
                    v for v in template_check(text).unknown if v not in unknown
                )
    return unknown


def _locked(campaign_id: int) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign_id)


def schedule_time_problem(at: dt.datetime | None) -> str | None:
    """Why `at` cannot be a campaign's send time (None when it can): more than
    SCHEDULE_GRACE in the past. Shared by the service and the admin form."""
    if at is not None and at < timezone.now() - SCHEDULE_GRACE:
        return _(
            "This time is in the past; choose a later time, or use "
            "“Send now” to send the campaign at once."
        )
    return None


def campaign_schedule(
    *, campaign: Campaign, at: dt.datetime, user: User | None = None
) -> Campaign:
    """Plan a draft (or re-plan a scheduled) campaign for `at`.

    `at` may not be more than SCHEDULE_GRACE in the past (campaign_send_now
    sends at once). Locks the campaign row. Queues nothing: the dispatcher
    starts it when due.
    """
    with transaction.atomic():
        locked = _locked(campaign.pk)
        if not locked.is_editable:
            raise InvalidInput(
                _("Only a draft or scheduled campaign can be scheduled."),
                field="status",
            )
        problems = campaign_problems(locked)
        if problems:
            raise InvalidInput(" ".join(problems), field="variants")
        if at is None:
            raise InvalidInput(_("Enter when to send."), field="scheduled_at")
        past = schedule_time_problem(at)
        if past:
            raise InvalidInput(past, field="scheduled_at")
        locked.scheduled_at = at
        locked.status = CampaignStatus.SCHEDULED
        locked.save(update_fields=["scheduled_at", "status", "updated_at"])
    return locked


def campaign_send_now(*, campaign: Campaign, user: User | None = None) -> CampaignRun:
    """Start a draft or scheduled campaign at once (see campaign_start)."""
    with transaction.atomic():
        locked = _locked(campaign.pk)
        if not locked.is_editable:
            raise InvalidInput(
                _("This campaign is already %(status)s.")
                % {"status": locked.get_status_display().lower()},
                field="status",
            )
        problems = campaign_problems(locked)
        if problems:
            raise InvalidInput(" ".join(problems), field="variants")
        return _run_start(locked, now=timezone.now())


def campaign_cancel(*, campaign: Campaign, user: User | None = None) -> Campaign:
    """Cancel a campaign that has not finished. Chunks not yet sent send nothing.

    Locks the campaign row; a run in progress is marked cancelled, its chunks
    still count themselves done (so nothing is left waiting).
    """
    with transaction.atomic():
        locked = _locked(campaign.pk)
        if locked.status in (CampaignStatus.SENT, CampaignStatus.CANCELLED):
            raise InvalidInput(
                _("This campaign is already %(status)s.")
                % {"status": locked.get_status_display().lower()},
                field="status",
            )
        locked.status = CampaignStatus.CANCELLED
        locked.save(update_fields=["status", "updated_at"])
        CampaignRun.objects.filter(campaign=locked, status=RunStatus.SENDING).update(
            status=RunStatus.CANCELLED, finished_at=timezone.now()
        )
    return locked


# --- starting a run ------------------------------------------------------------------


def _run_key(campaign: Campaign, number: int) -> str:
    if campaign.recurrence == Recurrence.NONE and number == 1:
        return f"campaign:{campaign.pk}"
    return f"campaign:{campaign.pk}:{number}"


def _recipients_freeze(run: CampaignRun, campaign: Campaign) -> int:
    """Copy the segment's members into the run with one INSERT ... SELECT."""
    members = segment_members(campaign.segment).order_by().values(frozen_id=F("pk"))
    sql, params = members.query.sql_with_params()
    table = CampaignRecipient._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (run_id, member_id, holdout, processed) "  # noqa: S608 - our table name, params bound
            f"SELECT %s, segment.frozen_id, %s, %s FROM ({sql}) segment",
            [run.pk, False, False, *params],
        )
        return cursor.rowcount


def _chunks_plan(run: CampaignRun, size: int) -> list[CampaignChunk]:
    """Chunk bounds by walking the frozen member ids, `size` at a time (keyset)."""
    ids = CampaignRecipient.objects.filter(run=run).order_by("member_id")
    chunks: list[CampaignChunk] = []
    after = 0
    while True:
        upto = (
            ids.filter(member_id__gt=after)
            .values_list("member_id", flat=True)[size - 1 : size]
            .first()
        )
        if upto is None:
            upto = (
                ids.filter(member_id__gt=after)
                .order_by("-member_id")
                .values_list("member_id", flat=True)
                .first()
            )
            if upto is None:
                break
        chunks.append(
            CampaignChunk(run=run, number=len(chunks) + 1, after_id=after, upto_id=upto)
        )
        after = upto
    return chunks


def _run_start(campaign: Campaign, *, now: dt.datetime) -> CampaignRun:
    """Start a run of a locked campaign: freeze recipients, plan chunks, queue them.

    Runs inside the caller's transaction (campaign row locked). Queues one
    `campaigns.tasks.campaign_chunk_send` per chunk on commit.
    """
    number = (campaign.runs.aggregate(n=Max("number"))["n"] or 0) + 1
    run = CampaignRun.objects.create(
        campaign=campaign,
        number=number,
        key=_run_key(campaign, number),
        started_at=now,
    )
    total = _recipients_freeze(run, campaign)
    chunks = CampaignChunk.objects.bulk_create(
        _chunks_plan(run, getattr(settings, "CAMPAIGN_CHUNK_SIZE", CHUNK_SIZE))
    )
    CampaignChunk.objects.filter(run=run).update(queued_at=now)
    run.recipients_total = total
    run.chunks_total = len(chunks)
    run.save(update_fields=["recipients_total", "chunks_total"])
    campaign.status = CampaignStatus.SENDING
    campaign.save(update_fields=["status", "updated_at"])
    if not chunks:
        _run_finish(run.pk)
    else:
        chunk_ids = list(
            CampaignChunk.objects.filter(run=run).values_list("pk", flat=True)
        )
        transaction.on_commit(lambda: _chunks_queue(chunk_ids))
    return run


def _chunks_queue(chunk_ids: list[int]) -> None:
    from campaigns.tasks import campaign_chunk_send

    for chunk_id in chunk_ids:
        campaign_chunk_send.delay(chunk_id)


def _next_time(campaign: Campaign, after: dt.datetime, now: dt.datetime) -> dt.datetime:
    step = (
        relativedelta(weeks=1)
        if campaign.recurrence == Recurrence.WEEKLY
        else relativedelta(months=1)
    )
    moment = after + step
    while moment <= now:
        moment += step
    return moment


def _run_finish(run_id: int) -> bool:
    """Mark a run sent once all its chunks are done; plan a recurring campaign's next run."""
    now = timezone.now()
    with transaction.atomic():
        finished = CampaignRun.objects.filter(
            pk=run_id, status=RunStatus.SENDING, chunks_done=F("chunks_total")
        ).update(status=RunStatus.SENT, finished_at=now)
        if not finished:
            return False
        run = CampaignRun.objects.select_related("campaign").get(pk=run_id)
        campaign = _locked(run.campaign_id)
        if campaign.status != CampaignStatus.SENDING:
            return True
        if campaign.recurrence:
            campaign.scheduled_at = _next_time(
                campaign, campaign.scheduled_at or run.started_at, now
            )
            campaign.status = CampaignStatus.SCHEDULED
            campaign.save(update_fields=["scheduled_at", "status", "updated_at"])
        else:
            campaign.status = CampaignStatus.SENT
            campaign.save(update_fields=["status", "updated_at"])
    return True


# --- the dispatcher ------------------------------------------------------------------


def campaigns_dispatch_due(*, now: dt.datetime | None = None, limit: int = 20) -> int:
    """Start every scheduled campaign whose time has come; returns how many.

    Claims each due campaign with SELECT ... FOR UPDATE SKIP LOCKED in its own
    transaction, so two dispatchers (two beats, a slow minute) never start the
    same one. Also queues again chunks whose task was lost, and finishes runs
    whose last chunk counted itself but did not get to close the run.
    """
    now = now or timezone.now()
    started = 0
    for _i in range(limit):
        with transaction.atomic():
            campaign = (
                Campaign.objects.select_for_update(skip_locked=True)
                .filter(status=CampaignStatus.SCHEDULED, scheduled_at__lte=now)
                .order_by("scheduled_at", "pk")
                .first()
            )
            if campaign is None:
                break
            problems = campaign_problems(campaign)
            if problems:
                log.warning("campaign %s not started: %s", campaign.pk, problems)
                campaign.status = CampaignStatus.DRAFT
                campaign.save(update_fields=["status", "updated_at"])
                continue
            _run_start(campaign, now=now)
            started += 1
    _stale_chunks_requeue(now)
    for run_id in CampaignRun.objects.filter(
        status=RunStatus.SENDING, chunks_done=F("chunks_total")
    ).values_list("pk", flat=True):
        _run_finish(run_id)
    return started


def _stale_chunks_requeue(now: dt.datetime) -> int:
    with transaction.atomic():
        stale = list(
            CampaignChunk.objects.select_for_update(skip_locked=True)
            .filter(
                run__status=RunStatus.SENDING,
                done_at__isnull=True,
                queued_at__lt=now - CHUNK_STALE_AFTER,
            )
            .values_list("pk", flat=True)[:500]
        )
        if stale:
            CampaignChunk.objects.filter(pk__in=stale).update(queued_at=now)
            transaction.on_commit(lambda: _chunks_queue(stale))
    return len(stale)


# --- one chunk ----------------------------------------------------------------------


@dataclass
class ChunkResult:
    recipients: int = 0
    held_out: int = 0
    written: int = 0
    delivered: int = 0


def _facts_for(
    recipients: list[CampaignRecipient], now: dt.datetime
) -> dict[int, dict]:
    """Points expiring soon per member of a chunk: one query."""
    from rewards.models import PointsLot

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
    from rewards.selectors.catalog import reward_list_available

    offers: dict[int, tuple[str, int, set[int]]] = {}
    rows = reward_list_available().values_list("pk", "name", "points_cost", "tiers")
    for pk, name, cost, tier_id in rows:  # one row per (reward, tier)
        offer = offers.setdefault(pk, (name, cost, set()))
        if tier_id is not None:
            offer[2].add(tier_id)
    return [(name, cost, frozenset(tiers)) for name, cost, tiers in offers.values()]


def member_facts(
    member: Member, *, expiring: dict | None = None, coupon_code: str = ""
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
    )


class _Texts:
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
        return (
            lang,
            template_render(subject, context).strip()[:200],
            template_render(body, context),
        )


def _coupons_grant(
    campaign: Campaign, run: CampaignRun, recipients: list[CampaignRecipient]
) -> None:
    """A voucher for every recipient without one, each by voucher_grant (idempotent key)."""
    from rewards.models import VoucherSource
    from rewards.services import voucher_grant

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
    from campaigns.messaging import messages_deliver_many

    now = timezone.now()
    chunk = (
        CampaignChunk.objects.select_related("run__campaign__coupon_reward")
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
    expiring = _facts_for(recipients, now)
    rewards = rewards_by_cost()
    texts = _Texts(variants)
    suggestions = Suggestions([r.member_id for r in recipients if not r.holdout], now)
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
        )
        language, subject, body = texts.render(
            recipient.variant.label,
            member.language,
            member_context(facts, rewards, suggestions.context(member)),
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
                subject=subject if channel == Channel.EMAIL else "",
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
        CampaignChunk.objects.select_for_update().filter(pk=chunk.pk).first()
        CampaignRecipient.objects.bulk_update(
            recipients, ["holdout", "variant", "processed", "voucher"], batch_size=1000
        )
        Message.objects.bulk_create(messages, ignore_conflicts=True, batch_size=1000)
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
    delivery = messages_deliver_many(message_ids=to_deliver)
    result.delivered = delivery.handed_over
    _chunk_done(chunk)
    return result


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
        _run_finish(chunk.run_id)


# --- the campaign bonus --------------------------------------------------------------


def campaign_bonuses_grant_due(*, now: dt.datetime | None = None) -> int:
    """Give each recipient of a bonus campaign who bought within the window its bonus.

    Set-based: one query finds recipients (not held out, no bonus yet) with a
    purchase in [run start, run start + window) among runs whose window is
    open or closed less than a day ago; each gets `points_bonus_grant` with the
    key "campaign-bonus:<run>:<member>" (at most once, even if this job and a
    retry race), then its recipient row is stamped. Returns how many were given.
    """
    from rewards.models import Purchase
    from rewards.services import points_bonus_grant

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
                reason=_("Campaign “%(name)s”: bought within %(days)s days")
                % {"name": run.campaign.name, "days": run.campaign.window_days},
                idempotency_key=f"campaign-bonus:{run.pk}:{recipient.member_id}",
            )
            CampaignRecipient.objects.filter(pk=recipient.pk).update(
                bonus_granted_at=now
            )
            given += 1
    return given


# --- the test send -------------------------------------------------------------------


def campaign_test_send(
    *, campaign: Campaign, member: Member, user: User, label: str = VariantLabel.A
) -> Message | None:
    """Send a variant, rendered with `member`'s data, to the staff user's email.

    Goes through message_send (key "campaign-test:<campaign>:<user>:<n>", not
    marketing) so it is recorded like any other message; queues its delivery
    on commit.
    """
    from campaigns.messaging import message_send

    if not user.email:
        raise InvalidInput(_("Your staff account has no email address."), field="email")
    variant = campaign.variants.filter(label=label).first()
    if variant is None or not variant.languages():
        raise InvalidInput(
            _("Variant %(label)s has no text yet.") % {"label": label}, field="variant"
        )
    language, subject, body = campaign_render(
        campaign=campaign, variant=variant, member=member
    )
    sent_before = Message.objects.filter(
        member=member, key__startswith=f"campaign-test:{campaign.pk}:{user.pk}:"
    ).count()
    return message_send(
        member=member,
        key=f"campaign-test:{campaign.pk}:{user.pk}:{sent_before + 1}",
        kind=TEST_KIND,
        subject=_("[Test] %(subject)s") % {"subject": subject or campaign.name},
        body=body,
        channel=Channel.EMAIL,
        marketing=False,
        campaign=campaign,
        variant=variant,
        to=user.email,
    )


def campaign_render(
    *, campaign: Campaign, variant: CampaignVariant, member: Member
) -> tuple[str, str, str]:
    """(language, subject, body) of a variant for one member, as the fan-out would
    render it (a coupon shows as a sample code: none is granted for a preview)."""
    member = Member.objects.select_related("account__tier").get(pk=member.pk)
    now = timezone.now()
    recipient = CampaignRecipient(member=member)
    expiring = _facts_for([recipient], now).get(member.pk)
    coupon = "SAMPLE-CODE" if campaign.promotion == PromotionKind.COUPON else ""
    facts = member_facts(member, expiring=expiring, coupon_code=coupon)
    texts = _Texts({variant.label: variant})
    return texts.render(
        variant.label,
        member.language,
        member_context(
            facts, rewards_by_cost(), Suggestions([member.pk], now).context(member)
        ),
    )


def campaign_save(*, campaign: Campaign, user: User | None = None) -> Campaign:
    """Save a campaign's settings (admin form); only while it is editable.

    A new campaign records its author. Checks nothing about the texts: they
    are checked when it is scheduled or sent.
    """
    if campaign.pk and not Campaign.objects.get(pk=campaign.pk).is_editable:
        raise InvalidInput(
            _("A campaign that went out cannot be changed."), field="status"
        )
    if campaign.pk is None and user is not None and user.is_authenticated:
        campaign.created_by = user
    if campaign.channel not in CampaignChannel.values:
        raise InvalidInput(_("Choose a channel."), field="channel")
    campaign.save()
    return campaign


__all__ = [
    "CHUNK_SIZE",
    "ChunkResult",
    "campaign_bonuses_grant_due",
    "campaign_cancel",
    "campaign_chunk_send",
    "campaign_problems",
    "campaign_render",
    "campaign_save",
    "campaign_schedule",
    "campaign_send_now",
    "campaign_test_send",
    "campaign_unknown_variables",
    "campaigns_dispatch_due",
    "schedule_time_problem",
    "recipient_group",
]
