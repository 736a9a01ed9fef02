"""Every URL of the project, walked from the resolver: each is classified, and an
anonymous visitor or a logged-in customer gets nothing that is not theirs.

A new URL fails `test_every_url_is_classified` until it is put in one of the
classes below, so no page ships without someone deciding who may open it. The
per-area tests check the finer rules (another member's object is a 404, a
Cashier cannot open a Marketer's page); this one checks the whole surface.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import resolve

from members.tests.factories import MemberFactory, UserFactory
from tests.url_walk import url_routes

pytestmark = pytest.mark.django_db

# Anyone may open these (the signed ones check their signature themselves; a
# made-up one is refused with a 4xx, which the walk below checks too).
PUBLIC = {
    "healthz",
    "favicon",
    "branding_css",
    "manifest",
    "app_icon",
    "service_worker",
    "admin:login",
    "admin:logout",
    "set_language",
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "api-v1:schema",
    "api-v1:docs",
    "portal:home",
    "portal:signup",
    "portal:signup_verify",
    "portal:join",
    "campaigns:survey_answer",
    "campaigns:unsubscribe",
    "portal:leave_reason",  # signed link to the optional leaving question
    "campaigns:track_open",
    "campaigns:track_click",
    "campaigns:email_webhook",
    "campaigns:sms_webhook",
    "campaigns:viber_webhook",
    "campaigns:telegram_webhook",  # the Bot API's secret header, else a 403
    "payments:callback",  # signed by the provider; a bad signature is a 400
    # Apple's pass web service: a device proves itself with the pass's own
    # token (ApplePass header); without it a 401, another pass type a 404.
    "wallet:apple_registration",
    "wallet:apple_serials",
    "wallet:apple_pass",
    "wallet:apple_log",
}
# A logged-in member's own pages.
CUSTOMER = {
    "portal:dashboard",
    "portal:card",
    "portal:profile",
    "portal:preferences",
    "portal:telegram_link",
    "portal:telegram_unlink",
    "portal:referrals",
    "portal:push_subscribe",  # JSON, the member's own browsers only
    "portal:push_unsubscribe",
    "portal:privacy_export",
    "portal:privacy_delete",
    "rewards:statement",
    "catalog:catalog",
    "catalog:redeem",
    "catalog:promo_code",
    "catalog:vouchers",
    "catalog:tiers",
    "catalog:partners",
    "catalog:stamps",
    "catalog:membership",
    "catalog:voucher",
    "campaigns:events",
    "campaigns:event_rsvp",
    "campaigns:event_rsvp_cancel",
    "campaigns:members_only",
    "campaigns:members_only_page",
    "analytics:for_you",
    "campaigns:feedback",
    "campaigns:complaint_new",
    "campaigns:complaint_detail",
    "payments:buy",
    "payments:auto_renew",
    "payments:cancel",
    "payments:result",  # the member's own payments only
    "payments:test_page",  # the same, and only with PAYMENT_PROVIDER=test
    "wallet:apple_pass_download",  # the member's own card as a pass
    "wallet:google_save",
}
# Everything under admin/ is staff only; everything under api/v1/ but the
# schema and its docs needs a till's token.

_PLACEHOLDER = "999999"  # matches int, str, slug and path converters alike


def _concrete(route: str) -> str:
    """A path that this route matches: converters get a placeholder, a regex
    route (admin's app index) its first alternative."""
    path = re.sub(r"\(\?P<\w+>([^|)]+)[^)]*\)", r"\1", route)
    path = re.sub(r"<[^>]+>", _PLACEHOLDER, path)
    return "/" + path.replace("^", "").replace("$", "").replace("\\", "")


def _routes() -> list[tuple[str, str, str]]:
    return [(route, name, _concrete(route)) for route, name, _pattern in url_routes()]


def _kind(route: str, name: str) -> str:
    if name in PUBLIC:
        return "public"
    if route.startswith("admin/"):
        return "admin"
    if route.startswith("api/"):
        return "api"
    if name in CUSTOMER:
        return "customer"
    return "unclassified"


def test_every_url_is_classified():
    routes = _routes()
    assert len(routes) > 300  # the walk reaches admin and every app
    unclassified = [
        route for route, name, _path in routes if _kind(route, name) == "unclassified"
    ]
    assert unclassified == []


def test_the_walk_builds_paths_that_resolve_to_their_own_route():
    # Otherwise the tests below would be requesting other pages than they name.
    wrong = []
    for route, name, path in _routes():
        if not name:
            continue
        match = resolve(path)
        if match.view_name != name:
            wrong.append((route, path, match.view_name))
    assert wrong == [], "\n".join(map(str, wrong))


def _anonymous_expectation(kind: str, response) -> bool:
    location = response.headers.get("Location", "")
    if kind == "admin":
        return response.status_code == 302 and location.startswith("/admin/login/")
    if kind == "customer":
        return response.status_code == 302 and location.startswith(
            resolve_url(settings.LOGIN_URL)
        )
    if kind == "api":
        return response.status_code in (401, 403)
    return response.status_code < 500


def test_anonymous_visitor_gets_nothing_private_and_never_a_500(client):
    wrong = []
    for route, name, path in _routes():
        kind = _kind(route, name)
        response = client.get(path)
        if response.status_code == 405 and kind == "customer":  # a form's target
            response = client.post(path)
        if not _anonymous_expectation(kind, response):
            wrong.append((kind, path, response.status_code))
    assert wrong == [], "\n".join(map(str, wrong))


def test_a_logged_in_customer_cannot_open_any_staff_page(client):
    user = UserFactory(username="customer@example.com", is_staff=False)
    MemberFactory(user=user)
    client.force_login(user)

    wrong = []
    for route, name, path in _routes():
        if _kind(route, name) != "admin":
            continue
        response = client.get(path)
        location = response.headers.get("Location", "")
        if not (response.status_code == 302 and location.startswith("/admin/login/")):
            wrong.append((path, response.status_code))
    assert wrong == [], "\n".join(map(str, wrong))


def test_a_customers_session_opens_no_till_endpoint(client):
    user = UserFactory(username="customer@example.com", is_staff=False)
    MemberFactory(user=user)
    client.force_login(user)

    wrong = []
    for route, name, path in _routes():
        if _kind(route, name) != "api":
            continue
        for method in (client.get, client.post):
            response = method(path)
            if response.status_code not in (401, 403, 405):
                wrong.append((method.__name__, path, response.status_code))
    assert wrong == [], "\n".join(map(str, wrong))
