"""Screenshots of the portal and the back office for the README (docs/img/),
taken by Chromium through Playwright from a running server with the demo data.

`shots_take` is the core: it logs in as the demo customer, cashier and Manager
and saves one PNG per Shot. The `screenshots` management command (make
screenshots) builds a fresh demo database, serves it and calls it; a browser
test calls it on one page of a live test server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from django.urls import reverse

from demo.data import DEMO_EMAIL, DEMO_PASSWORD, DEMO_PHONE, STAFF
from loyalty_site.browser import CHROMIUM, CHROMIUM_ARGS

MOBILE = (390, 844)
DESKTOP = (1280, 900)
TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class Shot:
    """One screenshot: the file stem, who is logged in, the page and the window."""

    name: str
    who: str  # "customer", "cashier" or "manager"
    url: Callable[[], str]  # a path, reversed when taken
    viewport: tuple[int, int]
    wait_for: str = ""  # a JavaScript condition the page must reach first


_CHARTS_DRAWN = (
    "() => window.analyticsCharts && document.querySelectorAll('canvas[data-chart]')"
    ".length === Object.keys(window.analyticsCharts).length"
)


def _portal(name: str, url_name: str) -> list[Shot]:
    return [
        Shot(f"portal-{name}-mobile", "customer", lambda: reverse(url_name), MOBILE),
        Shot(f"portal-{name}-desktop", "customer", lambda: reverse(url_name), DESKTOP),
    ]


SHOTS: list[Shot] = [
    *_portal("dashboard", "portal:dashboard"),
    *_portal("card", "portal:card"),
    *_portal("catalog", "catalog:catalog"),
    # The Counter with the demo customer found by phone (one match opens them).
    Shot(
        "counter",
        "cashier",
        lambda: reverse("admin:counter") + "?q=" + DEMO_PHONE.replace("+", "%2B"),
        DESKTOP,
    ),
    Shot(
        "analytics",
        "manager",
        lambda: reverse("admin:analytics_overview"),
        DESKTOP,
        wait_for=_CHARTS_DRAWN,
    ),
]


def _password(username: str) -> str:
    return next(password for name, password, *_rest in STAFF if name == username)


def _log_in(page, base_url: str, who: str) -> None:
    if who == "customer":
        page.goto(base_url + reverse("login"))
        page.locator("#id_username").fill(DEMO_EMAIL)
        page.locator("#id_password").fill(DEMO_PASSWORD)
    else:
        page.goto(base_url + reverse("admin:login"))
        page.locator("#id_username").fill(who)
        page.locator("#id_password").fill(_password(who))
    with page.expect_navigation():
        page.locator("#id_password").press("Enter")
    if "/login/" in page.url:
        raise RuntimeError(f"Could not log in as {who} at {page.url}")


def shots_take(
    *,
    base_url: str,
    out_dir: Path,
    shots: Iterable[Shot] = SHOTS,
    language: str = "en",
    log: Callable[[str], None] = print,
    browser=None,
) -> list[Path]:
    """Save a PNG of every shot into `out_dir`; returns the files in order.

    In `browser` (a Playwright Browser; by default a Chromium launched here
    with loyalty_site.browser.CHROMIUM_ARGS), one context (cookies, window size) per person and
    window size, logged in once. The page loads in `language` (the
    Accept-Language of the context) and is shot when the network is idle and
    `wait_for` holds. Raises on a page that does not answer 200.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    if browser is not None:
        return _shots_in(browser, base_url, out_dir, list(shots), language, log)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            return _shots_in(launched, base_url, out_dir, list(shots), language, log)
        finally:
            launched.close()


def _shots_in(browser, base_url, out_dir, shots, language, log) -> list[Path]:
    saved: list[Path] = []
    pages = {}
    try:
        for shot in shots:
            key = (shot.who, shot.viewport)
            if key not in pages:
                width, height = shot.viewport
                context = browser.new_context(
                    viewport={"width": width, "height": height},
                    device_scale_factor=1,
                    locale=language,
                    extra_http_headers={"Accept-Language": language},
                    is_mobile=shot.viewport == MOBILE,
                    has_touch=shot.viewport == MOBILE,
                )
                context.set_default_timeout(TIMEOUT_MS)
                pages[key] = context.new_page()
                _log_in(pages[key], base_url, shot.who)
            page = pages[key]
            response = page.goto(base_url + shot.url(), wait_until="networkidle")
            if response is None or response.status != 200:
                status = response.status if response else "no response"
                raise RuntimeError(f"{shot.name}: {page.url} answered {status}")
            if shot.wait_for:
                page.wait_for_function(shot.wait_for)
            path = out_dir / f"{shot.name}.png"
            page.screenshot(path=path, animations="disabled")
            saved.append(path)
            log(f"  {path} ({shot.viewport[0]}×{shot.viewport[1]}, {shot.who})")
    finally:
        for page in pages.values():
            page.context.close()
    return saved
