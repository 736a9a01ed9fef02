"""Builders for the campaigns tests: many members cheaply, a segment, a
campaign; surveys, answers and purchases for the feedback tests."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from campaigns.feedback.selectors import survey_for_prompt_forget
from campaigns.models import (
    Campaign,
    CampaignVariant,
    QuestionKind,
    Segment,
    SegmentKind,
    SegmentStaticMember,
    Survey,
    SurveyChoice,
    SurveyKind,
    SurveyQuestion,
    SurveyResponse,
)
from campaigns.models.delivery import DeliverySettings
from members.models import Member
from rewards.services import purchase_record

_receipts = itertools.count(1)


def members_bulk(
    n: int, *, start: int = 0, email: bool = True, **fields
) -> list[Member]:
    """`n` members in one insert (no points account: balance reads as 0), who
    agreed to offers by email and SMS unless `fields` say otherwise."""
    fields = {"email_consent": True, "sms_consent": True, **fields}
    Member.objects.bulk_create(
        Member(
            card_number=f"99{start + i:010d}",
            phone=f"+38050{start + i:07d}",
            email=f"bulk{start + i}@example.com" if email else None,
            first_name=f"Name{start + i}",
            referral_code=f"RB{start + i:08d}",
            language="en",
            **fields,
        )
        for i in range(n)
    )
    return list(Member.objects.filter(card_number__startswith="99").order_by("pk"))


def segment_all(name: str = "Everyone") -> Segment:
    return Segment.objects.create(name=name, kind=SegmentKind.RULES, definition={})


def segment_of(members, name: str = "List") -> Segment:
    segment = Segment.objects.create(name=name, kind=SegmentKind.STATIC)
    SegmentStaticMember.objects.bulk_create(
        SegmentStaticMember(segment=segment, member=m) for m in members
    )
    return segment


def campaign_make(
    *,
    segment: Segment | None = None,
    body_a: str = "Hi {{ first_name }}, you have {{ balance }} points.",
    body_b: str | None = None,
    **fields,
) -> Campaign:
    # Campaign tests are not about quiet hours (delivery's are): without this an
    # SMS campaign test would be held back when it runs at night in Kyiv.
    DeliverySettings.objects.update_or_create(
        pk=1, defaults={"quiet_start": dt.time(0), "quiet_end": dt.time(0)}
    )
    campaign = Campaign.objects.create(
        name=fields.pop("name", "Spring"),
        segment=segment or segment_all(),
        channel=fields.pop("channel", "email"),
        **fields,
    )
    CampaignVariant.objects.create(
        campaign=campaign, label="A", subject_en="Hello A", body_en=body_a
    )
    if body_b is not None:
        CampaignVariant.objects.create(
            campaign=campaign, label="B", subject_en="Hello B", body_en=body_b
        )
    return campaign


def survey_make(**fields) -> Survey:
    values = {
        "name": "After purchase",
        "kind": SurveyKind.NPS,
        "question_en": "How likely are you to recommend us?",
        "question_uk": "Наскільки ймовірно, що ви порадите нас?",
        **fields,
    }
    survey = Survey.objects.create(**values)
    survey_for_prompt_forget()  # as SurveyAdmin does on a save
    return survey


def purchase_make(*, member, store, ago: dt.timedelta = dt.timedelta(0), total="100"):
    purchase, _replayed = purchase_record(
        store=store,
        member=member,
        receipt_id=f"FB{next(_receipts)}",
        total=total,
        occurred_at=timezone.now() - ago,
    )
    return purchase


def response_make(*, survey, member, score, when=None, purchase=None, store=None):
    return SurveyResponse.objects.create(
        survey=survey,
        member=member,
        purchase=purchase,
        store=store or (purchase.store if purchase else None),
        score=score,
        created_at=when or timezone.now(),
    )


def question_make(survey, kind, *, text="", order=0, required=True, choices=()):
    """A question of `survey` (its text in en and uk) with these choices (texts,
    or (text, reward) pairs)."""
    text = text or f"Question {kind}"
    question = SurveyQuestion.objects.create(
        survey=survey,
        kind=kind,
        order=order,
        required=required,
        text_en=text,
        text_uk=f"{text} (uk)",
    )
    for n, choice in enumerate(choices):
        label, reward = choice if isinstance(choice, tuple) else (choice, None)
        SurveyChoice.objects.create(
            question=question, order=n, text_en=label, text_uk=label, reward=reward
        )
    return question


def wishes_survey_make(*, wish_choices=("Coffee", "Cake", "Cinema"), **fields):
    """A survey of kind "questions": several choices, one choice, 1–5, text."""
    survey = survey_make(
        name="Wishes",
        kind=SurveyKind.QUESTIONS,
        question_en="A few questions",
        **fields,
    )
    wish = question_make(
        survey,
        QuestionKind.MULTIPLE,
        text="Which rewards?",
        order=1,
        choices=wish_choices,
    )
    often = question_make(
        survey,
        QuestionKind.SINGLE,
        text="How often?",
        order=2,
        choices=("Monthly", "Yearly"),
    )
    happy = question_make(survey, QuestionKind.SCORE, text="How happy?", order=3)
    other = question_make(
        survey, QuestionKind.TEXT, text="Anything else?", order=4, required=False
    )
    return survey, wish, often, happy, other
