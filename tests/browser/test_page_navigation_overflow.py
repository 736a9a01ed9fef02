"""The customer portal's navigation fits every window in every language, and
every destination in it can be reached as a person would: open the menu (the
toggler on narrow windows), open the account menu, see the link, follow it.

The menu's destinations are read from the rendered menu itself, and checked
against the portal's own URL names (from the resolver): a page added later
without a menu item, and without a reason here why it has none, fails."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import resolve, reverse
from playwright.sync_api import expect

from members.tests.factories import MemberFactory, StoreFactory, UserFactory
from tests.browser._journey import portal_login
from tests.url_walk import PORTAL_NAMESPACES, url_routes

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WIDTHS = (360, 390, 768, 1280, 1920)
HEIGHT = 900
LANGUAGES = ("uk", "ru", "ro", "en")

# Portal URLs without parameters that are no menu destination, and why.
NOT_IN_MENU = {
    "portal:home": "the brand link; sends a member to the dashboard",
    "portal:signup": "for visitors, in the bar when logged out",
    "portal:signup_verify": "a step of signing up",
    "portal:privacy_export": "linked from Preferences",
    "portal:privacy_delete": "linked from Preferences",
    "catalog:redeem": "POST only, the catalog's redeem buttons",
    "catalog:promo_code": "POST only, the rewards page's Enter a code box",
    "campaigns:complaint_new": "linked from Feedback",
    "campaigns:email_webhook": "for the email provider",
    "campaigns:sms_webhook": "for the SMS provider",
    "campaigns:viber_webhook": "for the Viber provider",
    "campaigns:telegram_webhook": "for Telegram's Bot API",
    "portal:telegram_link": "POST only, the Telegram block of Preferences",
    "portal:telegram_unlink": "POST only, the Telegram block of Preferences",
    "portal:push_subscribe": "POST only, the notifications button (card, Preferences)",
    "portal:push_unsubscribe": "POST only, the notifications button (card, Preferences)",
}


def _menu_url_names() -> set[str]:
    """Every portal page without URL parameters that should be in the menu."""
    return {
        name
        for route, name, _pattern in url_routes()
        if name.split(":")[0] in PORTAL_NAMESPACES
        and "<" not in route
        and name not in NOT_IN_MENU
    }


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def _brand_problem(page) -> str | None:
    """The brand beside the menu button: whole, or cut with an ellipsis, and
    never under the button (tests/browser/test_page_navbar_brand.py: long names)."""
    return page.evaluate(
        """() => {
        const brand = document.querySelector('.portal-navbar .navbar-brand');
        const name = brand.querySelector('.brand-name');
        const toggler = document.querySelector('.portal-navbar .navbar-toggler');
        const b = brand.getBoundingClientRect(), t = toggler.getBoundingClientRect();
        if (t.width > 0 && b.right > t.left) return 'the brand runs under the menu button';
        if (name.scrollWidth > name.clientWidth
            && getComputedStyle(name).textOverflow !== 'ellipsis')
          return 'the brand is clipped without an ellipsis';
        return null;
      }"""
    )


def _open_menus(page) -> None:
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
        expect(page.locator("#portal-nav")).to_have_class(
            "navbar-collapse collapse show"
        )  # shown, the animation over
    account = page.locator("#account-menu")
    account.click()
    expect(account).to_have_attribute("aria-expanded", "true")


def test_menu_fits_and_reaches_every_destination_at_all_widths_and_languages(
    page, live_server
):
    store = StoreFactory(code="nav", name="Nav Street")
    user = UserFactory(username="nav@example.com")
    MemberFactory(store=store, user=user, email="nav@example.com")
    page.set_default_timeout(5_000)
    dashboard = portal_login(page, live_server.url, "nav@example.com")
    wanted = _menu_url_names()
    problems: list[str] = []

    for language in LANGUAGES:
        page.context.add_cookies(
            [
                {
                    "name": settings.LANGUAGE_COOKIE_NAME,
                    "value": language,
                    "url": live_server.url,
                }
            ]
        )
        checked: set[str] = set()
        for width in WIDTHS:
            where = f"{language} {width}px"
            page.set_viewport_size({"width": width, "height": HEIGHT})
            page.goto(dashboard)
            expect(page.locator("html")).to_have_attribute("lang", language)
            if (extra := _overflow(page)) > 0:
                problems.append(f"{where}: the page is {extra}px wider than the window")
            if brand := _brand_problem(page):
                problems.append(f"{where}: {brand}")
            _open_menus(page)
            if (extra := _overflow(page)) > 0:
                problems.append(f"{where}: with the menu open, {extra}px too wide")

            links = page.locator("#portal-nav a[href]:not([href='#'])")
            hrefs = []
            for i in range(links.count()):
                link = links.nth(i)
                link.scroll_into_view_if_needed()
                expect(link).to_be_visible()
                expect(link).to_be_in_viewport()
                hrefs.append(link.get_attribute("href"))
            for control in (
                page.locator("#language-select"),
                page.locator("#portal-nav form[action$='/logout/'] button"),
            ):
                control.scroll_into_view_if_needed()
                expect(control).to_be_in_viewport()

            names = {resolve(href).view_name for href in hrefs}
            if missing := wanted - names:
                problems.append(f"{where}: no menu item for {sorted(missing)}")
            for href in set(hrefs) - checked:
                status = page.request.get(live_server.url + href).status
                if status != 200:
                    problems.append(f"{where}: {href} answers {status}")
                checked.add(href)

    assert problems == []


def test_the_active_page_is_marked_in_the_menu(page, live_server):
    store = StoreFactory(code="nav", name="Nav Street")
    user = UserFactory(username="nav@example.com")
    MemberFactory(store=store, user=user, email="nav@example.com")
    page.set_default_timeout(5_000)
    portal_login(page, live_server.url, "nav@example.com")

    statement = reverse("rewards:statement")
    page.goto(live_server.url + statement)
    current = page.locator("#portal-nav [aria-current='page']")
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("href", statement)
    # The account menu that holds it says so while closed.
    expect(page.locator("#account-menu")).to_have_class(
        "nav-link dropdown-toggle active"
    )
