"""The site's icon in a real browser: the customer pages and the admin load
with no failed request, their icon link answers with the SVG, and so does
/favicon.ico (browsers ask for it on their own)."""

from __future__ import annotations

import pytest
from django.urls import reverse

# serialized_rollback, as in every browser test: without it the flush after this
# test re-ran post_migrate, which made the staff groups again, and the next
# serialized_rollback test on the worker failed to restore its own (UNIQUE
# constraint failed: auth_group.name).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.mark.parametrize("name", ["login", "admin:login"])
def test_page_loads_its_icon_with_no_failed_request(page, live_server, name):
    failed: list[str] = []
    page.on(
        "response",
        lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    page.goto(live_server.url + reverse(name))
    page.wait_for_load_state("load")

    href = page.locator('link[rel="icon"]').get_attribute("href")
    icon = page.request.get(live_server.url + href)
    assert icon.status == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert failed == []


def test_favicon_ico_answers_with_the_icon(page, live_server):
    response = page.request.get(live_server.url + "/favicon.ico")
    assert response.status == 200  # after the redirect
    assert response.headers["content-type"].startswith("image/svg+xml")
