"""Every write to a campaign itself: save, schedule, send now, cancel, the test
send, the per-minute dispatcher and the start of a run (recipients frozen by one
INSERT ... SELECT of the segment's query, chunks planned and queued by name).
The chunks themselves and the campaign bonus: campaigns.sending.chunks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, Max, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.locks import campaign_due_claim, campaign_lock, chunks_stale_claim
from campaigns.messaging.services import message_send
from campaigns.messaging.templating import template_check
from campaigns.models import (
    Campaign,
    CampaignChannel,
    CampaignChunk,
    CampaignRecipient,
    CampaignRun,
    CampaignStatus,
    Message,
    PromotionKind,
    Recurrence,
    RunStatus,
    SurveyResponse,
    VariantLabel,
)
from campaigns.queueing import task_queue
from campaigns.segments.selectors import segment_members
from campaigns.sending.rendering import campaign_render
from members.audit import StaffActor, audited_delete, staff_audit_record
from members.errors import InvalidInput
from members.models import AuditAction, Channel, Member, User

log = logging.getLogger(__name__)

CHUNK_SIZE = 1000  # settings.CAMPAIGN_CHUNK_SIZE overrides it
# A chunk queued this long ago and still not done is queued again by the dispatcher
# (its task was lost: broker restarted, message dropped).
CHUNK_STALE_AFTER = dt.timedelta(minutes=15)
MESSAGE_KIND = "campaign"
CHUNK_SEND_TASK = "campaigns.tasks.campaign_chunk_send"
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
    problems.extend(_survey_problems(campaign, variants.values()))
    for variant in variants.values():
        for lang in variant.languages():
            for text in (
                getattr(variant, f"subject_{lang}"),
                getattr(variant, f"body_{lang}"),
            ):
                problems.extend(template_check(text).errors)
    return problems


SURVEY_LINK_RE = re.compile(r"\{\{\s*survey_link\s*[|}]")


def _survey_problems(campaign: Campaign, variants) -> list[str]:
    """A survey campaign's text must carry the link in every language it is
    written in; a link without a survey, or to a closed one, goes nowhere."""
    bodies = [
        getattr(variant, f"body_{lang}") or ""
        for variant in variants
        for lang in variant.languages()
    ]
    if campaign.survey_id is None:
        if any(SURVEY_LINK_RE.search(body) for body in bodies):
            return [_("Choose the survey that {{ survey_link }} leads to.")]
        return []
    problems = []
    if not campaign.survey.active:
        problems.append(_("The campaign's survey is closed; choose an open one."))
    if not all(SURVEY_LINK_RE.search(body) for body in bodies):
        problems.append(
            _(
                "Put {{ survey_link }} in the text of every language, where "
                "each member's own survey link goes."
            )
        )
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
    *, campaign: Campaign, at: dt.datetime, actor: StaffActor | None = None
) -> Campaign:
    """Plan a draft (or re-plan a scheduled) campaign for `at`.

    `at` may not be more than SCHEDULE_GRACE in the past (campaign_send_now
    sends at once). Locks the campaign row; writes the staff audit row of
    `actor`. Queues nothing: the dispatcher starts it when due.
    """
    with transaction.atomic():
        locked = campaign_lock(campaign_id=campaign.pk)
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
        staff_audit_record(
            actor=actor,
            action=AuditAction.CAMPAIGN_SCHEDULED,
            obj=locked,
            details={"at": at.isoformat()},
        )
    return locked


def campaign_send_now(
    *, campaign: Campaign, actor: StaffActor | None = None
) -> CampaignRun:
    """Start a draft or scheduled campaign at once (see _run_start). Locks the
    campaign row; writes the staff audit row of `actor`; queues the run's
    chunks on commit."""
    with transaction.atomic():
        locked = campaign_lock(campaign_id=campaign.pk)
        if not locked.is_editable:
            raise InvalidInput(
                _("This campaign is already %(status)s.")
                % {"status": locked.get_status_display().lower()},
                field="status",
            )
        problems = campaign_problems(locked)
        if problems:
            raise InvalidInput(" ".join(problems), field="variants")
        run = _run_start(locked, now=timezone.now())
        staff_audit_record(
            actor=actor,
            action=AuditAction.CAMPAIGN_SENT,
            obj=locked,
            details={"run": run.pk},
        )
        return run


def campaign_cancel(*, campaign: Campaign, actor: StaffActor | None = None) -> Campaign:
    """Cancel a campaign that has not finished. Chunks not yet sent send nothing.

    Locks the campaign row; a run in progress is marked cancelled, its chunks
    still count themselves done (so nothing is left waiting). Writes the staff
    audit row of `actor`; queues nothing.
    """
    with transaction.atomic():
        locked = campaign_lock(campaign_id=campaign.pk)
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
        staff_audit_record(
            actor=actor, action=AuditAction.CAMPAIGN_CANCELLED, obj=locked
        )
    return locked


# --- starting a run ------------------------------------------------------------------


def _run_key(campaign: Campaign, number: int) -> str:
    if campaign.recurrence == Recurrence.NONE and number == 1:
        return f"campaign:{campaign.pk}"
    return f"campaign:{campaign.pk}:{number}"


def _recipients_freeze(run: CampaignRun, campaign: Campaign) -> int:
    """Copy the segment's members into the run with one INSERT ... SELECT;
    with a survey, those who answered it already (not about a purchase, as
    its link asks) are left out: nobody is asked twice."""
    members = segment_members(campaign.segment)
    if campaign.survey_id:
        answered = SurveyResponse.objects.filter(
            survey_id=campaign.survey_id, member=OuterRef("pk"), purchase__isnull=True
        )
        members = members.filter(~Exists(answered))
    members = members.order_by().values(frozen_id=F("pk"))
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
        run_finish(run.pk)
    else:
        chunk_ids = list(
            CampaignChunk.objects.filter(run=run).values_list("pk", flat=True)
        )
        transaction.on_commit(lambda: _chunks_queue(chunk_ids))
    return run


def _chunks_queue(chunk_ids: list[int]) -> None:
    for chunk_id in chunk_ids:
        task_queue(CHUNK_SEND_TASK, chunk_id)


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


def run_finish(run_id: int) -> bool:
    """Mark a run sent once all its chunks are done; plan a recurring campaign's next run."""
    now = timezone.now()
    done = CampaignRun.objects.filter(
        pk=run_id, status=RunStatus.SENDING, chunks_done=F("chunks_total")
    )
    run = done.only("campaign_id").first()
    if run is None:
        return False
    with transaction.atomic():
        # The campaign before its run, the order campaign_cancel takes them in
        # (rewards/locks.py): a cancel racing the end of a run cannot deadlock.
        campaign = campaign_lock(campaign_id=run.campaign_id)
        if not done.update(status=RunStatus.SENT, finished_at=now):
            return False
        run = CampaignRun.objects.get(pk=run_id)
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
            campaign = campaign_due_claim(now=now)
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
        run_finish(run_id)
    return started


