"""A button that only its script makes work is not offered before the script
ran. Scripts are deferred (the Content Security Policy allows no inline
script), so on a slow phone a page shows for a moment before they run: a
`type="button"` button of ours shown then does nothing when tapped. The
referral page's Copy button did (a journey clicked it in that moment and
waited for "Copied" in vain); the card's install button and the push opt-in
are hidden until their scripts show them.

Walks every page of the customer portal without URL parameters that a member
can open (from the resolver, so a page added later is walked), in Chromium
with JavaScript off: no visible `button[type=button]` but Bootstrap's own
(the menu toggler and the account menu, `data-bs-toggle`), whose script is
the page's first."""

from __future__ import annotations

import pytest
from django.urls import reverse

from members.tests.factories import MemberFactory, StoreFactory, UserFactory
from rewards.services import points_adjust
from tests.browser._journey import portal_login
from tests.url_walk import PORTAL_NAMESPACES, url_routes

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Shown without script: a control that works without it or is Bootstrap's.
INERT = (
    "button[type=button]:not([data-bs-toggle]):not([data-bs-dismiss]):not(.btn-close)"
)


def _portal_paths() -> list[str]:
    return sorted(
        reverse(name)
        for route, name, _pattern in url_routes()
        if name.split(":")[0] in PORTAL_NAMESPACES and "<" not in route
    )


def test_no_page_offers_a_scripted_button_before_its_script(browser, live_server):
    store = StoreFactory(code="nojs", name="No Script Street")
    user = UserFactory(username="taras@example.com")
    member = MemberFactory(store=store, user=user, email="taras@example.com")
    points_adjust(member=member, points=500, reason="Welcome", created_by=None)
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        portal_login(page, live_server.url, "taras@example.com")

        walked, offered = [], {}
        for path in _portal_paths():
            url = live_server.url + path
            answer = context.request.get(url, max_redirects=0)
            if answer.status != 200 or "text/html" not in answer.headers.get(
                "content-type", ""
            ):
                continue  # POST only, a webhook, a download, a redirect
            page.goto(url)
            walked.append(path)
            shown = [
                button.inner_text().strip()
                for button in page.locator(INERT).all()
                if button.is_visible()
            ]
            if shown:
                offered[path] = shown
        # The pages with scripted buttons are among those walked.
        assert {
            reverse("portal:referrals"),
            reverse("portal:card"),
            reverse("portal:dashboard"),
        } <= set(walked), walked
        assert offered == {}
    finally:
        context.close()
