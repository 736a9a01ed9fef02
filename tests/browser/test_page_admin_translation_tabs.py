"""The admin's translation tabs (members.admin_base.TranslatedAdmin,
static/js/translation_tabs.js) in a real Chromium under the strict CSP: a
Manager opens a reward, sees one tab per language, switches to Romanian,
writes the Romanian name and saves; a member reading the catalog in Romanian
sees it, one reading it in Ukrainian still sees the Ukrainian one."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from rewards.tests.factories import RewardFactory
from tests.browser._journey import admin_login, browser_watch, portal_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
LANGUAGES = [code for code, _name in settings.LANGUAGES]


def _language_cookie(context, base_url: str, language: str) -> None:
    context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base_url}]
    )


def test_manager_writes_the_romanian_name_in_its_tab(
    page, browser, live_server, manager, customer
):
    page.set_default_timeout(10_000)
    watch = browser_watch(page)
    reward = RewardFactory(name_uk="Кава", name_en="Coffee", points_cost=100)
    _language_cookie(page.context, live_server.url, "en")

    admin_login(page, live_server.url, "manager")
    page.goto(
        live_server.url + reverse("admin:rewards_reward_change", args=[reward.pk])
    )

    name_tabs = page.locator(".mt-tabs").first.get_by_role("tab")
    expect(name_tabs).to_have_count(len(LANGUAGES))
    assert [
        name_tabs.nth(i).get_attribute("data-lang") for i in range(len(LANGUAGES))
    ] == LANGUAGES
    # The default language's tab is open; Romanian is empty and marked so.
    expect(page.locator("#id_name_uk")).to_be_visible()
    expect(page.locator("#id_name_ro")).to_be_hidden()
    ro_tab = name_tabs.and_(page.locator("[data-lang=ro]"))
    expect(ro_tab).to_have_class("mt-empty")

    ro_tab.click()

    expect(ro_tab).to_have_attribute("aria-selected", "true")
    expect(page.locator("#id_name_ro")).to_be_visible()
    expect(page.locator("#id_name_uk")).to_be_hidden()
    # One choice shows the language in every translated field of the page.
    expect(page.locator("#id_description_ro")).to_be_visible()
    page.locator("#id_name_ro").fill("Cafea")
    page.locator("input[name=_save]").click()

    expect(page.locator(".messagelist .success")).to_be_visible()
    reward.refresh_from_db()
    assert (reward.name_ro, reward.name_uk) == ("Cafea", "Кава")
    watch.assert_clean()

    for language, name in (("ro", "Cafea"), ("uk", "Кава")):
        context = browser.new_context()
        _language_cookie(context, live_server.url, language)
        shopper = context.new_page()
        shopper.set_default_timeout(10_000)
        portal_login(shopper, live_server.url, "customer@example.com")
        shopper.goto(live_server.url + reverse("catalog:catalog"))
        expect(shopper.locator("html")).to_have_attribute("lang", language)
        card = shopper.get_by_test_id(f"reward-{reward.pk}")
        expect(card.locator(".card-title")).to_have_text(name)
        context.close()