def _stale_chunks_requeue(now: dt.datetime) -> int:
    with transaction.atomic():
        stale = chunks_stale_claim(queued_before=now - CHUNK_STALE_AFTER, limit=500)
        if stale:
            CampaignChunk.objects.filter(pk__in=stale).update(queued_at=now)
            transaction.on_commit(lambda: _chunks_queue(stale))
    return len(stale)


# --- the test send -------------------------------------------------------------------


def campaign_test_send(
    *, campaign: Campaign, member: Member, user: User, label: str = VariantLabel.A
) -> Message | None:
    """Send a variant, rendered with `member`'s data, to the staff user's email.

    Goes through message_send (key "campaign-test:<campaign>:<user>:<n>", not
    marketing) so it is recorded like any other message; queues its delivery
    on commit.
    """
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


def campaign_delete(*, campaign: Campaign, actor: StaffActor | None = None) -> None:
    """Delete a draft campaign and its texts, with the audit row of `actor`.
    Anything scheduled or sent is refused: its runs and messages are history.
    Locks the campaign row; queues nothing."""
    with transaction.atomic():
        locked = campaign_lock(campaign_id=campaign.pk)
        if locked.status != CampaignStatus.DRAFT:
            raise InvalidInput(
                _("Only a draft campaign can be deleted; cancel it instead."),
                field="status",
            )
        audited_delete(obj=locked, actor=actor)


__all__ = [
    "CHUNK_SIZE",
    "campaign_cancel",
    "campaign_delete",
    "campaign_problems",
    "campaign_save",
    "campaign_schedule",
    "campaign_send_now",
    "campaign_test_send",
    "campaign_unknown_variables",
    "campaigns_dispatch_due",
    "schedule_time_problem",
    "recipient_group",
]
