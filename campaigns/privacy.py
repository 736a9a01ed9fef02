"""What campaigns erases of a member (members.privacy): the texts that name or
quote them. It adds nothing to the export. campaigns.apps registers the part.
"""

from __future__ import annotations

from campaigns.models import (
    ComplaintMessage,
    Message,
    OutboxEntry,
    SurveyAnswer,
    SurveyResponse,
)
from members.models import Member
from members.privacy import ERASED_TEXT, erasure_part_register


def messages_and_feedback_erase(member: Member) -> None:
    """The messages sent to the member (address, subject, text) and their copies
    in the outbox, what was written on their complaints (theirs and staff
    replies, which greet them by name), and their survey comments and written
    answers. The rows stay, so message counts, complaint times, NPS scores and
    the counts of choices are unchanged."""
    tokens = Message.objects.filter(member=member).values("token")
    OutboxEntry.objects.filter(reference__in=tokens).update(
        to="", subject="", body=ERASED_TEXT, html="", headers={}
    )
    Message.objects.filter(member=member).update(to="", subject="", body=ERASED_TEXT)
    ComplaintMessage.objects.filter(complaint__member=member).update(body=ERASED_TEXT)
    SurveyResponse.objects.filter(member=member).exclude(comment="").update(
        comment=ERASED_TEXT
    )
    SurveyAnswer.objects.filter(response__member=member).exclude(text="").update(
        text=ERASED_TEXT
    )


def privacy_parts_register() -> None:
    """Called from CampaignsConfig.ready(); position as members.privacy lists it."""
    erasure_part_register(
        name="campaigns.messages", position=200, erase=messages_and_feedback_erase
    )
