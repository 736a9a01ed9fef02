"""Campaign texts: the sandbox, the variables, the language fallback."""

import datetime as dt

import pytest

from campaigns.messaging.templating import (
    MemberFacts,
    member_context,
    reward_within_reach,
    template_check,
    template_compile,
    template_render,
)
from campaigns.models import CampaignVariant

ANY = frozenset()
REWARDS = [("Coffee", 100, ANY), ("Cake", 250, ANY), ("Mug", 900, ANY)]


def _render(text: str, **facts) -> str:
    base = {"first_name": "Olena", "balance": 120, "tier": "Gold"}
    context = member_context(MemberFacts(**{**base, **facts}), REWARDS)
    return template_render(template_compile(text), context)


def test_variables_render_from_the_members_facts():
    text = (
        "{{ first_name }}: {{ balance }} points, {{ tier }}. "
        "{{ reward_points_needed }} more for {{ reward }} ({{ reward_points }}). "
        "{{ points_expiring }} expire on {{ points_expiring_date }}. {{ coupon_code }}"
    )
    out = _render(
        text,
        points_expiring=40,
        points_expiring_date=dt.date(2026, 12, 31),
        coupon_code="ABCD-1234",
    )
    assert out.startswith(
        "Olena: 120 points, Gold. 130 more for Cake (250). 40 expire on "
    )
    assert out.endswith(" ABCD-1234")


def test_reward_within_reach_is_the_cheapest_not_yet_affordable_or_the_dearest():
    assert reward_within_reach(50, REWARDS) == ("Coffee", 100)
    assert reward_within_reach(100, REWARDS) == ("Cake", 250)
    assert reward_within_reach(5000, REWARDS) == ("Mug", 900)
    assert reward_within_reach(10, []) == ("", 0)


def test_unknown_variable_renders_empty_and_is_reported():
    assert _render("Hi {{ nickname }}!") == "Hi !"
    assert template_check("Hi {{ nickname }} {% if vip %}x{% endif %}").unknown == [
        "nickname",
        "vip",
    ]


def test_filters_and_if_are_allowed():
    assert (
        _render("{{ first_name|upper }}{% if balance > 100 %} rich{% endif %}")
        == "OLENA rich"
    )
    assert template_check("{{ first_name|default:'friend' }}").errors == []


@pytest.mark.parametrize(
    "text",
    [
        "{{ first_name.upper }}",
        "{{ first_name.__class__ }}",
        "{% load static %}",
        "{% include 'base.html' %}",
        "{% extends 'base.html' %}",
        "{% url 'admin:index' %}",
        "{% debug %}",
        "{{ first_name|safe }}",
        "{% if %}",
    ],
)
def test_attribute_access_and_other_tags_are_refused(text):
    assert template_check(text).errors


def test_no_html_escaping_in_plain_text_messages():
    assert (
        _render("{{ first_name }}", first_name="O'Neil & Co <x>") == "O'Neil & Co <x>"
    )


def test_variant_falls_back_to_the_default_language():
    # The order is settings.MODELTRANSLATION_FALLBACK_LANGUAGES: the default
    # language (uk in these settings) first, then the others.
    variant = CampaignVariant(
        label="A", subject_uk="Привіт", body_uk="Текст", body_en=""
    )
    assert variant.content_for("ro") == ("uk", "Привіт", "Текст")
    variant.body_ro, variant.subject_ro = "Salut", "S"
    assert variant.content_for("ro") == ("ro", "S", "Salut")
    variant.body_uk = ""
    assert variant.content_for("ru") == ("ro", "S", "Salut")


def test_a_tier_only_reward_is_offered_to_its_tier_alone():
    gold, silver = 7, 8
    rewards = [
        ("Lounge", 50, frozenset({gold})),
        ("Coffee", 100, ANY),
        ("Gold mug", 150, frozenset({gold, silver})),
    ]

    def offered(tier_id):
        facts = MemberFacts(first_name="O", balance=0, tier="", tier_id=tier_id)
        context = member_context(facts, rewards)
        return context["reward"], context["reward_points_needed"]

    assert offered(gold) == ("Lounge", 50)
    assert offered(silver) == ("Coffee", 100)
    assert offered(None) == ("Coffee", 100)
