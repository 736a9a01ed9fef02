"""Demo data of the feedback area, called by `seed_demo` after the purchase
history is written: an NPS survey asked after purchases with ~50 answers spread
over the months, a satisfaction survey, and complaints in every state (the demo
customer has one with a reply; one is resolved with goodwill points).

Everything goes through the services, as staff would do it.
"""

from __future__ import annotations

import datetime as dt

from campaigns.feedback.services import (
    complaint_assign,
    complaint_customer_reply,
    complaint_file,
    complaint_resolve,
    complaint_staff_reply,
    complaint_status_set,
)
from campaigns.feedback.surveys import survey_response_submit
from campaigns.models import Survey, SurveyKind
from demo.data import DEMO_EMAIL
from members.audit import StaffActor
from members.errors import ServiceError
from members.models import Member
from rewards.models import Purchase

NPS_ANSWERS = 50
SATISFACTION_ANSWERS = 20
# Weights of the scores 0..10: mostly happy customers, a tail of unhappy ones.
NPS_WEIGHTS = [2, 1, 1, 2, 2, 4, 5, 9, 16, 24, 22]
SATISFACTION_WEIGHTS = [1, 2, 5, 10, 8]
COMMENTS = [
    "",
    "",
    "",
    "Швидко і ввічливо.",
    "Friendly staff, quick checkout.",
    "Довго чекали на касі.",
    "Свежая выпечка, спасибо!",
    "The app did not show my points.",
    "Foarte bine!",
]


def _surveys() -> tuple[Survey, Survey]:
    nps = Survey.objects.create(
        name="NPS after purchase",
        kind=SurveyKind.NPS,
        question_en="How likely are you to recommend us to a friend?",
        question_uk="Наскільки ймовірно, що ви порадите нас другові?",
        question_ru="Насколько вероятно, что вы порекомендуете нас другу?",
        question_ro="Cât de probabil este să ne recomandați unui prieten?",
        post_purchase=True,
        delay_hours=24,
    )
    satisfaction = Survey.objects.create(
        name="Satisfaction with the store",
        kind=SurveyKind.SATISFACTION,
        question_en="How happy were you with your visit?",
        question_uk="Наскільки ви задоволені візитом?",
        question_ru="Насколько вы довольны визитом?",
        question_ro="Cât de mulțumit ați fost de vizită?",
    )
    return nps, satisfaction


def _answers(command, survey: Survey, count: int, weights: list[int]) -> int:
    rng = command.rng
    purchases = list(
        Purchase.objects.filter(occurred_at__lt=command.end - dt.timedelta(days=1))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    picked = rng.sample(purchases, min(count, len(purchases)))
    chosen = Purchase.objects.select_related("member", "store").filter(pk__in=picked)
    written = 0
    for purchase in chosen:
        score = rng.choices(range(len(weights)), weights=weights)[0] + survey.score_min
        survey_response_submit(
            survey=survey,
            member=purchase.member,
            purchase=purchase,
            score=score,
            comment=rng.choice(COMMENTS),
            answered_at=purchase.occurred_at + dt.timedelta(hours=rng.randint(24, 72)),
        )
        written += 1
    return written


def _complaints(command) -> int:
    staff = command.staff
    manager = StaffActor(user=staff["manager"])
    marketer = StaffActor(user=staff["marketer"])
    cashier = StaffActor(user=staff["cashier"])
    end = command.end
    members = list(Member.objects.filter(user__isnull=True).order_by("pk")[:4])

    demo = Member.objects.filter(email=DEMO_EMAIL).first()
    if demo is None or len(members) < 4:
        return 0
    demo_purchase = (
        Purchase.objects.filter(member=demo).order_by("-occurred_at").first()
    )

    # The demo customer: asked about points, got an answer, waits for them.
    asked = complaint_file(
        member=demo,
        topic="points",
        body="Мої бали за останню покупку не з'явилися.",
        purchase=demo_purchase,
        at=end - dt.timedelta(days=2),
    )
    complaint_staff_reply(
        complaint_id=asked.pk,
        actor=manager,
        body=(
            "Доброго дня! Бали за покупку стають доступними через 7 днів після "
            "неї: ви побачите їх як «очікують» на головній сторінці."
        ),
    )

    # Resolved with goodwill points (below the approval threshold: posted at once).
    stale = complaint_file(
        member=members[0],
        topic="product",
        body="Круасани були черстві.",
        at=end - dt.timedelta(days=6),
    )
    complaint_staff_reply(
        complaint_id=stale.pk,
        actor=manager,
        body="Перепрошуємо! Ми нарахували вам бонусні бали.",
    )
    complaint_resolve(complaint_id=stale.pk, actor=manager, goodwill_points=50)

    # New and overdue: nobody has looked at it yet.
    complaint_file(
        member=members[1],
        topic="app",
        body="The website logs me out every time I open my vouchers.",
        at=end - dt.timedelta(days=3),
    )

    # Heard at the counter, in progress with the Marketer.
    counter = complaint_file(
        member=members[2],
        topic="service",
        body="Клієнт скаржиться на довгу чергу ввечері.",
        actor=cashier,
        at=end - dt.timedelta(hours=5),
    )
    complaint_assign(
        complaint_id=counter.pk, actor=marketer, assignee=staff["marketer"]
    )

    # Closed after the customer thanked us.
    voucher = complaint_file(
        member=members[3],
        topic="vouchers",
        body="Ваучер не приймали на касі.",
        at=end - dt.timedelta(days=20),
    )
    complaint_staff_reply(
        complaint_id=voucher.pk,
        actor=marketer,
        body="Ми оновили касу, спробуйте ще раз, будь ласка.",
    )
    complaint_customer_reply(
        member=members[3], complaint_id=voucher.pk, body="Працює, дякую!"
    )
    complaint_status_set(complaint_id=voucher.pk, actor=marketer, status="resolved")
    complaint_status_set(complaint_id=voucher.pk, actor=marketer, status="closed")
    return 5


def seed(*, command) -> None:
    """Write the feedback demo data (see the module docstring)."""
    nps, satisfaction = _surveys()
    answers = _answers(command, nps, NPS_ANSWERS, NPS_WEIGHTS)
    answers += _answers(
        command, satisfaction, SATISFACTION_ANSWERS, SATISFACTION_WEIGHTS
    )
    try:
        complaints = _complaints(command)
    except ServiceError as exc:  # the demo must not stop on a demo complaint
        command.stdout.write(f"Feedback demo: a complaint was refused: {exc.message}")
        complaints = 0
    command.stdout.write(
        f"Feedback: 2 surveys, {answers} answers, {complaints} complaints."
    )
