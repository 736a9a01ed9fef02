"""The demo's campaign and journey texts read in the sandbox, name only
variables their journey knows, and write counts with their plural forms
(|points, |plural) rather than a number before a fixed "балів"."""

import re

import pytest

from campaigns.journeys.render import render, text_errors, variables_unknown
from campaigns.messaging.templating import template_check
from demo import seed_campaigns, seed_delivery

pytestmark = pytest.mark.django_db

# A bare count before a word for points, in any of the four languages.
BARE_COUNT = re.compile(
    r"\{\{ *(balance|points_expiring|reward_points_needed) *\}\} *"
    r"(бал|балл|punct|point)"
)


def _campaign_texts():
    for variant in seed_campaigns.TEXTS.values():
        for language, texts in variant.items():
            for text in texts:
                yield language, text


def _journey_texts():
    for kind, (_days, languages) in seed_delivery.TEXTS.items():
        for language, texts in languages.items():
            for text in texts:
                yield kind, language, text


def test_campaign_texts_compile_with_known_variables():
    for language, text in _campaign_texts():
        check = template_check(text)
        assert (check.errors, check.unknown) == ([], []), (language, text)
        assert not BARE_COUNT.search(text), (language, text)


def test_journey_texts_compile_with_their_journeys_variables():
    for kind, language, text in _journey_texts():
        assert text_errors(text, kind=kind) == [], (kind, language, text)
        assert variables_unknown(text, kind=kind) == [], (kind, language, text)
        assert not BARE_COUNT.search(text), (kind, language, text)


@pytest.mark.parametrize(
    ("language", "days", "balance", "expected"),
    [
        ("uk", 21, 3, "вас не було 21 день. На вашому рахунку 3 бали."),
        ("ru", 22, 5, "вас не было 22 дня. На вашем счету 5 баллов."),
        ("ro", 20, 1, "de 20 de zile. Vă așteaptă 1 punct."),
        ("en", 1, 1, "it has been 1 day. You have 1 point waiting for you."),
    ],
)
def test_the_win_back_text_agrees_with_its_numbers(language, days, balance, expected):
    _days, languages = seed_delivery.TEXTS["win_back"]
    body = languages[language][1]
    context = {"first_name": "A", "days_since_purchase": days, "balance": balance}
    assert render(body, context, language).endswith(expected)
