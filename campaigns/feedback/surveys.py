"""Writes of surveys: a member's answer, and the post-purchase invitations
(found in one query per survey, queued by name in chunks, each sent once per
purchase through `campaigns.messaging.services.message_send`)."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from campaigns.feedback.answers import (
    answer_check,
    answers_write,
    question_field,
    survey_headline,
    survey_questions_ensure,
)
from campaigns.feedback.selectors import (
    survey_link_url,
    survey_purchases_due,
    surveys_post_purchase_active,
)
from campaigns.messaging.services import message_send
from campaigns.models import Campaign, Survey, SurveyInvitation, SurveyResponse
from campaigns.queueing import task_queue
from members.errors import Conflict, InvalidInput
from members.messages import member_channel
from members.models import Member
from rewards.models import Purchase

COMMENT_MAX = 2000
INVITE_CHUNK = 200
INVITES_SEND_TASK = "campaigns.tasks_feedback.survey_invites_send"


def survey_response_submit(
    *,
    survey: Survey,
    member: Member,
    purchase: Purchase | None,
    score=None,
    comment: str = "",
    answers: dict | None = None,
    answered_at: dt.datetime | None = None,
    campaign: Campaign | None = None,
) -> SurveyResponse:
    """Store a member's answers: once per (survey, member, purchase).
    `campaign`: the campaign whose link they answered through (the answer is
    attributed to it).

    `answers` maps a question id to its answer (a score, a choice id, a list of
    choice ids, a text); `score` answers the headline question (the NPS one of
    an NPS survey, the 1–5 one of a satisfaction survey), whose answer is also
    kept as SurveyResponse.score for the figures. `answered_at` is for imported
    or demo history; by default now.

    Refuses a switched-off survey, a missing required answer or one out of its
    question's bounds (InvalidInput naming the form field: "score" or
    "q<question id>"), another member's purchase (InvalidInput) and a second
    answer (Conflict, also under a race: the unique constraint decides). Saves
    the headline question of a survey that has none yet (locking the survey
    row); queues nothing.
    """
    if not survey.active:
        raise InvalidInput(_("This survey is closed."), field=None)
    questions = survey_questions_ensure(survey=survey)
    headline = survey_headline(survey, questions)
    given = dict(answers or {})
    if headline is not None and score is not None and headline.pk not in given:
        given[headline.pk] = score
    checked = []
    for question in questions:
        value = given.get(question.pk, given.get(str(question.pk)))
        found = answer_check(question, value, field=question_field(question, headline))
        if found is not None:
            checked.append(found)
    headline_score = next((c.number for c in checked if c.question is headline), None)
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise InvalidInput(
            _("Keep the comment under %(max)s characters.") % {"max": COMMENT_MAX},
            field="comment",
        )
    if purchase is not None and purchase.member_id != member.pk:
        raise InvalidInput(_("Choose one of your own purchases."), field="purchase")
    already = _("You have already answered this survey. Thank you!")
    if SurveyResponse.objects.filter(
        survey=survey, member=member, purchase=purchase
    ).exists():
        raise Conflict(already, field=None)
    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(
                survey=survey,
                member=member,
                purchase=purchase,
                store_id=purchase.store_id if purchase else None,
                score=headline_score,
                comment=comment,
                campaign=campaign,
                created_at=answered_at or timezone.now(),
            )
            answers_write(response, checked)
            return response
    except IntegrityError:
        raise Conflict(already, field=None) from None


def survey_invites_queue_due(
    *, now: dt.datetime | None = None, chunk: int = INVITE_CHUNK
) -> int:
    """Find the purchases due an invitation (one query per post-purchase survey)
    and queue `survey_invites_send` for them in chunks of `chunk`. Returns how
    many purchases were queued. Writes nothing itself; safe to run twice (the
    chunks skip what is already invited)."""
    queued = 0
    for survey in surveys_post_purchase_active():
        ids = survey_purchases_due(survey=survey, now=now)
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            task_queue(INVITES_SEND_TASK, survey.pk, part)
            queued += len(part)
    return queued


def _invite_text(survey: Survey, member: Member, purchase: Purchase) -> tuple[str, str]:
    link = survey_link_url(survey=survey, member=member, purchase=purchase)
    with translation.override(member.language):
        subject = _("Tell us how we did")
        body = _(
            "Thank you for shopping at %(store)s. %(question)s "
            "Answer in one tap: %(link)s"
        ) % {
            "store": purchase.store.name,
            "question": survey.question,
            "link": link,
        }
    return str(subject), str(body)


def survey_invites_send(*, survey_id: int, purchase_ids: list[int]) -> int:
    """Invite the members of these purchases to the survey, once per purchase.

    Per purchase, one transaction writes the SurveyInvitation (unique per survey
    and purchase: a rerun or a concurrent worker skips it) and the Message (key
    `survey:<survey id>:<purchase id>`, sent after commit) on the channel of
    `members.messages.member_channel` for a marketing message: the member's
    preferred one, else email, else SMS, among those they agreed to and have
    an address for; none, no message (the invitation row still stops a retry). Returns how
    many messages were written. Quiet when the survey is gone or switched off.
    """
    survey = Survey.objects.filter(
        pk=survey_id, active=True, post_purchase=True
    ).first()
    if survey is None:
        return 0
    done = set(
        SurveyInvitation.objects.filter(
            survey=survey, purchase_id__in=purchase_ids
        ).values_list("purchase_id", flat=True)
    )
    purchases = (
        Purchase.objects.filter(pk__in=[p for p in purchase_ids if p not in done])
        .select_related("member", "store")
        .order_by("pk")
    )
    sent = 0
    for purchase in purchases:
        member = purchase.member
        # The one channel rule; only a channel the member agreed to is asked on.
        channel = member_channel(member, marketing=True)
        if channel is not None and not getattr(member, f"{channel}_consent"):
            channel = None
        try:
            with transaction.atomic():
                invitation = SurveyInvitation.objects.create(
                    survey=survey, purchase=purchase, member=member
                )
                if channel is None:
                    continue
                subject, body = _invite_text(survey, member, purchase)
                invitation.message = message_send(
                    member=member,
                    key=f"survey:{survey.pk}:{purchase.pk}",
                    kind="survey_invite",
                    subject=subject,
                    body=body,
                    channel=channel,
                    marketing=True,
                )
                invitation.save(update_fields=["message"])
                sent += invitation.message is not None
        except IntegrityError:
            continue  # another run invited this purchase first
    return sent
