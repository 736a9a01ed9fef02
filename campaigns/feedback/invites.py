"""Survey invitations for the triggers besides a purchase: after a member
registers, after a complaint is resolved, and sent to a segment by staff (the
post-purchase ones are in campaigns.feedback.surveys).

Every trigger writes one SurveyInvitation per member (registration, segment)
or per complaint, held by a unique constraint, before its message, in one
transaction; the message goes through `campaigns.messaging.services.message_send`
(marketing: consent, quiet hours and the frequency cap apply there) after commit,
once per key `survey:<survey>:<trigger>:<member or complaint>`. Found in one
query per survey, queued by name in chunks.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from campaigns.feedback.selectors import survey_link_url
from campaigns.messaging.services import message_send
from campaigns.models import (
    Complaint,
    ComplaintStatus,
    Segment,
    Survey,
    SurveyInvitation,
    SurveyTrigger,
)
from campaigns.queueing import task_queue
from campaigns.segments.selectors import segment_members
from members.audit import StaffActor, staff_audit_record
from members.errors import Forbidden, InvalidInput
from members.messages import member_channel
from members.models import Member

CHUNK = 200
DUE_LIMIT = 5000
SEND_MEMBERS_TASK = "campaigns.tasks_feedback.survey_invites_send_members"
SEND_COMPLAINTS_TASK = "campaigns.tasks_feedback.survey_invites_send_complaints"
SEGMENT_PERMISSION = "campaigns.change_survey"
AUDIT_SURVEY_SENT = "survey.sent_to_segment"

_CONSENTED = (Q(email_consent=True, email__isnull=False) & ~Q(email="")) | Q(
    sms_consent=True
)


def _window(survey: Survey, now: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    newest = (now or timezone.now()) - dt.timedelta(hours=survey.delay_hours)
    return newest - dt.timedelta(days=survey.window_days), newest


def survey_members_due_registration(
    *, survey: Survey, now: dt.datetime | None = None
) -> list[int]:
    """Ids of members who enrolled inside the survey's window (older than the
    delay, younger than the delay plus the catch-up days), agreed to email or
    SMS, and were not invited after registering yet. One query."""
    oldest, newest = _window(survey, now)
    invited = SurveyInvitation.objects.filter(
        survey=survey, trigger=SurveyTrigger.REGISTRATION, member=OuterRef("pk")
    )
    return list(
        Member.objects.filter(enrolled_at__lte=newest, enrolled_at__gt=oldest)
        .filter(_CONSENTED)
        .filter(~Exists(invited))
        .order_by("enrolled_at", "pk")
        .values_list("pk", flat=True)[:DUE_LIMIT]
    )


def survey_complaints_due(
    *, survey: Survey, now: dt.datetime | None = None
) -> list[int]:
    """Ids of complaints resolved (or closed after resolving) inside the
    window, of consenting members, not invited yet. One query."""
    oldest, newest = _window(survey, now)
    invited = SurveyInvitation.objects.filter(survey=survey, complaint=OuterRef("pk"))
    consented = Q(member__email_consent=True, member__email__isnull=False) & ~Q(
        member__email=""
    ) | Q(member__sms_consent=True)
    return list(
        Complaint.objects.filter(
            status__in=[ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED],
            resolved_at__lte=newest,
            resolved_at__gt=oldest,
        )
        .filter(consented)
        .filter(~Exists(invited))
        .order_by("resolved_at", "pk")
        .values_list("pk", flat=True)[:DUE_LIMIT]
    )


def _active(**flags) -> QuerySet[Survey]:
    return Survey.objects.filter(active=True, **flags).order_by("pk")


def survey_invites_queue_other_due(
    *, now: dt.datetime | None = None, chunk: int = CHUNK
) -> int:
    """Queue the registration and resolved-complaint invitations now due, in
    chunks of `chunk` (one query per survey and trigger). Returns how many
    members and complaints were queued; writes nothing; safe to run twice."""
    queued = 0
    for survey in _active(after_registration=True):
        ids = survey_members_due_registration(survey=survey, now=now)
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            task_queue(SEND_MEMBERS_TASK, survey.pk, SurveyTrigger.REGISTRATION, part)
            queued += len(part)
    for survey in _active(after_complaint=True):
        ids = survey_complaints_due(survey=survey, now=now)
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            task_queue(SEND_COMPLAINTS_TASK, survey.pk, part)
            queued += len(part)
    return queued


def _text(survey: Survey, member: Member, trigger: str) -> tuple[str, str]:
    link = survey_link_url(survey=survey, member=member, purchase=None)
    with translation.override(member.language):
        if trigger == SurveyTrigger.REGISTRATION:
            subject = _("Welcome! A few questions for you")
            intro = _("Thank you for joining us.")
        elif trigger == SurveyTrigger.COMPLAINT:
            subject = _("Did we solve your problem?")
            intro = _("We have answered your message.")
        else:
            subject = _("A few questions for you")
            intro = _("We would like to know what you think.")
        body = _("%(intro)s %(question)s Answer here: %(link)s") % {
            "intro": intro,
            "question": survey.question,
            "link": link,
        }
    return str(subject), str(body)


def _invite(
    survey: Survey,
    member: Member,
    trigger: str,
    *,
    complaint: Complaint | None = None,
) -> bool:
    """One invitation and its message, in one transaction; False when this
    trigger already invited them (a rerun or a concurrent worker) or when they
    have no channel they agreed to (the row is still written)."""
    channel = member_channel(member, marketing=True)
    if channel is not None and not getattr(member, f"{channel}_consent"):
        channel = None
    target = complaint.pk if complaint is not None else member.pk
    try:
        with transaction.atomic():
            invitation = SurveyInvitation.objects.create(
                survey=survey, member=member, trigger=trigger, complaint=complaint
            )
            if channel is None:
                return False
            subject, body = _text(survey, member, trigger)
            invitation.message = message_send(
                member=member,
                key=f"survey:{survey.pk}:{trigger}:{target}",
                kind="survey_invite",
                subject=subject,
                body=body,
                channel=channel,
                marketing=True,
            )
            invitation.save(update_fields=["message"])
            return invitation.message is not None
    except IntegrityError:
        return False


def survey_invites_send_members(
    *, survey_id: int, trigger: str, member_ids: list[int]
) -> int:
    """Invite these members once for `trigger` (registration or a segment).
    Returns how many messages were written; quiet when the survey is gone or
    switched off."""
    if trigger not in (SurveyTrigger.REGISTRATION, SurveyTrigger.CAMPAIGN):
        return 0
    survey = Survey.objects.filter(pk=survey_id, active=True).first()
    if survey is None:
        return 0
    done = set(
        SurveyInvitation.objects.filter(
            survey=survey, trigger=trigger, member_id__in=member_ids
        ).values_list("member_id", flat=True)
    )
    members = Member.objects.filter(
        pk__in=[m for m in member_ids if m not in done]
    ).order_by("pk")
    return sum(_invite(survey, member, trigger) for member in members)


def survey_invites_send_complaints(*, survey_id: int, complaint_ids: list[int]) -> int:
    """Invite the members of these resolved complaints, once per complaint."""
    survey = Survey.objects.filter(pk=survey_id, active=True).first()
    if survey is None:
        return 0
    done = set(
        SurveyInvitation.objects.filter(
            survey=survey, complaint_id__in=complaint_ids
        ).values_list("complaint_id", flat=True)
    )
    complaints = (
        Complaint.objects.filter(pk__in=[c for c in complaint_ids if c not in done])
        .select_related("member")
        .order_by("pk")
    )
    return sum(
        _invite(survey, c.member, SurveyTrigger.COMPLAINT, complaint=c)
        for c in complaints
    )


def survey_send_to_segment(
    *, survey: Survey, segment: Segment, actor: StaffActor, chunk: int = CHUNK
) -> int:
    """Staff send the survey to a segment's members who agreed to messages and
    were not sent it before (once per member and survey). Needs
    campaigns.change_survey; audited; the invitations are queued in chunks
    after commit. Returns how many members were queued."""
    if not actor.user.has_perm(SEGMENT_PERMISSION):
        raise Forbidden(_("You may not send surveys."), field=None)
    if not survey.active:
        raise InvalidInput(_("This survey is closed."), field="survey")
    invited = SurveyInvitation.objects.filter(
        survey=survey, trigger=SurveyTrigger.CAMPAIGN, member=OuterRef("pk")
    )
    ids = list(
        segment_members(segment)
        .filter(_CONSENTED)
        .filter(~Exists(invited))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    with transaction.atomic():
        staff_audit_record(
            actor=actor,
            action=AUDIT_SURVEY_SENT,
            member_id=None,
            obj=survey,
            details={"segment": segment.pk, "members": len(ids)},
        )
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            transaction.on_commit(
                lambda part=part: task_queue(
                    SEND_MEMBERS_TASK, survey.pk, SurveyTrigger.CAMPAIGN, part
                )
            )
    return len(ids)
