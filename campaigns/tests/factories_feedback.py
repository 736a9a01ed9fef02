"""Makers for the feedback tests: surveys, answers and purchases."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from campaigns.feedback.selectors import survey_for_prompt_forget
from campaigns.models import Survey, SurveyKind, SurveyResponse
from rewards.services import purchase_record

_receipts = itertools.count(1)


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
