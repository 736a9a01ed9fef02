"""Demo of surveys with several questions, called by `seed_demo` before the
feedback demo: "Which rewards would you like?" (several choices, most of them
catalog rewards, one choice about how often members redeem, a 1–5 score and a
free text) with about 60 members' answers, so its results page shows a chart
per question, the written answers, and the rewards wished for next to those
redeemed. Staff-written texts in uk, ru, ro and en; the answers go through the
survey service, as a member's would. The demo customer has not answered: the
command prints their link."""

from __future__ import annotations

import datetime as dt

from campaigns.feedback.selectors import survey_link_url
from campaigns.feedback.surveys import survey_response_submit
from campaigns.models import (
    QuestionKind,
    Survey,
    SurveyChoice,
    SurveyKind,
    SurveyQuestion,
)
from demo.data import DEMO_EMAIL
from members.errors import ServiceError
from members.models import Member
from rewards.models import Reward

LANGS = ("uk", "ru", "ro", "en")
ANSWERS = 60
CATALOG_CHOICES = 6

TEXTS: dict[str, dict[str, str]] = {
    "name": {
        "uk": "Які винагороди ви хотіли б?",
        "ru": "Какие награды вы хотели бы?",
        "ro": "Ce recompense v-ați dori?",
        "en": "Which rewards would you like?",
    },
    "wish": {
        "uk": "Які винагороди ви хотіли б отримувати за бали?",
        "ru": "Какие награды вы хотели бы получать за баллы?",
        "ro": "Ce recompense v-ați dori să primiți pe puncte?",
        "en": "Which rewards would you like to get for your points?",
    },
    "cinema": {
        "uk": "Квитки в кіно",
        "ru": "Билеты в кино",
        "ro": "Bilete la cinema",
        "en": "Cinema tickets",
    },
    "delivery": {
        "uk": "Безкоштовна доставка",
        "ru": "Бесплатная доставка",
        "ro": "Livrare gratuită",
        "en": "Free delivery",
    },
    "often": {
        "uk": "Як часто ви обмінюєте бали?",
        "ru": "Как часто вы обмениваете баллы?",
        "ro": "Cât de des folosiți punctele?",
        "en": "How often do you spend your points?",
    },
    "monthly": {
        "uk": "Щомісяця",
        "ru": "Каждый месяц",
        "ro": "Lunar",
        "en": "Every month",
    },
    "sometimes": {
        "uk": "Кілька разів на рік",
        "ru": "Несколько раз в год",
        "ro": "De câteva ori pe an",
        "en": "A few times a year",
    },
    "never": {
        "uk": "Ще жодного разу",
        "ru": "Ещё ни разу",
        "ro": "Niciodată până acum",
        "en": "Not yet",
    },
    "happy": {
        "uk": "Наскільки вам подобається наш каталог винагород?",
        "ru": "Насколько вам нравится наш каталог наград?",
        "ro": "Cât de mult vă place catalogul nostru de recompense?",
        "en": "How much do you like our rewards catalog?",
    },
    "else": {
        "uk": "Що ще нам варто додати?",
        "ru": "Что ещё нам стоит добавить?",
        "ro": "Ce altceva ar trebui să adăugăm?",
        "en": "What else should we add?",
    },
}

# What members wrote, in their own languages (data, not staff texts).
FREE_TEXTS = [
    "",
    "",
    "Більше десертів, будь ласка!",
    "Знижки на день народження для всієї родини.",
    "Хочу обмінювати бали на каву в зернах.",
    "Подарочные карты для друзей.",
    "Более частые акции по выходным.",
    "Vouchere pentru prăjituri.",
    "Reducere la livrare <b>acasă</b> & alte lucruri",
    "Merch with the bakery logo.",
    "Let me give my points to a charity.",
]
OFTEN_WEIGHTS = [3, 5, 2]
HAPPY_WEIGHTS = [1, 2, 6, 10, 7]


def _t(key: str, field: str = "text") -> dict[str, str]:
    return {f"{field}_{lang}": TEXTS[key][lang] for lang in LANGS}


def _survey() -> tuple[
    Survey, SurveyQuestion, SurveyQuestion, SurveyQuestion, SurveyQuestion
]:
    survey = Survey.objects.create(
        name=TEXTS["name"]["en"],
        kind=SurveyKind.QUESTIONS,
        **_t("name", "question"),
        after_registration=True,
        delay_hours=72,
        link_valid_days=30,
    )
    wish = SurveyQuestion.objects.create(
        survey=survey, kind=QuestionKind.MULTIPLE, order=1, **_t("wish")
    )
    rewards = list(Reward.objects.filter(is_active=True).order_by("points_cost", "pk"))
    for n, reward in enumerate(rewards[:CATALOG_CHOICES]):
        names = {
            f"text_{lang}": getattr(reward, f"name_{lang}") or reward.name
            for lang in LANGS
        }
        SurveyChoice.objects.create(question=wish, order=n, reward=reward, **names)
    SurveyChoice.objects.create(question=wish, order=20, **_t("cinema"))
    SurveyChoice.objects.create(question=wish, order=21, **_t("delivery"))
    often = SurveyQuestion.objects.create(
        survey=survey, kind=QuestionKind.SINGLE, order=2, **_t("often")
    )
    for n, key in enumerate(("monthly", "sometimes", "never")):
        SurveyChoice.objects.create(question=often, order=n, **_t(key))
    happy = SurveyQuestion.objects.create(
        survey=survey, kind=QuestionKind.SCORE, order=3, **_t("happy")
    )
    other = SurveyQuestion.objects.create(
        survey=survey, kind=QuestionKind.TEXT, order=4, required=False, **_t("else")
    )
    return survey, wish, often, happy, other


def seed(*, command) -> None:
    """Write the survey and its answers (see the module docstring)."""
    rng = command.rng
    survey, wish, often, happy, other = _survey()
    wish_ids = list(wish.choices.order_by("order").values_list("pk", flat=True))
    often_ids = list(often.choices.order_by("order").values_list("pk", flat=True))
    # Cheaper rewards are redeemed most; members wish for the dearer ones.
    wish_weights = [1 + n for n in range(len(wish_ids))]
    members = list(
        Member.objects.exclude(email=DEMO_EMAIL)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    picked = rng.sample(members, min(ANSWERS, len(members)))
    written = 0
    for n, member in enumerate(Member.objects.filter(pk__in=picked).order_by("pk")):
        k = rng.randint(1, 3)
        chosen = set(rng.choices(wish_ids, weights=wish_weights, k=k))
        answers = {
            wish.pk: sorted(chosen),
            often.pk: rng.choices(often_ids, weights=OFTEN_WEIGHTS)[0],
            happy.pk: rng.choices(range(1, 6), weights=HAPPY_WEIGHTS)[0],
            # The first one writes something, so the first answer shows a text.
            other.pk: rng.choice(FREE_TEXTS) if n else FREE_TEXTS[-1],
        }
        try:
            survey_response_submit(
                survey=survey,
                member=member,
                purchase=None,
                answers=answers,
                answered_at=command.end - dt.timedelta(hours=rng.randint(2, 24 * 30)),
            )
        except ServiceError as exc:  # the demo must not stop on one answer
            command.stdout.write(f"Surveys demo: an answer was refused: {exc.message}")
            continue
        written += 1
    demo = Member.objects.filter(email=DEMO_EMAIL).first()
    link = survey_link_url(survey=survey, member=demo, purchase=None) if demo else ""
    command.stdout.write(
        f"Surveys: '{survey.name}' with 4 questions, {written} answers."
        + (f" The demo customer's link: {link}" if link else "")
    )
