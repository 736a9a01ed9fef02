"""The screenshots command's core on one page: the demo customer's dashboard at
the mobile size, from a live test server, in Chromium (about 10 s; the whole
command seeds 200 members and takes minutes, so it is run by hand)."""

from __future__ import annotations

import struct

import pytest

from demo import screenshots
from demo.data import DEMO_EMAIL, DEMO_PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _png_size(path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_one_shot_of_the_customer_dashboard(browser, live_server, store, tmp_path):
    from members.tests.factories import MemberFactory, UserFactory

    user = UserFactory(username=DEMO_EMAIL, email=DEMO_EMAIL)
    user.set_password(DEMO_PASSWORD)
    user.save()
    MemberFactory(store=store, user=user, email=DEMO_EMAIL)
    shot = next(s for s in screenshots.SHOTS if s.name == "portal-dashboard-mobile")
    lines: list[str] = []

    # pytest-playwright's Chromium (conftest's flags): a second Playwright
    # session inside the test run's would refuse to start.
    saved = screenshots.shots_take(
        base_url=live_server.url,
        out_dir=tmp_path,
        shots=[shot],
        log=lines.append,
        browser=browser,
    )

    assert saved == [tmp_path / "portal-dashboard-mobile.png"]
    assert _png_size(saved[0]) == screenshots.MOBILE
    assert lines == [f"  {saved[0]} (390×844, customer)"]
