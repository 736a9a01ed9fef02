"""Our pages live under a strict Content Security Policy (no inline script or
style): a real Chromium must report no violation on the customer pages, the
admin with the Counter, and the API docs."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from members.tests.factories import MemberFactory, StoreFactory, UserFactory
from rewards.services import purchase_record
from tests.browser._journey import admin_login, portal_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def violations(page):
    """Every CSP violation Chromium reports on the page, as console text."""
    found: list[str] = []
    page.on(
        "console",
        lambda msg: (
            found.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    page.set_default_timeout(5_000)
    return found


def _visit(page, live_server, name: str, **kwargs) -> None:
    response = page.goto(live_server.url + reverse(name, kwargs=kwargs or None))
    assert response.status == 200, name
    assert "default-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("load")


def test_customer_pages_raise_no_csp_violation(page, live_server, violations):
    store = StoreFactory(code="csp", name="CSP Street")
    user = UserFactory(username="csp@example.com")
    member = MemberFactory(store=store, user=user, email="csp@example.com")
    purchase_record(store=store, member=member, receipt_id="C1", total="99.00")

    _visit(page, live_server, "login")
    portal_login(page, live_server.url, "csp@example.com")
    for name in ["portal:dashboard", "rewards:statement", "portal:card"]:
        _visit(page, live_server, name)
    for name in ["portal:profile", "portal:preferences"]:
        _visit(page, live_server, name)
    # Bootstrap's script works (the menu toggler, on a phone-sized window).
    page.set_viewport_size({"width": 400, "height": 800})
    page.locator(".navbar-toggler").click()
    expect(page.locator("#portal-nav")).to_be_visible()

    assert violations == []


def test_admin_and_counter_raise_no_csp_violation(page, live_server, violations):
    store = StoreFactory(code="csp", name="CSP Street")
    UserFactory(username="boss", is_staff=True, is_superuser=True, store=store)
    member = MemberFactory(store=store)

    admin_login(page, live_server.url, "boss")
    _visit(page, live_server, "admin:counter")
    _visit(page, live_server, "admin:counter_member", member_id=member.pk)
    _visit(page, live_server, "admin:members_member_changelist")
    _visit(page, live_server, "admin:members_member_change", object_id=member.pk)
    _visit(page, live_server, "admin:rewards_ledgerentry_changelist")

    assert violations == []


def test_the_api_docs_render_under_the_policy(page, live_server, violations):
    _visit(page, live_server, "api-v1:docs")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Loyalty POS API")
    assert violations == []
