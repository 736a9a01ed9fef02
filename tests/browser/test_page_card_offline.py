"""The installable card in a real Chromium: after one visit of the card page the
service worker has kept it, and with the browser offline the card page still
opens with the card number, the QR code and the last balance with its time. The
manifest parses in Chromium, carries the program's name, and its icons load."""

from __future__ import annotations

import io
import re
from datetime import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from members.cards import card_number_format
from members.services import branding_update
from members.tests.factories import MemberFactory, StoreFactory, UserFactory
from rewards.services import points_adjust
from tests.browser._journey import browser_watch, portal_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def card_member(db):
    store = StoreFactory(code="pwa", name="PWA Street")
    user = UserFactory(username="olena@example.com")
    member = MemberFactory(store=store, user=user, email="olena@example.com")
    points_adjust(member=member, points=1234, reason="Welcome", created_by=None)
    return member


def _wait_until_the_worker_controls(page) -> None:
    # Polled from here: page.wait_for_function evaluates its predicate with
    # eval, which the Content Security Policy refuses.
    for _attempt in range(100):
        if page.evaluate("navigator.serviceWorker.controller !== null"):
            return
        page.wait_for_timeout(100)
    raise AssertionError("the service worker never took control of the card page")


def _kept_card_time(page, card_path: str) -> tuple[str, datetime]:
    """The "Balance as of" line of the copy the worker kept, and its time.

    The worker may keep a copy it fetched itself after the page was shown (the
    first visit is not served through it), so the kept time can be later than
    the time the page showed, never earlier."""
    html = page.evaluate(
        "path => caches.open('loyalty-card-v1')"
        ".then(c => c.match(path)).then(r => r ? r.text() : '')",
        card_path,
    )
    found = re.search(
        r'data-testid="card-balance-at">\s*<time datetime="([^"]+)">([^<]+)</time>',
        html,
    )
    assert found, "the worker kept no card with its balance time"
    return " ".join(found[2].split()), datetime.fromisoformat(found[1])


def _shown_time(page) -> datetime:
    return datetime.fromisoformat(
        page.get_by_test_id("card-balance-at").locator("time").get_attribute("datetime")
    )


def _expect_the_card(page, member, balance: str, at: str) -> None:
    expect(page.get_by_test_id("card-number")).to_have_text(
        card_number_format(member.card_number)
    )
    expect(page.get_by_test_id("card-qr").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("card-balance")).to_have_text(balance)
    expect(page.get_by_test_id("card-balance-at")).to_have_text(at)


def test_card_page_opens_offline_after_one_visit(
    page, context, live_server, card_member
):
    page.set_default_timeout(10_000)
    watch = browser_watch(page)
    card_url = portal_login(
        page, live_server.url, "olena@example.com", next_name="portal:card"
    )

    expect(page.get_by_test_id("card-balance")).to_have_text("1,234 points")
    shown_at = _shown_time(page)
    # The worker runs this page and has kept a copy of the card.
    _wait_until_the_worker_controls(page)
    expect(page.locator("#card-page")).to_have_attribute("data-offline-ready", "yes")
    expect(page.get_by_test_id("card-offline-ready")).to_be_visible()
    expect(page.get_by_test_id("card-offline")).to_be_hidden()
    watch.assert_clean()
    at, kept_at = _kept_card_time(page, reverse("portal:card"))
    assert re.fullmatch(r"Balance as of .*\d{1,2}:\d{2}.*", at), at

    # Points change on the server while the phone is offline: the card shows
    # what it last knew, and says since when (the kept copy's time, before the
    # change).
    changed_at = timezone.now()
    assert shown_at <= kept_at <= changed_at
    points_adjust(member=card_member, points=100, reason="Goodwill", created_by=None)
    context.set_offline(True)
    page.reload()
    _expect_the_card(page, card_member, "1,234 points", at)
    expect(page.get_by_test_id("card-offline")).to_be_visible()
    # Its styles came from the kept copy too (portal.css's page background).
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(246, 247, 251)"

    # Opened afresh (as from the home screen), not just reloaded.
    page.goto("about:blank")
    page.goto(card_url)
    _expect_the_card(page, card_member, "1,234 points", at)

    # Back online: the page is fetched again, with the new balance and time.
    context.set_offline(False)
    page.reload()
    expect(page.get_by_test_id("card-balance")).to_have_text("1,334 points")
    expect(page.get_by_test_id("card-offline")).to_be_hidden()


def test_logging_out_forgets_the_offline_card(page, context, live_server, card_member):
    page.set_default_timeout(10_000)
    card_url = portal_login(
        page, live_server.url, "olena@example.com", next_name="portal:card"
    )
    _wait_until_the_worker_controls(page)
    expect(page.locator("#card-page")).to_have_attribute("data-offline-ready", "yes")

    page.locator("#account-menu").click()  # the menu that holds "Log out"
    page.locator("#portal-nav form[action$='/logout/'] button").click()
    expect(page).to_have_url(live_server.url + reverse("portal:home"))
    kept = page.evaluate(
        "caches.open('loyalty-card-v1').then(c => c.keys()).then(k => k.length)"
    )
    assert kept == 0

    context.set_offline(True)
    with pytest.raises(PlaywrightError, match=r"net::ERR_"):
        page.goto(card_url)


def test_manifest_parses_with_the_programs_name_and_icons(page, live_server):
    branding_update(
        program_name="Кавовий клуб", short_name="Кава", primary_color="#8b4513"
    )
    page.set_default_timeout(10_000)
    page.goto(live_server.url + reverse("login"))
    # The page links the manifest and is themed in the program's colour.
    expect(page).to_have_title(re.compile("Кавовий клуб$"))
    navbar = page.locator("nav.navbar")
    assert (
        navbar.evaluate("el => getComputedStyle(el).backgroundColor")
        == "rgb(139, 69, 19)"
    )

    cdp = page.context.new_cdp_session(page)
    found = cdp.send("Page.getAppManifest")
    assert found["url"] == live_server.url + reverse("manifest")
    assert found["errors"] == []
    manifest = page.request.get(found["url"]).json()
    assert manifest["name"] == "Кавовий клуб"
    assert manifest["short_name"] == "Кава"
    assert manifest["theme_color"] == "#8b4513"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == reverse("portal:card")
    sizes = set()
    for icon in manifest["icons"]:
        response = page.request.get(live_server.url + icon["src"])
        assert response.status == 200, icon["src"]
        assert response.headers["content-type"] == "image/png"
        picture = Image.open(io.BytesIO(response.body()))
        assert f"{picture.width}x{picture.height}" == icon["sizes"]
        sizes.add(picture.width)
    assert {192, 512} <= sizes
