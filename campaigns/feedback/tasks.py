"""Celery tasks of the feedback area (imported by campaigns.tasks so the
worker finds them; their names stay campaigns.tasks_feedback.*): the hourly
post-purchase survey invitations."""

from celery import shared_task

from campaigns.feedback import surveys


@shared_task(
    name="campaigns.tasks_feedback.survey_invites_send_due",
    time_limit=300,
    soft_time_limit=270,
)
def survey_invites_send_due() -> int:
    """Queue invitations for every purchase due one (one query per survey,
    fanned out in chunks of 200 purchases)."""
    return surveys.survey_invites_queue_due()


@shared_task(
    name="campaigns.tasks_feedback.survey_invites_send",
    time_limit=300,
    soft_time_limit=270,
)
def survey_invites_send(survey_id: int, purchase_ids: list[int]) -> int:
    """Invite one chunk of purchases; a rerun skips those already invited."""
    return surveys.survey_invites_send(survey_id=survey_id, purchase_ids=purchase_ids)
