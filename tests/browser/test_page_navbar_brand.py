"""The portal's brand (logo and program name) fits beside the menu button on a
phone: a long name ends in an ellipsis inside the bar, never clipped mid-letter
or pushed under the button, and the whole name is in the link's title."""

from __future__ import annotations

import pytest
from django.urls import reverse

from demo.seed_branding import seed as branding_seed
from members.tests.factories import MemberFactory, StoreFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LONG_NAME = "Zerno Coffee Club of the Left Bank and the Old Town"


def _brand_box(page) -> dict:
    return page.evaluate(
        """() => {
        const brand = document.querySelector('.portal-navbar .navbar-brand');
        const name = brand.querySelector('.brand-name');
        const toggler = document.querySelector('.portal-navbar .navbar-toggler');
        const b = brand.getBoundingClientRect();
        const n = name.getBoundingClientRect();
        const t = toggler.getBoundingClientRect();
        const style = getComputedStyle(name);
        return {
          brandLeft: b.left, brandRight: b.right, nameRight: n.right,
          togglerLeft: t.left, togglerVisible: t.width > 0,
          truncated: name.scrollWidth > name.clientWidth,
          textOverflow: style.textOverflow, whiteSpace: style.whiteSpace,
          title: brand.getAttribute('title'),
          overflow: document.documentElement.scrollWidth - window.innerWidth,
        };
      }"""
    )


@pytest.mark.parametrize("name", ["Zerno Coffee Club", LONG_NAME])
def test_the_brand_ellipsizes_beside_the_menu_button(page, live_server, name):
    from members.services import branding_update

    branding_seed()
    branding_update(program_name=name)
    store = StoreFactory(code="nav", name="Nav Street")
    user = UserFactory(username="nav@example.com")
    MemberFactory(store=store, user=user, email="nav@example.com")
    page.set_default_timeout(5_000)
    for width in (320, 360, 390, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(live_server.url + reverse("login"))
        box = _brand_box(page)
        where = f"{name!r} at {width}px"
        assert box["overflow"] <= 0, where
        assert box["title"] == name, where
        assert box["brandLeft"] >= 0, where
        assert box["nameRight"] <= box["brandRight"] + 0.5, where
        if box["togglerVisible"]:
            assert box["brandRight"] <= box["togglerLeft"], (where, box)
        if box["truncated"]:
            # Cut with an ellipsis, on one line, not clipped mid-letter.
            assert (box["textOverflow"], box["whiteSpace"]) == (
                "ellipsis",
                "nowrap",
            ), (where, box)
