"""rewards 0014 and campaigns 0014 bring in modeltranslation: texts written
before keep every language they had. A single-language text (a reward's name)
lands in the default language's column; the hand-made title_uk... columns of
events, pages, campaign texts and surveys keep their data; a journey's
JourneyText rows become its own columns, and come back as rows when migrated
back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone, translation

from campaigns.models import CampaignVariant, ContentPage, Event, Journey, Survey
from rewards.models import EarningRule, MembershipPlan, Reward, StampProgram, Tier

BEFORE = [
    ("rewards", "0016_reason_codes_fill"),
    ("campaigns", "0013_complaint_adjustment_in_rewards"),
]
DEFAULT = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
LANGS = [code for code, _name in settings.LANGUAGES]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)


@pytest.fixture
def old_apps():
    """The models as they were before modeltranslation; the latest schema after."""
    executor = _migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def _old_rows(old) -> dict:
    get = old.get_model
    now = timezone.now()
    reward = get("rewards", "Reward").objects.create(
        name="Кава", description="Будь-яка кава.", points_cost=100
    )
    tier = get("rewards", "Tier").objects.create(
        name="Срібло", rank=2, benefits="Безкоштовна доставка."
    )
    program = get("rewards", "StampProgram").objects.create(
        name="Кавова картка",
        description="Десята кава — наша.",
        stamps_needed=10,
        reward=reward,
    )
    plan = get("rewards", "MembershipPlan").objects.create(
        name="Клуб", description="Бали × 1,5.", price=Decimal("99")
    )
    rule = get("rewards", "EarningRule").objects.create(
        name="Випічка ×1,5", kind="multiplier", category="bakery"
    )
    store = get("members", "Store").objects.create(
        code="mig", name="Store", timezone="Europe/Kyiv"
    )
    event = get("campaigns", "Event").objects.create(
        store=store,
        starts_at=now + dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=1, hours=2),
        remind_at=now,
        capacity=10,
        **{f"title_{lang}": f"Подія {lang}" for lang in LANGS},
        **{f"description_{lang}": f"Опис {lang}" for lang in LANGS},
    )
    page = get("campaigns", "ContentPage").objects.create(
        slug="mig", title_uk="Сторінка", body_uk="Текст", title_en="Page", body_en=""
    )
    segment = get("campaigns", "Segment").objects.create(name="All", definition={})
    campaign = get("campaigns", "Campaign").objects.create(name="C", segment=segment)
    variant = get("campaigns", "CampaignVariant").objects.create(
        campaign=campaign, label="A", subject_ro="Salut", body_ro="Text ro"
    )
    survey = get("campaigns", "Survey").objects.create(
        name="NPS", question_en="How likely?", question_uk="Наскільки ймовірно?"
    )
    journey = get("campaigns", "Journey").objects.create(kind="welcome")
    for lang, subject, body in (("uk", "Вітаємо", "Привіт!"), ("en", "Hi", "Hello!")):
        get("campaigns", "JourneyText").objects.create(
            journey=journey, language=lang, subject=subject, body=body
        )
    return {
        "reward": reward.pk,
        "tier": tier.pk,
        "program": program.pk,
        "plan": plan.pk,
        "rule": rule.pk,
        "event": event.pk,
        "page": page.pk,
        "variant": variant.pk,
        "survey": survey.pk,
        "journey": journey.pk,
    }


@pytest.mark.django_db(transaction=True)
def test_existing_texts_keep_every_language(old_apps):
    ids = _old_rows(old_apps)

    # To the latest migrations, past 0014: the models read below are today's.
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    single = {
        (Reward, "reward"): {"name": "Кава", "description": "Будь-яка кава."},
        (Tier, "tier"): {"name": "Срібло", "benefits": "Безкоштовна доставка."},
        (StampProgram, "program"): {"name": "Кавова картка"},
        (MembershipPlan, "plan"): {"name": "Клуб", "description": "Бали × 1,5."},
        (EarningRule, "rule"): {"name": "Випічка ×1,5"},
    }
    for (model, key), texts in single.items():
        obj = model.objects.get(pk=ids[key])
        for field, text in texts.items():
            assert getattr(obj, f"{field}_{DEFAULT}") == text, (model, field)
            for lang in LANGS:  # the others fall back to it
                with translation.override(lang):
                    assert getattr(obj, field) == text, (model, field, lang)

    event = Event.objects.get(pk=ids["event"])
    for lang in LANGS:
        with translation.override(lang):
            assert (event.title, event.description) == (f"Подія {lang}", f"Опис {lang}")
    page = ContentPage.objects.get(pk=ids["page"])
    with translation.override("en"):
        assert (page.title, page.body) == ("Page", "Текст")
    with translation.override("ro"):
        assert (page.title, page.body) == ("Сторінка", "Текст")
    variant = CampaignVariant.objects.get(pk=ids["variant"])
    assert variant.languages() == ["ro"]
    assert variant.content_for("uk") == ("ro", "Salut", "Text ro")
    survey = Survey.objects.get(pk=ids["survey"])
    for lang, question in (("uk", "Наскільки ймовірно?"), ("en", "How likely?")):
        with translation.override(lang):
            assert survey.question == question
    journey = Journey.objects.get(pk=ids["journey"])
    assert journey.text_in("uk") == ("Вітаємо", "Привіт!")
    assert journey.text_in("en") == ("Hi", "Hello!")
    assert journey.content_for("ro") == ("uk", "Вітаємо", "Привіт!")

    # Back: the journey's texts are rows again.
    executor = _migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    rows = old.get_model("campaigns", "JourneyText").objects.filter(
        journey_id=ids["journey"]
    )
    assert sorted(rows.values_list("language", "subject", "body")) == [
        ("en", "Hi", "Hello!"),
        ("uk", "Вітаємо", "Привіт!"),
    ]
    event = old.get_model("campaigns", "Event").objects.get(pk=ids["event"])
    assert event.title_ro == "Подія ro"
