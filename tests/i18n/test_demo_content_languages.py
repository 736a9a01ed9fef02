"""The demo's staff-written content reads in the customer's language: seeded
once, the demo customer's catalog, tiers, stamps, membership, events,
members-only and "For you" pages carry no Cyrillic in en and ro, and none of
the English texts of the same objects in uk and ru (issue 14, "Must show")."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from campaigns.models import ContentPage, Event
from demo.data import DEMO_EMAIL
from members.models import Member, Store
from rewards.models import (
    Category,
    EarningRule,
    MembershipPlan,
    Reward,
    StampProgram,
    Tier,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]

CYRILLIC = re.compile(r"[А-Яа-яІіЇїЄєҐґЁё]+")
PAGES = (
    "catalog:catalog",
    "catalog:tiers",
    "catalog:stamps",
    "catalog:membership",
    "campaigns:events",
    "campaigns:members_only",
    "analytics:for_you",
)
# Translated fields (modeltranslation) of the content these pages show.
CONTENT = {
    Reward: ("name", "description"),
    Tier: ("name", "benefits"),
    StampProgram: ("name", "description"),
    MembershipPlan: ("name", "description"),
    EarningRule: ("name",),
    Category: ("name",),
    Event: ("title", "description"),
    ContentPage: ("title", "body"),
}


class _Content(HTMLParser):
    """The visible text of <main> (the language switcher and the navigation
    are outside it), without scripts and styles."""

    SKIP = {"script", "style", "template"}

    def __init__(self):
        super().__init__()
        self.depth = 0  # inside <main>
        self.skipping: list[str] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self.depth += 1
        elif self.depth and tag in self.SKIP:
            self.skipping.append(tag)

    def handle_endtag(self, tag):
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()
        elif tag == "main":
            self.depth -= 1

    def handle_data(self, data):
        if self.depth and not self.skipping:
            self.parts.append(data)


def _visible(html: str) -> str:
    parser = _Content()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _texts(lang: str) -> set[str]:
    """Every non-empty text of the content objects in `lang`, one per line."""
    out = set()
    for model, fields in CONTENT.items():
        for obj in model.objects.all():
            for field in fields:
                value = getattr(obj, f"{field}_{lang}") or ""
                out.update(line.strip() for line in value.splitlines() if line.strip())
    return out


@pytest.fixture
def demo_client(client):
    call_command("seed_demo", members=20, months=2, stdout=StringIO())
    demo = Member.objects.select_related("user").get(email=DEMO_EMAIL)
    client.force_login(demo.user)
    return client


def _page(client, name: str, lang: str) -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    response = client.get(reverse(name), HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200, name
    assert response["Content-Language"] == lang
    return _visible(response.content.decode())


def test_demo_content_is_in_the_readers_language(demo_client):
    # Till data is not staff-written content: receipt line names (the "For
    # you" items) and store names come as the tills and stores were set up.
    till_words = set()
    for store in Store.objects.all():
        till_words.update(CYRILLIC.findall(f"{store.name} {store.address}"))
    english = _texts("en")
    seen = {lang: set() for lang in ("uk", "ru", "ro", "en")}
    categories = []
    for lang in seen:
        for name in PAGES:
            text = _page(demo_client, name, lang)
            if name == "analytics:for_you":
                # Only the categories and the suggested reward are ours there.
                html = demo_client.get(reverse(name)).content.decode()
                text = " ".join(
                    re.findall(
                        r'data-testid="(?:category|suggested-reward)"[^>]*>([^<]*)<',
                        html,
                    )
                )
                categories.extend(re.findall(r'data-testid="category"', html))
            if lang in ("en", "ro"):
                cyrillic = set(CYRILLIC.findall(text)) - till_words
                assert not cyrillic, f"{name} in {lang}: {sorted(cyrillic)[:10]}"
            else:
                leaked = sorted(t for t in english if t in text)
                assert not leaked, f"{name} in {lang}: {leaked[:5]}"
            seen[lang].update(t for t in _texts(lang) if t in text)
    # Not vacuous: each language's own texts are on the pages, the same number
    # of them (each object is shown in every language).
    rewards = Reward.objects.filter(is_active=True)
    for lang, found in seen.items():
        for reward in rewards:
            assert getattr(reward, f"name_{lang}") in found, (lang, reward.pk)
        for tier in Tier.objects.filter(is_active=True):
            assert getattr(tier, f"benefits_{lang}") in found, (lang, tier.pk)
        for model, field in ((Event, "title"), (Category, "name")):
            names = {getattr(obj, f"{field}_{lang}") for obj in model.objects.all()}
            assert names & found, (lang, model.__name__)
    assert categories, "For you shows no category: the check saw nothing"
    assert len({len(found) for found in seen.values()}) == 1, {
        lang: len(found) for lang, found in seen.items()
    }


def test_every_demo_text_is_written_in_every_language(demo_client):
    """Real translations: no language left empty, and the texts differ from
    the English ones except where the words are the same (Club, Чай)."""
    for model, fields in CONTENT.items():
        for obj in model.objects.all():
            for field in fields:
                values = {
                    lang: getattr(obj, f"{field}_{lang}") or ""
                    for lang, _name in settings.LANGUAGES
                }
                assert all(values.values()) or not any(values.values()), (
                    model.__name__,
                    obj.pk,
                    field,
                    values,
                )
                if values["en"]:
                    assert values["uk"] != values["en"], (model.__name__, values)
                    assert values["ru"] != values["en"], (model.__name__, values)
