"""Celery tasks of the feedback area (imported by campaigns.tasks so the
worker finds them; their names stay campaigns.tasks_feedback.*): the hourly
post-purchase survey invitations."""

from celery import shared_task

from campaigns.feedback import invites, surveys


@shared_task(
    name="campaigns.tasks_feedback.survey_invites_send_due",
    time_limit=300,
    soft_time_limit=270,
)
def survey_invites_send_due() -> int:
    """Queue invitations for every purchase, registration and resolved
    complaint due one (one query per survey and trigger, fanned out in chunks
    of 200)."""
    return surveys.survey_invites_queue_due() + invites.survey_invites_queue_other_due()


@shared_task(
    name="campaigns.tasks_feedback.survey_invites_send",
    time_limit=300,
    soft_time_limit=270,
)
def survey_invites_send(survey_id: int, purchase_ids: list[int]) -> int:
    """Invite one chunk of purchases; a rerun skips those already invited."""
    return surveys.survey_invites_send(survey_id=survey_id, purchase_ids=purchase_ids)


@shared_task(
    name="campaigns.tasks_feedback.survey_invites_send_members",
    time_limit=300,
    soft_time_limit=270,
)
def survey_invites_send_members(
    survey_id: int, trigger: str, member_ids: list[int]
) -> int:
    """Invite one chunk of members (after registration or sent to a segment);
    a rerun skips those already invited."""
    return invites.survey_invites_send_members(
        survey_id=survey_id, trigger=trigger, member_ids=member_ids
    )


@shared_task(
    name="campaigns.tasks_feedback.survey_invites_send_complaints",
    time_limit=300,
    soft_time_limit=270,
)
def survey_invites_send_complaints(survey_id: int, complaint_ids: list[int]) -> int:
    """Invite the members of one chunk of resolved complaints, once each."""
    return invites.survey_invites_send_complaints(
        survey_id=survey_id, complaint_ids=complaint_ids
    )
