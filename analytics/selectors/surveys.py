"""Results of a survey question by question (counts per score or choice, the
NPS of an NPS question, average of a 1–5 one, the free texts), its answers as
CSV rows, and the rewards members wished for next to those they redeemed.

Reads the live feedback tables of the campaigns app (surveys are small next
to purchases): a fixed handful of queries per survey, whatever its size.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from campaigns.feedback.answers import survey_questions
from campaigns.feedback.selectors import DETRACTOR_MAX, PROMOTER_MIN
from campaigns.models import (
    Campaign,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyChoice,
    SurveyQuestion,
    SurveyResponse,
)
from rewards.models import Voucher, VoucherSource, VoucherStatus

TEXTS_SHOWN = 50
WISH_DAYS = 365


@dataclass
class ResultRow:
    label: str
    count: int
    percent: float | None


@dataclass
class NpsSplit:
    promoters: int
    passives: int
    detractors: int
    score: float | None


@dataclass
class QuestionResult:
    question: SurveyQuestion
    answered: int
    rows: list[ResultRow] = field(default_factory=list)
    average: float | None = None
    nps: NpsSplit | None = None
    texts: list[dict] = field(default_factory=list)


def _percent(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


def survey_results(
    *, survey: Survey, campaign: Campaign | None = None
) -> tuple[int, list[QuestionResult]]:
    """(responses, results of each question in order), of every answer or of
    those given through `campaign`'s links. Five queries: the questions and
    their choices, the responses, answers per question and score, choices
    chosen, the newest free texts."""
    questions = [q for q in survey_questions(survey=survey) if q.pk]
    by_campaign = Q() if campaign is None else Q(response__campaign=campaign)
    responses = SurveyResponse.objects.filter(survey=survey)
    if campaign is not None:
        responses = responses.filter(campaign=campaign)
    responses = responses.count()
    answered: dict[int, int] = defaultdict(int)
    numbers: dict[int, dict[int, int]] = defaultdict(dict)
    for row in (
        SurveyAnswer.objects.filter(by_campaign, question__survey=survey)
        .values("question_id", "number")
        .annotate(n=Count("id"))
        .order_by()
    ):
        answered[row["question_id"]] += row["n"]
        if row["number"] is not None:
            numbers[row["question_id"]][row["number"]] = row["n"]
    chosen_filter = (
        None if campaign is None else Q(answers__response__campaign=campaign)
    )
    chosen = dict(
        SurveyChoice.objects.filter(question__survey=survey)
        .annotate(n=Count("answers", filter=chosen_filter))
        .values_list("pk", "n")
    )
    texts: dict[int, list[dict]] = defaultdict(list)
    text_rows = (
        SurveyAnswer.objects.filter(
            by_campaign, question__survey=survey, question__kind=QuestionKind.TEXT
        )
        .exclude(text="")
        .order_by("-response__created_at", "-id")
        .values("question_id", "text", "response__created_at", "response__member_id")
    )
    for row in text_rows[: TEXTS_SHOWN * max(1, len(questions))]:
        if len(texts[row["question_id"]]) < TEXTS_SHOWN:
            texts[row["question_id"]].append(
                {
                    "text": row["text"],
                    "created_at": row["response__created_at"],
                    "member_id": row["response__member_id"],
                }
            )
    results = []
    for q in questions:
        total = answered.get(q.pk, 0)
        result = QuestionResult(question=q, answered=total)
        if q.is_scored:
            counts = numbers.get(q.pk, {})
            result.rows = [
                ResultRow(str(n), counts.get(n, 0), _percent(counts.get(n, 0), total))
                for n in range(q.score_min, q.score_max + 1)
            ]
            if total:
                result.average = round(sum(n * c for n, c in counts.items()) / total, 2)
            if q.kind == QuestionKind.NPS:
                promoters = sum(c for n, c in counts.items() if n >= PROMOTER_MIN)
                detractors = sum(c for n, c in counts.items() if n <= DETRACTOR_MAX)
                result.nps = NpsSplit(
                    promoters=promoters,
                    passives=total - promoters - detractors,
                    detractors=detractors,
                    score=(
                        round((promoters - detractors) * 100 / total, 1)
                        if total
                        else None
                    ),
                )
        elif q.has_choices:
            # For several choices the percent is of the members who answered.
            result.rows = [
                ResultRow(
                    c.text, chosen.get(c.pk, 0), _percent(chosen.get(c.pk, 0), total)
                )
                for c in q.choices.all()
            ]
        else:
            result.texts = texts.get(q.pk, [])
        results.append(result)
    return responses, results


def survey_responses_by_campaign(*, survey: Survey) -> list[dict]:
    """The campaigns that carried the survey with their answers (id, name,
    responses), most answers first. One query."""
    return list(
        SurveyResponse.objects.filter(survey=survey, campaign__isnull=False)
        .values("campaign_id", "campaign__name")
        .annotate(responses=Count("id"))
        .order_by("-responses", "campaign__name")
    )


def survey_answers_csv_rows(*, survey: Survey) -> Iterator[list]:
    """The header, then one row per response (oldest first): when, card,
    store, each question's answer (a score, the choices joined by "; ", the
    text), the comment and the campaign whose link it came through (empty
    for other invitations). Cells go through members.csvexport. Three
    queries per 2,000 responses."""
    questions = [q for q in survey_questions(survey=survey) if q.pk]
    yield [
        "answered_at",
        "card_number",
        "store",
        *[q.text for q in questions],
        "comment",
        "campaign",
    ]
    responses = (
        SurveyResponse.objects.filter(survey=survey)
        .select_related("member", "store", "campaign")
        .prefetch_related("answers__choices")
        .order_by("created_at", "pk")
    )
    for response in responses.iterator(chunk_size=2000):
        by_question = {a.question_id: a for a in response.answers.all()}
        cells = []
        for q in questions:
            answer = by_question.get(q.pk)
            if answer is None:
                cells.append("")
            elif q.is_scored:
                cells.append(answer.number)
            elif q.has_choices:
                cells.append("; ".join(c.text for c in answer.choices.all()))
            else:
                cells.append(answer.text)
        yield [
            timezone.localtime(response.created_at).isoformat(timespec="minutes"),
            response.member.card_number,
            response.store.name if response.store_id else "",
            *cells,
            response.comment,
            response.campaign.name if response.campaign_id else "",
        ]


@dataclass
class WishRow:
    reward_id: int
    reward: str
    wished: int
    wished_percent: float | None
    redeemed: int
    redeemed_percent: float | None


def survey_wishes_vs_redemptions(
    *, survey: Survey, now: dt.datetime | None = None, days: int = WISH_DAYS
) -> list[WishRow]:
    """For each choice of the survey that stands for a catalog reward: how many
    members wished for it (and their share of those who answered its question)
    next to how many vouchers of it were bought with points in the last `days`
    (and its share of all such redemptions). Most wished first. Three queries."""
    choices = list(
        SurveyChoice.objects.filter(question__survey=survey, reward__isnull=False)
        .select_related("reward", "question")
        .annotate(n=Count("answers"))
        .order_by("question__order", "order", "pk")
    )
    if not choices:
        return []
    answered = dict(
        SurveyAnswer.objects.filter(question_id__in={c.question_id for c in choices})
        .values("question_id")
        .annotate(n=Count("id"))
        .values_list("question_id", "n")
        .order_by()
    )
    since = (now or timezone.now()) - dt.timedelta(days=days)
    redeemed = dict(
        Voucher.objects.filter(source=VoucherSource.REDEEMED, issued_at__gte=since)
        .filter(~Q(status=VoucherStatus.CANCELLED))
        .values("reward_id")
        .annotate(n=Count("id"))
        .values_list("reward_id", "n")
        .order_by()
    )
    all_redeemed = sum(redeemed.values())
    rows = [
        WishRow(
            reward_id=c.reward_id,
            reward=c.reward.name,
            wished=c.n,
            wished_percent=_percent(c.n, answered.get(c.question_id, 0)),
            redeemed=redeemed.get(c.reward_id, 0),
            redeemed_percent=_percent(redeemed.get(c.reward_id, 0), all_redeemed),
        )
        for c in choices
    ]
    return sorted(rows, key=lambda r: (-r.wished, r.reward))
