"""Helpers shared by the end-to-end journeys (test_journey_*.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

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


def admin_login(page, base_url: str, username: str) -> None:
    from django.urls import reverse

    page.goto(base_url + reverse("admin:login"))
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(STAFF_PASSWORD)
    page.locator("#login-form input[type=submit]").click()
    page.wait_for_url(base_url + reverse("admin:index"))
