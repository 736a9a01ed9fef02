"""Helpers shared by the browser tests (test_journey_*.py, test_page_*.py): every
login goes through portal_login or admin_login (tests/house/test_browser_logins.py
fails on a test that fills the login form itself)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

STAFF_PASSWORD = "pass-word-123"  # noqa: S105 (test users)


@dataclass
class BrowserWatch:
    """What went wrong in the browser while a journey ran."""

    csp: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.csp == [], self.csp
        assert self.console_errors == [], self.console_errors
        assert self.bad_responses == [], self.bad_responses


def browser_watch(page) -> BrowserWatch:
    """Collect CSP violations, console errors and failed responses of `page`.

    A missing /favicon.ico (the site has none; browsers ask anyway) is not an
    error; any other 4xx/5xx the page loads is, as is a 5xx of any request."""
    watch = BrowserWatch()

    def on_console(msg):
        if "Content Security Policy" in msg.text:
            watch.csp.append(msg.text)
        elif msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            watch.console_errors.append(msg.text)

    def on_response(response):
        if response.url.endswith("/favicon.ico"):
            return
        if response.status >= 500 or (
            response.status >= 400 and response.request.resource_type != "fetch"
        ):
            watch.bad_responses.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    return watch


def portal_login(
    page,
    base_url: str,
    username: str,
    password: str = STAFF_PASSWORD,
    *,
    next_name: str | None = None,
    next_kwargs: dict | None = None,
) -> str:
    """Log `username` in through the customer portal's login form; return the
    URL of the page it lands on.

    With `next_name` the browser asks for that page first (reversed with
    `next_kwargs`), which must send it to the login page with `?next=` that
    page, and lands back on it; without, it opens the login page and lands on
    the dashboard.

    It waits with `page.wait_for_url`, whose default `wait_until="load"` waits
    for the landing page's `load` event, after its deferred scripts have run and
    attached their handlers. `expect(page).to_have_url` resolves when the
    navigation commits, before them, and a test that then clicked a control a
    script wires up clicked a dead one."""
    from django.urls import reverse

    login = base_url + reverse("login")
    if next_name is None:
        page.goto(login)
        target = base_url + reverse("portal:dashboard")
    else:
        path = reverse(next_name, kwargs=next_kwargs)
        target = base_url + path
        page.goto(target)
        # As django.contrib.auth.views.redirect_to_login writes it.
        next_query = urlencode({"next": path}, safe="/")
        page.wait_for_url(re.compile(f"^{re.escape(f'{login}?{next_query}')}$"))
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("#content form button[type=submit]").click()
    page.wait_for_url(target)
    return target


def admin_login(
    page, base_url: str, username: str, password: str = STAFF_PASSWORD
) -> None:
    """Log `username` in to the admin; wait for the admin index's `load` event
    (see portal_login)."""
    from django.urls import reverse

    page.goto(base_url + reverse("admin:login"))
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("#login-form input[type=submit]").click()
    page.wait_for_url(base_url + reverse("admin:index"))
