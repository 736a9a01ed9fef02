"""What campaigns adds to a member's export and erases of them (members.privacy).

The export: the messages sent to them, their complaints with each message of
the thread, their survey answers and invitations, and their event sign-ups.
Erasure: the texts that name or quote them. campaigns.apps registers both parts.
"""

from __future__ import annotations

from typing import Any

from campaigns.models import (
    Complaint,
    ComplaintMessage,
    EventRsvp,
    Message,
    OutboxEntry,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
)
from members.models import Member
from members.privacy import (
    ERASED_TEXT,
    erasure_part_register,
    export_part_register,
    export_row,
)


def campaigns_export(member: Member) -> dict[str, Any]:
    """What campaigns keeps about the member, in a fixed number of queries.
    A message's tracking token and a survey link's token are keys, not data."""
    complaints = Complaint.objects.filter(member=member).prefetch_related("messages")
    return {
        "messages": [
            export_row(m, exclude=("token",))
            for m in Message.objects.filter(member=member).order_by("created_at", "id")
        ],
        "complaints": [
            {**export_row(c), "messages": [export_row(m) for m in c.messages.all()]}
            for c in complaints.order_by("created_at", "id")
        ],
        "survey_invitations": [
            export_row(i, exclude=("token",))
            for i in SurveyInvitation.objects.filter(member=member).order_by("pk")
        ],
        "survey_responses": [
            {
                **export_row(r),
                "answers": [
                    {
                        **export_row(a),
                        "choices": [c.pk for c in a.choices.all()],
                    }
                    for a in r.answers.all()
                ],
            }
            for r in SurveyResponse.objects.filter(member=member)
            .prefetch_related("answers__choices")
            .order_by("pk")
        ],
        "event_rsvps": [
            export_row(r)
            for r in EventRsvp.objects.filter(member=member).order_by("pk")
        ],
    }


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
    """Called from CampaignsConfig.ready(); positions as members.privacy lists them."""
    export_part_register(name="campaigns.history", position=500, build=campaigns_export)
    erasure_part_register(
        name="campaigns.messages", position=200, erase=messages_and_feedback_erase
    )
